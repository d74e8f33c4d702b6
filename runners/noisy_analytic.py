"""The exact noisy engines as a backend (``--backend analytic --noise ...``): TensorFlow and Cirq.

Loaded by the registry (:mod:`natq_cirq.runners.registry`) when ``analytic`` runs with noise.
"""

from __future__ import annotations

from dataclasses import replace

from natq_cirq.compile import LayeredRule, compile_layered
from natq_cirq.compile.program import DEFAULT_SLOTS
from natq_cirq.engine import device_scope
from natq_cirq.engine.inference import build_network
from natq_cirq.files import ModelFile
from natq_cirq.hardware.calibration import ReadoutCounts
from natq_cirq.hardware.noisy import SlotReadout, sample_noisy
from natq_cirq.runners.base import Runner
from natq_cirq.runners.options import RunOptions
from natq_cirq.target import Target

import numpy as np


class NoisyAnalyticRunner(Runner):
    """The exact noisy engine (:mod:`natq_cirq.hardware.noisy`) of the dynamic circuit, sampled."""

    name = "analytic"

    def __init__(self, noise: Target):
        self.noise = noise

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        return sample_noisy(model, x, shots, self.noise, seed)


class NoisyLayeredRunner(Runner):
    """The exact noisy engine of layered execution, in TensorFlow (the training path).

    Each read-out's probability comes from the slot circuit a layered backend runs -- placed on the
    device's qubit pairs with the device's gate set when the noise is a device's, folded on
    request -- decorated with the noise model (:class:`natq_cirq.hardware.noisy.SlotReadout`); read-outs
    land on uniformly random slots.
    """

    name = "analytic"

    def __init__(self, noise: Target):
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


class CalibratedLayeredRunner(Runner):
    """A calibrated layered run, exactly: predicted from its calibration, or on a noise model.

    The program a calibrated run would compile (the calibration's best slots, its tables, the
    compensation) is compiled here too; each read-out lands on a uniformly random slot of it and
    reads ``-1`` with that slot's probability at the angle sent (compensated, or the ideal one),
    through the one layer loop :meth:`natq_cirq.compile.LayeredRule.sample`. The slots' tables
    are the calibration's own (``--backend analytic --calibration CAL``: the prediction before
    spending device time), or, with ``--noise device:D``, the exact tables of the program's
    circuit under that noise model (:class:`natq_cirq.hardware.noisy.SlotReadout`): what ``qsim --noise
    device:D`` or ``qvm:D`` sample with this calibration, without sampling the circuits.
    """

    name = "analytic"
    chunk = 512  # inputs per pass: bounds the memory of the float64 layer loop

    def __init__(self, target: Target):
        self.target = target
        self._stats: dict = {}

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        target = self.target
        slots = DEFAULT_SLOTS if target.slots is None else target.slots
        # The program a calibrated run compiles: on the calibration's processor (the registry
        # checked that the noise, if any, is that processor's).
        placed = replace(target, device=None, processor=target.calibration.device, slots=slots)
        program = compile_layered(model, placed, reference_inputs=x)
        compensation = program.compensation
        noise = target if target.noisy else None
        truth = None
        if noise is not None:
            truth = SlotReadout.from_circuit(program.circuit, noise).coefficients
        rng = np.random.default_rng(seed)
        rule = LayeredRule(model)
        counts = ReadoutCounts()

        def measure(layer: int, psi: np.ndarray) -> np.ndarray:
            slot = rng.integers(program.slot_count, size=psi.shape, dtype=np.int32)
            p_minus, shortfall = compensation.probability_minus(psi, slot, truth)
            counts.add(shortfall)
            return np.where(rng.random(psi.shape) < p_minus, -1.0, 1.0)

        bits = np.concatenate(
            [
                rule.sample(x[start : start + self.chunk], shots, measure)
                for start in range(0, len(x), self.chunk)
            ]
        )
        self._stats = {
            "tables": "calibration" if truth is None else f"noise model {noise}",
            "calibration": compensation.calibration,
            "compensated": compensation.compensate,
            "slots": [" ".join(str(q) for q in slot if q is not None) for slot in program.slots],
            **counts.stats(),
        }
        return bits

    def stats(self) -> dict:
        return dict(self._stats)


def build(processor, options: RunOptions, program, engine) -> Runner:
    """The runner of the target's noise or calibration (the registry refused programs)."""
    target = options.target
    if target.calibration is not None:
        return CalibratedLayeredRunner(target)
    if target.qubitwise:
        return NoisyAnalyticRunner(target)
    return NoisyLayeredRunner(target)
