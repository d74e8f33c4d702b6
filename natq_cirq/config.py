"""Typed options, parsed once at the edge: :class:`NoiseSpec` and :class:`TrainConfig`.

Frozen, validated dataclasses with no heavy import (no Cirq, no TensorFlow): ``natq`` builds them
from its flags and refuses bad ones at once; engines, runners and training take them as they are.

Noise spec text (``natq run --noise``, ``natq train --noise``), kinds joined by ``+``:

* ``depolarizing:P`` — ``cirq.depolarize(P)`` on every qubit after every moment;
* ``amplitude_damping:GAMMA`` — ``cirq.amplitude_damp(GAMMA)`` likewise;
* ``readout:P`` — a bit flip with probability ``P`` just before every measurement;
* ``device:rainbow`` / ``weber`` / ``willow_pink`` — cirq_google's noise model of that processor
  from its median calibration (``NoiseModelFromGoogleNoiseProperties``); it acts on the device's
  qubits and gates, so it needs circuits placed on that device;
* ``pairs:K`` — with ``device:``, run on the device's first ``K`` slots only (default: all);
* ``fold:K`` — ``K`` rounds of identity-equivalent gate pairs before every layered read-out
  (:func:`natq_cirq.devices.fold_identities`), amplifying the other models' gate noise.

Example: ``depolarizing:0.001+readout:0.02``. :func:`natq_cirq.noise.noise_model` makes the Cirq
noise model of a spec.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from natq_cirq import physics
from natq_cirq.catalog import PROCESSORS
from natq_cirq.data import DataSpec
from natq_cirq.errors import NatqError
from natq_cirq.physics import ClassicalStochasticNeuron, Knobs, check_stochastic_neuron

KINDS = ("depolarizing", "amplitude_damping", "readout", "device", "fold", "pairs")
QUBITWISE = ("depolarizing", "amplitude_damping", "readout")
DEVICES = tuple(PROCESSORS)

GRADIENT_ESTIMATORS = ("ste", "mean_field")  # natq_cirq.engine's surrogate gradients
DEFAULT_ESTIMATOR = "ste"
# Keras initializers a run may name (tests/test_training.py checks Keras knows each).
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "orthogonal",
)


def check_estimator(estimator: str) -> None:
    """Raise a one-line :class:`NatqError` for an unknown gradient estimator."""
    if estimator not in GRADIENT_ESTIMATORS:
        raise NatqError(
            f"unknown gradient estimator {estimator!r}; choose one of {', '.join(GRADIENT_ESTIMATORS)}"
        )


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


# Settings that may change between invocations on the same run folder without changing the run.
SCHEDULE_FIELDS = (
    "epochs",
    "eval_every",
    "vote_every",
    "checkpoint_every",
    "checkpoint_seconds",
    "steps_per_execution",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (defaults: the paper's Table I)."""

    layers: int = 3
    hidden: int = 512
    a: float = physics.CLASSICAL_A
    g: float = physics.CLASSICAL_G
    memory: str = physics.DEFAULT_MEMORY
    gradient_estimator: str = DEFAULT_ESTIMATOR
    epochs: int = 500
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    shots: int = 15
    seed: int = 0
    initializer: str = "glorot_uniform"
    noise: NoiseSpec | None = None  # text is parsed once, here
    # A classical stochastic baseline instead of qubits (text such as "sigmoid:8"); classical knobs.
    stochastic_neuron: ClassicalStochasticNeuron | None = None
    data: DataSpec = field(default_factory=DataSpec)
    eval_every: int = 1
    vote_every: int = 10
    checkpoint_every: int = 1
    # Checkpoint no more often than this: a paper epoch takes 0.3 s, and an interrupted run loses
    # at most this much training (resumed runs are exact whatever the interval).
    checkpoint_seconds: float = 10.0
    steps_per_execution: int = 0  # training steps per TensorFlow call; 0: a whole epoch

    def __post_init__(self) -> None:
        Knobs(self.a, self.g, self.memory)
        # Configs read back from config.json hold the spec's text.
        object.__setattr__(self, "noise", NoiseSpec.coerce(self.noise))
        object.__setattr__(
            self,
            "stochastic_neuron",
            check_stochastic_neuron(self.stochastic_neuron, self.knobs, self.noise is not None),
        )
        check_estimator(self.gradient_estimator)
        if self.initializer not in INITIALIZERS:
            raise NatqError(
                f"unknown initializer {self.initializer!r}; use one of Keras' "
                f"{', '.join(INITIALIZERS)}"
            )
        for name in (
            "layers",
            "hidden",
            "epochs",
            "batch_size",
            "shots",
            "eval_every",
            "vote_every",
            "checkpoint_every",
        ):
            if int(getattr(self, name)) < 1:
                raise NatqError(
                    f"{name.replace('_', '-')} must be >= 1 (got {getattr(self, name)})"
                )
        if int(self.steps_per_execution) < 0:
            raise NatqError(
                f"steps-per-execution must be >= 0, 0 for a whole epoch "
                f"(got {self.steps_per_execution})"
            )
        for name in ("lr", "momentum", "checkpoint_seconds"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0:
                raise NatqError(
                    f"{name.replace('_', '-')} must be a finite number >= 0 (got {value})"
                )

    @property
    def knobs(self) -> Knobs:
        return Knobs(self.a, self.g, self.memory)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.data.train_size / self.batch_size)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["data"] = self.data.to_dict()
        out["noise"] = str(self.noise) if self.noise else None
        out["stochastic_neuron"] = str(self.stochastic_neuron) if self.stochastic_neuron else None
        return out

    def identity(self) -> dict:
        """The fields that must match to resume a run."""
        return {k: v for k, v in self.to_dict().items() if k not in SCHEDULE_FIELDS}

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        data = {k: v for k, v in values.get("data", {}).items() if k != "dataset"}
        known = {f.name for f in fields(cls)} - {"data"}
        return cls(**{k: v for k, v in values.items() if k in known}, data=DataSpec(**data))


__all__ = [
    "DEFAULT_ESTIMATOR",
    "GRADIENT_ESTIMATORS",
    "INITIALIZERS",
    "KINDS",
    "QUBITWISE",
    "SCHEDULE_FIELDS",
    "NoiseSpec",
    "TrainConfig",
    "check_estimator",
]
