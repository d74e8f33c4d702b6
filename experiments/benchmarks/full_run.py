"""One full paper run, timed: 500 epochs of the 3 x 512 network, validation included.

    python -m experiments.benchmarks.full_run [--a 0.316] [--epochs 500] [--out FILE.json]

Trains with ``natq train``'s code path (:func:`natq_cirq.engine.training.train`, checkpoint, history and
model written every epoch) on the paper's protocol, with the sweeps' evaluation schedule (deterministic
validation on the 10,000 test images every 5 epochs, the 15-shot vote every 25 and at the end),
in a fresh folder, using every core TensorFlow sees. Reports the wall time of the whole run and its
parts, and, as a reference for how fast the machine was, the epoch time of train_speed's plain Keras
``sgn`` network measured just before the run (seconds move with the machine and its neighbours; the
ratio of the run to that reference much less). Writes ``experiments/benchmarks/results/full_run.json``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import natq_cirq  # noqa: F401
from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine.training import TrainConfig, library_versions, train
from natq_cirq.files import write_json

import tensorflow as tf

from experiments.benchmarks.train_speed import plain_network, timed_epochs

TARGET_SECONDS = 300.0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=float, default=10**-0.5)
    parser.add_argument("--g", type=float, default=math.pi / 2)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--out", default="experiments/benchmarks/results/full_run.json")
    args = parser.parse_args(argv)

    data = load_mnist(DataSpec())  # loaded before the clock starts, as a sweep worker does
    config = TrainConfig(a=args.a, g=args.g, epochs=args.epochs, eval_every=5, vote_every=25)
    floor = floor_epoch_seconds(data, config)
    folder = Path(tempfile.mkdtemp(prefix="natq-full-run-"))
    try:
        start = time.perf_counter()
        history = train(config, folder / "run", verbose=1, data=data)
        wall = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    epochs = history["epochs"]
    train_seconds = sum(e["seconds_train"] for e in epochs)
    eval_seconds = sum(e["seconds_eval"] for e in epochs)
    final = epochs[-1]
    result = {
        "benchmark": "full_run",
        "config": config.to_dict(),
        "cpu_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
        "wall_seconds": wall,
        "train_seconds": train_seconds,
        "validation_seconds": eval_seconds,
        "other_seconds": wall - train_seconds - eval_seconds,
        "final": {k: final.get(k) for k in ("epoch", "val_error_deterministic", "val_error_vote")},
        # How fast this machine was: seconds are comparable across runs only through this.
        "floor_seconds_per_epoch": floor,
        "wall_over_floor_epochs": wall / (args.epochs * floor),
        "target_seconds": TARGET_SECONDS,
        "met": wall <= TARGET_SECONDS,
        "versions": library_versions(),
    }
    write_json(args.out, result)
    print(
        f"{args.epochs} epochs in {wall:.0f} s (training {train_seconds:.0f} s, validation "
        f"{eval_seconds:.0f} s, checkpoints and the rest {wall - train_seconds - eval_seconds:.0f} "
        f"s); target {TARGET_SECONDS:.0f} s: {'met' if wall <= TARGET_SECONDS else 'missed'}\n"
        f"machine reference: a plain Keras sgn network epoch took {floor:.3f} s just before; the "
        f"run took {wall / (args.epochs * floor):.2f} x {args.epochs} of those\n"
        f"wrote {args.out}"
    )
    return result


def floor_epoch_seconds(data, config: TrainConfig, epochs: int = 4) -> float:
    """Median epoch of the plain Keras ``sgn`` network (train_speed's floor) on this machine now."""
    return statistics.median(timed_epochs(plain_network(config), data, config, epochs))


if __name__ == "__main__":
    main()
