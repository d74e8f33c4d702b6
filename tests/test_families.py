"""'Is the advantage quantum?': the comparison's statistics on result files of known content."""

import json
import math

import numpy as np
import pytest

from experiments import families, sweep

IMAGES = 2000


def write_model(folder, config, seed, error, rng, digest="d1", neuron=None):
    """A result file and its votes: each vote wrong on ~``error`` of the images."""
    labels = rng.integers(0, 10, IMAGES)
    votes = np.repeat(labels[None, :], 10, axis=0)
    for v in range(10):
        wrong = rng.random(IMAGES) < error
        votes[v, wrong] = (labels[wrong] + 1) % 10
    kwargs = dict(config, seed=seed, **({"stochastic_neuron": neuron} if neuron else {}))
    ident = sweep.config_id(kwargs, 500)
    np.savez(folder / f"{ident}.votes.npz", labels=labels, votes=votes, deterministic=labels)
    errors = (votes != labels).mean(axis=1)
    row = {
        "id": ident,
        "seed": seed,
        "training_digest": digest,
        "versions": {"code": {"commit": "abcdef0123"}},
        "config": {
            "a": config["a"],
            "g": config["g"],
            "memory": config.get("memory", "persistent"),
            "stochastic_neuron": neuron,
        },
        "votes": {
            "file": f"{ident}.votes.npz",
            "mean": float(errors.mean()),
            "sem": float(errors.std(ddof=1) / math.sqrt(10)),
            "deterministic_error": error,
        },
    }
    (folder / f"{ident}.json").write_text(json.dumps(row))


@pytest.fixture()
def folders(tmp_path):
    rng = np.random.default_rng(0)
    headline, baselines = tmp_path / "headline", tmp_path / "baselines"
    headline.mkdir(), baselines.mkdir()
    # classical 0.08; a's 0.05 and 0.055; weak persistent 0.067 (= the best baseline); others.
    truth = [0.08, 0.05, 0.055, 0.067, 0.07, 0.045]
    for config, error in zip(sweep.HEADLINE, truth, strict=True):
        for seed in range(6):
            write_model(headline, config, seed, error + 0.001 * (seed - 2.5), rng)
    # A file of other training code is never mixed in (it would move the classical mean).
    write_model(headline, sweep.HEADLINE[0], 9, 0.5, rng, digest="other")
    for kind, scales in sweep.BASELINE_GRID.items():
        for k, scale in enumerate(scales):
            write_model(
                baselines, sweep.CLASSICAL, 0, 0.075 - 0.002 * k, rng, neuron=f"{kind}:{scale:g}"
            )
    best = sweep.best_baselines(baselines)
    for kind, neuron in best.items():
        for seed in sweep.BASELINE_SEEDS:
            error = {"sigmoid": 0.067, "gaussian": 0.07, "dropout": 0.075}[kind]
            write_model(
                baselines, sweep.CLASSICAL, seed, error + 0.001 * (seed - 2), rng, neuron=neuron
            )
    return headline, baselines


def test_families_group_by_configuration_and_code(folders):
    quantum, stochastic = families.families(*folders)
    assert [f.n for f in quantum] == [6] * 6  # the other-code file is left out
    assert [f.label.split(",")[0] for f in stochastic][0].startswith("stochastic binary neuron")
    assert {f.n for f in stochastic} == {1 + len(sweep.BASELINE_SEEDS)}
    assert quantum[0].errors.mean() == pytest.approx(0.08, abs=0.003)


def test_verdicts_follow_both_tests_and_the_fraction_its_definition(folders):
    block, answer = families.table(*folders)
    quantum, stochastic = families.families(*folders)
    classical, best_s = quantum[0], min(stochastic, key=lambda f: f.errors.mean())
    best_q = min(quantum[1:], key=lambda f: f.errors.mean())
    assert "combined" in best_q.label and "σ(βh)" in best_s.label
    # Weak persistent equals the best baseline by construction: no finding either way.
    weak = next(f for f in quantum if "persistent" in f.label)
    assert not families.compare(weak, best_s)["finding"]
    # Combined (0.045) vs the baseline (~0.066): a finding, lower.
    combined = families.compare(best_q, best_s)
    assert combined["finding"] and combined["difference"] < -0.015
    assert "no measurable change" in block and "lower" in block
    value, low, high = families.advantage_fraction(classical, best_s, best_q)
    expected = (classical.errors.mean() - best_s.errors.mean()) / (
        classical.errors.mean() - best_q.errors.mean()
    )
    assert value == pytest.approx(expected) and low < value < high
    assert f"{value:.0%}" in answer and "weak g = 5π/19, persistent memory: no measurable" in answer


def test_figure_is_drawn_from_the_files(folders, tmp_path):
    out = families.figure(*folders, out=tmp_path / "families.png")
    assert out.exists() and out.stat().st_size > 10_000


def test_without_results_the_table_says_what_to_run(tmp_path):
    block, _ = families.table(tmp_path / "none", tmp_path / "none")
    assert "experiments.sweep headline" in block
