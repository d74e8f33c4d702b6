"""The benchmarks on both installs, side by side in one run: the pinned TFQ set and the newest stack.

    python -m experiments.benchmarks.stacks --pinned .venv/bin/python \
        --newest .venv-newest/bin/python [--only train_speed,commands]

Each benchmark runs under the pinned set's interpreter (``pip install -e ".[tfq,dev]"``: TensorFlow
2.18, Cirq 1.5, TFQ 0.7.6) and the newest stack's (``pip install -e ".[dev]"``: TensorFlow 2.21,
Cirq 1.7), one right after the other on the same idle machine, the order alternating from one
benchmark to the next. One result file per (stack, benchmark):
``experiments/benchmarks/results/stacks/{pinned,newest}/NAME.json`` (each records its library
versions and code revision); a rerun skips the files that exist (resume). The report
(``python -m experiments.benchmarks.report``) shows both, target by target
(:func:`experiments.benchmarks.report.stack_rows`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "stacks"
STACKS = ("pinned", "newest")
# Every benchmark of this folder, at its defaults (what the single-stack results were made with).
BENCHMARKS = (
    "startup",
    "commands",
    "train_speed",
    "jit_speed",
    "inference_speed",
    "runner_speed",
    "noisy_speed",
    "sampler_speed",
    "scaling",
    "scale_out",
    "full_run",
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pinned", required=True, help="python of the pinned TFQ set")
    parser.add_argument("--newest", required=True, help="python of the newest stack")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    args = parser.parse_args(argv)
    pythons = {"pinned": args.pinned, "newest": args.newest}
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for index, name in enumerate(names):
        order = STACKS if index % 2 == 0 else STACKS[::-1]  # no stack always runs first
        for stack in order:
            out = OUT / stack / f"{name}.json"
            if out.exists():
                print(f"{stack:7} {name}: done before ({out.relative_to(HERE.parent.parent)})")
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            subprocess.run(
                [pythons[stack], "-m", f"experiments.benchmarks.{name}", "--out", str(out)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            versions = json.loads(out.read_text())["versions"]
            print(
                f"{stack:7} {name}: {time.perf_counter() - start:.0f} s, TensorFlow "
                f"{versions.get('tensorflow')}, Cirq {versions.get('cirq-core')}",
                flush=True,
            )


if __name__ == "__main__":
    main()
