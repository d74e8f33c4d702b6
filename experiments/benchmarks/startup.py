"""Where a whole command's start and end go: the measurements behind ``natq_cirq.imports``.

    python -m experiments.benchmarks.startup [--runs 5]

Each probe is a fresh process, variants interleaved, medians of ``--runs``:

* ``import tensorflow`` (after ``import natq_cirq``) with the cyclic garbage collector on, and
  paused as ``natq_cirq.imports.collector_paused`` pauses it; then one small TensorFlow call
  (its runtime starts, as in any command) and the cost of one full collection, before and after
  ``gc.freeze``; and the process's wall time from outside when it then exits normally, exits
  after ``gc.freeze`` (what ``natq`` does: the interpreter's final collection skips the frozen
  libraries), or leaves by ``os._exit`` (no teardown at all: the floor);
* ``import cirq`` with the collector on and paused, then ``import cirq_google`` (what
  ``natq_cirq.imports.DeferredModule`` keeps off unplaced runs).

Writes ``experiments/benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from natq_cirq.engine.training import library_versions
from natq_cirq.files import write_json

OUT = "experiments/benchmarks/results/startup.json"

TENSORFLOW = """
import gc, json, os, sys, time
import natq_cirq  # TF_USE_LEGACY_KERAS, TensorFlow's C++ logging off
paused, leave = sys.argv[1] == "paused", sys.argv[2]
start = time.perf_counter()
if paused:
    gc.disable()
import tensorflow
seconds = time.perf_counter() - start
gc.enable()
tensorflow.function(lambda a: 2 * a)(tensorflow.constant(1.0))  # the runtime starts
gc.collect()  # survivors now in the oldest generation: the next call is one full collection
start = time.perf_counter(); gc.collect(); full = time.perf_counter() - start
print(json.dumps({"import": seconds, "full_collection": full}))
sys.stdout.flush()
if leave == "freeze":
    gc.freeze()
    start = time.perf_counter(); gc.collect()
    print(json.dumps({"import": seconds, "full_collection": full,
                      "frozen_collection": time.perf_counter() - start}))
elif leave == "os_exit":
    os._exit(0)
"""

CIRQ = """
import gc, json, sys, time
paused = sys.argv[1] == "paused"
start = time.perf_counter()
if paused:
    gc.disable()
import cirq
seconds = time.perf_counter() - start
gc.enable()
start = time.perf_counter()
import cirq_google
print(json.dumps({"import": seconds, "cirq_google": time.perf_counter() - start}))
"""


def probe(code: str, *argv: str) -> tuple[dict, float]:
    """One fresh process: what it printed, and its wall time from outside."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    leaves = ("normal_exit", "freeze", "os_exit")
    tf = {(gc, leave): [] for gc in ("on", "paused") for leave in leaves}
    cirq = {"on": [], "paused": []}
    for _ in range(args.runs):  # interleaved: drift of the machine hits every variant alike
        for gc, leave in tf:
            tf[gc, leave].append(probe(TENSORFLOW, gc, leave))
        for gc in cirq:
            cirq[gc].append(probe(CIRQ, gc)[0])

    def tf_import(gc: str) -> float:
        return median([out["import"] for key in tf if key[0] == gc for out, _ in tf[key]])

    def wall(leave: str) -> float:
        return median([w for key in tf if key[1] == leave for _, w in tf[key]])

    everything = [out for runs in tf.values() for out, _ in runs]
    result = {
        "command": "python -m experiments.benchmarks.startup",
        "runs": args.runs,
        "tensorflow_import_seconds": {"gc_on": tf_import("on"), "gc_paused": tf_import("paused")},
        "process_wall_seconds": {leave: wall(leave) for leave in leaves},
        "full_collection_after_tensorflow_seconds": median(
            [o["full_collection"] for o in everything]
        ),
        "frozen_collection_after_tensorflow_seconds": median(
            [o["frozen_collection"] for o in everything if "frozen_collection" in o]
        ),
        "cirq_import_seconds": {
            gc: median([out["import"] for out in runs]) for gc, runs in cirq.items()
        },
        "cirq_google_import_seconds": median(
            [out["cirq_google"] for runs in cirq.values() for out in runs]
        ),
        "load_average_at_end": os.getloadavg(),
        "versions": library_versions(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
