"""Runner speed: each backend against the naive use of the same library, side by side in one run.

    python -m experiments.benchmarks.runner_speed [--model M.npz] [--images 20] [--shots 15]

For every backend, the time per neuron-measurement of ``natq run``'s path on the first ``--images``
MNIST test images x ``--shots`` shots of a trained 3 x 512 model, and of the naive library path on
a sample of the same neuron read-outs:

* qsim: one ``run_sweep`` point of a one-pair circuit per read-out;
* tfq: ``tfq.convert_to_tensor`` and the sampling op per read-out circuit;
* cirq: ``cirq.Simulator`` on the dynamic circuit (``cirq:dynamic``: every shot of every neuron
  simulated, real-time feed-forward), measured on one image;
* analytic: the exact engine, against the naive library path of qsim.

Writes ``experiments/benchmarks/results/runner_speed.json``.
"""

from __future__ import annotations

import argparse
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import load_split
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.hardware.readout import line_slots, slot_circuit, slot_symbol
from natq_cirq.imports import installed
from natq_cirq.runners import make_runner

import cirq
import numpy as np

DEFAULT_MODEL = "experiments/results/foundation/a0.316-20ep/model.npz"
NAIVE_PATHS = {
    "qsim": "qsimcirq run_sweep, one point per read-out",
    "tfq": "tfq sampling op per read-out circuit",
    "cirq": "cirq.Simulator on the dynamic circuit, 1 image",
}


def ours(backend: str, model, x, shots: int) -> tuple[float, dict]:
    runner = make_runner(backend)
    runner.run(model, x[:1], shots=2, seed=0)  # warm-up: trace, translate
    start = time.perf_counter()
    runner.run(model, x, shots=shots, seed=1)
    seconds = time.perf_counter() - start
    return seconds / (len(x) * shots * model.layers * model.hidden), runner.stats()


def naive_qsim(g: float, angles: np.ndarray) -> float:
    import qsimcirq

    circuit = slot_circuit(g, line_slots(1, g < np.pi / 2))
    simulator = qsimcirq.QSimSimulator(seed=0)
    params = [cirq.ParamResolver({slot_symbol(0): float(a)}) for a in angles]
    start = time.perf_counter()
    simulator.run_sweep(circuit, params, repetitions=1)
    return (time.perf_counter() - start) / len(angles)


def naive_tfq(g: float, angles: np.ndarray) -> float:
    from natq_cirq.engine.tfq_layers import tfq_ready

    import tensorflow as tf
    import tensorflow_quantum as tfq

    body, _ = tfq_ready(slot_circuit(g, line_slots(1, g < np.pi / 2)))
    sample = tfq.get_sampling_op()
    start = time.perf_counter()
    for a in angles:
        program = tfq.convert_to_tensor([body])
        sample(program, tf.constant(["slot_0"]), tf.constant([[a]], tf.float32), [1])
    return (time.perf_counter() - start) / len(angles)


def naive_cirq(model, x, shots: int) -> float:
    return ours("cirq:dynamic", model, x[:1], shots)[0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--shots", type=int, default=15)
    parser.add_argument("--naive-items", type=int, default=300)
    parser.add_argument("--out", default="experiments/benchmarks/results/runner_speed.json")
    args = parser.parse_args(argv)

    model = load_model(args.model)
    x, _ = load_split(f"mnist-test:{args.images}", model.scaling)
    angles = np.random.default_rng(0).uniform(-np.pi, np.pi, args.naive_items)
    g = model.knobs.g
    # The tfq rows need the [tfq] extra (TensorFlow Quantum pins TensorFlow 2.18, Cirq 1.5).
    tfq = installed("tensorflow_quantum")
    naive = {
        "qsim": naive_qsim(g, angles),
        **({"tfq": naive_tfq(g, angles)} if tfq else {}),
        "cirq": naive_cirq(model, x, args.shots),
    }
    rows = []
    for backend, images, reference in (
        ("analytic", args.images, "qsim"),
        *((("tfq", args.images, "tfq"),) if tfq else ()),
        ("qsim", args.images, "qsim"),
        ("cirq", min(args.images, 4), "cirq"),
    ):
        per, stats = ours(backend, model, x[:images], args.shots)
        base = naive[reference]
        rows.append(
            {
                "backend": backend,
                "images": images,
                "shots": args.shots,
                "us_per_neuron_measurement": per * 1e6,
                "naive_path": NAIVE_PATHS[reference],
                "naive_us_per_neuron_measurement": base * 1e6,
                "speedup": base / per,
                "stats": stats,
            }
        )
        print(
            f"{backend:9} {per * 1e6:10.3f} us/measurement   naive {base * 1e6:9.1f} us   "
            f"x{base / per:8.1f}",
            flush=True,
        )
    result = {
        "benchmark": "runner_speed",
        "model": args.model,
        "knobs": str(model.knobs),
        "versions": library_versions(),
        "rows": rows,
    }
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
