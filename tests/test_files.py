"""model.npz per interfaces.md, atomic writes, input validation."""

import json
import os

from natq_cirq import files
from natq_cirq.errors import NatqError
from natq_cirq.physics import Knobs

import numpy as np
import pytest


def small_model(**config):
    rng = np.random.default_rng(0)
    kernels = [rng.normal(size=s).astype(np.float32) for s in [(6, 4), (4, 4), (4, 3)]]
    return files.ModelFile(kernels, Knobs(0.25, 1.0, "reprepared"), config)


def test_model_roundtrip(tmp_path):
    model = small_model(scaling="signed", seed=3)
    files.save_model(tmp_path / "m.npz", model)
    loaded = files.load_model(tmp_path / "m.npz")
    assert loaded.knobs == model.knobs
    assert loaded.config["scaling"] == "signed" and loaded.scaling == "signed"
    for a, b in zip(loaded.kernels, model.kernels):
        np.testing.assert_array_equal(a, b)
    assert (loaded.input_dim, loaded.hidden, loaded.layers, loaded.outputs) == (6, 4, 2, 3)
    with np.load(tmp_path / "m.npz") as archive:
        assert archive["a"].shape == () and archive["g"].shape == ()
        assert json.loads(str(archive["config"]))["memory"] == "reprepared"


def test_minimal_model_file_loads_with_documented_defaults(tmp_path):
    model = small_model()
    np.savez(
        tmp_path / "m.npz",
        W0=model.kernels[0],
        W1=model.kernels[1],
        W2=model.kernels[2],
        a=0.0,
        g=np.pi / 2,
    )
    loaded = files.load_model(tmp_path / "m.npz")
    assert loaded.knobs == Knobs() and loaded.knobs.memory == "persistent"
    assert loaded.scaling == "unit"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("a"), "missing the key 'a'"),
        (lambda d: d.pop("W1"), "missing W1"),
        (lambda d: d.update(W1=np.full((4, 4), np.nan, np.float32)), "NaN"),
        (lambda d: d.update(W1=np.zeros((5, 4), np.float32)), "W1 has shape"),
        (lambda d: d.update(g=np.float64(2.0)), "g must lie"),
        (lambda d: d.update(a=np.float64(-1.0)), "a must be"),
        (lambda d: d.update(config=np.array("{not json")), "not valid JSON"),
    ],
)
def test_bad_model_files(tmp_path, mutate, message):
    model = small_model()
    contents = {f"W{k}": w for k, w in enumerate(model.kernels)} | {"a": 0.1, "g": 1.0}
    mutate(contents)
    np.savez(tmp_path / "m.npz", **contents)
    with pytest.raises(NatqError, match=message) as error:
        files.load_model(tmp_path / "m.npz")
    assert "\n" not in str(error.value)


def test_missing_and_unreadable_model(tmp_path):
    with pytest.raises(NatqError, match="not found"):
        files.load_model(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(NatqError, match="not a readable"):
        files.load_model(tmp_path / "junk.npz")


def test_inputs_validation(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 6)))
    assert files.load_inputs(tmp_path / "x.npy", 6).dtype == np.float32
    with pytest.raises(NatqError, match="expects 5"):
        files.load_inputs(tmp_path / "x.npy", 5)
    for bad in (np.zeros(6), np.array([[np.nan] * 6]), np.zeros((0, 6))):
        with pytest.raises(NatqError):
            files.check_inputs(bad, 6)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    files.write_json(target, {"v": 1})

    def explode(handle):
        handle.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        files.atomic_write(target, explode)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_unwritable_output_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NatqError, match="cannot"):
        files.write_json(blocker / "sub" / "x.json", {})


def test_one_process_per_output_and_stale_locks_are_taken_over(tmp_path):
    import os
    import subprocess
    import sys

    from natq_cirq.engine.training import TrainConfig, train
    from natq_cirq.errors import NatqError
    from natq_cirq.files import run_lock

    target = tmp_path / "run"
    with run_lock(target):
        with pytest.raises(
            NatqError, match=f"in use by another natq process \\(PID {os.getpid()}\\)"
        ):
            with run_lock(target):
                pass
        # Training into a folder whose lock is held is refused before anything is written.
        with pytest.raises(NatqError, match="in use"):
            train(TrainConfig(layers=1, hidden=4, epochs=1), target, verbose=0)
        assert not target.exists() or not any(target.iterdir())
    # A holder that died (killed, no clean-up) leaves its lock file; the next process takes it.
    code = (
        "import os, sys\nfrom natq_cirq.files import run_lock\n"
        f"with run_lock({str(target)!r}):\n    os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 9
    assert (tmp_path / ".run.lock").exists()
    with run_lock(target):
        assert (tmp_path / ".run.lock").read_text().strip() == str(os.getpid())


@pytest.mark.parametrize("code", ["ENOSPC", "EFBIG"])
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code):
    import errno
    import os

    def full(fd):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    (tmp_path / "r.npz").write_bytes(b"old results")
    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(NatqError, match="nothing partial was left"):
        files.write_npz(tmp_path / "r.npz", a=np.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.npz"]
    assert (tmp_path / "r.npz").read_bytes() == b"old results"


def test_outputs_of_one_command_are_written_as_a_set(tmp_path, monkeypatch):
    import errno
    import os

    (tmp_path / "a.json").write_text("old a")
    writes = []
    real_fsync = os.fsync

    def second_fails(fd):
        writes.append(fd)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", second_fails)
    with pytest.raises(NatqError, match="nothing partial"):
        files.write_texts({tmp_path / "a.json": "new a", tmp_path / "b.qasm": "new b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    assert (tmp_path / "a.json").read_text() == "old a"
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    files.write_texts({tmp_path / "a.json": "new a", tmp_path / "b.qasm": "new b"})
    assert (tmp_path / "b.qasm").read_text() == "new b"


def test_a_kill_between_the_renames_never_leaves_a_new_file_beside_an_old_one(
    tmp_path, monkeypatch
):
    """Issue 28: a kill between compile --qasm's renames left a new JSON beside the old QASM."""
    (tmp_path / "p.json").write_text("old program")
    (tmp_path / "p.qasm").write_text("old qasm")
    real_replace, renames = os.replace, []

    def killed_second(source, target):
        if not os.path.basename(target).startswith("."):  # a final name, not a staging one
            renames.append(target)
            if len(renames) == 2:
                raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", killed_second)
    with pytest.raises(KeyboardInterrupt):
        files.write_texts({tmp_path / "p.json": "new program", tmp_path / "p.qasm": "new qasm"})
    # The set written so far: the new program, and no stale QASM of the old one.
    assert (tmp_path / "p.json").read_text() == "new program"
    assert not (tmp_path / "p.qasm").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]
