"""What the fused kernel's fallback costs: a training epoch with the default step, with
``jit_compile=True`` (XLA cannot compile the fused op, so the separate ops run) and under the
``mixed_float16`` policy (the neurons keep float32), side by side in one run.

    python -m experiments.benchmarks.jit_speed [--epochs 3 --rounds 3]

The paper's 3 x 512 network (combined knobs, a carried state: the fused kernel's case) on 5,000
MNIST images in batches of 64; the modes' epochs are interleaved (``--rounds``), the first epoch of
every ``fit`` (tracing, XLA compilation) is not timed. Writes
``experiments/benchmarks/results/jit_speed.json`` (medians, the ratio to the default step).
"""

from __future__ import annotations

import argparse
import statistics
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine.layers import NaturallyQuantizedNetwork
from natq_cirq.engine.training import library_versions
from natq_cirq.files import write_json

import tensorflow as tf

OUT = "experiments/benchmarks/results/jit_speed.json"
MODES = ("default", "jit_compile", "mixed_float16")


def model_for(mode: str) -> NaturallyQuantizedNetwork:
    tf.keras.mixed_precision.set_global_policy(
        "mixed_float16" if mode == "mixed_float16" else "float32"
    )
    model = NaturallyQuantizedNetwork(a=10 ** (-1 / 3), g=9 * 3.141592653589793 / 19)
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.01, momentum=0.9),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=mode == "jit_compile",
    )
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    data = load_mnist(DataSpec())
    x, y = data.x_train, data.y_train
    models = {mode: model_for(mode) for mode in MODES}
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.rounds):
        for mode, model in models.items():
            tf.keras.mixed_precision.set_global_policy(
                "mixed_float16" if mode == "mixed_float16" else "float32"
            )
            model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # traced or compiled: not timed
            for _ in range(args.epochs):
                start = time.perf_counter()
                model.fit(x, y, batch_size=64, epochs=1, verbose=0)
                times[mode].append(time.perf_counter() - start)
    medians = {mode: statistics.median(t) for mode, t in times.items()}
    result = {
        "command": "python -m experiments.benchmarks.jit_speed",
        "network": "3 x 512, a = 10^(-1/3), g = 9 pi/19, persistent (fused kernel's case)",
        "images": len(x),
        "batch_size": 64,
        "epoch_seconds": times,
        "median_epoch_seconds": medians,
        "ratio_to_default": {m: medians[m] / medians["default"] for m in MODES},
        "versions": library_versions(),
    }
    for mode in MODES:
        print(
            f"{mode:14} median epoch {medians[mode]:.2f} s ({result['ratio_to_default'][mode]:.2f}x)"
        )
    write_json(OUT, result)


if __name__ == "__main__":
    main()
