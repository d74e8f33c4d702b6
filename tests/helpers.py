"""Shared statistical checks: every backend against the exact enumerated distribution."""

import math

from natq_cirq.imports import installed

import numpy as np
import pytest

# TensorFlow Quantum is the [tfq] extra: its tests run where it is installed (the pinned stack).
needs_tfq = pytest.mark.skipif(
    not installed("tensorflow_quantum"),
    reason="TensorFlow Quantum is not installed (the [tfq] extra: pip install 'natq-cirq[tfq]')",
)
TFQ = pytest.param("tfq", marks=needs_tfq)


def assert_records_match(records, exact, sigmas=5.0):
    """Empirical frequencies of hidden records match ``exact`` within a binomial bound.

    Args:
        records: ``(shots, L * N)`` array of +-1 (layer-major), one row per shot.
        exact: dict from record tuples to probabilities (physics.exact_record_distribution).
        sigmas: width of the per-record bound in binomial standard deviations; one count of slack
            covers records of probability ~0.
    """
    records = np.asarray(records)
    shots, width = records.shape
    assert math.isclose(sum(exact.values()), 1.0, abs_tol=1e-9)
    weights = 2 ** np.arange(width)[::-1]
    counts = np.bincount(((1 - records) // 2).astype(np.int64) @ weights, minlength=2**width)
    for record, p in exact.items():
        code = int(((1 - np.array(record, dtype=np.int64)) // 2) @ weights)
        observed = counts[code] / shots
        bound = sigmas * math.sqrt(max(p * (1 - p), 0.0) / shots) + 1 / shots
        assert abs(observed - p) <= bound, (record, observed, p, bound)


def empirical_distribution(records):
    """Frequencies of the records ``(shots, width)`` of +-1, as a dict like the exact ones."""
    records = np.asarray(records)
    width = records.shape[1]
    weights = 2 ** np.arange(width)[::-1]
    counts = np.bincount(((1 - records) // 2).astype(np.int64) @ weights, minlength=2**width)
    return {
        tuple(1.0 - 2 * ((code >> (width - 1 - np.arange(width))) & 1)): counts[code] / len(records)
        for code in range(2**width)
    }


def total_variation(bits, exact):
    """Total variation between the records of ``bits (shots, L, N)`` and ``exact``."""
    records = bits.reshape(len(bits), -1)
    weights = 2 ** np.arange(records.shape[1])[::-1]
    observed = np.bincount(((1 - records) // 2) @ weights, minlength=len(exact)) / len(records)
    expected = np.zeros(len(exact))
    for record, p in exact.items():
        expected[int(((1 - np.array(record, dtype=int)) // 2) @ weights)] = p
    return 0.5 * np.abs(observed - expected).sum()
