"""Training with Keras ``fit``: the paper's protocol, resumable, reproducible.

A run lives in one folder:

* ``history.json`` — the configuration, the data subset, library versions and, per epoch, loss,
  training error (of the sampled forward passes), validation error deterministic (``a = 0,
  g = pi/2``) and by S-shot majority vote (every ``vote_every`` epochs and at the end), seconds;
* ``model.npz`` — the latest weights (docs/commands.md), rewritten at every checkpoint;
* ``checkpoints/`` — TensorFlow checkpoints of weights, optimizer state and the random generators.

Every file is written atomically. Each epoch's shuffle comes from ``(seed, epoch)`` and the random
generators are checkpointed, so a run interrupted at any point and resumed with the same command
produces exactly the weights of an uninterrupted run.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, fields, replace
from importlib import metadata
from pathlib import Path

import natq_cirq
from natq_cirq import engine
from natq_cirq.config import TrainConfig
from natq_cirq.data import Dataset, DataSpec, load_mnist
from natq_cirq.engine import fused
from natq_cirq.engine.layers import NaturallyQuantizedNetwork
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, check_writable, run_lock, save_model, write_json
from natq_cirq.identity import strong_id
from natq_cirq.votes import error_rate, majority_vote

import numpy as np
import tensorflow as tf

keras = tf.keras

HISTORY = "history.json"
MODEL = "model.npz"
CHECKPOINTS = "checkpoints"


@functools.cache
def code_revision() -> dict:
    """The git commit of the code that runs, whether its tree was clean, and the thread count.

    Read once per process, at the first call: a long run that calls it when it starts records the
    revision it started from, even if the checkout moves on while it runs.
    """
    root = Path(natq_cirq.__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "HEAD"),
        "clean": None if status is None else status == "",
        "cpu_threads": os.cpu_count(),
    }


# Imported by training but called only when a run trains under noise (``TrainConfig.noise``).
NOISE_ONLY_MODULES = frozenset(
    {
        "natq_cirq.hardware.noisy",
        "natq_cirq.hardware.devices",
        "natq_cirq.hardware.gates",
        "natq_cirq.hardware.readout",
    }
)


def training_modules(noisy: bool = True) -> list[Path]:
    """The source files that training runs: ``natq_cirq.engine.training`` and the natq modules it imports.

    Found by following the ``import`` statements from this module (transitively), plus the C++
    source of the fused kernel. Without ``noisy``, the modules only noise-aware training calls
    (:data:`NOISE_ONLY_MODULES`; a test trains with them disabled) and their imports are left out.
    """
    seen: dict[str, Path] = {}
    todo = [__name__]
    while todo:
        name = todo.pop()
        if name in seen or (not noisy and name in NOISE_ONLY_MODULES):
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        seen[name] = Path(spec.origin)
        for node in ast.walk(ast.parse(seen[name].read_text())):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("natq_cirq")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("natq_cirq"):
                todo.append(node.module)
                package = importlib.util.find_spec(node.module).submodule_search_locations
                # ``from natq_cirq import engine``: the imported names may be modules.
                todo += [
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if package and importlib.util.find_spec(f"{node.module}.{a.name}") is not None
                ]
    kernel = fused.SOURCE
    return sorted(seen.values()) + ([kernel] if kernel.exists() else [])


def training_code_digest(noisy: bool = True) -> str:
    """SHA-256 over the training modules' sources (:func:`training_modules`), file names included.

    Reports combine runs into one statistic only when this digest agrees.
    """
    digest = hashlib.sha256()
    for path in training_modules(noisy):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict:
    """Versions recorded in every result file, the code's revision included."""
    versions = {"python": platform.python_version(), "natq-cirq": natq_cirq.__version__}
    for package in (
        "tensorflow",
        "tf-keras",
        "tensorflow-quantum",
        "cirq-core",
        "cirq-google",
        "qsimcirq",
        "numpy",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["code"] = code_revision()
    return versions


class SGD(keras.optimizers.SGD):
    """Keras' SGD with its dense momentum update in TensorFlow's fused kernel.

    The update is Keras' own, ``m = momentum * m - lr * grad; w += m``, bit for bit and with the
    same variables (checkpoints are interchangeable), done by ``ResourceApplyKerasMomentum`` in one
    pass over the weights instead of six separate element-wise ops: about a quarter of the
    training step's CPU time on the paper's network went to those ops.
    """

    def update_step(self, gradient, variable):
        if isinstance(gradient, tf.IndexedSlices) or self.nesterov or not self.momentums:
            return super().update_step(gradient, variable)
        momentum = self.momentums[self._index_dict[self._var_key(variable)]]
        tf.raw_ops.ResourceApplyKerasMomentum(
            var=variable.handle,
            accum=momentum.handle,
            lr=tf.cast(self.learning_rate, variable.dtype),
            grad=gradient,
            momentum=tf.cast(self.momentum, variable.dtype),
            use_locking=False,
            use_nesterov=False,
        )


def compile_for_training(model: keras.Model, config: TrainConfig) -> None:
    """Compile ``model`` with the paper's optimizer, loss and metric, and ``config``'s schedule."""
    model.compile(
        optimizer=SGD(learning_rate=config.lr, momentum=config.momentum),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=config.steps_per_execution or config.steps_per_epoch,
    )


def build(
    config: TrainConfig, input_dim: int = 784, outputs: int = 10
) -> NaturallyQuantizedNetwork:
    """The network and its optimizer, compiled with the paper's loss; weights seeded by ``seed``."""
    keras.utils.set_random_seed(config.seed)
    network = NaturallyQuantizedNetwork(
        input_dim=input_dim,
        hidden=config.hidden,
        layers=config.layers,
        outputs=outputs,
        a=config.a,
        g=config.g,
        memory=config.memory,
        gradient_estimator=config.gradient_estimator,
        seed=config.seed,
        noise=config.noise,
        stochastic_neuron=config.stochastic_neuron,
    )
    for layer in network.hidden_layers + [network.readout]:
        layer.kernel.assign(keras.initializers.get(config.initializer)(layer.kernel.shape))
    compile_for_training(network, config)
    return network


def epoch_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_epoch: int, last_epoch: int
) -> tf.data.Dataset:
    """Shuffled batches for epochs ``first_epoch .. last_epoch - 1``.

    Epoch ``e``'s order is a function of ``(seed, e)`` only, so a resumed run sees the same batches
    as an uninterrupted one.
    """
    x_t, y_t = tf.constant(x), tf.constant(y)
    n = len(x)

    def one_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n), seed=tf.stack([tf.constant(seed, tf.int64), epoch])
        )
        # One gather per epoch, then slices: cheaper than a gather per batch in tf.data's threads.
        shuffled = (tf.gather(x_t, order), tf.gather(y_t, order))
        return tf.data.Dataset.from_tensor_slices(shuffled).batch(batch_size)

    # No autotuning: its model thread made deleting the iterator at the end of ``fit`` wait up to
    # tens of seconds (seen: 0.8 s after 6 epochs, 47 s after a 500-epoch run), about every other run.
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        tf.data.Dataset.range(first_epoch, last_epoch)
        .flat_map(one_epoch)
        .prefetch(2)
        .with_options(options)
    )


