"""Votes: per-shot predictions, the majority vote and the error rate (NumPy only, no TensorFlow).

Every backend's result is a :class:`Predictions`; the circuit backends use this module without
loading TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from natq_cirq.errors import NatqError

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
