"""Is a quantum-trained network more robust to hardware noise? Validation error vs noise strength.

    python -m experiments.noise_study [--images 2000] [--shots 15]

For each model (by default the committed 20-epoch classical and a = 0.316 networks), each noise
kind (depolarizing, amplitude damping, readout) and each strength, the exact noisy engine
(:mod:`natq_cirq.noisy`) runs the noisy dynamic circuit on the first ``--images`` test images;
each model is evaluated with its own knobs (15-shot vote) and, for the quantum one, also
deterministically (a = 0, g = pi/2, the same weights). One JSON file per (model, inference,
noise, strength) in experiments/results/noise/, skipped when present (resumable); the figure is
experiments/figures/noise_robustness.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from natq_cirq.data import load_split
from natq_cirq.files import ModelFile, load_model, write_json
from natq_cirq.inference import majority_vote
from natq_cirq.noisy import sample_noisy
from natq_cirq.physics import Knobs
from natq_cirq.runners import read_out
from natq_cirq.runners.noise import parse_noise
from natq_cirq.training import library_versions

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = Path("experiments/results/noise")
MODELS = {
    "classical": "experiments/results/foundation/classical-20ep/model.npz",
    "a0.316": "experiments/results/foundation/a0.316-20ep/model.npz",
}
KINDS = {
    "depolarizing": [0.0, 0.001, 0.003, 0.01, 0.03, 0.1],
    "amplitude_damping": [0.0, 0.003, 0.01, 0.03, 0.1],
    "readout": [0.0, 0.01, 0.03, 0.1, 0.2],
}


def evaluate(model: ModelFile, x, y, kind: str, strength: float, shots: int, seed: int) -> float:
    noise = parse_noise(f"{kind}:{strength}") if strength > 0 else None
    bits = sample_noisy(model, x, shots, noise, seed)
    return float(np.mean(majority_vote(read_out(model, bits).argmax(-1), model.outputs) != y))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--shots", type=int, default=15)
    args = parser.parse_args(argv)
    x, y = load_split(f"mnist-test:{args.images}")
    for name, path in MODELS.items():
        trained = load_model(path)
        variants = {"own knobs": trained}
        if not trained.knobs.is_classical:
            variants["deterministic"] = ModelFile(trained.kernels, Knobs(), trained.config)
        for inference, model in variants.items():
            shots = args.shots  # under noise every network is random: all get the vote
            for kind, strengths in KINDS.items():
                for strength in strengths:
                    out = RESULTS / f"{name}_{inference.replace(' ', '-')}_{kind}_{strength}.json"
                    if out.exists():
                        continue
                    error = evaluate(model, x, y, kind, strength, shots, seed=0)
                    write_json(
                        out,
                        {
                            "model": name,
                            "path": path,
                            "inference": inference,
                            "knobs": str(model.knobs),
                            "noise": kind,
                            "strength": strength,
                            "images": args.images,
                            "shots": shots,
                            "error_rate": error,
                            "versions": library_versions(),
                        },
                    )
                    print(
                        f"{name:9} {inference:13} {kind:17} {strength:<6} error {error:.4f}",
                        flush=True,
                    )
    draw()


def draw() -> None:
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    fig, axes = plt.subplots(1, len(KINDS), figsize=(14, 4))
    for ax, kind in zip(axes, KINDS, strict=True):
        for (model, inference), style in (
            (("classical", "own knobs"), "o-"),
            (("a0.316", "own knobs"), "s-"),
            (("a0.316", "deterministic"), "s--"),
        ):
            pts = sorted(
                (r["strength"], r["error_rate"])
                for r in rows
                if r["model"] == model and r["inference"] == inference and r["noise"] == kind
            )
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot([max(v, 1e-4) for v in xs], ys, style, label=f"{model}, {inference}")
        ax.set(
            xscale="log",
            xlabel=f"{kind} strength (0 drawn at 1e-4)",
            ylabel="validation error",
            title=kind,
        )
        ax.legend(fontsize=7)
    fig.suptitle("Noisy dynamic circuit (exact noisy engine), 20-epoch networks")
    fig.tight_layout()
    Path("experiments/figures").mkdir(parents=True, exist_ok=True)
    fig.savefig("experiments/figures/noise_robustness.png", dpi=110)
    print("wrote experiments/figures/noise_robustness.png")


if __name__ == "__main__":
    main()
