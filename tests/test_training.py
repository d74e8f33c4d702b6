"""Training: reproducible seeds, exact resume, refusal to clobber, learning on MNIST."""

import json
import math

from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine.training import TrainConfig, config_with, train
from natq_cirq.errors import NatqError
from natq_cirq.files import load_model

import numpy as np
import pytest

SMALL = TrainConfig(
    layers=2,
    hidden=32,
    a=0.5,
    g=1.2,
    epochs=2,
    shots=5,
    vote_every=1,
    data=DataSpec(train_size=300, val_size=200),
    steps_per_execution=4,
)


@pytest.fixture(scope="module")
def small_data():
    return load_mnist(SMALL.data)


def kernels(run_dir):
    return load_model(run_dir / "model.npz").kernels


def test_interrupted_run_resumes_to_identical_weights(tmp_path, small_data):
    train(SMALL, tmp_path / "straight", verbose=0, data=small_data)
    # "Interrupt" after one epoch, then rerun the same command with the full epoch count.
    train(config_with(SMALL, epochs=1), tmp_path / "resumed", verbose=0, data=small_data)
    history = train(SMALL, tmp_path / "resumed", verbose=0, data=small_data)
    for a, b in zip(kernels(tmp_path / "straight"), kernels(tmp_path / "resumed")):
        np.testing.assert_array_equal(a, b)
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    saved = json.loads((tmp_path / "resumed" / "history.json").read_text())
    straight = json.loads((tmp_path / "straight" / "history.json").read_text())
    assert saved["finished"] and saved["epochs_done"] == 2
    for key in ("loss", "train_error", "val_error_deterministic", "val_error_vote"):
        assert saved["epochs"][-1][key] == straight["epochs"][-1][key]


def test_same_seed_same_run_other_seed_other_run(tmp_path, small_data):
    one = config_with(SMALL, epochs=1)
    train(one, tmp_path / "a", verbose=0, data=small_data)
    train(one, tmp_path / "b", verbose=0, data=small_data)
    train(config_with(one, seed=1), tmp_path / "c", verbose=0, data=small_data)
    np.testing.assert_array_equal(kernels(tmp_path / "a")[1], kernels(tmp_path / "b")[1])
    assert not np.array_equal(kernels(tmp_path / "a")[1], kernels(tmp_path / "c")[1])


def test_finished_run_is_not_retrained_and_other_runs_are_refused(tmp_path, small_data):
    one = config_with(SMALL, epochs=1)
    train(one, tmp_path / "run", verbose=0, data=small_data)
    before = (tmp_path / "run" / "model.npz").read_bytes()
    train(one, tmp_path / "run", verbose=0, data=small_data)
    assert (tmp_path / "run" / "model.npz").read_bytes() == before
    with pytest.raises(NatqError, match="different run"):
        train(config_with(one, a=0.7), tmp_path / "run", verbose=0, data=small_data)
    train(config_with(one, a=0.7), tmp_path / "run", verbose=0, data=small_data, force=True)
    assert load_model(tmp_path / "run" / "model.npz").knobs.a == pytest.approx(0.7)


def test_model_file_records_the_run(tmp_path, small_data):
    train(config_with(SMALL, epochs=1), tmp_path / "run", verbose=0, data=small_data)
    model = load_model(tmp_path / "run" / "model.npz")
    assert model.knobs.a == pytest.approx(0.5) and model.knobs.g == pytest.approx(1.2)
    assert [k.shape for k in model.kernels] == [(784, 32), (32, 32), (32, 10)]
    assert model.config["training"]["data"] == {
        "dataset": "mnist",
        "train_size": 300,
        "train_offset": 0,
        "val_size": 200,
        "scaling": "unit",
    }
    from importlib.metadata import version

    versions = model.config["versions"]
    assert versions["tensorflow"] == version("tensorflow")  # the stack that trained it
    assert versions["cirq-google"] == version("cirq-google")
    assert not list((tmp_path / "run").glob(".*.tmp"))  # atomic writes leave nothing behind


@pytest.mark.parametrize("knobs", [dict(a=0.0), dict(a=0.316), dict(g=5 * np.pi / 19)], ids=str)
def test_training_learns_mnist(tmp_path, knobs):
    config = TrainConfig(
        layers=2,
        hidden=128,
        epochs=3,
        shots=5,
        vote_every=3,
        data=DataSpec(train_size=2000, val_size=1000),
        **knobs,
    )
    history = train(config, tmp_path / "run", verbose=0)
    last = history["epochs"][-1]
    # Chance is 0.9; a working binarized MLP is far below 0.3 after 3 epochs on 2,000 images.
    assert last["val_error_deterministic"] < 0.3 and last["val_error_vote"] < 0.3
    assert history["epochs"][0]["loss"] > last["loss"]


