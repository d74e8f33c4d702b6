"""Training speed: the paper's network, classical vs quantized, measured side by side in one run.

Every model trains on the same 5,000 MNIST images in the same shuffled batches of 64 with the same
code path (Keras ``fit`` on :class:`natq_cirq.engine.layers.NaturallyQuantizedNetwork`); epochs of the
models are interleaved so that machine load drifts hit all of them alike. A plain Keras ``sgn``
network (Dense layers + a straight-through sign, no quantum engine) is timed as the floor.

    python -m experiments.benchmarks.train_speed [--epochs 3 --rounds 4] [--out FILE.json]

Prints seconds per epoch (median over the timed epochs; the first epoch of every ``fit``, which
traces the graph, is not timed) and the ratios quantum / classical and quantum / plain.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine.training import (
    TrainConfig,
    build,
    compile_for_training,
    epoch_batches,
    library_versions,
)
from natq_cirq.files import write_json

import tensorflow as tf

keras = tf.keras

MODELS = {
    "classical (a=0, g=pi/2)": dict(a=0.0, g=math.pi / 2),
    "quantized a=0.316": dict(a=10**-0.5, g=math.pi / 2),
    "weak g=5pi/19 persistent": dict(a=0.0, g=5 * math.pi / 19),
    "combined a=0.464 g=9pi/19": dict(a=10 ** (-1 / 3), g=9 * math.pi / 19),
}


@tf.custom_gradient
def sign_ste(h):
    """The classical binarized activation: sgn forward (sgn(0)=+1), clipped STE backward."""

    def grad(upstream):
        return upstream * tf.cast(tf.abs(h) <= 1.0, h.dtype)

    return tf.where(h >= 0, tf.ones_like(h), -tf.ones_like(h)), grad


def plain_network(config: TrainConfig) -> keras.Model:
    keras.utils.set_random_seed(config.seed)
    layers = [keras.Input((784,))]
    for _ in range(config.layers):
        layers += [keras.layers.Dense(config.hidden, use_bias=False), keras.layers.Lambda(sign_ste)]
    model = keras.Sequential(layers + [keras.layers.Dense(10, use_bias=False)])
    compile_for_training(model, config)  # the same optimizer and schedule: the floor is the network
    return model


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch inside one ``fit`` call (no per-call set-up in the numbers)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def timed_epochs(model: keras.Model, data, config: TrainConfig, epochs: int) -> list[float]:
    """Seconds of each of ``epochs`` epochs of ``model.fit`` on ``data``, after one untimed epoch.

    The first epoch of every ``fit`` traces the graph, so one more is run and left out.
    """
    timer = EpochTimer()
    batches = epoch_batches(
        data.x_train, data.y_train, config.batch_size, config.seed, 0, epochs + 1
    )
    model.fit(
        batches,
        epochs=epochs + 1,
        steps_per_epoch=math.ceil(len(data.x_train) / config.batch_size),
        verbose=0,
        callbacks=[timer],
    )
    return timer.seconds[1:]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model and round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="rounds over all models (interleaves them against load drift; the median of all "
        "rounds' epochs is robust to one round hit by load)",
    )
    parser.add_argument("--out", default="experiments/benchmarks/results/train_speed.json")
    args = parser.parse_args(argv)

    data = load_mnist(DataSpec())
    base = TrainConfig()
    steps = math.ceil(len(data.x_train) / base.batch_size)
    models = {"plain keras sgn network (floor)": plain_network(base)}
    models.update({name: build(TrainConfig(**knobs)) for name, knobs in MODELS.items()})
    seconds = {name: [] for name in models}
    progbar = keras.utils.Progbar(args.rounds * len(models), unit_name="round")
    for _ in range(args.rounds):
        for name, model in models.items():
            seconds[name] += timed_epochs(model, data, base, args.epochs)
            progbar.add(1)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    classical = median["classical (a=0, g=pi/2)"]
    floor = median["plain keras sgn network (floor)"]
    rows = [
        {
            "model": name,
            "seconds_per_epoch": median[name],
            "ratio_to_classical": median[name] / classical,
            "ratio_to_plain": median[name] / floor,
            "all_seconds": seconds[name],
        }
        for name in models
    ]
    print(
        f"\nTraining 784 -> 3 x 512 -> 10 on 5,000 images, batch 64 ({steps} steps/epoch); "
        f"median of {args.rounds} x {args.epochs} epochs, models interleaved:"
    )
    print(f"{'model':34} {'s/epoch':>8} {'/ classical':>11} {'/ plain':>8}")
    for row in rows:
        print(
            f"{row['model']:34} {row['seconds_per_epoch']:8.3f} {row['ratio_to_classical']:11.3f} "
            f"{row['ratio_to_plain']:8.3f}"
        )
    result = {
        "benchmark": "train_speed",
        "epochs_timed": args.epochs * args.rounds,
        "steps_per_epoch": steps,
        "batch_size": base.batch_size,
        "train_size": len(data.x_train),
        "cpu_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
        "versions": library_versions(),
        "rows": rows,
    }
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
