"""The Cirq noise model of a :class:`natq_cirq.target.Target`'s noise: :func:`noise_model`.

The target itself (its text, ``depolarizing:0.001+readout:0.02``, is documented there) is parsed
once at the edge by :mod:`natq_cirq.target`, which imports no Cirq.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from natq_cirq.errors import NatqError
from natq_cirq.hardware.devices import DEVICES, device_noise_model
from natq_cirq.target import Target

import cirq


class ReadoutNoise(cirq.NoiseModel):
    """A bit flip with probability ``p`` on every measured qubit, just before its measurement."""

    def __init__(self, p: float):
        self.p = p

    def noisy_operation(self, operation: cirq.Operation):
        if cirq.is_measurement(operation):
            return [cirq.bit_flip(self.p).on_each(*operation.qubits), operation]
        return operation


class ChainedNoise(cirq.NoiseModel):
    """Several noise models applied one after the other."""

    def __init__(self, models: Sequence[cirq.NoiseModel]):
        self.models = list(models)

    def noisy_moments(self, moments, system_qubits):
        circuit = cirq.Circuit(moments)
        for model in self.models:
            circuit = cirq.Circuit(model.noisy_moments(circuit, system_qubits))
        return list(circuit)


@cache
def device_noise(name: str) -> cirq.NoiseModel:
    """cirq_google's noise model of processor ``name`` (median calibration)."""
    if name not in DEVICES:
        raise NatqError(f"no noise model for device {name!r}; choose one of {', '.join(DEVICES)}")
    return device_noise_model(name)


_CHANNELS = {
    "depolarizing": lambda p: cirq.ConstantQubitNoiseModel(cirq.depolarize(p)),
    "amplitude_damping": lambda p: cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(p)),
    "readout": ReadoutNoise,
}


def noise_model(spec: Target) -> cirq.NoiseModel:
    """The Cirq noise model of a target's noise (the device's first, then the channels in order)."""
    return _model(spec.channels, spec.device)


@cache
def _model(channels: tuple[tuple[str, float], ...], device: str | None) -> cirq.NoiseModel:
    models = [device_noise(device)] if device else []
    return ChainedNoise(models + [_CHANNELS[kind](p) for kind, p in channels])


__all__ = ["ChainedNoise", "ReadoutNoise", "device_noise", "noise_model"]
