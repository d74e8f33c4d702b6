"""The noise study's report states only what a paired test on the same images supports."""

import json

from natq_cirq.files import write_json, write_npz

import numpy as np
import pytest

from experiments import noise_study

IMAGES = 4000


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(noise_study, "RESULTS", tmp_path)
    return tmp_path


def point(folder, name, predictions, labels, **fields):
    path = folder / f"{name}.json"
    write_npz(noise_study.predictions_path(path), predictions=predictions, labels=labels)
    error = float(np.mean(predictions != labels))
    write_json(
        path,
        {
            "images": len(labels),
            "error_rate": error,
            "predictions": noise_study.predictions_path(path).name,
            **fields,
        },
    )


def test_findings_keep_significant_changes_and_call_the_rest_unchanged(results):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, IMAGES).astype(np.uint8)
    base = labels.copy()
    base[:280] = (labels[:280] + 1) % 10  # 7 % wrong
    worse = base.copy()
    worse[280:680] = (labels[280:680] + 1) % 10  # 400 more wrong: 17 %
    same = base.copy()  # a few images swap: no measurable change
    same[:6] = labels[:6]
    same[700:706] = (labels[700:706] + 1) % 10
    for label, last in (("best-g", worse), ("best-a", same)):
        for k in noise_study.FOLDS:
            predictions = last if k == max(noise_study.FOLDS) else base
            point(
                results,
                f"fold_{label}_rainbow_k{k}",
                predictions,
                labels,
                study="fold",
                variant=label,
                device="rainbow",
                fold=k,
            )
    text = "\n".join(noise_study.findings())
    assert "folding k = 0 → 8 on rainbow, best-g: 0.0700 → 0.1700 (+0.1000; McNemar p = " in text
    assert "No measurable change: folding k = 0 → 8 on rainbow, best-a (p = 1.00)" in text
    assert "best-a: 0.0700" not in text  # an unchanged point is never written as a finding
    table = "\n".join(noise_study.fold_table())
    assert "4,000 test images" in table
    assert "0.1700 ± 0.0059 (p = " in table and "0.0700 ± 0.0040 (n.s.)" in table


def test_a_point_is_redone_unless_it_covers_the_images_with_predictions(results):
    """Files from before run identities: by name and image count."""
    labels = np.zeros(10, np.uint8)
    point(results, "fold_x_rainbow_k0", labels, labels)
    path = results / "fold_x_rainbow_k0.json"
    assert noise_study.done(path, "any", 10) and not noise_study.done(path, "any", 10_000)
    noise_study.predictions_path(path).unlink()
    assert not noise_study.done(path, "any", 10)


def test_a_point_is_keyed_by_its_run_identity(results):
    """Another target, model, image count, shot count, seed or device data: another point."""
    from natq_cirq.target import Target

    base = ("m" * 64, Target(device="rainbow", fold=2), 10, 15, 0)
    identity = noise_study.point_identity(*base)
    others = [
        ("n" * 64, *base[1:]),
        (base[0], Target(device="rainbow", fold=4), *base[2:]),
        (base[0], Target(device="weber", fold=2), *base[2:]),
        (base[0], "depolarizing:0.01", *base[2:]),
        (*base[:2], 11, 15, 0),
        (*base[:2], 10, 16, 0),
        (*base[:2], 10, 15, 1),
    ]
    assert len({identity, *(noise_study.point_identity(*o) for o in others)}) == 1 + len(others)
    labels = np.zeros(10, np.uint8)
    point(results, "fold_x_rainbow_k2", labels, labels, identity=identity)
    path = results / "fold_x_rainbow_k2.json"
    assert noise_study.done(path, identity, 10)
    assert not noise_study.done(path, noise_study.point_identity(*others[1]), 10)


def test_a_point_on_other_device_data_is_another_point(monkeypatch):
    """cirq-google 1.5's rainbow noise and 1.7's (Z phases, gate times) never share a point."""
    from natq_cirq.target import Target

    args = ("m" * 64, Target(device="rainbow"), 10, 15, 0)
    first = noise_study.point_identity(*args)
    monkeypatch.setattr(noise_study.natq_devices, "data_record", lambda name: {"other": name})
    assert noise_study.point_identity(*args) != first


def test_noise_aware_findings_need_a_paired_test_over_seeds(results):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, IMAGES).astype(np.uint8)
    for seed in noise_study.AWARE["seeds"]:
        for label, wrong in (
            ("classical", 450 + 10 * seed),
            ("classical noise-aware", 300 + 7 * seed),
        ):
            predictions = labels.copy()
            predictions[:wrong] = (labels[:wrong] + 1) % 10
            point(
                results,
                f"aware_{label.replace(' ', '-')}_seed{seed}_rainbow_k0",
                predictions,
                labels,
                study="aware",
                variant=label,
                network="classical",
                seed=seed,
                device="rainbow",
                fold=0,
            )
    text = "\n".join(noise_study.findings())
    assert "noise-aware training of classical, run on rainbow: mean change -0.0" in text
    assert "paired t-test over seeds p = " in text
    table = "\n".join(noise_study.aware_table())
    assert "(n=3)" in table
    json.dumps(noise_study.aware_pairs()["classical"]["pairs"][0][0])
