"""The exact noisy engines as a backend (``--backend analytic --noise ...``): TensorFlow and Cirq.

Loaded by the registry (:mod:`natq_cirq.runners.registry`) when ``analytic`` runs with noise.
"""

from __future__ import annotations

from dataclasses import replace

from natq_cirq.config import NoiseSpec
from natq_cirq.engine import device_scope
from natq_cirq.files import ModelFile
from natq_cirq.inference import build_network
from natq_cirq.noisy import sample_noisy
from natq_cirq.runners.base import Runner
from natq_cirq.runners.options import RunOptions

import numpy as np


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
    """The runner of ``options.noise`` (the registry has refused programs)."""
    noise = options.noise
    if noise.qubitwise and not options.fold:
        return NoisyAnalyticRunner(noise)
    return NoisyLayeredRunner(
        replace(noise, fold=options.total_fold, pairs=options.requested_slots)
    )