def evaluate(
    network: NaturallyQuantizedNetwork,
    x: np.ndarray,
    y: np.ndarray,
    shots: int,
    seed: int,
    vote: bool,
) -> dict:
    """Validation error deterministic and (if ``vote``) by ``shots``-shot majority vote."""
    result = {"val_error_deterministic": error_rate(network.deterministic_logits(x).argmax(-1), y)}
    if vote:
        if network.is_deterministic:  # every shot is identical
            result["val_error_vote"] = result["val_error_deterministic"]
        else:
            logits, _ = network.sample(x, shots, seed=seed, record_bits=False)
            result["val_error_vote"] = error_rate(
                majority_vote(logits.argmax(-1), network.outputs), y
            )
    return result


class _RunRecorder(keras.callbacks.Callback):
    """After each epoch: evaluate, checkpoint, write history and model, advance the progress bar."""

    def __init__(self, run: Run, verbose: int):
        super().__init__()
        self.run, self.verbose = run, verbose
        config = run.config
        self.progbar = (
            keras.utils.Progbar(
                config.epochs,  # a resumed run's bar continues where it stopped
                unit_name="epoch",
                stateful_metrics=["loss", "train_err", "val_err", "val_err_vote"],
            )
            if verbose == 1
            else None
        )

    def on_train_begin(self, logs=None):
        self.last_checkpoint = time.perf_counter()
        if self.progbar is not None and self.run.initial_epoch:
            self.progbar.update(self.run.initial_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        run, config = self.run, self.run.config
        trained = time.perf_counter() - self.started
        done = epoch + 1
        last = done == config.epochs
        vote = last or done % config.vote_every == 0
        eval_start = time.perf_counter()
        record = {
            "epoch": done,
            "loss": float(logs["loss"]),
            "train_error": 1.0 - float(logs["accuracy"]),
            "seconds_train": trained,
        }
        if vote or done % config.eval_every == 0:
            record.update(
                evaluate(
                    run.network,
                    run.data.x_val,
                    run.data.y_val,
                    config.shots,
                    seed=config.seed * 1_000_003 + done,
                    vote=vote,
                )
            )
        record["seconds_eval"] = time.perf_counter() - eval_start
        run.history["epochs"].append(record)
        due = time.perf_counter() - self.last_checkpoint >= config.checkpoint_seconds
        if last or (due and done % config.checkpoint_every == 0):
            run.save(done, finished=last)
            self.last_checkpoint = time.perf_counter()
        shown = {
            "loss": "loss",
            "train_error": "train_err",
            "val_error_deterministic": "val_err",
            "val_error_vote": "val_err_vote",
        }
        values = [(name, record[key]) for key, name in shown.items() if key in record]
        if self.progbar is not None:
            self.progbar.update(done, values=values, finalize=last)
        elif self.verbose >= 2:
            text = " ".join(f"{name}={value:.4f}" for name, value in values)
            print(
                f"epoch {done}/{config.epochs} {text} "
                f"({trained:.2f} s train, {record['seconds_eval']:.2f} s eval)",
                flush=True,
            )


@dataclass
class Run:
    """A training run bound to its folder (see the module docstring)."""

    config: TrainConfig
    out: Path
    network: NaturallyQuantizedNetwork
    data: Dataset
    history: dict
    checkpoint: tf.train.Checkpoint
    manager: tf.train.CheckpointManager
    initial_epoch: int
    write_error: Exception | None = None

    def save(self, epoch: int, finished: bool) -> None:
        """Checkpoint, then history and model, written in the background in that order.

        The variables are copied at once (TensorFlow's asynchronous checkpoint) and the history and
        weights are snapshotted now, so training goes on while the files are written; the files
        are written by TensorFlow's checkpoint thread after the checkpoint itself, so they never
        claim more than is saved. The next save waits for this one; :meth:`sync` waits for the last.
        """
        self.checkpoint.epoch.assign(epoch)
        self.history["epochs_done"] = epoch
        self.history["finished"] = finished
        if finished:
            self.history["final"] = {
                k: v
                for k, v in self.history["epochs"][-1].items()
                if k.startswith(("val_error", "train_error", "loss", "epoch"))
            }
        # Epoch records are never changed once appended: a copy of the list is a snapshot.
        history = {**self.history, "epochs": list(self.history["epochs"])}
        model = self.model_file()

        def write_files() -> None:
            try:
                write_json(self.out / HISTORY, history)
                save_model(self.out / MODEL, model)
            except Exception as error:  # raised in the training thread by the next save or sync
                self.write_error = error

        self._raise_write_error()
        options = tf.train.CheckpointOptions(
            experimental_enable_async_checkpoint=True, experimental_write_callbacks=[write_files]
        )
        self.manager.save(checkpoint_number=epoch, options=options)

    def sync(self) -> None:
        """Wait until every save has been written; raise the error of a failed background write."""
        self.manager.sync()
        self._raise_write_error()
        epoch = int(self.checkpoint.epoch.numpy())  # the last saved (or restored) epoch
        latest = self.manager.latest_checkpoint
        if epoch and Path(latest or "").name != f"ckpt-{epoch}":
            raise NatqError(
                f"the checkpoint of epoch {epoch} was not written to "
                f"{self.out / CHECKPOINTS} (see the error above); free space or choose another --out"
            )

    def _raise_write_error(self) -> None:
        error, self.write_error = self.write_error, None
        if error is not None:
            raise error

    def model_file(self) -> ModelFile:
        config = self.config.to_dict()
        return ModelFile(
            kernels=self.network.get_kernels(),
            knobs=self.config.knobs,
            config={
                "scaling": self.config.data.scaling,
                "gradient_estimator": self.config.gradient_estimator,
                **(
                    {"stochastic_neuron": config["stochastic_neuron"]}
                    if config["stochastic_neuron"]
                    else {}
                ),
                "training": config,
                "epochs_done": self.history.get("epochs_done", 0),
                "versions": self.history["versions"],
            },
        )


def open_run(
    config: TrainConfig, out: str | Path, force: bool = False, data: Dataset | None = None
) -> Run:
    """Create the run folder, or reopen it to resume; refuse a folder holding a different run."""
    out = Path(out)
    check_writable(out / HISTORY)
    history_path = out / HISTORY
    if history_path.exists() and not force:
        try:
            previous = json.loads(history_path.read_text())
            previous_config = TrainConfig.from_dict(previous["config"])
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise NatqError(
                f"{history_path} is unreadable ({error}); use --force to start over"
            ) from None
        if strong_id(previous_config.identity()) != strong_id(config.identity()):
            changed = sorted(
                k for k, v in config.identity().items() if previous_config.identity().get(k) != v
            )
            raise NatqError(
                f"{out} holds a different run (differs in {', '.join(changed)}); "
                "use another --out, or --force to overwrite it"
            )
    elif force and out.exists():
        for name in (HISTORY, MODEL):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)

    data = data or load_mnist(config.data)
    config.check_resources(data.x_train.shape[1], max(10, int(data.y_train.max()) + 1))
    network, checkpoint, manager, initial_epoch = _restore(config, out, data)
    history = {
        "config": config.to_dict(),
        "data_source": data.source,
        "versions": library_versions(),
        "epochs": [],
    }
    if initial_epoch and history_path.exists():
        previous = json.loads(history_path.read_text())
        history["epochs"] = [e for e in previous["epochs"] if e["epoch"] <= initial_epoch]
    return Run(config, out, network, data, history, checkpoint, manager, initial_epoch)


