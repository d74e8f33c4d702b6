"""Two installs: the core on today's Cirq and TensorFlow, and the pinned TensorFlow Quantum set.

Without TensorFlow Quantum (the ``[tfq]`` extra) everything but the TFQ backend, the TFQ layers and
the TFQ tutorial works, and those three say in one line what to install. The pinned stack runs
these checks with TFQ blocked (``sys.modules["tensorflow_quantum"] = None``), so both stacks do.
"""

import os
import subprocess
import sys
from pathlib import Path

from natq_cirq.errors import NatqError
from natq_cirq.imports import EXTRAS, MissingExtra, installed, require

import numpy as np
import pytest
from test_architecture import ALL, TFQ_USERS

ROOT = Path(__file__).resolve().parent.parent
BLOCK = "import sys\nsys.modules['tensorflow_quantum'] = None\n"


def python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code], cwd=cwd, env=env, capture_output=True, text=True
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("natq: error:") and "pip install 'natq-cirq[tfq]'" in lines[0]
    return lines[0]


def test_the_tfq_backend_says_what_to_install(tmp_path):
    model = tmp_path / "m.npz"
    make = (
        "from natq_cirq.files import ModelFile, save_model; import numpy as np; "
        "from natq_cirq.physics import Knobs; "
        f"save_model({str(model)!r}, ModelFile([np.ones((4, 2), np.float32), "
        "np.ones((2, 2), np.float32)], Knobs(0.3)))"
    )
    assert python(make).returncode == 0
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    run = (
        "from natq_cirq.cli import main; sys.exit(main(['run', 'm.npz', '--inputs', 'x.npy', "
        "'--backend', 'tfq', '--out', 'r.npz']))"
    )
    line = one_line(python(run, tmp_path))
    assert "the tfq backend needs TensorFlow Quantum" in line
    assert not (tmp_path / "r.npz").exists()


def test_the_tfq_layer_and_tutorial_say_what_to_install():
    done = python(
        "try:\n    from natq_cirq.engine.tfq_layers import TFQNeuronLayer\n"
        "except ImportError as e:\n    print(type(e).__name__, e, file=sys.stderr); sys.exit(3)"
    )
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 3 and last.startswith("MissingExtra natq_cirq.engine"), done
    tutorial = (
        "import runpy; sys.argv = ['tfq_keras']; "
        "runpy.run_module('experiments.tfq_keras', run_name='__main__')"
    )
    assert "TensorFlow Quantum" in one_line(python(tutorial))


def test_everything_else_imports_without_tfq():
    """Every module but the TFQ ones imports with TFQ blocked, and none loads it."""
    names = [m for m, _ in ALL if m not in TFQ_USERS and not m.startswith("experiments")]
    code = (
        "import importlib\n"
        f"for name in {names!r}:\n    importlib.import_module(name)\n"
        "print(len(sys.modules))"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr[-2000:]


def test_require_is_one_line_and_an_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_quantum", None)
    assert not installed("tensorflow_quantum")
    with pytest.raises(MissingExtra) as caught:
        require("tensorflow_quantum", "this test")
    assert isinstance(caught.value, NatqError) and isinstance(caught.value, ImportError)
    assert "\n" not in str(caught.value) and "natq-cirq[tfq]" in str(caught.value)
    assert set(EXTRAS) == {"tensorflow_quantum"}


@pytest.mark.skipif(not installed("tensorflow_quantum"), reason="the pinned stack only")
def test_the_pinned_stack_is_the_tfq_set():
    from importlib.metadata import version

    assert version("tensorflow-quantum") == "0.7.6"
    assert version("cirq-core") == version("cirq-google") == "1.5.0"
    assert version("tensorflow").startswith("2.18.")


def test_installing_the_core_changes_nothing_installed(tmp_path):
    """``pip install -e .`` into this environment (the pinned set, or Cirq 1.7 and TensorFlow
    2.21) installs natq-cirq alone: no package is up- or downgraded."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--no-build-isolation"]
        + ["-e", str(ROOT), "--report", str(report)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    planned = {i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(
        report.read_text())["install"]}  # fmt: skip
    assert list(planned) == ["natq-cirq"], planned


MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.mark.skipif(not MNIST.is_dir(), reason="needs the MNIST files of the test data")
def test_the_demos_quantum_part_runs(tmp_path, monkeypatch):
    """On either stack: train a small network, compile it for rainbow, run it on the exact engine,
    qsim and rainbow's noisy virtual machine (few images: the same code the demo runs)."""
    from natq_cirq.demo import run_backends_demo

    monkeypatch.setenv("NATQ_MNIST_DIR", str(MNIST))
    rows = run_backends_demo(tmp_path, epochs=1, images=4, shots=3, verbose=0)
    assert [r["backend"] for r in rows] == ["analytic", "qsim", "qvm:rainbow"]
    assert all(0 <= r["error_rate"] <= 1 for r in rows)
