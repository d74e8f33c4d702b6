"""The paper's trained networks as model files, for the noise studies and for users.

    python -m experiments.models [NAME ...] [--threads 2]

Each name is a 500-epoch sweep configuration (:mod:`experiments.sweep`). Its ``model.npz`` is
taken from the sweep's training folder when that run finished there, and trained again otherwise
(the training is deterministic for a seed: the re-trained network's final errors are checked
against the committed sweep result file and the match is reported). The files land in
``experiments/results/models/NAME.npz`` with ``NAME.json`` saying where they came from.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from experiments.sweep import RESULTS, SCRATCH, config_id, run_configuration

OUT = Path("experiments/results/models")
PI = math.pi
NETWORKS = {
    "classical": dict(a=0.0, g=PI / 2, seed=0),
    "best-a": dict(a=10**-0.5, g=PI / 2, seed=0),  # the paper's best a (Fig. 5)
    "best-g": dict(a=0.0, g=5 * PI / 19, seed=0),  # the paper's best g (Fig. 7), persistent
    "best-combined": dict(a=10 ** (-1 / 3), g=9 * PI / 19, seed=0),  # Fig. 8
}
EPOCHS = 500


def model_path(name: str) -> Path:
    return OUT / f"{name}.npz"


def ensure(name: str, threads: int = 2, scratch: Path = SCRATCH) -> Path:
    """``experiments/results/models/NAME.npz``, copied from the sweep's run or trained again."""
    from natq_cirq.files import atomic_write, write_json

    target = model_path(name)
    if target.exists():
        return target
    kwargs = NETWORKS[name]
    ident = config_id(kwargs, EPOCHS)
    run = scratch / ident
    history_path = run / "history.json"
    finished = history_path.exists() and json.loads(history_path.read_text()).get("finished")
    retrained = not finished
    if retrained:
        check = Path("runs/models-check")
        run_configuration(kwargs, EPOCHS, threads, str(Path.cwd()), str(check), str(scratch))
    history = json.loads(history_path.read_text())
    final = history["epochs"][-1]
    reference_file = RESULTS / f"{ident}.json"
    match = None
    if reference_file.exists():
        reference = json.loads(reference_file.read_text())["final"]
        match = all(
            reference.get(k) == final.get(k) for k in ("val_error_deterministic", "val_error_vote")
        )
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda handle: handle.write((run / "model.npz").read_bytes()))
    write_json(
        OUT / f"{name}.json",
        {
            "name": name,
            "sweep_configuration": ident,
            "config": history["config"],
            "final": {
                k: final.get(k) for k in ("epoch", "val_error_deterministic", "val_error_vote")
            },
            "retrained_here": retrained,
            "matches_sweep_result_file": match,
        },
    )
    print(f"{target}: {ident}; final {final.get('val_error_vote')} (sweep file match: {match})")
    return target


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    for name in args.names:
        ensure(name, args.threads)


if __name__ == "__main__":
    main()
