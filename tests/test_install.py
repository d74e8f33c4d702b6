"""A plain (non-editable) install, used from outside the checkout, as a new user would."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package built from the checkout and installed into a folder of its own."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--target", str(site), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return site


def natq(site: Path, cwd: Path, *argv: str, mnist: Path | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("NATQ_MNIST_DIR", "KERAS_HOME")}
    env.update(
        PYTHONPATH=str(site),
        HOME=str(cwd / "home"),  # no Keras cache
        # No download either: every HTTPS request goes to a closed port.
        https_proxy="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    if mnist is not None:
        env["NATQ_MNIST_DIR"] = str(mnist)
    return subprocess.run(
        [sys.executable, "-m", "natq_cirq", *argv], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_installed_package_is_used_and_ships_its_data(installed, tmp_path):
    code = (
        "import natq_cirq, natq_cirq.hardware.devices as d, natq_cirq.engine.fused as f; "
        "print(natq_cirq.__file__); print(len(d.device('willow_pink').metadata.qubit_set)); "
        "print(f.SOURCE.exists())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
    )
    where, qubits, kernel = done.stdout.split()
    assert where.startswith(str(installed)), done.stderr
    assert int(qubits) > 100 and kernel == "True"


def test_without_data_the_error_says_what_was_tried_and_the_fix(installed, tmp_path):
    (tmp_path / "home").mkdir()
    done = natq(installed, tmp_path, "demo", "--epochs", "1", "--hidden", "16", "--layers", "1")
    assert done.returncode == 2, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("natq: error:"), done.stderr
    assert "NATQ_MNIST_DIR (not set)" in error[0] and "python -m natq_cirq.data" in error[0]
    assert "shared" not in error[0] and "Traceback" not in done.stderr


@pytest.mark.skipif(not MNIST.is_dir(), reason="needs the MNIST files of the test data")
def test_the_demo_runs_given_only_the_data_location(installed, tmp_path):
    (tmp_path / "home").mkdir()
    done = natq(
        installed,
        tmp_path,
        # Without its backends' part (a minute and a half on qvm:rainbow; the runner tests cover
        # those backends): the installed package trains, writes models and runs them on qsim.
        *("demo", "--epochs", "1", "--hidden", "16", "--layers", "1", "--verbose", "0"),
        "--no-backends",
        mnist=MNIST,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    models = sorted((tmp_path / "runs" / "demo").glob("*/model.npz"))
    assert len(models) >= 2 and "error" in done.stdout
    results = natq(
        installed,
        tmp_path,
        *("run", str(models[-1]), "--dataset", "mnist-test:5"),
        *("--backend", "qsim", "--verbose", "0", "--out", "r.npz"),
        mnist=MNIST,
    )
    assert results.returncode == 0, results.stderr
    assert np.load(tmp_path / "r.npz")["predictions"].shape == (5,)
