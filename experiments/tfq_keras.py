"""Train a naturally quantized network whose first layer runs in TensorFlow Quantum, with model.fit.

    python -m experiments.tfq_keras [--hidden 16 --layers 2 --a 0.3 --g 1.2 --epochs 5]

The model (`natq_cirq.engine.tfq_layers.TFQNaturallyQuantizedNetwork`) is a tf.keras.Model: layer 1's
neurons are TFQ expectation values of their compiled read-out circuits, sampled to +-1 bits, with
gradients from TFQ's adjoint differentiator; layers 2..L are the exact engine. After training,
the same weights go into the exact engine (`NaturallyQuantizedNetwork`) and both are evaluated on
the validation images: the layer-1 expectation values must agree to float precision and the
15-shot errors within sampling noise. Writes experiments/results/tfq_keras.json.
"""

from __future__ import annotations

import argparse
import sys
import time

import natq_cirq  # noqa: F401
from natq_cirq.imports import MissingExtra, require

# TensorFlow Quantum is the [tfq] extra: without it, one line that says what to install, before
# TensorFlow loads (and prints its start-up lines).
try:
    require("tensorflow_quantum", "the TFQ tutorial (experiments.tfq_keras)")
except MissingExtra as missing:
    print(f"natq: error: {missing}", file=sys.stderr)
    raise SystemExit(2) from None

from natq_cirq import physics  # noqa: E402
from natq_cirq.data import DataSpec, load_mnist  # noqa: E402
from natq_cirq.engine.inference import predict  # noqa: E402
from natq_cirq.engine.layers import NaturallyQuantizedNetwork  # noqa: E402
from natq_cirq.engine.tfq_layers import TFQNaturallyQuantizedNetwork  # noqa: E402
from natq_cirq.engine.training import library_versions  # noqa: E402
from natq_cirq.files import write_json  # noqa: E402
from natq_cirq.votes import majority_vote  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--a", type=float, default=0.3)
    parser.add_argument("--g", type=float, default=1.2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--out", default="experiments/results/tfq_keras.json")
    args = parser.parse_args(argv)

    tf.keras.utils.set_random_seed(0)
    data = load_mnist(DataSpec(train_size=args.train_size, val_size=args.val_size))
    model = TFQNaturallyQuantizedNetwork(args.hidden, args.layers, a=args.a, g=args.g)
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.01, momentum=0.9),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=64,
        epochs=args.epochs,
        validation_data=(data.x_val, data.y_val),
        verbose=2,
    )
    seconds = time.perf_counter() - start

    # The same weights in the exact engine.
    exact = NaturallyQuantizedNetwork(784, args.hidden, args.layers, 10, a=args.a, g=args.g)
    exact.set_kernels(
        [model.first.kernel.numpy()]
        + [layer.kernel.numpy() for layer in model.rest]
        + [model.readout.kernel.numpy()]
    )
    h = data.x_val @ model.first.kernel.numpy()
    tfq_mean = model.first.expected_activation(tf.constant(h)).numpy()
    exact_mean = physics.expected_activation(h, exact.knobs)
    shots = 15
    tfq_logits = np.stack([model(data.x_val).numpy() for _ in range(shots)], axis=1)
    tfq_error = float(np.mean(majority_vote(tfq_logits.argmax(-1), 10) != data.y_val))
    exact_error = predict(exact, data.x_val, shots=shots, seed=0, record_bits=False).error_rate(
        data.y_val
    )
    result = {
        "config": vars(args),
        "fit_seconds": seconds,
        "versions": library_versions(),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "layer1_expectation_max_abs_difference": float(np.max(np.abs(tfq_mean - exact_mean))),
        "val_error_vote_tfq_model": tfq_error,
        "val_error_vote_exact_engine": exact_error,
        "shots": shots,
    }
    print(
        f"layer-1 E[d|h], TFQ vs exact engine: max |difference| "
        f"{result['layer1_expectation_max_abs_difference']:.2e}"
    )
    print(
        f"{shots}-shot validation error: TFQ model {tfq_error:.4f}, exact engine {exact_error:.4f}"
    )
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