def _restore(config: TrainConfig, out: Path, data: Dataset):
    """The network, its checkpoint and manager, and the epoch restored (0: a fresh start).

    The newest readable checkpoint is restored; a damaged one (a crash mid-write, a full disk)
    is set aside as ``NAME.damaged`` with one warning and the one before it is tried, down to a
    fresh start. Resuming is exact from whichever checkpoint is restored.
    """
    while True:
        network = build(
            config, input_dim=data.x_train.shape[1], outputs=max(10, int(data.y_train.max()) + 1)
        )
        checkpoint = tf.train.Checkpoint(
            model=network, optimizer=network.optimizer, epoch=tf.Variable(0, dtype=tf.int64)
        )
        manager = tf.train.CheckpointManager(checkpoint, str(out / CHECKPOINTS), max_to_keep=2)
        latest = manager.latest_checkpoint
        if not latest:
            return network, checkpoint, manager, 0
        try:
            # Create the optimizer's slots so that their saved values are restored immediately.
            network.optimizer.build(network.trainable_variables)
            checkpoint.restore(latest).assert_existing_objects_matched()
            return network, checkpoint, manager, int(checkpoint.epoch.numpy())
        except Exception as error:  # any damage: TensorFlow raises several kinds
            _set_aside_checkpoint(out / CHECKPOINTS, Path(latest), error)


