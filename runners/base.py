"""The runner interface: a network, inputs and shots in; hidden bits and predictions out.

Every backend produces the same thing, the recorded hidden activations ``bits (n, S, L, N)`` in
``{+1, -1}``; the classical read-out ``f = d_L @ W_L``, the per-shot ``argmax`` and the majority vote
(ties to the smallest class) are shared here, so backends differ only in how they sample bits.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field

from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, check_inputs
from natq_cirq.resources import check_memory
from natq_cirq.votes import Predictions, majority_vote

import numpy as np


@dataclass
class RunResult(Predictions):
    """:class:`natq_cirq.engine.inference.Predictions` plus what the backend did.

    Attributes:
        backend: backend name.
        stats: backend counters (circuit executions, jobs, sweep points ...).
    """

    backend: str = ""
    stats: dict = field(default_factory=dict)


def read_out(model: ModelFile, bits: np.ndarray) -> np.ndarray:
    """Logits ``(n, S, P)`` of the last hidden layer's bits ``(n, S, L, N)``."""
    return bits[:, :, -1, :].astype(np.float32) @ np.asarray(model.kernels[-1], np.float32)


def results_bytes(model: ModelFile, rows: float, bits: bool) -> float:
    """Bytes of a run's results for ``rows`` (input, shot) pairs.

    The bits (int8, if kept), the per-shot predictions (int64) and the logits (float32).
    """
    return rows * ((model.layers * model.hidden if bits else 0) + 8 + 4 * model.outputs)


def check_shots_and_seed(shots: int, seed: int) -> None:
    """At least one shot; a seed every backend's generator takes."""
    if int(shots) < 1:
        raise NatqError(f"shots must be >= 1 (got {shots})")
    if not 0 <= int(seed) < 2**32:
        raise NatqError(f"the seed must be a whole number in [0, 2^32) (got {seed})")


class Runner(abc.ABC):
    """A backend that samples the hidden bits of a naturally quantized network."""

    name: str = "runner"

    @abc.abstractmethod
    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        """Hidden bits ``(n, shots, L, N)`` int8 in ``{+1, -1}``."""

    def stats(self) -> dict:
        """Counters of the last run (overridden by backends that count)."""
        return {}

    def memory_needed(self, model: ModelFile, n: int, shots: int, record_bits: bool) -> float:
        """Bytes a run of ``n`` inputs needs at its peak (its estimate; see natq_cirq.resources).

        The results (bits int8, per-shot predictions and logits) and the layer loop's working set:
        every (input, shot, neuron) item's angle and outcome, in float64.
        """
        rows = float(n) * shots
        return results_bytes(model, rows, bits=True) + rows * model.hidden * 24

    def plan(self, model: ModelFile, x: np.ndarray, shots: int, seed: int = 0) -> dict:
        """What a run would do, without running (backends that submit jobs say more)."""
        return {
            "backend": self.name,
            "neuron_measurements": len(x) * shots * model.hidden * model.layers,
            "submits": "nothing: it runs in this process",
        }

    def run_program(self, program, model: ModelFile, shots: int, seed: int = 0) -> RunResult:
        """Run a program with its input compiled in (dynamic backends); others refuse."""
        raise NatqError(f"{self.name} runs programs on inputs: give them")

    def run(
        self,
        model: ModelFile,
        x: np.ndarray,
        shots: int = 15,
        seed: int = 0,
        record_bits: bool = True,
    ) -> RunResult:
        """Sample, read out and vote; without ``record_bits`` the result holds no bits.

        The same seed gives the same predictions either way. Backends that can vote without
        materializing the bits (the exact engine) override :meth:`predictions_only`.
        """
        check_shots_and_seed(shots, seed)
        x = check_inputs(x, model.input_dim)
        check_memory(
            self.memory_needed(model, len(x), int(shots), record_bits),
            f"{len(x)} input(s) x {int(shots)} shots on {self.name}",
            "lower the shots or the inputs (or do not record the bits)",
        )
        start = time.perf_counter()
        if not record_bits:
            shot_predictions = self.predictions_only(model, x, int(shots), int(seed))
            if shot_predictions is not None:
                return RunResult(
                    predictions=majority_vote(shot_predictions, model.outputs),
                    shot_predictions=shot_predictions,
                    bits=None,
                    seconds=time.perf_counter() - start,
                    backend=self.name,
                    stats=self.stats(),
                )
        bits = self.sample_bits(model, x, int(shots), int(seed))
        result = self.result(model, bits, time.perf_counter() - start)
        if not record_bits:
            result.bits = None
        return result

    def predictions_only(
        self, model: ModelFile, x: np.ndarray, shots: int, seed: int
    ) -> np.ndarray | None:
        """Per-shot predictions ``(n, shots)`` without the bits, or ``None`` (sample the bits)."""
        return None

    def result(self, model: ModelFile, bits: np.ndarray, seconds: float) -> RunResult:
        """Read out and vote the sampled ``bits (n, S, L, N)``."""
        shot_predictions = read_out(model, bits).argmax(axis=-1)
        return RunResult(
            predictions=majority_vote(shot_predictions, model.outputs),
            shot_predictions=shot_predictions,
            bits=bits.astype(np.int8),
            seconds=seconds,
            backend=self.name,
            stats=self.stats(),
        )
