"""The exact engines as backends (``--backend analytic``): they load TensorFlow, the others do not.

The registry (:mod:`natq_cirq.runners.backends`) loads this module only when ``analytic`` is
asked for.
"""

from __future__ import annotations

from dataclasses import replace

from natq_cirq.config import NoiseSpec
from natq_cirq.engine import device_scope
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.inference import build_network
from natq_cirq.noisy import sample_noisy
from natq_cirq.runners.base import Runner
from natq_cirq.runners.options import RunOptions

import numpy as np


class AnalyticRunner(Runner):
    """The exact vectorized engine (:mod:`natq_cirq.engine`)."""

    name = "analytic"

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        _, bits = build_network(model).sample(x, shots, seed=seed)
        return bits

    def predictions_only(
        self, model: ModelFile, x: np.ndarray, shots: int, seed: int
    ) -> np.ndarray:
        # The engine's logits without the hidden bits: no (n, S, L, N) array is ever made.
        logits, _ = build_network(model).sample(x, shots, seed=seed, record_bits=False)
        return logits.argmax(axis=-1)


class NoisyAnalyticRunner(Runner):
    """The exact noisy engine (:mod:`natq_cirq.noisy`): the noisy dynamic circuit, sampled exactly."""

    name = "analytic"

    def __init__(self, noise: NoiseSpec):
        self.noise = noise

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        return sample_noisy(model, x, shots, self.noise, seed)


class NoisyLayeredRunner(Runner):
    """The exact noisy engine of layered execution, in TensorFlow (the training path).

    Each read-out's probability comes from the slot circuit a layered backend runs -- placed on the
    device's qubit pairs with the device's gate set when the noise is a device's, folded on
    request -- decorated with the noise model (:class:`natq_cirq.noisy.SlotReadout`); read-outs
    land on uniformly random slots.
    """

    name = "analytic"

    def __init__(self, noise: NoiseSpec):
        self.noise = noise
        self.coefficients = None

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        network = build_network(model, noise=self.noise)
        self.coefficients = network.hidden_layers[0].layered_readout.numpy()
        with device_scope():
            _, bits = network.sample(x, shots, seed=seed)
        return bits

    def stats(self) -> dict:
        if self.coefficients is None:
            return {}
        return {"mean_slot_readout_coefficients": self.coefficients.round(6).tolist()}


def build(processor, options: RunOptions, program, engine) -> Runner:
    if program is not None:
        raise NatqError(
            "analytic runs models, not circuits: pass MODEL.npz, or run the program on cirq, "
            "qsim, tfq, qvm:PROCESSOR or engine:PROCESSOR"
        )
    noise = options.noise
    if noise is None:
        return AnalyticRunner()
    if noise.qubitwise and not options.fold:
        return NoisyAnalyticRunner(noise)
    slots = options.slots if options.slots is not None else noise.pairs
    return NoisyLayeredRunner(replace(noise, fold=options.total_fold, pairs=slots))