def _set_aside_checkpoint(folder: Path, prefix: Path, error: Exception) -> None:
    """Rename a checkpoint's files to ``*.damaged`` and drop it from the folder's list."""
    for path in folder.glob(prefix.name + ".*"):
        path.rename(path.with_name(path.name + ".damaged"))
    state = tf.train.get_checkpoint_state(str(folder))
    kept = [p for p in state.all_model_checkpoint_paths if Path(p).name != prefix.name]
    tf.compat.v1.train.update_checkpoint_state(
        str(folder), kept[-1] if kept else "", all_model_checkpoint_paths=kept
    )
    if not kept:
        (folder / "checkpoint").unlink(missing_ok=True)
    print(
        f"natq: warning: checkpoint {prefix.name} is damaged ({type(error).__name__}); set "
        "aside as *.damaged, resuming from the one before it",
        file=sys.stderr,
    )


def train(
    config: TrainConfig,
    out: str | Path,
    force: bool = False,
    verbose: int = 1,
    data: Dataset | None = None,
) -> dict:
    """Train (or resume) the run in ``out`` up to ``config.epochs``; returns the history dict.

    One process at a time trains into ``out`` (:func:`natq_cirq.files.run_lock`).
    """
    with run_lock(out), engine.device_scope():
        return _train(config, out, force, verbose, data)


def _train(
    config: TrainConfig, out: str | Path, force: bool, verbose: int, data: Dataset | None
) -> dict:
    run = open_run(config, out, force=force, data=data)
    if run.initial_epoch >= config.epochs:
        if verbose:
            print(
                f"{out}: already trained for {run.initial_epoch} epochs (asked {config.epochs}); "
                "nothing to do"
            )
        return json.loads((Path(out) / HISTORY).read_text())
    if verbose and run.initial_epoch:
        print(f"{out}: resuming at epoch {run.initial_epoch} of {config.epochs}")
    steps = math.ceil(len(run.data.x_train) / config.batch_size)
    dataset = epoch_batches(
        run.data.x_train,
        run.data.y_train,
        config.batch_size,
        config.seed,
        run.initial_epoch,
        config.epochs,
    )
    try:
        run.network.fit(
            dataset,
            epochs=config.epochs,
            initial_epoch=run.initial_epoch,
            steps_per_epoch=steps,
            verbose=0,
            callbacks=[_RunRecorder(run, verbose)],
        )
    finally:
        run.sync()  # an interrupted run still leaves its last checkpoint complete
    return run.history


def config_with(config: TrainConfig, **changes) -> TrainConfig:
    """A copy of ``config`` with some fields changed (``data`` fields accepted at top level)."""
    data_fields = {f.name for f in fields(DataSpec)}
    data_changes = {k: changes.pop(k) for k in list(changes) if k in data_fields}
    return replace(config, **changes, data=replace(config.data, **data_changes))
