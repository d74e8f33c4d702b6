"""Inference speed of the exact engine: 10,000 test images x 15 shots, quantized vs classical.

All knob settings run the same weights (a trained 3 x 512 model) through the same code path
(:func:`natq_cirq.engine.inference.predict`: every shot sampled, then the majority vote), interleaved over
``--rounds`` rounds so that machine load drifts hit all alike; the median is reported. The
classical network is deterministic, so one pass per image would do for it: that row is timed too
("classical, 1 shot"), but the quantized/classical ratio compares equal numbers of forward passes,
which is what the quantum engine adds. A plain TensorFlow ``sign(x W)`` chain on the same rows is
the floor.

    python -m experiments.benchmarks.inference_speed [--images 10000 --shots 15 --rounds 3]

Writes ``experiments/benchmarks/results/inference_speed.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import load_split
from natq_cirq.engine.inference import build_network, predict
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.physics import Knobs

import numpy as np
import tensorflow as tf

DEFAULT_MODEL = "experiments/results/foundation/a0.316-20ep/model.npz"
SETTINGS = {
    "classical (a=0, g=pi/2)": Knobs(),
    "quantized a=0.316": Knobs(10**-0.5),
    "weak g=5pi/19 persistent": Knobs(0.0, 5 * math.pi / 19),
    "weak g=5pi/19 reprepared": Knobs(0.0, 5 * math.pi / 19, "reprepared"),
    "combined a=0.464 g=9pi/19": Knobs(10 ** (-1 / 3), 9 * math.pi / 19),
}
TARGET_RATIO = 1.10
TARGET_SECONDS = 3.0


def plain_forward(kernels: list[np.ndarray]):
    """The floor: ``sign`` chain of dense layers, one ``tf.function``, no sampling."""
    weights = [tf.constant(k) for k in kernels]

    @tf.function
    def forward(x):
        for w in weights[:-1]:
            x = tf.where(tf.matmul(x, w) >= 0, 1.0, -1.0)
        return tf.argmax(tf.matmul(x, weights[-1]), axis=-1)

    return forward


def profile_layer(rows: int = 4096, hidden: int = 512, repeats: int = 20) -> dict:
    """Milliseconds per layer on ``rows x hidden`` for the parts of one shot: where time goes.

    The matrix product, the uniform draws, and the neuron step of each knob setting (rotation,
    read-out, sampling, collapse), each as its own ``tf.function``: as separate TensorFlow ops, as
    the engine runs it (with ``a > 0`` and a carried state, the fused C++ kernel), and the
    whole step under XLA (trigonometry included).
    """
    from natq_cirq import engine, physics

    h = tf.random.normal((rows, hidden), seed=1)
    d = tf.sign(tf.random.normal((rows, hidden), seed=2))
    u = tf.random.uniform((rows, hidden), seed=3)
    # Carried states as the engine holds them: basis states (z = +-1) at a = 0, else the circle.
    angle = tf.random.uniform((rows, hidden), 0.0, 2 * math.pi, seed=4)
    circle = (tf.cos(angle), tf.sin(angle))
    basis = (tf.sign(tf.cos(angle)), None)
    kernel = tf.random.normal((hidden, hidden), seed=5)
    generator = tf.random.Generator.from_seed(0)

    def timed(function, *args) -> float:
        function(*args)
        start = time.perf_counter()
        for _ in range(repeats):
            out = function(*args)
        for tensor in tf.nest.flatten(out):
            if tensor is not None:
                tensor.numpy()
        return (time.perf_counter() - start) / repeats * 1e3

    out = {
        "rows": rows,
        "hidden": hidden,
        "matmul_ms": timed(tf.function(lambda x: tf.matmul(x, kernel)), d),
        "uniform_draws_ms": timed(tf.function(lambda: generator.uniform((rows, hidden)))),
        "one_elementwise_multiply_ms": timed(tf.function(lambda x, y: x * y), u, h),
    }
    for name, knobs in SETTINGS.items():
        carried = (None, None) if knobs.basis_memory else basis if knobs.a == 0 else circle

        def step(h, d, u, knobs=knobs, carried=carried):
            return physics.neuron_step(h, d, *carried, u, knobs, engine.TF_OPS)

        def engine_step(h, d, u, knobs=knobs, carried=carried):
            return engine.neuron_layer(h, d, *carried, u, knobs)

        out[f"step_ms {name}"] = timed(tf.function(step), h, d, u)
        with fusion(True):
            out[f"step_ms_engine {name}"] = timed(tf.function(engine_step), h, d, u)
        out[f"step_ms_xla {name}"] = timed(tf.function(step, jit_compile=True), h, d, u)
    return out


@contextlib.contextmanager
def fusion(enabled: bool):
    """Run with the engine's fused kernel on or off (``NATQ_FUSE``, read when tracing)."""
    from natq_cirq.engine.fused import FUSION_ENV

    before = os.environ.get(FUSION_ENV)
    os.environ[FUSION_ENV] = "1" if enabled else "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ[FUSION_ENV]
        else:
            os.environ[FUSION_ENV] = before


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--shots", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="experiments/benchmarks/results/inference_speed.json")
    args = parser.parse_args(argv)

    model = load_model(args.model)
    x, y = load_split(f"mnist-test:{args.images}", model.scaling)
    network = build_network(model)
    rows = np.repeat(x, args.shots, axis=0)
    floor = plain_forward(model.kernels)

    def run_plain():
        for start in range(0, len(rows), 16384):
            floor(tf.constant(rows[start : start + 16384])).numpy()

    # The settings that carry a neuron state, once more with the step as separate TensorFlow ops
    # (a network of its own: the engine reads NATQ_FUSE when it traces).
    separate = {
        f"{name}, separate ops": knobs for name, knobs in SETTINGS.items() if not knobs.basis_memory
    }
    network_separate = build_network(model)

    def run_separate(knobs, images, seed):
        with fusion(False):
            return predict(
                network_separate, images, args.shots, seed=seed, knobs=knobs, record_bits=False
            )

    timings: dict[str, list[float]] = {name: [] for name in [*SETTINGS, *separate]}
    timings["classical, 1 shot"] = []
    timings["plain tf sign chain (floor)"] = []
    errors: dict[str, float] = {}
    # Warm-up: trace every setting once.
    # Warm-up on the very rows: tracing and XLA compilation (once per chunk shape) are not timed.
    for knobs in SETTINGS.values():
        predict(network, x, args.shots, seed=0, knobs=knobs, record_bits=False)
    for knobs in separate.values():
        run_separate(knobs, x, 0)
    run_plain()
    for r in range(args.rounds):
        for name, knobs in SETTINGS.items():
            result = predict(network, x, args.shots, seed=r, knobs=knobs, record_bits=False)
            timings[name].append(result.seconds)
            errors[name] = result.error_rate(y)
        for name, knobs in separate.items():
            result = run_separate(knobs, x, r)
            timings[name].append(result.seconds)
            errors[name] = result.error_rate(y)
        result = predict(network, x, 1, seed=r, knobs=Knobs(), record_bits=False)
        timings["classical, 1 shot"].append(result.seconds)
        start = time.perf_counter()
        run_plain()
        timings["plain tf sign chain (floor)"].append(time.perf_counter() - start)
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    classical = statistics.median(timings["classical (a=0, g=pi/2)"])
    rows_out = []
    for name, values in timings.items():
        seconds = statistics.median(values)
        shots = 1 if name == "classical, 1 shot" else args.shots
        rows_out.append(
            {
                "setting": name,
                "images": args.images,
                "shots": shots,
                "seconds": seconds,
                "all_seconds": values,
                "ratio_to_classical": seconds / classical,
                "us_per_neuron_measurement": seconds
                / (args.images * shots * model.layers * model.hidden)
                * 1e6,
                "vote_error": errors.get(name),
            }
        )
        print(f"{name:30} {seconds:7.3f} s   / classical {seconds / classical:5.3f}", flush=True)
    profile = profile_layer()
    for key, value in profile.items():
        if key.endswith("_ms") or key.startswith("step_ms"):
            print(f"  {key:45} {value:7.2f}")
    quantum = [
        r
        for r in rows_out
        if r["setting"] in SETTINGS and r["setting"] != "classical (a=0, g=pi/2)"
    ]
    worst_ratio = max(r["ratio_to_classical"] for r in quantum)
    slowest = max(r["seconds"] for r in quantum)
    result = {
        "benchmark": "inference_speed",
        "model": args.model,
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "versions": library_versions(),
        "rows": rows_out,
        "layer_profile": profile,
        "targets": {
            "ratio": {
                "target": TARGET_RATIO,
                "worst": worst_ratio,
                "met": worst_ratio <= TARGET_RATIO,
            },
            "seconds": {
                "target": TARGET_SECONDS,
                "slowest": slowest,
                "met": slowest <= TARGET_SECONDS,
            },
        },
    }
    write_json(args.out, result)
    print(
        f"worst ratio {worst_ratio:.3f} (target {TARGET_RATIO}); slowest {slowest:.2f} s "
        f"(target {TARGET_SECONDS} s)\nwrote {args.out}"
    )
    return result


if __name__ == "__main__":
    main()
