"""Scaling of the exact engine: width N, depth L, shots and rows per chunk; time and peak memory.

One dimension varies at a time around the base point (N = 512, L = 3, 15 shots, 4,096 rows per
chunk, 1,000 MNIST test images). Every point runs in a fresh subprocess so that its peak resident
memory (``ru_maxrss`` from ``os.wait4``) is its own; a tiny point gives the baseline (Python,
TensorFlow, the data) that is subtracted. Each point times two knob settings on the same random
weights: projective ``a = 0.316`` and weak persistent ``g = 5 pi/19`` (the mode that carries two
amplitudes per neuron), median of 3 runs after a warm-up.

    python -m experiments.benchmarks.scaling [--images 1000] [--out FILE.json]

Writes ``experiments/benchmarks/results/scaling.json`` and ``experiments/benchmarks/scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

BASE = {"hidden": 512, "layers": 3, "shots": 15, "chunk": 4096}
AXES = {
    "hidden": [64, 128, 256, 512, 1024, 2048, 4096],
    "layers": [1, 2, 4, 8],
    "shots": [1, 5, 15, 50, 100],
    "chunk": [1024, 2048, 4096, 8192, 16384, 65536],
}
TINY = {"hidden": 8, "layers": 1, "shots": 1, "chunk": 1024}


def measure_point(hidden: int, layers: int, shots: int, chunk: int, images: int) -> dict:
    """Time one point in this process (the subprocess side)."""
    import statistics

    import natq_cirq  # noqa: F401
    from natq_cirq.data import load_split
    from natq_cirq.engine.layers import NaturallyQuantizedNetwork
    from natq_cirq.physics import Knobs

    import numpy as np

    x, _ = load_split(f"mnist-test:{images}", "unit")
    rng = np.random.default_rng(0)
    dims = [x.shape[1]] + [hidden] * layers + [10]
    kernels = [
        rng.normal(0, 1 / math.sqrt(m), (m, n)).astype(np.float32)
        for m, n in zip(dims[:-1], dims[1:], strict=True)
    ]
    out = {}
    for name, knobs in (("projective", Knobs(10**-0.5)), ("weak", Knobs(0.0, 5 * math.pi / 19))):
        network = NaturallyQuantizedNetwork(
            input_dim=x.shape[1], hidden=hidden, layers=layers, outputs=10, a=knobs.a, g=knobs.g
        )
        network.set_kernels(kernels)
        network.sample(x[:8], shots, record_bits=False, rows_per_chunk=chunk)  # trace
        times = []
        for r in range(3):
            start = time.perf_counter()
            network.sample(x, shots, seed=r, record_bits=False, rows_per_chunk=chunk)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        out[name] = {
            "seconds": seconds,
            "us_per_neuron_measurement": seconds / (images * shots * layers * hidden) * 1e6,
        }
    return out


def run_point(point: dict, images: int) -> dict:
    """Run one point in a subprocess; its timings and its peak resident memory in MiB."""
    args = [sys.executable, "-m", "experiments.benchmarks.scaling", "--point"]
    args += [str(point[k]) for k in ("hidden", "layers", "shots", "chunk")] + [str(images)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"point {point} failed (status {status})")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**point, "timings": result, "peak_rss_mib": usage.ru_maxrss / 1024}


def plot(result: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["points"]
    fig, axes = plt.subplots(1, 5, figsize=(22, 4))
    for ax, axis in zip(axes[:4], AXES, strict=True):
        chosen = sorted(
            (r for r in rows if all(r[k] == BASE[k] for k in BASE if k != axis)),
            key=lambda r: r[axis],
        )
        xs = [r[axis] for r in chosen]
        for name in ("projective", "weak"):
            ax.plot(
                xs,
                [r["timings"][name]["us_per_neuron_measurement"] for r in chosen],
                "o-",
                label=name,
            )
        ax.set_xscale("log", base=2)
        ax.set_xlabel(axis)
        ax.set_ylabel("µs per neuron-measurement")
        ax.set_ylim(bottom=0)
        ax.legend()
    ax = axes[4]
    xs = [min(r["chunk"], 1000 * r["shots"]) * r["hidden"] for r in rows]
    ax.plot(xs, [r["peak_rss_mib"] - result["baseline_rss_mib"] for r in rows], "o")
    ax.set_xscale("log")
    ax.set_xlabel("rows simulated at once × N")
    ax.set_ylabel("peak memory above baseline (MiB)")
    fig.suptitle(
        "Exact engine scaling (1,000 images; one axis varied around N=512, L=3, 15 shots, "
        "4,096 rows per chunk)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--out", default="experiments/benchmarks/results/scaling.json")
    parser.add_argument("--figure", default="experiments/benchmarks/scaling.png")
    parser.add_argument("--point", nargs=5, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.point:
        hidden, layers, shots, chunk, images = args.point
        print(json.dumps(measure_point(hidden, layers, shots, chunk, images)))
        return {}

    import natq_cirq  # noqa: F401
    from natq_cirq.engine.training import library_versions
    from natq_cirq.files import write_json

    import tensorflow as tf

    points = []
    for axis, values in AXES.items():
        for value in values:
            point = {**BASE, axis: value}
            if point not in points:
                points.append(point)
    baseline = run_point(TINY, args.images)["peak_rss_mib"]
    bar = tf.keras.utils.Progbar(len(points), unit_name="point")
    rows = []
    for i, point in enumerate(points):
        rows.append(run_point(point, args.images))
        bar.update(i + 1)
    # Memory model: peak above baseline = weights + the rows x N tensors simulated at once.
    import numpy as np

    design = np.array(
        [
            [
                784 * r["hidden"] + (r["layers"] - 1) * r["hidden"] ** 2 + 10 * r["hidden"],
                min(r["chunk"], args.images * r["shots"]) * r["hidden"],
            ]
            for r in rows
        ],
        dtype=float,
    )
    extra = np.array([r["peak_rss_mib"] - baseline for r in rows]) * 2**20
    (per_weight, per_element), *_ = np.linalg.lstsq(design, extra, rcond=None)
    predicted = design @ [per_weight, per_element]
    worst_misfit = float(np.max(np.abs(predicted - extra)) / 2**20)
    result = {
        "benchmark": "scaling",
        "images": args.images,
        "base": BASE,
        "baseline_rss_mib": baseline,
        "memory_model": {
            "bytes_per_weight": float(per_weight),
            "bytes_per_row_neuron": float(per_element),
            "worst_misfit_mib": worst_misfit,
        },
        "versions": library_versions(),
        "points": rows,
    }
    write_json(args.out, result)
    plot(result, args.figure)
    print(
        f"peak memory above baseline ~ {per_weight:.1f} B per weight + {per_element:.1f} B per "
        f"(row x neuron) simulated at once (worst misfit {worst_misfit:.0f} MiB)"
    )
    print(f"wrote {args.out} and {args.figure}")
    return result


if __name__ == "__main__":
    main()
