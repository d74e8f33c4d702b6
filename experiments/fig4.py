"""Fig. 4: validation error vs the number of shots for the trained a = 0.5 network.

    python -m experiments.fig4 [--epochs 500]   # trains the a = 0.5 model first if it is missing

Writes experiments/results/fig4_shots.json (shots 1..31, the vote's error over the first s shots,
and the deterministic a = 0 error of the same weights).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from natq_cirq.data import load_split
from natq_cirq.files import load_model, write_json
from natq_cirq.inference import predict
from natq_cirq.physics import Knobs

from experiments.sweep import SCRATCH, config_id, run_configuration


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--shots", type=int, default=31)
    parser.add_argument("--out", default="experiments/results/fig4_shots.json")
    args = parser.parse_args(argv)
    kwargs = dict(a=0.5, g=math.pi / 2, seed=0)
    ident = config_id(kwargs, args.epochs)
    path = Path(SCRATCH) / ident / "model.npz"
    if not path.exists() or not load_model(path).config.get("epochs_done") == args.epochs:
        # The sweep's scratch folder is not committed: train (or finish) the model here.
        run_configuration(kwargs, args.epochs, threads=2, root=str(Path.cwd()))
    model = load_model(path)
    x, y = load_split("mnist-test", model.scaling)
    quantum = predict(model, x, shots=args.shots, seed=0, record_bits=False)
    deterministic = predict(model, x, shots=1, knobs=Knobs(), record_bits=False)
    write_json(
        args.out,
        {
            "model_config": ident,
            "a": model.knobs.a,
            "epochs": args.epochs,
            "shots": list(range(1, args.shots + 1)),
            "error_by_shots": quantum.error_rate_by_shots(y, model.outputs).tolist(),
            "deterministic_error": deterministic.error_rate(y),
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
