"""Scale-out: the same sharded run on 1 and on 2 Ray workers, side by side in one process.

    python -m experiments.benchmarks.scale_out [--images 200] [--noise depolarizing:0.001]

Noisy ``qsim`` (trajectories) on the first ``--images`` MNIST test images × 15 shots of the paper's
best-a network (3 × 512), sharded ``--shard-size`` inputs at a time (``natq run --workers N``'s
path, :class:`natq_cirq.runners.distributed.ShardedRunner`), each worker count with a fresh local
Ray. Records the whole wall time (Ray start and worker start-up included), the time from the first
submission to the last shard, and whether the bits are identical. Writes
``experiments/benchmarks/results/scale_out.json``.
"""

from __future__ import annotations

import argparse
import os
import time

import natq_cirq  # noqa: F401
from natq_cirq.data import load_split
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.runners import RunOptions
from natq_cirq.runners.distributed import ShardedRunner

import numpy as np

MODEL = "experiments/results/models/best-a.npz"
OUT = "experiments/benchmarks/results/scale_out.json"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--shots", type=int, default=15)
    parser.add_argument("--noise", default="depolarizing:0.001")
    parser.add_argument("--shard-size", type=int, default=10)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    model = load_model(MODEL)
    x, _ = load_split(f"mnist-test:{args.images}", model.scaling)
    options = RunOptions.make(noise=args.noise)
    rows, bits = [], {}
    for workers in (1, 2):
        runner = ShardedRunner("qsim", options, workers=workers, shard_size=args.shard_size)
        start = time.perf_counter()
        result = runner.run(model, x, shots=args.shots, seed=0)
        wall = time.perf_counter() - start
        bits[workers] = result.bits
        rows.append(
            {
                "workers": workers,
                "wall_seconds": wall,
                "seconds_first_submission_to_last_shard": result.stats["seconds_in_workers"],
                "shards": result.stats["shards"],
            }
        )
        print(rows[-1], flush=True)
    one, two = rows
    write_json(
        args.out,
        {
            "command": "python -m experiments.benchmarks.scale_out",
            "backend": "qsim",
            "noise": args.noise,
            "model": MODEL,
            "images": args.images,
            "shots": args.shots,
            "shard_size": args.shard_size,
            "rows": rows,
            "speedup_wall": one["wall_seconds"] / two["wall_seconds"],
            "speedup_in_workers": one["seconds_first_submission_to_last_shard"]
            / two["seconds_first_submission_to_last_shard"],
            "bits_identical": bool(np.array_equal(bits[1], bits[2])),
            "cpu_count": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "target_speedup": 1.7,
            "versions": library_versions(),
        },
    )


if __name__ == "__main__":
    main()
