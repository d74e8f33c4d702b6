"""Inference: S shots per input, majority vote, per-shot predictions and the recorded hidden bits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from natq_cirq.engine import device_scope
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, check_inputs
from natq_cirq.layers import NaturallyQuantizedNetwork
from natq_cirq.noise import NoiseSpec
from natq_cirq.physics import Knobs

import numpy as np


@dataclass
class Predictions:
    """What S shots of a network said about n inputs (the fields of ``RESULTS.npz``).

    Attributes:
        predictions: ``(n,)`` majority vote over shots; ties go to the smallest class index.
        shot_predictions: ``(n, S)`` ``argmax`` of each shot's logits.
        bits: ``(n, S, L, N)`` int8 in ``{+1, -1}``, or ``None`` if not recorded.
        seconds: wall time of the simulation.
    """

    predictions: np.ndarray
    shot_predictions: np.ndarray
    bits: np.ndarray | None
    seconds: float

    @property
    def shots(self) -> int:
        return self.shot_predictions.shape[1]

    def error_rate(self, labels: np.ndarray) -> float:
        """Fraction of majority-vote predictions that differ from ``labels``."""
        return error_rate(self.predictions, labels)

    def error_rate_by_shots(self, labels: np.ndarray, classes: int) -> np.ndarray:
        """Error of the vote over the first ``s`` shots, for ``s = 1 ... S`` (the paper's Fig. 4)."""
        return np.array(
            [
                error_rate(majority_vote(self.shot_predictions[:, :s], classes), labels)
                for s in range(1, self.shots + 1)
            ]
        )


def majority_vote(shot_predictions: np.ndarray, classes: int) -> np.ndarray:
    """Most common class per row of ``(n, S)``; ties go to the smallest class index."""
    shot_predictions = np.asarray(shot_predictions)
    counts = np.zeros((len(shot_predictions), classes), dtype=np.int64)
    rows = np.repeat(np.arange(len(shot_predictions)), shot_predictions.shape[1])
    np.add.at(counts, (rows, shot_predictions.reshape(-1)), 1)
    return counts.argmax(axis=1)  # argmax returns the first (smallest) index among ties


def error_rate(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``predictions`` that differ from ``labels``."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise NatqError(f"{len(labels)} labels for {len(predictions)} predictions")
    return float(np.mean(predictions != labels))


def predict(
    network: ModelFile | NaturallyQuantizedNetwork,
    x: np.ndarray,
    shots: int = 15,
    seed: int = 0,
    knobs: Knobs | None = None,
    record_bits: bool = True,
) -> Predictions:
    """Run ``shots`` shots of every input through the exact engine.

    Args:
        network: a :class:`natq_cirq.files.ModelFile` or a built
            :class:`natq_cirq.layers.NaturallyQuantizedNetwork`.
        x: inputs ``(n, M)``, scaled as the model expects.
        shots: shots per input (``>= 1``).
        seed: seed of the sampling; the same seed gives the same bits.
        knobs: override the model's knobs (``Knobs()`` is deterministic inference).
        record_bits: keep the hidden outcomes (``n * S * L * N`` bytes).

    Returns:
        :class:`Predictions`.
    """
    if int(shots) < 1:
        raise NatqError(f"shots must be >= 1 (got {shots})")
    if isinstance(network, ModelFile):
        network = build_network(network)
    x = check_inputs(x, network.input_dim)
    start = time.perf_counter()
    with device_scope():
        logits, bits = network.sample(
            x, int(shots), knobs=knobs, seed=seed, record_bits=record_bits
        )
    seconds = time.perf_counter() - start
    shot_predictions = logits.argmax(axis=-1)
    return Predictions(
        predictions=majority_vote(shot_predictions, network.outputs),
        shot_predictions=shot_predictions,
        bits=bits,
        seconds=seconds,
    )


def build_network(model: ModelFile, noise: NoiseSpec | None = None) -> NaturallyQuantizedNetwork:
    """A :class:`natq_cirq.layers.NaturallyQuantizedNetwork` holding ``model``'s weights.

    ``noise``: simulated exactly in every pass (see :class:`natq_cirq.layers.QuantumNeuronLayer`).
    """
    network = NaturallyQuantizedNetwork(
        input_dim=model.input_dim,
        hidden=model.hidden,
        layers=model.layers,
        outputs=model.outputs,
        a=model.knobs.a,
        g=model.knobs.g,
        memory=model.knobs.memory,
        gradient_estimator=model.config.get("gradient_estimator", "ste"),
        noise=noise,
        stochastic_neuron=model.stochastic_neuron,
    )
    network.set_kernels(model.kernels)
    return network
