"""Noise specs of ``natq run --noise``: Cirq noise models, combined with ``+``.

* ``depolarizing:P`` — ``cirq.depolarize(P)`` on every qubit after every moment;
* ``amplitude_damping:GAMMA`` — ``cirq.amplitude_damp(GAMMA)`` likewise;
* ``readout:P`` — a bit flip with probability ``P`` just before every measurement;
* ``device:rainbow`` / ``device:weber`` — cirq_google's noise model of that processor from its
  median calibration (``NoiseModelFromGoogleNoiseProperties``); it acts on the device's qubits and
  gates, so it needs circuits placed on that device;
* ``pairs:K`` — with ``device:``, run on the device's first ``K`` qubit pairs only (default: all);
* ``fold:K`` — ``K`` rounds of identity-equivalent gate pairs before every layered read-out
  (:func:`natq_cirq.compile.hardware.fold_identities`), amplifying the other models' gate noise.

Example: ``--noise depolarizing:0.001+readout:0.02``.
"""

from __future__ import annotations

from collections.abc import Sequence

from natq_cirq.errors import NatqError

import cirq

KINDS = ("depolarizing", "amplitude_damping", "readout", "device", "fold", "pairs")


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

    def __init__(
        self,
        models: Sequence[cirq.NoiseModel],
        device: str | None = None,
        fold: int = 0,
        pairs: int | None = None,
    ):
        self.models = list(models)
        self.device = device
        self.fold = fold
        self.pairs = pairs

    def noisy_moments(self, moments, system_qubits):
        circuit = cirq.Circuit(moments)
        for model in self.models:
            circuit = cirq.Circuit(model.noisy_moments(circuit, system_qubits))
        return list(circuit)


def device_noise(name: str) -> cirq.NoiseModel:
    """cirq_google's noise model of processor ``name`` (median calibration)."""
    from natq_cirq.compile.hardware import DEVICES

    from cirq_google.engine import virtual_engine_factory as factory

    if name not in DEVICES:
        raise NatqError(f"no noise model for device {name!r}; choose one of {', '.join(DEVICES)}")
    calibration = factory.load_median_device_calibration(name)
    properties = factory.noise_properties_from_calibration(calibration)
    return factory.NoiseModelFromGoogleNoiseProperties(properties)


def parse_noise(spec: str) -> ChainedNoise:
    """A noise model from a spec such as ``depolarizing:0.01+readout:0.02``."""
    models, device, fold, pairs = [], None, 0, None
    for part in spec.split("+"):
        kind, _, value = part.strip().partition(":")
        if kind not in KINDS or not value:
            raise NatqError(
                f"bad noise spec {part!r}; use KIND:VALUE with KIND one of "
                f"{', '.join(KINDS)}, joined by '+'"
            )
        if kind == "device":
            models.append(device_noise(value))
            device = value
            continue
        if kind in ("fold", "pairs"):
            if not value.isdigit() or (kind == "pairs" and int(value) < 1):
                raise NatqError(f"{kind}:K needs a whole number (got {value!r})")
            if kind == "fold":
                fold = int(value)
            else:
                pairs = int(value)
            continue
        try:
            p = float(value)
        except ValueError:
            raise NatqError(f"noise strength {value!r} is not a number") from None
        if not 0 <= p <= 1:
            raise NatqError(f"noise strength must lie in [0, 1] (got {p})")
        if kind == "depolarizing":
            models.append(cirq.ConstantQubitNoiseModel(cirq.depolarize(p)))
        elif kind == "amplitude_damping":
            models.append(cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(p)))
        else:
            models.append(ReadoutNoise(p))
    return ChainedNoise(models, device, fold, pairs)
