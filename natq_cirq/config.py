"""Typed options, parsed once at the edge: :class:`TrainConfig`.

Frozen, validated dataclasses with no heavy import (no Cirq, no TensorFlow): ``natq`` builds them
from its flags and refuses bad ones at once; engines, runners and training take them as they are.

Noise (``natq train --noise``) is a :class:`natq_cirq.target.Target`: its text form is
documented there.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from natq_cirq import physics
from natq_cirq.data import DataSpec
from natq_cirq.errors import NatqError
from natq_cirq.flags import BOOKKEEPING, NETWORK, PROTOCOL, flag
from natq_cirq.physics import ClassicalStochasticNeuron, Knobs, check_stochastic_neuron
from natq_cirq.resources import check_memory
from natq_cirq.target import CHANNELS, Target

QUBITWISE = CHANNELS
# What a noise-aware training applies (natq_cirq.hardware.noisy's layered engine).
TRAINING_FEATURES = ("channels", "device_noise", "slots", "fold")

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

    layers: int = field(default=3, metadata=flag("hidden layers L", group=NETWORK))
    hidden: int = field(default=512, metadata=flag("neurons per layer N", group=NETWORK))
    a: float = field(
        default=physics.CLASSICAL_A,
        metadata=flag(
            "activation stretch a >= 0, e.g. 0.316, 10^-0.5 or 10^-1/3 (default 0: sgn)",
            kind="number",
            group=NETWORK,
            show_default=False,
        ),
    )
    g: float = field(
        default=physics.CLASSICAL_G,
        metadata=flag(
            "weak-measurement angle in [0, pi/2], e.g. 5pi/19 or π/2 (default pi/2)",
            kind="angle",
            group=NETWORK,
            show_default=False,
        ),
    )
    memory: str = field(
        default=physics.DEFAULT_MEMORY,
        metadata=flag(
            "neuron memory between layers (the paper's circuit: persistent)",
            choices=physics.MEMORY_MODES,
            group=NETWORK,
        ),
    )
    gradient_estimator: str = field(
        default=DEFAULT_ESTIMATOR,
        metadata=flag(
            "backward pass of the sampled bits (ste: the paper's eq. 3)",
            choices=GRADIENT_ESTIMATORS,
            group=NETWORK,
        ),
    )
    epochs: int = field(default=500, metadata=flag("training epochs", group=PROTOCOL))
    batch_size: int = field(default=64, metadata=flag("batch size", group=PROTOCOL))
    lr: float = field(default=0.01, metadata=flag("SGD learning rate", group=PROTOCOL))
    momentum: float = field(default=0.9, metadata=flag("SGD momentum", group=PROTOCOL))
    shots: int = field(default=15, metadata=flag("shots of the validation vote", group=PROTOCOL))
    seed: int = field(
        default=0, metadata=flag("seed of the weights and the sampling", group=PROTOCOL)
    )
    initializer: str = field(
        default="glorot_uniform",
        metadata=flag(
            f"Keras initializer of the weights: {', '.join(INITIALIZERS)}",
            choices=INITIALIZERS,
            metavar="NAME",
            group=NETWORK,
        ),
    )
    noise: Target | None = field(  # text is parsed once, here
        default=None,
        metadata=flag(
            "train (and vote) with the exact noisy engine in the loop, e.g. depolarizing:0.01 "
            "or device:rainbow (slots:K, fold:K with a device)",
            kind="text",
            group=NETWORK,
        ),
    )
    # A classical stochastic baseline instead of qubits (text such as "sigmoid:8"); classical knobs.
    stochastic_neuron: ClassicalStochasticNeuron | None = field(
        default=None,
        metadata=flag(
            "train a classical stochastic baseline instead of qubits (classical knobs): "
            "sigmoid:BETA (P(d=+1) = sigmoid(BETA h)), gaussian:SIGMA (noise on h) or dropout:P",
            kind="text",
            metavar="KIND:VALUE",
            group=NETWORK,
        ),
    )
    data: DataSpec = field(default_factory=DataSpec)
    eval_every: int = field(
        default=1,
        metadata=flag(
            "epochs between deterministic validation evaluations (and vote epochs, the last)",
            group=BOOKKEEPING,
        ),
    )
    vote_every: int = field(
        default=10,
        metadata=flag("epochs between S-shot validation votes (and the last)", group=BOOKKEEPING),
    )
    checkpoint_every: int = field(
        default=1,
        metadata=flag("epochs between checkpoints (see --checkpoint-seconds)", group=BOOKKEEPING),
    )
    # Checkpoint no more often than this: a paper epoch takes 0.3 s, and an interrupted run loses
    # at most this much training (resumed runs are exact whatever the interval).
    checkpoint_seconds: float = field(
        default=10.0,
        metadata=flag(
            "checkpoint no more often than this (the last epoch always): an interrupted run "
            "resumes exactly and loses at most this much training",
            group=BOOKKEEPING,
        ),
    )
    steps_per_execution: int = field(  # training steps per TensorFlow call; 0: a whole epoch
        default=0,
        metadata=flag(
            "training steps per TensorFlow call (speed only; 0: a whole epoch)",
            group=BOOKKEEPING,
        ),
    )

    def __post_init__(self) -> None:
        Knobs(self.a, self.g, self.memory)
        # Configs read back from config.json hold the spec's text.
        object.__setattr__(self, "noise", Target.coerce(self.noise))
        if self.noise is not None:
            self.noise.require(TRAINING_FEATURES, "training")
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

    def memory_needed(self, inputs: int = 784, outputs: int = 10) -> float:
        """Bytes training needs at its peak (planned before anything is built).

        Every weight four times (itself, its momentum, its gradient, the checkpoint's copy), and a
        validation chunk's and a batch's activations (float32, a few tensors per neuron).
        """
        weights = inputs * self.hidden + (self.layers - 1) * self.hidden**2 + self.hidden * outputs
        rows = min(self.data.val_size * self.shots, 16384) + self.batch_size
        return 16.0 * weights + 32.0 * rows * self.hidden * self.layers

    def check_resources(self, inputs: int = 784, outputs: int = 10) -> None:
        """Refuse, in one line, a network this machine cannot hold."""
        check_memory(
            self.memory_needed(inputs, outputs),
            f"training {self.layers} x {self.hidden} neurons",
            "fewer or smaller layers",
        )

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
    "QUBITWISE",
    "SCHEDULE_FIELDS",
    "Target",
    "TrainConfig",
    "check_estimator",
]
