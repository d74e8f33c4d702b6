"""Noise as a typed option: :class:`NoiseSpec`, parsed once at the edge, passed down as an object.

Spec text (``natq run --noise``, ``natq train --noise``), kinds joined by ``+``:

* ``depolarizing:P`` — ``cirq.depolarize(P)`` on every qubit after every moment;
* ``amplitude_damping:GAMMA`` — ``cirq.amplitude_damp(GAMMA)`` likewise;
* ``readout:P`` — a bit flip with probability ``P`` just before every measurement;
* ``device:rainbow`` / ``weber`` / ``willow_pink`` — cirq_google's noise model of that processor
  from its median calibration (``NoiseModelFromGoogleNoiseProperties``); it acts on the device's
  qubits and gates, so it needs circuits placed on that device;
* ``pairs:K`` — with ``device:``, run on the device's first ``K`` slots only (default: all);
* ``fold:K`` — ``K`` rounds of identity-equivalent gate pairs before every layered read-out
  (:func:`natq_cirq.devices.fold_identities`), amplifying the other models' gate noise.

Example: ``depolarizing:0.001+readout:0.02``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from natq_cirq.devices import DEVICES, noise_properties
from natq_cirq.errors import NatqError

import cirq
from cirq_google.devices.google_noise_properties import NoiseModelFromGoogleNoiseProperties

KINDS = ("depolarizing", "amplitude_damping", "readout", "device", "fold", "pairs")
QUBITWISE = ("depolarizing", "amplitude_damping", "readout")


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
    return NoiseModelFromGoogleNoiseProperties(noise_properties(name))


_CHANNELS = {
    "depolarizing": lambda p: cirq.ConstantQubitNoiseModel(cirq.depolarize(p)),
    "amplitude_damping": lambda p: cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(p)),
    "readout": ReadoutNoise,
}


@dataclass(frozen=True)
class NoiseSpec:
    """What noise a run or a training simulates.

    Attributes:
        channels: qubit-wise channels ``(kind, strength)`` in the order they apply.
        device: a processor whose calibrated noise model applies (circuits placed on it).
        fold: rounds of identity-equivalent gate pairs added to layered read-outs.
        pairs: with ``device``, the number of slots of the device used (``None``: all).
    """

    channels: tuple[tuple[str, float], ...] = ()
    device: str | None = None
    fold: int = 0
    pairs: int | None = None

    def __post_init__(self) -> None:
        for kind, p in self.channels:
            if kind not in QUBITWISE:
                raise NatqError(f"unknown noise channel {kind!r}; use one of {QUBITWISE}")
            if not 0 <= p <= 1:
                raise NatqError(f"noise strength must lie in [0, 1] (got {p})")
        if self.device is not None and self.device not in DEVICES:
            raise NatqError(
                f"no noise model for device {self.device!r}; choose one of {', '.join(DEVICES)}"
            )
        if self.fold < 0:
            raise NatqError(f"fold:K needs K >= 0 (got {self.fold})")
        if self.pairs is not None and self.pairs < 1:
            raise NatqError(f"pairs:K needs K >= 1 (got {self.pairs})")

    @classmethod
    def parse(cls, text: str) -> NoiseSpec:
        """A spec from text such as ``depolarizing:0.01+readout:0.02`` (module docstring)."""
        channels, fields = [], {}
        for part in str(text).split("+"):
            kind, _, value = part.strip().partition(":")
            if kind not in KINDS or not value:
                raise NatqError(
                    f"bad noise spec {part!r}; use KIND:VALUE with KIND one of "
                    f"{', '.join(KINDS)}, joined by '+'"
                )
            if kind == "device":
                fields["device"] = value
            elif kind in ("fold", "pairs"):
                if not value.isdigit():
                    raise NatqError(f"{kind}:K needs a whole number (got {value!r})")
                fields[kind] = int(value)
            else:
                try:
                    channels.append((kind, float(value)))
                except ValueError:
                    raise NatqError(f"noise strength {value!r} is not a number") from None
        return cls(tuple(channels), **fields)

    @classmethod
    def coerce(cls, value: NoiseSpec | str | None) -> NoiseSpec | None:
        """``value`` as a spec: a spec as it is, text parsed (Keras configs store text), or None."""
        if value is None or isinstance(value, NoiseSpec):
            return value
        return cls.parse(value) if str(value) else None

    def __str__(self) -> str:
        parts = [f"{kind}:{p:g}" for kind, p in self.channels]
        parts += [f"device:{self.device}"] * (self.device is not None)
        parts += [f"fold:{self.fold}"] * bool(self.fold)
        parts += [f"pairs:{self.pairs}"] * (self.pairs is not None)
        return "+".join(parts)

    @property
    def qubitwise(self) -> bool:
        """Only qubit-wise channels: the exact noisy engine of the dynamic circuit applies."""
        return self.device is None and not self.fold

    def model(self) -> cirq.NoiseModel:
        """The Cirq noise model (the device's first, then the channels in order)."""
        return _model(self.channels, self.device)


@cache
def _model(channels: tuple[tuple[str, float], ...], device: str | None) -> cirq.NoiseModel:
    models = [device_noise(device)] if device else []
    return ChainedNoise(models + [_CHANNELS[kind](p) for kind, p in channels])


__all__ = ["KINDS", "ChainedNoise", "NoiseSpec", "ReadoutNoise", "device_noise"]
