"""The natq command: train/run contracts (interfaces.md) and one-line errors for bad input."""

import argparse
import json
import os
import subprocess
import sys

from natq_cirq import files
from natq_cirq.cli import angle, main
from natq_cirq.engine.inference import predict
from natq_cirq.physics import Knobs
from natq_cirq.votes import majority_vote

import numpy as np
import pytest

TINY = [
    "--layers",
    "2",
    "--hidden",
    "16",
    "--train-size",
    "200",
    "--val-size",
    "100",
    "--shots",
    "3",
    "--verbose",
    "0",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "1", "--a", "0.4", *TINY, "--out", str(out)]) == 0
    return out


def error_line(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("natq: error:") and "\n" not in err and "Traceback" not in err
    return err


def test_train_then_resume_command(trained, capsys):
    assert main(["train", "--epochs", "2", "--a", "0.4", *TINY, "--out", str(trained)]) == 0
    assert "epoch 2:" in capsys.readouterr().out
    assert files.load_model(trained / "model.npz").config["epochs_done"] == 2


def test_run_writes_results_per_interfaces(trained, tmp_path, capsys):
    out = tmp_path / "RESULTS.npz"
    assert (
        main(
            [
                "run",
                str(trained / "model.npz"),
                "--dataset",
                "mnist-test:50",
                "--backend",
                "analytic",
                "--shots",
                "5",
                "--seed",
                "9",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "error rate" in printed and "neuron-measurements/s" in printed
    with np.load(out) as results:
        assert results["predictions"].shape == (50,)
        assert results["shot_predictions"].shape == (50, 5)
        assert results["bits"].shape == (50, 5, 2, 16) and results["bits"].dtype == np.int8
        assert set(np.unique(results["bits"])) <= {-1, 1}
        assert results["labels"].shape == (50,)
        error = float(results["error_rate"])
        assert error == np.mean(results["predictions"] != results["labels"])
        assert str(results["backend"]) == "analytic" and int(results["shots"]) == 5
        np.testing.assert_array_equal(
            results["predictions"], majority_vote(results["shot_predictions"], 10)
        )
    # A finished result is never overwritten without --force.
    err = error_line(
        capsys, ["run", str(trained / "model.npz"), "--dataset", "mnist-test:5", "--out", str(out)]
    )
    assert "--force" in err


def test_run_with_inputs_file_and_deterministic_knobs(trained, tmp_path):
    x = np.random.default_rng(0).uniform(size=(4, 784)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npz"
    assert (
        main(
            [
                "run",
                str(trained / "model.npz"),
                "--inputs",
                str(tmp_path / "x.npy"),
                "--deterministic",
                "--shots",
                "3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with np.load(out) as results:
        shots = results["shot_predictions"]
        assert (shots == shots[:, :1]).all() and "error_rate" not in results
        expected = predict(files.load_model(trained / "model.npz"), x, shots=1, knobs=Knobs())
        np.testing.assert_array_equal(results["predictions"], expected.predictions)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--a", "-0.1", "--out", "{tmp}/x"], "a must be"),
        (["train", "--g", "2pi", "--out", "{tmp}/x"], "g must lie"),
        (["train", "--epochs", "0", "--out", "{tmp}/x"], "epochs must be"),
        (["train", "--train-size", "70000", "--out", "{tmp}/x"], "exceeds"),
        (["train", "--out", "{blocked}/x"], "cannot create"),
        (
            [
                "run",
                "{model}",
                "--dataset",
                "mnist-test:5",
                "--backend",
                "warp",
                "--out",
                "{tmp}/r.npz",
            ],
            "unknown backend",
        ),
        (
            [
                "run",
                "{model}",
                "--dataset",
                "mnist-test:5",
                "--backend",
                "qvm:sycamore",
                "--out",
                "{tmp}/r.npz",
            ],
            "unknown processor",
        ),
        (
            ["run", "{model}", "--dataset", "mnist-test:5", "--shots", "0", "--out", "{tmp}/r.npz"],
            "shots",
        ),
        (
            ["run", "{tmp}/none.npz", "--dataset", "mnist-test:5", "--out", "{tmp}/r.npz"],
            "not found",
        ),
        (["run", "{model}", "--inputs", "{tmp}/wide.npy", "--out", "{tmp}/r.npz"], "expects 784"),
        (["run", "{model}", "--inputs", "{tmp}/nan.npy", "--out", "{tmp}/r.npz"], "NaN"),
        (["run", "{model}", "--out", "{tmp}/r.npz"], "--inputs"),
        (
            ["train", "--stochastic-neuron", "sig:1", "--out", "{tmp}/t"],
            "unknown stochastic neuron",
        ),
        (
            ["run", "{model}", "--dataset", "mnist-test:5", "--seed", "-1", "--out", "{tmp}/r.npz"],
            "seed",
        ),
        (
            ["run", "{tmp}/c.json", "--dataset", "mnist-test:5", "--out", "{tmp}/r.npz"],
            "program file",
        ),
    ],
)
def test_bad_input_is_one_line(trained, tmp_path, capsys, argv, fragment):
    np.save(tmp_path / "wide.npy", np.zeros((2, 785)))
    np.save(tmp_path / "nan.npy", np.full((2, 784), np.nan))
    (tmp_path / "blocked").write_text("a file, not a folder")
    names = {"tmp": tmp_path, "blocked": tmp_path / "blocked", "model": trained / "model.npz"}
    argv = [a.format(**names) for a in argv]
    assert fragment in error_line(capsys, argv)


def test_an_unknown_initializer_is_refused_by_its_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--initializer", "bogus", "--out", "t"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("natq: error:") and err.count("\n") == 1
    assert "--initializer: invalid choice: 'bogus'" in err


def test_angles_on_the_command_line():
    assert angle("pi/2") == pytest.approx(np.pi / 2)
    assert angle("5pi/19") == pytest.approx(5 * np.pi / 19)
    assert angle("5*pi/19") == pytest.approx(5 * np.pi / 19)
    assert angle("0.7") == 0.7


def test_majority_vote_ties_go_to_the_smallest_class():
    np.testing.assert_array_equal(majority_vote(np.array([[3, 1, 3, 1], [2, 2, 0, 5]]), 10), [1, 2])


def test_python_dash_m_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "natq_cirq",
            "run",
            str(tmp_path / "missing.npz"),
            "--dataset",
            "mnist-test:3",
            "--out",
            str(tmp_path / "r.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("natq: error:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_mistakes_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compile", "m.npz", "--device", "sycamore9", "--out", "x.json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("natq: error:") and err.count("\n") == 1 and "sycamore9" in err


def test_the_cli_answers_before_loading_cirq_or_tensorflow(tmp_path):
    """`natq --help` and a mistyped path never import Cirq or TensorFlow; JSON still registers."""
    import subprocess
    import sys

    code = (
        "import sys; from natq_cirq.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"assert main(['run', {str(tmp_path / 'none.npz')!r}, '--out', 'r.npz']) == 2\n"
        "print(sorted(m for m in ('cirq', 'tensorflow') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr
    assert "model file" in done.stderr and "not found" in done.stderr
    # Importing natq_cirq first and Cirq after still teaches cirq.read_json natq's gates.
    code = (
        "import natq_cirq, cirq\n"
        'gate = cirq.read_json(json_text=\'{"cirq_type": '
        '"natq_cirq.WeakMeasurementEntangler", "g": 0.3}\')\n'
        "print(type(gate).__name__, gate.g, natq_cirq.JSON_RESOLVER.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["WeakMeasurementEntangler", "0.3", "json_resolver"], done.stderr


@pytest.mark.parametrize(
    "backend, extra, loads",
    [
        ("qsim", [], "tensorflow False cirq_google False"),
        ("cirq", [], "tensorflow False cirq_google False"),
        ("analytic", [], "tensorflow True cirq_google False"),
        ("qsim", ["--noise", "device:rainbow"], "tensorflow False cirq_google True"),
    ],
)
def test_a_run_loads_only_what_its_backend_needs(tmp_path, backend, extra, loads):
    """`natq run` on a circuit backend never imports TensorFlow, an unplaced run never imports
    cirq_google (natq_cirq.imports); the exact engine and a device's noise do (power)."""
    import subprocess
    import sys

    from natq_cirq.files import save_model
    from natq_cirq.physics import Knobs

    from test_compile import tiny_model

    save_model(tmp_path / "m.npz", tiny_model(Knobs(0.4, 1.1)))
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((3, 4)).astype(np.float32))
    code = (
        "import sys; from natq_cirq.cli import main\n"
        f"assert main(['run', {str(tmp_path / 'm.npz')!r}, '--inputs', "
        f"{str(tmp_path / 'x.npy')!r}, '--backend', {backend!r}, '--shots', '3', *{extra!r}, "
        f"'--verbose', '0', '--out', {str(tmp_path / 'r.npz')!r}]) == 0\n"
        "print(*(f'{m} {m in sys.modules}' for m in ('tensorflow', 'cirq_google')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == loads, done.stdout + done.stderr
    results = np.load(tmp_path / "r.npz")
    assert results["predictions"].shape == (3,)
    # The device data a run used are recorded (what cirq-google version, which files).
    recorded = json.loads(str(results["device_data"]))
    assert (recorded is None) == (not extra)
    if extra:
        assert recorded["processor"] == "rainbow" and len(recorded["files"]) >= 2


def test_knobs_in_the_papers_notation():
    from natq_cirq.cli import angle, number

    assert number("10^-1/3") == pytest.approx(10 ** (-1 / 3))
    assert number("10^(-1/2)") == number("10^-0.5") == pytest.approx(10**-0.5)
    assert angle("π/2") == angle("pi/2") == pytest.approx(np.pi / 2)
    assert angle("5pi/19") == pytest.approx(5 * np.pi / 19)
    for bad in ("10^-1/0", "10^x", "ten"):
        with pytest.raises(argparse.ArgumentTypeError):
            number(bad)


def small_model_and_inputs(folder):
    """``m.npz`` (784 -> 2 x 4 -> 10) and ``x.npy`` (two zero images) in ``folder``."""
    from natq_cirq.files import ModelFile, save_model

    rng = np.random.default_rng(0)
    kernels = [rng.normal(0, 0.1, s).astype(np.float32) for s in [(784, 4), (4, 4), (4, 10)]]
    save_model(folder / "m.npz", ModelFile(kernels, Knobs(0.3, 1.0)))
    np.save(folder / "x.npy", np.zeros((2, 784), np.float32))
    return folder / "m.npz", folder / "x.npy"


def test_outputs_never_destroy_inputs(tmp_path, capsys):
    """--out (and --qasm) naming an input, a directory or a device is refused; inputs intact."""
    model, _ = small_model_and_inputs(tmp_path)
    before = model.read_bytes()
    (tmp_path / "folder").mkdir()
    x = ["--inputs", str(tmp_path / "x.npy")]
    cases = [
        ["run", str(model), *x, "--force", "--out", str(model)],
        ["run", str(model), *x, "--force", "--out", str(tmp_path / "." / "x.npy")],
        ["run", str(model), *x, "--force", "--out", str(tmp_path / "folder")],
        ["run", str(model), *x, "--force", "--out", "/dev/null"],
        ["compile", str(model), "--force", "--out", str(model)],
        [
            "compile",
            str(model),
            "--out",
            str(tmp_path / "p.json"),
            "--qasm",
            str(tmp_path / "p.json"),
        ],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("natq: error: "), lines
    assert model.read_bytes() == before and (tmp_path / "folder").is_dir()
    assert not (tmp_path / "p.json").exists()
    # Power: a fresh output is written.
    assert main(["run", str(model), *x, "--out", str(tmp_path / "r.npz")]) == 0


def test_natq_removes_only_journals_it_made(tmp_path):
    """A user's folder named OUT.journal is never deleted; natq's own journal is, once done."""
    small_model_and_inputs(tmp_path)
    mine = tmp_path / "r.npz.journal"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's")
    argv = ["run", str(tmp_path / "m.npz"), "--inputs", str(tmp_path / "x.npy"), "--backend"]
    assert main([*argv, "analytic", "--out", str(tmp_path / "r.npz")]) == 0
    assert (mine / "notes.txt").read_text() == "the user's"
    assert main([*argv, "qsim", "--force", "--out", str(tmp_path / "r.npz")]) == 2  # not natq's
    assert (mine / "notes.txt").read_text() == "the user's"
    # Power: natq's own journal is removed once the results are safe.
    assert main([*argv, "qsim", "--out", str(tmp_path / "s.npz")]) == 0
    assert not (tmp_path / "s.npz.journal").exists() and (tmp_path / "s.npz").is_file()


def test_sigterm_ends_a_run_as_ctrl_c_does(tmp_path):
    """SIGTERM (a scheduler's stop) is an interruption: one line, exit 130, resumable."""
    import signal
    import time

    from natq_cirq.files import ModelFile, save_model

    rng = np.random.default_rng(0)
    kernels = [rng.normal(0, 0.6, s).astype(np.float32) for s in [(4, 3), (3, 3), (3, 2)]]
    save_model(tmp_path / "m.npz", ModelFile(kernels, Knobs(0.4, 1.1)))
    np.save(tmp_path / "x.npy", rng.normal(size=(400, 4)))
    command = [
        sys.executable, "-m", "natq_cirq", "run", str(tmp_path / "m.npz"),
        "--inputs", str(tmp_path / "x.npy"), "--backend", "cirq", "--shots", "50",
        "--verbose", "0", "--out", str(tmp_path / "r.npz"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "r.npz.journal"
    deadline = time.monotonic() + 300
    while not list(journal.glob("*.npz")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()[-2000:]
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "natq: interrupted; rerun the same command to resume"
    assert list(journal.glob("*.npz")) and not (tmp_path / "r.npz").exists()


def test_refused_commands_leave_no_folders_or_locks_and_names_are_checked(tmp_path, capsys):
    """A refused run creates nothing; an output name too long for the files beside it is refused."""
    small_model_and_inputs(tmp_path)
    run = ["run", str(tmp_path / "m.npz"), "--inputs", str(tmp_path / "x.npy")]
    before = sorted(tmp_path.rglob("*"))
    for argv in (
        [
            *run,
            "--backend",
            "qsim",
            "--slots",
            "99",
            "--out",
            str(tmp_path / "new" / "deep" / "r.npz"),
        ],
        [*run, "--backend", "warp", "--out", str(tmp_path / "new" / "r.npz")],
        [*run, "--out", str(tmp_path / ("r" * 242 + ".npz"))],
        ["compile", str(tmp_path / "m.npz"), "--out", str(tmp_path / ("p" * 250 + ".json"))],
    ):
        assert main(argv) == 2, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("natq: error: "), lines
    assert sorted(tmp_path.rglob("*")) == before
    # Power: a run into new folders creates them, its output, and no lock file.
    assert main([*run, "--out", str(tmp_path / "new" / "deep" / "r.npz")]) == 0
    assert sorted(p.name for p in (tmp_path / "new" / "deep").iterdir()) == ["r.npz"]
    assert main([*run, "--out", str(tmp_path / ("r" * 237 + ".npz"))]) == 0  # 241 bytes: fits


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--angles", "1000000000"], "4..10000 angles"),
        (["--angles", "10000", "--shots", "10000000"], "needs ~"),
        (["--fold", "1000000"], "fold must be in"),
        (["--slots", "1000000"], "slots must be in"),
    ],
)
def test_calibrate_plans_its_resources_before_allocating(tmp_path, capsys, extra, fragment):
    """Even a dry run allocated the angles first; now the plan refuses in one line."""
    argv = ["calibrate", "--backend", "qvm:rainbow", *extra, "--dry-run"]
    assert main([*argv, "--out", str(tmp_path / "c.json")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines


def test_non_ascii_paths_print_on_an_ascii_terminal(tmp_path):
    """Issue 28: a non-ASCII output path on an ASCII-only standard output was a traceback."""
    small_model_and_inputs(tmp_path)
    out = tmp_path / "résultats ✓.npz"
    done = subprocess.run(
        [sys.executable, "-m", "natq_cirq", "run", str(tmp_path / "m.npz"), "--inputs",
         str(tmp_path / "x.npy"), "--backend", "qsim", "--out", str(out)],
        capture_output=True, env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert out.is_file() and b"r\\xe9sultats" in done.stdout


def test_a_program_names_no_model_outside_its_folder(tmp_path, capsys):
    """Issue 28: a program is not a door; a model outside its folder needs --model-file."""
    import json

    model, x = small_model_and_inputs(tmp_path)
    (tmp_path / "progs").mkdir()
    program = tmp_path / "progs" / "p.json"
    assert main(["compile", str(model), "--out", str(program)]) == 0
    assert "run the program with --model-file" in capsys.readouterr().out
    run = ["run", str(program), "--inputs", str(x), "--backend", "qsim"]
    assert main([*run, "--out", str(tmp_path / "r.npz")]) == 2
    assert "names a model outside its folder" in capsys.readouterr().err
    assert main([*run, "--model-file", str(model), "--out", str(tmp_path / "r.npz")]) == 0
    # An absolute or climbing path written into a program by hand is refused the same way.
    document = json.loads(program.read_text())
    for path in ("/etc/passwd", "../../m.npz"):
        program.write_text(json.dumps({**document, "model": {**document["model"], "path": path}}))
        assert main([*run, "--force", "--out", str(tmp_path / "r.npz")]) == 2
        assert "outside its folder" in capsys.readouterr().err
    # Power: a program beside its model runs as it is.
    assert main(["compile", str(model), "--out", str(tmp_path / "q.json")]) == 0
    assert main(["run", str(tmp_path / "q.json"), "--inputs", str(x), "--backend", "qsim",
                 "--out", str(tmp_path / "s.npz")]) == 0  # fmt: skip
