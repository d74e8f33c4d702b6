"""Fig. 4: validation error vs the number of shots for the trained a = 0.5 network.

    python -m experiments.fig4 [--epochs 500]   # trains the a = 0.5 model first if it is missing

Writes experiments/results/fig4_shots.json: shots 1..31; for each of ``--votes`` independent
sampling seeds the vote's error over the first s shots; their mean (``error_by_shots``) and
standard deviation; the binomial standard error over the 10,000 images; and the deterministic
a = 0 error of the same weights, with the code revision.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from natq_cirq.data import load_split
from natq_cirq.engine.inference import predict
from natq_cirq.engine.training import library_versions
from natq_cirq.files import load_model, write_json
from natq_cirq.physics import Knobs

import numpy as np

from experiments.sweep import SCRATCH, config_id, run_configuration


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--shots", type=int, default=31)
    parser.add_argument("--votes", type=int, default=10, help="independent sampling seeds")
    parser.add_argument("--out", default="experiments/results/fig4_shots.json")
    args = parser.parse_args(argv)
    library_versions()  # fixes the recorded revision to the one this run starts from
    kwargs = dict(a=0.5, g=math.pi / 2, seed=0)
    ident = config_id(kwargs, args.epochs)
    path = Path(SCRATCH) / ident / "model.npz"
    if not path.exists() or not load_model(path).config.get("epochs_done") == args.epochs:
        # The sweep's scratch folder is not committed: train (or finish) the model here.
        run_configuration(kwargs, args.epochs, threads=2, root=str(Path.cwd()))
    model = load_model(path)
    x, y = load_split("mnist-test", model.scaling)
    curves = np.array(
        [
            predict(model, x, shots=args.shots, seed=seed, record_bits=False).error_rate_by_shots(
                y, model.outputs
            )
            for seed in range(args.votes)
        ]
    )
    deterministic = predict(model, x, shots=1, knobs=Knobs(), record_bits=False)
    mean = curves.mean(axis=0)
    write_json(
        args.out,
        {
            "model_config": ident,
            "a": model.knobs.a,
            "epochs": args.epochs,
            "shots": list(range(1, args.shots + 1)),
            "votes": args.votes,
            "error_by_shots": mean.tolist(),
            "error_by_shots_std_over_votes": curves.std(axis=0, ddof=1).tolist(),
            "error_by_shots_per_vote": curves.tolist(),
            "binomial_se_over_images": np.sqrt(mean * (1 - mean) / len(y)).tolist(),
            "images": len(y),
            "deterministic_error": deterministic.error_rate(y),
            "versions": library_versions(),
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
