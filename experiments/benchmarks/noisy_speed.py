"""The exact noisy engines at full size, against the noisy virtual machine, side by side in one run.

    python -m experiments.benchmarks.noisy_speed [--model M.npz] [--images 10000] [--qvm-images 1]

Times on the paper's 3 x 512 network, 15 shots per image:

* ``analytic --noise device:rainbow``: the exact engine of layered circuits placed on rainbow with
  its calibrated noise (:class:`natq_cirq.hardware.noisy.SlotReadout`, TensorFlow), all ``--images``;
* ``analytic --noise depolarizing:0.003+readout:0.02``: the exact engine of the noisy dynamic
  circuit (:func:`natq_cirq.hardware.noisy.sample_noisy`, NumPy), all ``--images``;
* ``qvm:rainbow``: cirq_google's noisy virtual machine (qsim trajectories of the same placed
  circuits) on ``--qvm-images`` images, extrapolated per neuron-measurement (stated).

Both sample the same distribution as the qvm (tested), so "equal accuracy" is the same number of
shots. Writes ``experiments/benchmarks/results/noisy_speed.json``.
"""

from __future__ import annotations

import argparse
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import load_split
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.runners import make_runner

DEFAULT_MODEL = "experiments/results/models/best-a.npz"
TARGET_SECONDS = 60.0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--qvm-images", type=int, default=1)
    parser.add_argument("--shots", type=int, default=15)
    parser.add_argument("--out", default="experiments/benchmarks/results/noisy_speed.json")
    args = parser.parse_args(argv)

    model = load_model(args.model)
    x, y = load_split(f"mnist-test:{args.images}", model.scaling)
    rows = []
    for backend, noise, images in (
        ("analytic", "device:rainbow", args.images),
        ("analytic", "depolarizing:0.003+readout:0.02", args.images),
        ("qvm:rainbow", None, args.qvm_images),
    ):
        runner = make_runner(backend, noise=noise)
        start = time.perf_counter()
        result = runner.run(model, x[:images], shots=args.shots, seed=0)
        seconds = time.perf_counter() - start
        per = seconds / (images * args.shots * model.layers * model.hidden)
        rows.append(
            {
                "backend": backend,
                "noise": noise or "the device's own",
                "images": images,
                "shots": args.shots,
                "seconds": seconds,
                "us_per_neuron_measurement": per * 1e6,
                "seconds_for_10000_images": per * 10000 * args.shots * model.layers * model.hidden,
                "error_rate": result.error_rate(y[:images]),
            }
        )
        print(
            f"{backend:12} {rows[-1]['noise']:32} {images:6} images {seconds:8.1f} s "
            f"({per * 1e6:.3g} us per neuron-measurement; 10,000 images: "
            f"{rows[-1]['seconds_for_10000_images']:.0f} s)",
            flush=True,
        )
    qvm = rows[-1]["us_per_neuron_measurement"]
    for row in rows:
        row["speedup_vs_qvm"] = qvm / row["us_per_neuron_measurement"]
    slowest = max(r["seconds_for_10000_images"] for r in rows if r["backend"] == "analytic")
    result = {
        "benchmark": "noisy_speed",
        "model": args.model,
        "rows": rows,
        "target_seconds": TARGET_SECONDS,
        "slowest_exact_seconds_for_10000": slowest,
        "met": slowest <= TARGET_SECONDS,
        "versions": library_versions(),
    }
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