def test_fused_kernel_in_a_fresh_process(tmp_path):
    """`natq train` and `natq run` of a network whose neurons carry a state, in a new process.

    The first use of the fused kernel then happens inside Keras' traced training step.
    """
    import subprocess
    import sys

    out = tmp_path / "run"
    common = [sys.executable, "-m", "natq_cirq"]
    train_args = ["train", "--a", "0.5", "--g", "1.2", "--layers", "2", "--hidden", "16"]
    train_args += ["--epochs", "1", "--train-size", "256", "--val-size", "100", "--verbose", "0"]
    result = subprocess.run(
        [*common, *train_args, "--out", str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_args = ["run", str(out / "model.npz"), "--dataset", "mnist-test:50", "--shots", "3"]
    result = subprocess.run(
        [*common, *run_args, "--out", str(tmp_path / "r.npz")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "kernel is unavailable" not in result.stderr


class _Interrupt(Exception):
    pass


def train_killed_at_epoch(config, out, epoch, data, monkeypatch):
    """Train ``config`` into ``out``, killed as epoch ``epoch`` (0-based) begins."""
    from natq_cirq.engine import training

    original = training._RunRecorder.on_epoch_begin

    def interrupt(self, begun, logs=None):
        if begun == epoch:
            raise _Interrupt
        original(self, begun, logs)

    with monkeypatch.context() as patch:
        patch.setattr(training._RunRecorder, "on_epoch_begin", interrupt)
        with pytest.raises(_Interrupt):
            train(config, out, verbose=0, data=data)


def assert_same_weights(run_a, run_b):
    for a, b in zip(kernels(run_a), kernels(run_b), strict=True):
        np.testing.assert_array_equal(a, b)


def test_run_killed_mid_epoch_leaves_consistent_files_and_resumes(
    tmp_path, small_data, monkeypatch
):
    """Files are written in the background: an exception during epoch 2 must still leave epoch 1's
    checkpoint, history and model complete and in agreement, and the resumed run must be exact."""
    three = config_with(SMALL, epochs=3, checkpoint_seconds=0)  # a checkpoint after every epoch
    train(three, tmp_path / "straight", verbose=0, data=small_data)
    train_killed_at_epoch(three, tmp_path / "killed", 1, small_data, monkeypatch)
    saved = json.loads((tmp_path / "killed" / "history.json").read_text())
    assert saved["epochs_done"] == 1 and [e["epoch"] for e in saved["epochs"]] == [1]
    assert load_model(tmp_path / "killed" / "model.npz").config["epochs_done"] == 1
    train(three, tmp_path / "killed", verbose=0, data=small_data)
    assert_same_weights(tmp_path / "straight", tmp_path / "killed")


def test_a_damaged_checkpoint_is_set_aside_and_the_run_resumes_exactly(
    tmp_path, small_data, monkeypatch, capsys
):
    """Issue 28: a truncated checkpoint was a traceback; now the one before it resumes, exactly."""
    three = config_with(SMALL, epochs=3, checkpoint_seconds=0)  # a checkpoint after every epoch
    train(three, tmp_path / "straight", verbose=0, data=small_data)
    train_killed_at_epoch(three, tmp_path / "killed", 2, small_data, monkeypatch)
    folder = tmp_path / "killed" / "checkpoints"
    data = sorted(folder.glob("ckpt-2.data-*"))
    assert data and list(folder.glob("ckpt-1.index"))  # epochs 1 and 2 are kept
    data[0].write_bytes(data[0].read_bytes()[:10])  # the newest, truncated by a crash
    capsys.readouterr()
    train(three, tmp_path / "killed", verbose=0, data=small_data)
    warning = capsys.readouterr().err.strip().splitlines()
    assert any("checkpoint ckpt-2 is damaged" in line for line in warning), warning
    assert list(folder.glob("ckpt-2*.damaged"))
    assert_same_weights(tmp_path / "straight", tmp_path / "killed")


def test_failed_background_write_is_reported(tmp_path, small_data, monkeypatch):
    from natq_cirq.engine import training

    def disk_full(path, model):
        raise NatqError(f"cannot write {path}: No space left on device; choose a writable path")

    monkeypatch.setattr(training, "save_model", disk_full)
    with pytest.raises(NatqError, match="No space left"):
        train(config_with(SMALL, epochs=1), tmp_path / "run", verbose=0, data=small_data)


def test_fused_momentum_update_is_keras_sgd_bit_for_bit():
    from natq_cirq.engine.training import SGD

    import tensorflow as tf

    rng = np.random.default_rng(3)
    start = rng.normal(size=(40, 30)).astype(np.float32)
    ours, keras_sgd = tf.Variable(start), tf.Variable(start)
    fused = SGD(learning_rate=0.01, momentum=0.9)
    reference = tf.keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
    for _ in range(5):
        gradient = tf.constant(rng.normal(size=start.shape).astype(np.float32))
        fused.apply_gradients([(gradient, ours)])
        reference.apply_gradients([(gradient, keras_sgd)])
    np.testing.assert_array_equal(ours.numpy(), keras_sgd.numpy())
    np.testing.assert_array_equal(fused.momentums[0].numpy(), reference.momentums[0].numpy())
    assert not np.array_equal(ours.numpy(), start)


def test_steps_per_execution_changes_speed_only(tmp_path, small_data):
    """A whole epoch per TensorFlow call (the default, 0) trains exactly the same weights."""
    one = config_with(SMALL, epochs=1)
    train(one, tmp_path / "four", verbose=0, data=small_data)
    train(config_with(one, steps_per_execution=0), tmp_path / "epoch", verbose=0, data=small_data)
    assert_same_weights(tmp_path / "four", tmp_path / "epoch")
    with pytest.raises(NatqError, match="steps-per-execution"):
        config_with(one, steps_per_execution=-1)


def test_epoch_batches_are_a_function_of_seed_and_epoch(small_data):
    from natq_cirq.engine.training import epoch_batches

    x, y = small_data.x_train, small_data.y_train
    full = [(a.numpy(), b.numpy()) for a, b in epoch_batches(x, y, 64, 0, 0, 3)]
    tail = [(a.numpy(), b.numpy()) for a, b in epoch_batches(x, y, 64, 0, 2, 3)]
    per_epoch = len(full) // 3
    assert per_epoch == math.ceil(len(x) / 64) and len(tail) == per_epoch
    for (a, b), (c, d) in zip(full[2 * per_epoch :], tail):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    for epoch in range(3):  # every epoch is a permutation of the training set, each a new one
        images = np.concatenate([a for a, _ in full[epoch * per_epoch : (epoch + 1) * per_epoch]])
        np.testing.assert_array_equal(np.sort(images.sum(1)), np.sort(x.sum(1)))
    assert not np.array_equal(full[0][0], full[per_epoch][0])


def test_checkpoints_are_spaced_in_time_and_the_last_epoch_always_saved(
    tmp_path, small_data, monkeypatch
):
    spaced = config_with(SMALL, epochs=3, checkpoint_seconds=1e9)
    train(spaced, tmp_path / "straight", verbose=0, data=small_data)
    assert sorted(p.name for p in (tmp_path / "straight" / "checkpoints").glob("ckpt-*.index")) == [
        "ckpt-3.index"
    ]
    train_killed_at_epoch(spaced, tmp_path / "killed", 2, small_data, monkeypatch)
    assert not (tmp_path / "killed" / "history.json").exists()  # nothing saved: starts over
    history = train(spaced, tmp_path / "killed", verbose=0, data=small_data)
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3]
    assert_same_weights(tmp_path / "straight", tmp_path / "killed")
    with pytest.raises(NatqError, match="checkpoint-seconds"):
        config_with(SMALL, checkpoint_seconds=float("nan"))


def test_training_digest_covers_what_noise_free_training_calls(tmp_path, small_data):
    """The noise-free digest leaves out only modules that noise-free training never calls."""
    import cProfile
    import pstats

    from natq_cirq.engine import training

    noisy_files = {str(p) for p in training.training_modules(noisy=True)}
    quiet_files = {str(p) for p in training.training_modules(noisy=False)}
    left_out = noisy_files - quiet_files
    # The noise-only modules, and what only they import, are left out.
    assert {p.rsplit("/", 1)[-1] for p in left_out} >= {
        m.rsplit(".", 1)[-1] + ".py" for m in training.NOISE_ONLY_MODULES
    }

    def files_called(config, run):
        profile = cProfile.Profile()
        profile.enable()
        train(config, tmp_path / run, verbose=0, data=small_data)
        profile.disable()
        return {key[0] for key in pstats.Stats(profile).stats}

    quiet = files_called(config_with(SMALL, epochs=1), "quiet")
    assert quiet & quiet_files and not quiet & left_out
    # Power: training under noise does call them, and the profile sees it.
    noisy = files_called(config_with(SMALL, epochs=1, noise="depolarizing:0.02"), "noisy")
    assert noisy & left_out
    assert training.training_code_digest(False) != training.training_code_digest(True)


def test_every_initializer_a_run_may_name_is_a_keras_initializer():
    from natq_cirq.config import INITIALIZERS

    import tensorflow as tf

    for name in INITIALIZERS:
        assert tf.keras.initializers.get(name) is not None
    with pytest.raises(NatqError, match="unknown initializer"):
        TrainConfig(initializer="glorot_uniformish")
