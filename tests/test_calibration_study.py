"""The calibration study's report: removed error with honest intervals, findings only when tested."""

from natq_cirq.files import write_json, write_npz

import numpy as np
import pytest

from experiments import calibration_study as study

IMAGES = 4000


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "RESULTS", tmp_path)
    monkeypatch.setattr(study, "_readouts", lambda name: 1536)
    return tmp_path


def point(network, device, fold, condition, wrong, labels):
    predictions = labels.copy()
    predictions[wrong] = (labels[wrong] + 1) % 10
    path = study.point_path(network, device, fold, condition)
    write_npz(path.with_suffix(".npz"), predictions=predictions, labels=labels)
    write_json(
        path,
        {
            "network": network,
            "device": device,
            "fold": fold,
            "condition": condition,
            "images": len(labels),
            "error_rate": float(np.mean(predictions != labels)),
            "stats": {
                "readouts_clipped": 15 * 1536 * len(labels) // 4,
                "clipped_probability_mean": 0.01,
            },
        },
    )


def test_removed_error_and_findings(results):
    labels = np.random.default_rng(0).integers(0, 10, IMAGES).astype(np.uint8)
    point("best-g", None, None, "noiseless", slice(0, 200), labels)  # 5 %
    # Folded: 10 % wrong; compensation recovers 120 of the 200 extra errors.
    point("best-g", "rainbow", 4, "uncompensated", slice(0, 400), labels)
    point("best-g", "rainbow", 4, "compensated", slice(0, 280), labels)
    # Another fold where compensation changes 3 images: no measurable change.
    point("best-g", "rainbow", 0, "uncompensated", slice(0, 230), labels)
    point("best-g", "rainbow", 0, "compensated", slice(0, 227), labels)
    rows = {(r["fold"], r["condition"]): r for r in study.rows() if r["fold"] is not None}
    noiseless = next(r for r in study.rows() if r["condition"] == "noiseless")
    r = study.removed(noiseless, rows[(4, "uncompensated")], rows[(4, "compensated")])
    gain, low, high = r["gain"]
    assert gain == pytest.approx(0.03) and low < 0.03 < high and low > 0
    assert r["fraction"] == pytest.approx(0.6) and r["fraction_interval"][0] < 0.6
    (answer,) = study.answer(study.points())
    assert "selection + compensation lowers the error measurably in 1 of 2" in answer
    assert "best-g on rainbow k=4" in answer and "no measurable change in 1" in answer
    assert "25%–25%" in answer
    table = "\n".join(study.table(study.points()))
    assert "+0.0300 [" in table and "60% [" in table and "(n.s.)" in table
