"""The README's main job: train classical and quantized networks briefly and compare them."""

from __future__ import annotations

import math
import time
from pathlib import Path

from natq_cirq.compile import compile_layered
from natq_cirq.data import load_split
from natq_cirq.engine.training import TrainConfig, train
from natq_cirq.files import load_model, write_json
from natq_cirq.runners import make_runner

# (label, a, g): the classical network and the paper's best point of each kind of quantumness.
DEMO_CONFIGS = (
    ("classical (a=0, g=pi/2)", 0.0, math.pi / 2),
    ("projective, a=10^-1/2", 10**-0.5, math.pi / 2),
    ("weak, g=5pi/19", 0.0, 5 * math.pi / 19),
    ("combined, a=10^-1/3, g=9pi/19", 10 ** (-1 / 3), 9 * math.pi / 19),
)


def run_demo(
    out: Path, epochs: int = 5, hidden: int = 512, layers: int = 3, verbose: int = 1
) -> list[dict]:
    """Train each demo configuration for ``epochs`` epochs (resumable) and print a table."""
    rows = []
    for label, a, g in DEMO_CONFIGS:
        slug = label.split(" ")[0].rstrip(",")
        config = TrainConfig(layers=layers, hidden=hidden, a=a, g=g, epochs=epochs)
        if verbose:
            print(f"== {label}: {layers} x {hidden}, {epochs} epochs -> {out / slug}")
        history = train(config, out / slug, verbose=verbose)
        final = history["epochs"][-1]
        rows.append(
            {
                "network": label,
                "a": a,
                "g": g,
                "epochs": final["epoch"],
                "train_error": final["train_error"],
                "val_error_deterministic": final["val_error_deterministic"],
                "val_error_vote": final["val_error_vote"],
                "run": str(out / slug),
            }
        )
    header = f"{'network':32} {'epochs':>6} {'train err':>9} {'val err (det)':>13} {'val err (15-shot)':>17}"
    print("\nValidation error on the 10,000 MNIST test images (5,000 training images):")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['network']:32} {row['epochs']:>6} {row['train_error']:>9.4f} "
            f"{row['val_error_deterministic']:>13.4f} {row['val_error_vote']:>17.4f}"
        )
    write_json(out / "summary.json", rows)
    return rows


def run_backends_demo(
    out: Path,
    epochs: int = 5,
    images: int = 100,
    shots: int = 15,
    backends: tuple[str, ...] = ("analytic", "qsim", "qvm:rainbow"),
    verbose: int = 1,
) -> list[dict]:
    """Train a small quantized network, compile it for rainbow, run that program everywhere.

    The program ``natq compile --device rainbow`` writes is what every layered backend runs here:
    ``qsim`` and ``qvm:rainbow`` execute its placed, rewritten circuit; ``analytic`` runs the
    model exactly (the reference).
    """
    config = TrainConfig(
        layers=2, hidden=16, a=10 ** (-1 / 3), g=9 * math.pi / 19, epochs=epochs, vote_every=epochs
    )
    run_dir = out / "small"
    if verbose:
        print(
            f"\n== small quantized network 784 -> 2 x 16 -> 10, a=10^-1/3, g=9pi/19: "
            f"{epochs} epochs -> {run_dir}"
        )
    train(config, run_dir, verbose=verbose)
    model = load_model(run_dir / "model.npz")
    program = compile_layered(model, "rainbow", model_path=str(run_dir / "model.npz"))
    program.write(out / "small.program.json")
    print(program.describe())
    x, y = load_split(f"mnist-test:{images}", model.scaling)
    rows = []
    for backend in backends:
        start = time.perf_counter()
        runs_circuits = backend != "analytic"
        if verbose:  # qvm:rainbow takes a minute or two: say what runs, and show its progress
            print(f"-- {images} images x {shots} shots on {backend}", flush=True)
        runner = make_runner(
            backend, program=program if runs_circuits else None, progress=verbose > 0
        )
        result = runner.run(model, x, shots=shots, seed=0)
        rows.append(
            {
                "backend": backend,
                "error_rate": result.error_rate(y),
                "seconds": time.perf_counter() - start,
                "images": images,
                "shots": shots,
            }
        )
    print(f"\nThe small network on the first {images} test images, {shots}-shot vote:")
    header = f"{'backend':14} {'error rate':>10} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['backend']:14} {row['error_rate']:>10.4f} {row['seconds']:>8.1f}")
    write_json(out / "backends.json", rows)
    return rows
