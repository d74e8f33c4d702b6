"""Whole commands as a user types them: how fast ``natq`` answers help and mistakes.

    python -m experiments.benchmarks.commands [--runs 5]

Each command runs ``--runs`` times in a fresh process (``python -m natq_cirq``); the median wall
time is recorded with the exit status. Target: every help and every argument or missing-file
error within 1 s. Writes ``experiments/benchmarks/results/commands.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from natq_cirq.files import write_json
from natq_cirq.training import library_versions

OUT = "experiments/benchmarks/results/commands.json"


def commands(tmp: str) -> dict[str, list[str]]:
    return {
        "natq --help": ["--help"],
        "natq train --help": ["train", "--help"],
        "natq run --help": ["run", "--help"],
        "natq compile --help": ["compile", "--help"],
        "natq demo --help": ["demo", "--help"],
        "missing model file": ["run", f"{tmp}/none.npz", "--out", f"{tmp}/r.npz"],
        "output exists": ["run", f"{tmp}/exists.npz", "--out", f"{tmp}/exists.npz"],
        "bad knob (--a -1)": ["train", "--a", "-1", "--out", f"{tmp}/run"],
        "unknown device": ["compile", "m.npz", "--device", "sycamore9", "--out", f"{tmp}/p.json"],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/exists.npz", "wb").close()
        for name, argv_ in commands(tmp).items():
            times, status = [], None
            for _ in range(args.runs):
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "natq_cirq", *argv_], capture_output=True, text=True
                )
                times.append(time.perf_counter() - start)
                status = done.returncode
            rows.append(
                {
                    "command": name,
                    "median_seconds": statistics.median(times),
                    "max_seconds": max(times),
                    "exit_status": status,
                }
            )
            print(f"{name:24} median {rows[-1]['median_seconds']:.2f} s, exit {status}")
    write_json(
        args.out,
        {
            "command": "python -m experiments.benchmarks.commands",
            "runs": args.runs,
            "rows": rows,
            "target_seconds": 1.0,
            "load_average_at_end": os.getloadavg(),
            "versions": library_versions(),
        },
    )


if __name__ == "__main__":
    main()
