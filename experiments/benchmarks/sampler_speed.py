"""NatqSampler against cirq.Simulator on the same compiled dynamic circuit, side by side in one run.

    python -m experiments.benchmarks.sampler_speed [--cirq-repetitions 2] [--repetitions 15 1000]

For each trained 3 x 512 network (weak read-out through ancillas: best combined; projective:
best a), the dynamic circuit of the first MNIST test image is compiled once; ``cirq.Simulator``
and :class:`natq_cirq.runners.NatqSampler` run that same circuit, alternately, and the time per
repetition (one shot of the whole network) is compared. ``cirq.Simulator`` simulates one
repetition at a time (the circuit measures mid-way), so its time per repetition does not depend on
the count; NatqSampler runs all repetitions at once, so it is timed at several counts.

Writes ``experiments/benchmarks/results/sampler_speed.json``.
"""

from __future__ import annotations

import argparse
import os
import time

import natq_cirq  # noqa: F401
from natq_cirq.compile import compile_dynamic
from natq_cirq.data import load_split
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.runners import NatqSampler

import cirq

MODELS = {
    "best combined (a=10^-1/3, g=9pi/19, ancillas)": "experiments/results/models/best-combined.npz",
    "best a (a=10^-1/2, projective)": "experiments/results/models/best-a.npz",
}
OUT = "experiments/benchmarks/results/sampler_speed.json"


def timed(sampler: cirq.Sampler, circuit: cirq.AbstractCircuit, repetitions: int) -> float:
    start = time.perf_counter()
    sampler.run(circuit, repetitions=repetitions)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cirq-repetitions", type=int, default=2)
    parser.add_argument("--repetitions", type=int, nargs="+", default=[15, 1000])
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    rows = []
    for name, path in MODELS.items():
        model = load_model(path)
        x, _ = load_split("mnist-test:1", model.scaling)
        circuit = compile_dynamic(model, x[0]).circuit
        natq = NatqSampler(seed=0)
        natq.run(circuit, repetitions=2)  # warm-up (caches, first allocation)
        cirq_seconds = timed(cirq.Simulator(seed=0), circuit, args.cirq_repetitions)
        cirq_per = cirq_seconds / args.cirq_repetitions
        for repetitions in args.repetitions:
            seconds = timed(natq, circuit, repetitions)
            rows.append(
                {
                    "model": name,
                    "operations": sum(1 for _ in circuit.all_operations()),
                    "qubits": len(circuit.all_qubits()),
                    "cirq_repetitions": args.cirq_repetitions,
                    "cirq_seconds_per_repetition": cirq_per,
                    "natq_repetitions": repetitions,
                    "natq_seconds": seconds,
                    "natq_seconds_per_repetition": seconds / repetitions,
                    "speedup_per_repetition": cirq_per / (seconds / repetitions),
                }
            )
            print(
                f"{name}: {repetitions} repetitions in {seconds:.3f} s; cirq.Simulator "
                f"{cirq_per:.2f} s per repetition: {rows[-1]['speedup_per_repetition']:.0f}x",
                flush=True,
            )
    write_json(
        args.out,
        {
            "command": "python -m experiments.benchmarks.sampler_speed",
            "rows": rows,
            "load_average_at_end": os.getloadavg(),
            "versions": library_versions(),
            "target_speedup": 1000,
        },
    )


if __name__ == "__main__":
    main()
