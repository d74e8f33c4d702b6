"""The sweep machinery: one result file per configuration, skipping finished ones, Ray dispatch."""

import json
import sys

import pytest

from experiments import figures, sweep


@pytest.fixture(scope="module")
def one_epoch_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    results, scratch = root / "results", root / "runs"
    argv = [
        "fig4",
        "--epochs",
        "1",
        "--no-ray",
        "--results",
        str(results),
        "--scratch",
        str(scratch),
    ]
    sweep.main(argv)
    return results, scratch, argv


def test_result_file_records_the_run(one_epoch_sweep):
    results, _, _ = one_epoch_sweep
    (path,) = results.glob("*.json")
    result = json.loads(path.read_text())
    assert result["config"]["a"] == 0.5 and result["seed"] == 0
    assert result["data"]["train_size"] == 5000 and result["versions"]["tensorflow"]
    assert result["final"]["epoch"] == 1 and 0 < result["final"]["val_error_vote"] < 0.5
    assert result["history"][0]["val_error_deterministic"] is not None


def test_finished_configurations_are_skipped(one_epoch_sweep, capsys):
    _, _, argv = one_epoch_sweep
    sweep.main(argv)
    assert "0 configuration(s) to run" in capsys.readouterr().out


def test_a_result_file_of_another_run_is_not_finished(one_epoch_sweep, tmp_path):
    """Result files carry the run identity; a file of another run under the same name is redone."""
    results, _, _ = one_epoch_sweep
    (path,) = results.glob("*.json")
    kwargs = sweep.configurations("fig4")[0]
    assert sweep.is_finished(path, kwargs, 1)
    result = json.loads(path.read_text())
    assert result["identity"] == sweep.result_identity(kwargs, 1)
    assert result["identity"] != sweep.result_identity(kwargs, 2)  # power: epochs enter it
    other = tmp_path / path.name
    other.write_text(json.dumps({**result, "identity": sweep.result_identity(kwargs, 2)}))
    assert not sweep.is_finished(other, kwargs, 1)
    older = tmp_path / "older.json"  # files written before identities: judged by name
    older.write_text(json.dumps({k: v for k, v in result.items() if k != "identity"}))
    assert sweep.is_finished(older, kwargs, 1)


def test_figures_draw_from_result_files(one_epoch_sweep, tmp_path):
    results, _, _ = one_epoch_sweep
    rows = figures.load(results)
    for draw in (figures.fig2, figures.fig5, figures.fig7, figures.fig8):
        draw(rows).savefig(tmp_path / f"{draw.__name__}.png")
    assert len(list(tmp_path.glob("*.png"))) == 4


def test_configuration_lists():
    assert len(sweep.configurations("fig5")) == 9
    assert len(sweep.configurations("fig7")) == 20
    assert len(sweep.configurations("fig8")) == 30
    ids = {sweep.config_id(c, 500) for f in sweep.FIGURES for c in sweep.configurations(f)}
    assert sweep.config_id(dict(a=0.0, g=1.5707963, seed=0), 500) in ids
    # Every configuration has its own file name; the other choices are named in it.
    defaults = dict(memory="persistent", gradient_estimator="ste")
    every = [{**defaults, **c} for f in sweep.FIGURES for c in sweep.configurations(f)]
    distinct = {
        tuple(sorted((k, round(v, 6) if isinstance(v, float) else v) for k, v in c.items()))
        for c in every
    }
    assert len({sweep.config_id(c, 500) for c in every}) == len(distinct)
    assert "_signed_" in sweep.config_id(dict(a=0.0, g=1.0, seed=0, scaling="signed"), 500)


def test_other_choices_are_recorded_and_kept_apart(tmp_path):
    """A ``choices`` run trains with its scaling, and figures never mix it with the defaults."""
    results = tmp_path / "r"
    argv = ["choices", "--epochs", "1", "--no-ray", "--limit", "1", "--results", str(results)]
    sweep.main([*argv, "--scratch", str(tmp_path / "s")])
    rows = figures.load(results)
    assert [r["config"]["data"]["scaling"] for r in rows] == ["signed"]
    assert figures.select(rows, a=0.0) == []
    assert len(figures.select(rows, a=0.0, scaling="signed")) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="Ray's local cluster is exercised on Linux")
def test_ray_dispatch(tmp_path, capsys):
    sweep.main(
        [
            "fig4",
            "--epochs",
            "1",
            "--workers",
            "1",
            "--threads",
            "1",
            "--results",
            str(tmp_path / "r"),
            "--scratch",
            str(tmp_path / "s"),
        ]
    )
    assert "finished a0.5000" in capsys.readouterr().out
    assert len(list((tmp_path / "r").glob("*.json"))) == 1


def test_scripts_get_tf_keras(tmp_path):
    """Every script imports natq_cirq before TensorFlow, so tf.keras is TFQ's Keras 2 (tf-keras)."""
    import subprocess

    code = (
        "import experiments.benchmarks.train_speed, experiments.benchmarks.runner_speed, "
        "experiments.sweep, experiments.figures\n"
        "import tensorflow as tf\nassert tf.keras.__name__.startswith('tf_keras'), tf.keras\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-500:]


def test_full_run_benchmark_reports_its_parts_and_the_machine_reference(tmp_path):
    from experiments.benchmarks import full_run, report

    out = tmp_path / "full_run.json"
    result = full_run.main(["--epochs", "2", "--out", str(out)])
    assert json.loads(out.read_text())["wall_seconds"] == result["wall_seconds"]
    parts = result["train_seconds"] + result["validation_seconds"] + result["other_seconds"]
    assert result["wall_seconds"] == pytest.approx(parts)
    assert result["train_seconds"] > 0 and result["validation_seconds"] > 0
    assert result["final"]["epoch"] == 2 and result["final"]["val_error_vote"] is not None
    assert result["floor_seconds_per_epoch"] > 0
    assert result["wall_over_floor_epochs"] == pytest.approx(
        result["wall_seconds"] / (2 * result["floor_seconds_per_epoch"])
    )
    assert "Machine reference" in "\n".join(report.full_run_section(result))
