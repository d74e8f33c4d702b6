"""Whole commands as a user types them: how fast ``natq`` answers help and mistakes.

    python -m experiments.benchmarks.commands [--runs 5]

Each command runs ``--runs`` times in a fresh process (``python -m natq_cirq``); the median wall
time is recorded with the exit status. Target: every help and every argument or missing-file
error within 1 s. Then the paper's validation as a user runs it, ``natq run MODEL --dataset
mnist-test --backend analytic --no-bits`` (10,000 images × 15 shots), against the same engine
called in-process (``predict(record_bits=False)``, after a warm-up), medians of ``--runs``;
target: the whole command within 2.5 × the engine; and their peak memory (resident set, of
a fresh process each): the command with ``--no-bits`` within 2 × the engine's own, the command
with the bits for contrast. Last, ``natq run MODEL --dataset mnist-test:20 --backend qsim``
(20 images × 15 shots, a circuit backend: TensorFlow is never loaded); target 2 s. Writes
``experiments/benchmarks/results/commands.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from natq_cirq.engine.training import library_versions
from natq_cirq.files import write_json

OUT = "experiments/benchmarks/results/commands.json"


def commands(tmp: str) -> dict[str, list[str]]:
    return {
        "natq --help": ["--help"],
        "natq train --help": ["train", "--help"],
        "natq run --help": ["run", "--help"],
        "natq compile --help": ["compile", "--help"],
        "natq demo --help": ["demo", "--help"],
        "natq calibrate --help": ["calibrate", "--help"],
        "missing calibration file": [
            "run",
            MODEL,
            "--calibration",
            f"{tmp}/none.json",
            "--dataset",
            "mnist-test:2",
            "--out",
            f"{tmp}/r.npz",
        ],
        "missing model file": ["run", f"{tmp}/none.npz", "--out", f"{tmp}/r.npz"],
        "output exists": ["run", f"{tmp}/exists.npz", "--out", f"{tmp}/exists.npz"],
        "bad knob (--a -1)": ["train", "--a", "-1", "--out", f"{tmp}/run"],
        "unknown device": ["compile", "m.npz", "--device", "sycamore9", "--out", f"{tmp}/p.json"],
    }


MODEL = "experiments/results/models/best-combined.npz"


def timed(argv: list[str], runs: int, check: bool = True) -> tuple[list[float], int]:
    """Wall times of ``runs`` fresh ``natq ARGV`` processes, and the last exit status."""
    times, status = [], None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "natq_cirq", *argv], capture_output=True)
        times.append(time.perf_counter() - start)
        status = done.returncode
        if check and status != 0:
            raise SystemExit(f"natq {' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return times, status


def analytic_validation(runs: int) -> dict:
    from natq_cirq.data import load_split
    from natq_cirq.engine.inference import predict
    from natq_cirq.files import load_model

    engine = []
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["run", MODEL, "--dataset", "mnist-test", "--backend", "analytic", "--no-bits"]
        command, _ = timed(argv + ["--verbose", "0", "--out", f"{tmp}/r.npz", "--force"], runs)
    model = load_model(MODEL)
    x, _ = load_split("mnist-test", model.scaling)
    predict(model, x[:100], shots=15, record_bits=False)  # warm-up: build, trace
    for seed in range(runs):
        start = time.perf_counter()
        predict(model, x, shots=15, seed=seed, record_bits=False)
        engine.append(time.perf_counter() - start)
    result = {
        "model": MODEL,
        "images": len(x),
        "shots": 15,
        "command_median_seconds": statistics.median(command),
        "engine_median_seconds": statistics.median(engine),
        "target_ratio": 2.5,
    }
    result["ratio"] = result["command_median_seconds"] / result["engine_median_seconds"]
    print(
        f"analytic validation: command {result['command_median_seconds']:.1f} s, engine "
        f"{result['engine_median_seconds']:.1f} s, ratio {result['ratio']:.2f}"
    )
    return result


# Runs ``argv`` in a child process and prints the child's peak resident set (kB, Linux).
PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
# The engine alone in a fresh process: its peak resident set after one validation (kB).
ENGINE_PEAK = (
    "import resource, sys\n"
    "from natq_cirq.data import load_split\n"
    "from natq_cirq.files import load_model\n"
    "from natq_cirq.engine.inference import predict\n"
    "model = load_model(sys.argv[1])\n"
    "x, _ = load_split('mnist-test', model.scaling)\n"
    "predict(model, x, shots=15, record_bits=False)\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def peak_memory() -> dict:
    """Peak resident set (MB) of the analytic validation command, with and without bits."""

    def command_peak(extra: list[str]) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            argv = [sys.executable, "-m", "natq_cirq", "run", MODEL, "--dataset", "mnist-test"]
            argv += ["--backend", "analytic", "--verbose", "0", "--out", f"{tmp}/r.npz", *extra]
            done = subprocess.run(
                [sys.executable, "-c", PEAK, *argv], check=True, capture_output=True, text=True
            )
        return int(done.stdout.split()[-1]) / 1024

    done = subprocess.run(
        [sys.executable, "-c", ENGINE_PEAK, MODEL], check=True, capture_output=True, text=True
    )
    result = {
        "engine_mb": int(done.stdout.split()[-1]) / 1024,
        "command_no_bits_mb": command_peak(["--no-bits"]),
        "command_with_bits_mb": command_peak([]),
        "target_ratio": 2.0,
    }
    result["ratio_no_bits"] = result["command_no_bits_mb"] / result["engine_mb"]
    print(
        f"peak memory: engine {result['engine_mb']:.0f} MB, command --no-bits "
        f"{result['command_no_bits_mb']:.0f} MB ({result['ratio_no_bits']:.2f} x), with bits "
        f"{result['command_with_bits_mb']:.0f} MB"
    )
    return result


SMALL_MODEL = "experiments/results/models/best-a.npz"


def circuit_backend(runs: int) -> dict:
    """``natq run`` of 20 images × 15 shots on qsim, whole command, and whether TF loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["run", SMALL_MODEL, "--dataset", "mnist-test:20", "--backend", "qsim"]
        argv += ["--verbose", "0", "--out", f"{tmp}/r.npz", "--force"]
        times, _ = timed(argv, runs)
        probe = (
            "import sys; from natq_cirq.cli import main\n"
            f"main({argv!r})\n"
            "print('tensorflow' in sys.modules)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        )
    result = {
        "command": "natq " + " ".join(argv[:6]),
        "median_seconds": statistics.median(times),
        "max_seconds": max(times),
        "tensorflow_loaded": json.loads(done.stdout.split()[-1].lower()),
        "target_seconds": 2.0,
    }
    print(
        f"qsim, 20 images x 15 shots: median {result['median_seconds']:.2f} s "
        f"(TensorFlow loaded: {result['tensorflow_loaded']})"
    )
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/exists.npz", "wb").close()
        for name, argv_ in commands(tmp).items():
            times, status = timed(argv_, args.runs, check=False)
            rows.append(
                {
                    "command": name,
                    "median_seconds": statistics.median(times),
                    "max_seconds": max(times),
                    "exit_status": status,
                }
            )
            print(f"{name:24} median {rows[-1]['median_seconds']:.2f} s, exit {status}")
    validation = analytic_validation(args.runs)
    memory = peak_memory()
    circuit = circuit_backend(args.runs)
    write_json(
        args.out,
        {
            "command": "python -m experiments.benchmarks.commands",
            "runs": args.runs,
            "rows": rows,
            "analytic_validation": validation,
            "peak_memory": memory,
            "circuit_backend": circuit,
            "target_seconds": 1.0,
            "load_average_at_end": os.getloadavg(),
            "versions": library_versions(),
        },
    )


if __name__ == "__main__":
    main()
