"""The exact engine as a backend (``--backend analytic`` without noise): TensorFlow, no Cirq.

The registry (:mod:`natq_cirq.runners.registry`) loads this module only when ``analytic`` runs
without noise; with noise, :mod:`natq_cirq.runners.noisy_analytic`.
"""

from __future__ import annotations

from natq_cirq.engine.inference import build_network
from natq_cirq.engine.layers import ROWS_PER_CHUNK
from natq_cirq.files import ModelFile
from natq_cirq.runners.base import Runner, results_bytes
from natq_cirq.runners.options import RunOptions

import numpy as np


class AnalyticRunner(Runner):
    """The exact vectorized engine (:mod:`natq_cirq.engine`)."""

    name = "analytic"

    def memory_needed(self, model: ModelFile, n: int, shots: int, record_bits: bool) -> float:
        """The results, and the engine's chunk of ``(input, shot)`` rows (float32 tensors)."""
        rows = float(n) * shots
        chunk = min(rows, max(shots, ROWS_PER_CHUNK))
        return results_bytes(model, rows, record_bits) + chunk * model.hidden * 32

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        _, bits = build_network(model).sample(x, shots, seed=seed)
        return bits

    def predictions_only(
        self, model: ModelFile, x: np.ndarray, shots: int, seed: int
    ) -> np.ndarray:
        # The engine's logits without the hidden bits: no (n, S, L, N) array is ever made.
        logits, _ = build_network(model).sample(x, shots, seed=seed, record_bits=False)
        return logits.argmax(axis=-1)


def build(processor, options: RunOptions, program, engine) -> Runner:
    """The runner (the registry has refused programs: the engine runs models)."""
    return AnalyticRunner()
