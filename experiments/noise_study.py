"""What hardware noise does to the paper's networks: strength, folding, devices, noise-aware training.

    python -m experiments.noise_study strength   # error vs depolarizing / damping / readout strength
    python -m experiments.noise_study fold       # error vs folding factor k on rainbow and weber
    python -m experiments.noise_study devices    # expected error on each device, 10,000 images
    python -m experiments.noise_study aware      # noise-aware training on a device, compared there
    python -m experiments.noise_study report     # figures + docs/noise-studies.md, from result files
    python -m experiments.noise_study all        # everything above, in that order

The networks are the paper's 500-epoch ones (:mod:`experiments.models`: classical, best a, best g,
best combined), each evaluated with its own knobs by a 15-shot majority vote (under noise every
network is random, so all get the vote); the best-a weights are also run with classical knobs
("deterministic") to separate what the weights learned from what the quantum inference adds.

* ``strength``: qubit-wise Cirq noise on the dynamic circuit (exact noisy engine,
  :func:`natq_cirq.hardware.noisy.sample_noisy`).
* ``fold``: cirq_google's calibrated noise of ``rainbow`` and ``weber`` on layered circuits placed
  on the device and rewritten into ``sqrt(iSWAP)``, with ``k`` rounds of identity-equivalent
  pairs (``sqrt(X) sqrt(X)^dag``, ``sqrt(iSWAP) sqrt(iSWAP)^dag``) before each read-out (exact
  layered noisy engine, ``natq run --backend analytic --noise device:D --fold k``; what ``qvm:``
  samples, tested).
* ``aware``: the classical and best-a configurations trained for 500 epochs with
  ``--noise device:rainbow`` in the loop, against the noiselessly trained networks, all run on
  that device (and folded).

One JSON per point in ``experiments/results/noise/`` (skipped when present: every study resumes);
figures ``experiments/figures/noise_*.png``; the block between the ``noise`` markers of
``docs/noise-studies.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import natq_cirq  # noqa: F401
from natq_cirq.data import load_split
from natq_cirq.engine.training import library_versions
from natq_cirq.files import ModelFile, load_model, write_json, write_npz
from natq_cirq.hardware import devices as natq_devices
from natq_cirq.identity import strong_id
from natq_cirq.physics import Knobs
from natq_cirq.runners import read_out
from natq_cirq.target import Target
from natq_cirq.votes import majority_vote

import numpy as np

from experiments import models as paper_models

RESULTS = Path("experiments/results/noise")
FIGURES = Path("experiments/figures")
NETWORKS = ("classical", "best-a", "best-g", "best-combined")
KINDS = {
    "depolarizing": [0.001, 0.003, 0.01, 0.03],
    "amplitude_damping": [0.003, 0.01, 0.03, 0.1],
    "readout": [0.01, 0.03, 0.1, 0.2],
}
DEVICES = ("rainbow", "weber", "willow_pink")
FOLDS = [0, 1, 2, 4, 8]
AWARE = {
    "device": "rainbow",
    "fold": 0,
    "epochs": 500,
    "networks": ("classical", "best-a"),
    "seeds": (0, 1, 2),
}
START, END = "<!-- noise:start -->", "<!-- noise:end -->"


def variants(networks=NETWORKS) -> dict[str, tuple[str, ModelFile]]:
    """``label -> (network, model)``: each network with its own knobs, best a also deterministic."""
    out = {}
    for name in networks:
        model = load_model(paper_models.ensure(name))
        out[name] = (name, model)
        if name == "best-a":
            out["best-a deterministic"] = (name, ModelFile(model.kernels, Knobs(), model.config))
    return out


def vote(model: ModelFile, bits: np.ndarray) -> np.ndarray:
    """The 15-shot majority vote of each image from its recorded hidden bits."""
    return majority_vote(read_out(model, bits).argmax(-1), model.outputs)


def point_identity(
    model: str | dict, target: Target | str | None, images: int, shots: int, seed: int = 0
) -> str:
    """A study point's run identity (:func:`natq_cirq.identity.strong_id`).

    Args:
        model: the model's content hash, or the identity of the training that makes it.
        target: where the read-outs ran (its text, or ``None`` noiseless); on a processor, its
            device data (cirq-google's version and files) are part of the identity too.
        images, shots, seed: the run's inputs (the first ``images`` test images) and sampling.
    """
    target = Target.coerce(target) or Target()
    return strong_id(
        {
            "model": model,
            "target": target,
            "device_data": natq_devices.data_record(target.placement),
            "images": images,
            "shots": shots,
            "seed": seed,
        }
    )


def done(path: Path, identity: str, images: int, predictions: Path | None = None) -> bool:
    """A point is done when its file is of this run identity and its predictions are kept.

    Files from before identities count by name and image count; a point without its per-image
    predictions (the paired tests need them; default :func:`predictions_path`) is recomputed.
    """
    if not path.exists() or not (predictions or predictions_path(path)).exists():
        return False
    recorded = json.loads(path.read_text())
    if "identity" in recorded:
        return recorded["identity"] == identity
    return recorded.get("images") == images


def predictions_path(path: Path) -> Path:
    return path.with_name(path.stem + ".predictions.npz")


def record_point(
    path: Path, label: str, model: ModelFile, predictions: np.ndarray, y: np.ndarray, **fields
) -> None:
    """The point's per-image predictions (for paired tests), then its result file."""
    write_npz(predictions_path(path), predictions=predictions.astype(np.uint8), labels=y)
    record(
        path,
        label,
        model,
        float(np.mean(predictions != y)),
        images=len(y),
        predictions=predictions_path(path).name,
        **fields,
    )


def record(path: Path, label: str, model: ModelFile, error: float, **fields) -> None:
    write_json(
        path,
        {
            "variant": label,
            "knobs": str(model.knobs),
            **fields,
            "error_rate": error,
            "versions": library_versions(),
        },
    )
    print(f"{path.stem:70} error {error:.4f}", flush=True)


def slug(label: str) -> str:
    return label.replace(" ", "-")


def study_strength(images: int, shots: int, networks=NETWORKS) -> None:
    from natq_cirq.hardware.noisy import sample_noisy

    x, y = load_split(f"mnist-test:{images}")
    for label, (_, model) in variants(networks).items():
        points = [("none", 0.0)] + [(k, s) for k, values in KINDS.items() for s in values]
        for kind, strength in points:
            path = RESULTS / f"strength_{slug(label)}_{kind}_{strength}.json"
            noise = Target.parse(f"{kind}:{strength}") if strength else None
            identity = point_identity(model.digest(), noise, len(y), shots)
            if done(path, identity, len(y)):
                continue
            bits = sample_noisy(model, x, shots, noise, seed=0)
            record_point(
                path,
                label,
                model,
                vote(model, bits),
                y,
                study="strength",
                noise=kind,
                strength=strength,
                shots=shots,
                identity=identity,
            )


def _noiseless(model, x, shots, seed=0) -> np.ndarray:
    """Votes of the exact noiseless engine."""
    from natq_cirq.engine.inference import predict

    return predict(model, x, shots, seed=seed, record_bits=False).predictions


def _layered(model, x, shots, device, fold, seed=0) -> tuple[np.ndarray, list]:
    """Votes on ``device`` folded ``fold`` times: the exact layered noisy engine (as ``natq run``)."""
    from natq_cirq.runners import make_runner

    result = make_runner("analytic", noise=f"device:{device}", fold=fold).run(
        model, x, shots=shots, seed=seed, record_bits=False
    )
    return result.predictions, result.stats["mean_slot_readout_coefficients"]


def study_fold(images: int, shots: int, networks=NETWORKS) -> None:
    x, y = load_split(f"mnist-test:{images}")
    for label, (_, model) in variants(networks).items():
        for device in DEVICES:
            for fold in FOLDS:
                path = RESULTS / f"fold_{slug(label)}_{device}_k{fold}.json"
                target = Target(device=device, fold=fold)
                identity = point_identity(model.digest(), target, len(y), shots)
                if done(path, identity, len(y)):
                    continue
                predictions, mean_table = _layered(model, x, shots, device, fold)
                record_point(
                    path,
                    label,
                    model,
                    predictions,
                    y,
                    study="fold",
                    device=device,
                    fold=fold,
                    mean_readout_coefficients=mean_table,
                    shots=shots,
                    identity=identity,
                )


def study_devices(shots: int, networks=NETWORKS) -> None:
    """Each network noiseless and on each device, 10,000 images; per-image predictions kept.

    A point counts as done only with its ``.predictions.npz`` (the paired tests of the report need
    them); older files without are recomputed. One ``devices_cost_D.json`` per device: what one
    10,000-image validation of the paper's network would submit there (``--dry-run``'s plan).
    """
    from natq_cirq.runners import make_runner

    x, y = load_split("mnist-test")
    for label, (_, model) in variants(networks).items():
        for device in ("noiseless", *DEVICES):
            path = RESULTS / f"devices_{slug(label)}_{device}.json"
            target = None if device == "noiseless" else Target(device=device)
            identity = point_identity(model.digest(), target, len(y), shots)
            if done(path, identity, len(y)):
                continue
            extra = {}
            if device == "noiseless":
                predictions = _noiseless(model, x, shots)
            else:
                predictions, table = _layered(model, x, shots, device, 0)
                extra = {"mean_readout_coefficients": table}
            record_point(
                path,
                label,
                model,
                predictions,
                y,
                study="devices",
                device=device,
                shots=shots,
                identity=identity,
                **extra,
            )
    model = load_model(paper_models.ensure("best-combined"))
    for device in DEVICES:
        path = RESULTS / f"devices_cost_{device}.json"
        if path.exists():
            continue
        plan = make_runner(f"engine:{device}", dry_run=True).plan(model, x, shots, 0)
        durations = natq_devices.device(device).metadata.gate_durations or {}
        measurement = next(
            (d.total_nanos() * 1e-9 for f, d in durations.items() if "Measurement" in str(f)), None
        )
        write_json(
            path,
            {
                "device": device,
                "network": "best-combined (3 x 512, weak read-out through ancillas)",
                "images": len(x),
                "shots": shots,
                "plan": plan,
                "measurement_seconds_in_specification": measurement,
                "versions": library_versions(),
            },
        )
        print(f"{path.stem}: {plan}", flush=True)


def study_aware(shots: int, networks=AWARE["networks"]) -> None:
    """Train with the device in the loop and without, seed by seed; run both there.

    For each network and seed in ``AWARE["seeds"]``: the configuration trained noiselessly and
    trained with ``--noise device:D`` in the loop (same seed: same initial weights and batches),
    both on today's code in ``runs/noise-aware``; each model is then run noiseless and on the
    device at folds 0 and 4 (10,000 images, per-image predictions kept).
    """
    from natq_cirq.engine.training import TrainConfig, train, training_code_digest

    from experiments.sweep import config_id

    device, fold, epochs = AWARE["device"], AWARE["fold"], AWARE["epochs"]
    spec = f"device:{device}" + (f"+fold:{fold}" if fold else "")
    x, y = load_split("mnist-test")
    for name in networks:
        for seed in AWARE["seeds"]:
            kwargs = {**paper_models.NETWORKS[name], "seed": seed}
            for aware in (False, True):
                ident = config_id(kwargs, epochs) + (f"_{device}_k{fold}" if aware else "")
                out = Path("runs/noise-aware") / ident
                config = TrainConfig(
                    epochs=epochs,
                    eval_every=25,
                    vote_every=100,
                    noise=spec if aware else None,
                    **kwargs,
                )
                label = f"{name} noise-aware" if aware else name
                points = [("none", None)] + [(device, k) for k in sorted({0, fold, 4})]
                paths = [
                    RESULTS / f"aware_{slug(label)}_seed{seed}_{where}"
                    f"{'' if k is None else f'_k{k}'}.json"
                    for where, k in points
                ]
                # Keyed by the training's identity: the model does not exist before it trains.
                identities = [
                    point_identity(
                        {"training": config.identity(), "epochs": epochs},
                        None if k is None else Target(device=device, fold=k),
                        len(y),
                        shots,
                    )
                    for _, k in points
                ]
                if all(map(done, paths, identities, [len(y)] * len(paths))):
                    continue
                history = train(config, out, verbose=0)
                model = load_model(out / "model.npz")
                for (where, k), path, identity in zip(points, paths, identities, strict=True):
                    if done(path, identity, len(y)):
                        continue
                    if k is None:
                        predictions = _noiseless(model, x, shots)
                    else:
                        predictions, _ = _layered(model, x, shots, device, k)
                    record_point(
                        path,
                        label,
                        model,
                        predictions,
                        y,
                        study="aware",
                        network=name,
                        seed=seed,
                        device=where,
                        fold=k,
                        trained_with=spec if aware else None,
                        training_digest=training_code_digest(noisy=aware),
                        final_training_epoch=history["epochs"][-1]["epoch"],
                        shots=shots,
                        identity=identity,
                    )


def rows(study: str) -> list[dict]:
    return [
        json.loads(p.read_text())
        for p in sorted(RESULTS.glob(f"{study}_*.json"))
        if not p.name.startswith(f"{study}_cost_")
    ]


def _se(row: dict) -> float:
    """Binomial standard error of an error rate over the images."""
    return float(np.sqrt(row["error_rate"] * (1 - row["error_rate"]) / row["images"]))


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: do two classifiers err on the same images equally often?"""
    from scipy.stats import binomtest

    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def per_image_correct(row: dict) -> np.ndarray | None:
    name = row.get("predictions")
    if not name or not (RESULTS / name).exists():
        return None
    with np.load(RESULTS / name) as data:
        return data["predictions"] == data["labels"]


STYLES = {
    "classical": "o-",
    "best-a": "s-",
    "best-a deterministic": "s--",
    "best-g": "^-",
    "best-combined": "d-",
    "best-a noise-aware": "x-",
    "classical noise-aware": "x--",
}


def draw() -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGURES.mkdir(parents=True, exist_ok=True)
    written = []
    strength = rows("strength")
    if strength:
        fig, axes = plt.subplots(1, len(KINDS), figsize=(15, 4))
        for ax, kind in zip(axes, KINDS, strict=True):
            for label, style in STYLES.items():
                pts = sorted(
                    (r["strength"], r["error_rate"])
                    for r in strength
                    if r["variant"] == label and r["noise"] in (kind, "none")
                )
                if pts:
                    xs, ys = zip(*pts, strict=True)
                    ax.plot([max(v, 3e-4) for v in xs], ys, style, label=label)
            ax.set(
                xscale="log",
                xlabel=f"{kind} per moment (0 drawn at 3e-4)",
                ylabel="validation error (15-shot vote)",
                title=kind,
            )
            ax.legend(fontsize=7)
        fig.suptitle("Noisy dynamic circuit, exact noisy engine, 500-epoch networks")
        fig.tight_layout()
        fig.savefig(FIGURES / "noise_strength.png", dpi=110)
        written.append("noise_strength.png")
    fold = rows("fold")
    if fold:
        fig, axes = plt.subplots(1, len(DEVICES), figsize=(11, 4))
        for ax, device in zip(axes, DEVICES, strict=True):
            for label, style in STYLES.items():
                pts = sorted(
                    (r["fold"], r["error_rate"])
                    for r in fold
                    if r["variant"] == label and r["device"] == device
                )
                if pts:
                    xs, ys = zip(*pts, strict=True)
                    ax.plot(xs, ys, style, label=label)
            ax.set(
                xlabel="folding factor k",
                ylabel="validation error (15-shot vote)",
                title=f"{device} (cirq_google median calibration)",
            )
            ax.legend(fontsize=7)
        fig.suptitle("Layered circuits placed on the device, exact noisy engine")
        fig.tight_layout()
        fig.savefig(FIGURES / "noise_fold.png", dpi=110)
        written.append("noise_fold.png")
    devices = rows("devices")
    aware = rows("aware")
    if devices:
        fig, axes = plt.subplots(1, 2, figsize=(13, 4))
        columns = ("noiseless", *DEVICES)
        labels = [v for v in STYLES if any(r["variant"] == v for r in devices)]
        width = 0.8 / len(columns)
        for i, column in enumerate(columns):
            found = [
                next((r for r in devices if r["variant"] == v and r["device"] == column), None)
                for v in labels
            ]
            values = [np.nan if r is None else r["error_rate"] for r in found]
            errors = [
                np.nan
                if r is None
                else np.sqrt(r["error_rate"] * (1 - r["error_rate"]) / r["images"])
                for r in found
            ]
            axes[0].bar(
                np.arange(len(labels)) + (i - (len(columns) - 1) / 2) * width,
                values,
                width,
                yerr=errors,
                capsize=2,
                label=column,
            )
        axes[0].set_xticks(range(len(labels)), labels, fontsize=8)
        axes[0].set(
            ylabel="validation error (15-shot vote)",
            title="the paper's networks on each device model",
        )
        axes[0].legend()
        if aware:
            labels = sorted({r["variant"] for r in aware})
            folds = [None, *sorted({r["fold"] for r in aware} - {None})]
            for i, fold in enumerate(folds):
                cells = [
                    [r["error_rate"] for r in aware if r["variant"] == v and r["fold"] == fold]
                    for v in labels
                ]
                name = "noiseless" if fold is None else f"{AWARE['device']} k={fold}"
                axes[1].bar(
                    np.arange(len(labels)) + (i - (len(folds) - 1) / 2) * 0.27,
                    [np.mean(c) if c else np.nan for c in cells],
                    0.27,
                    yerr=[np.std(c, ddof=1) if len(c) > 1 else np.nan for c in cells],
                    capsize=2,
                    label=name,
                )
            axes[1].set_xticks(range(len(labels)), labels, fontsize=8)
            axes[1].set(
                ylabel="validation error (mean ± std over seeds)",
                title=f"noise-aware training with {AWARE['device']} in the loop",
            )
            axes[1].legend()
        fig.tight_layout()
        fig.savefig(FIGURES / "noise_devices.png", dpi=110)
        written.append("noise_devices.png")
    return written


def readme_block() -> str:
    lines = []
    devices = [r for r in rows("devices") if r["device"] in ("noiseless", *DEVICES)]
    if devices:
        table = {(r["variant"], r["device"]): r for r in devices}
        lines += [
            "Expected validation error of the paper's 500-epoch networks (10,000 test images, "
            "one 15-shot vote, ± its binomial standard error over images) on each device model, "
            "layered circuits placed on the device and rewritten into its native gate set "
            "(`python -m experiments.noise_study devices`). Against the same network noiseless, "
            "an exact McNemar test on the same images: a change is marked (p) with its p-value "
            "when p < 0.01, and `n.s.` (no measurable change) otherwise.",
            "",
            "| network | noiseless | " + " | ".join(DEVICES) + " |",
            "|---|---|" + "---|" * len(DEVICES),
        ]
        for label in STYLES:
            base = table.get((label, "noiseless"))
            if base is None:
                continue
            cells = [f"{base['error_rate']:.4f} ± {_se(base):.4f}"]
            for device in DEVICES:
                row = table.get((label, device))
                if row is None:
                    cells.append("")
                    continue
                a, b = per_image_correct(base), per_image_correct(row)
                verdict = ""
                if a is not None and b is not None:
                    p = mcnemar(a, b)
                    verdict = f" (p = {p:.2g})" if p < 0.01 else " (n.s.)"
                cells.append(f"{row['error_rate']:.4f} ± {_se(row):.4f}{verdict}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
        costs = [
            json.loads((RESULTS / f"devices_cost_{d}.json").read_text())
            for d in DEVICES
            if (RESULTS / f"devices_cost_{d}.json").exists()
        ]
        if costs:
            lines += [
                "What one validation of the best-combined network (10,000 images × 15 shots, "
                "3 × 512, weak read-out) would submit to each processor (`natq run --backend "
                "engine:D --dry-run`'s plan; later layers' counts are upper bounds):",
                "",
                "| device | slots per circuit | layer-1 executions | later executions ≤ | "
                "repetitions ≤ | one repetition | device time |",
                "|---|---|---|---|---|---|---|",
            ]
            for c in costs:
                plan = c["plan"]
                repetitions = plan["layer1_repetitions"] + plan["later_layers_repetitions_at_most"]
                time = plan.get("device_time_seconds", "")
                per = time.split("(")[1].split(" per repetition")[0] if "(" in time else ""
                lines.append(
                    f"| {c['device']} | {plan['slots_per_circuit']} | "
                    f"{plan['layer1_circuit_executions']:,} | "
                    f"{plan['later_layers_circuit_executions_at_most']:,} | {repetitions:,} | "
                    f"{per} | {time.split(' (')[0] + ' s' if ' (' in time else 'not given'} |"
                )
            listed = ", ".join(
                f"{c['device']} {c['measurement_seconds_in_specification'] * 1e6:g} µs"
                for c in costs
                if c.get("measurement_seconds_in_specification") is not None
            )
            lines += [
                "",
                "Device time is the sum of the circuit's moments by the gate durations each "
                f"device specification lists; its measurement durations ({listed}) dominate. "
                "Queueing and per-job overhead are excluded.",
                "",
            ]
    lines += fold_table() + strength_table() + aware_table() + findings()
    return "\n".join(lines) if lines else "(no noise-study results yet)"


SIGNIFICANT = 0.01  # McNemar threshold for a change to be stated (many comparisons are made)


def paired(base: dict | None, row: dict | None) -> float | None:
    """Exact McNemar p-value of two points on the same images (``None`` without predictions)."""
    if base is None or row is None:
        return None
    a, b = per_image_correct(base), per_image_correct(row)
    if a is None or b is None or len(a) != len(b):
        return None
    return mcnemar(a, b)


def cell(row: dict | None, base: dict | None = None) -> str:
    """``error ± SE``, and against ``base`` the McNemar verdict: ``(p = ...)`` or ``(n.s.)``."""
    if row is None:
        return ""
    text = f"{row['error_rate']:.4f} ± {_se(row):.4f}"
    p = paired(base, row) if base is not None and base is not row else None
    if p is not None:
        text += f" (p = {p:.1g})" if p < SIGNIFICANT else " (n.s.)"
    return text


def fold_table() -> list[str]:
    fold = rows("fold")
    if not fold:
        return []
    images = sorted({r["images"] for r in fold})
    lines = [
        f"Error vs folding factor k ({'/'.join(f'{n:,}' for n in images)} test images, one "
        "15-shot vote, ± binomial SE; each k > 0 against k = 0 of the same network and device by "
        f"an exact McNemar test: (p) when p < {SIGNIFICANT}, n.s. otherwise; `python -m "
        "experiments.noise_study fold`, figure `experiments/figures/noise_fold.png`):",
        "",
        "| network | device | " + " | ".join(f"k={k}" for k in FOLDS) + " |",
        "|---|---|" + "---|" * len(FOLDS),
    ]
    for label in STYLES:
        for device in DEVICES:
            found = {r["fold"]: r for r in fold if r["variant"] == label and r["device"] == device}
            if found:
                base = found.get(0)
                cells = [cell(found.get(k), base) for k in FOLDS]
                lines.append(f"| {label} | {device} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def strength_table() -> list[str]:
    strength = rows("strength")
    if not strength:
        return []
    images = sorted({r["images"] for r in strength})
    keys = [("none", 0.0)] + [(k, s) for k, v in KINDS.items() for s in v]
    lines = [
        "Error vs qubit-wise noise strength on the dynamic circuit "
        f"({'/'.join(f'{n:,}' for n in images)} test images, ± binomial SE, each against the same "
        f"network noiseless by McNemar: (p) when p < {SIGNIFICANT}; `python -m "
        "experiments.noise_study strength`, figure `experiments/figures/noise_strength.png`):",
        "",
        "| network | none | " + " | ".join(f"{k} {s}" for k, s in keys[1:]) + " |",
        "|---|---|" + "---|" * (len(keys) - 1),
    ]
    for label in STYLES:
        found = {(r["noise"], r["strength"]): r for r in strength if r["variant"] == label}
        if found:
            base = found.get(("none", 0.0))
            lines.append(
                f"| {label} | " + " | ".join(cell(found.get(key), base) for key in keys) + " |"
            )
    return [*lines, ""]


def aware_pairs() -> dict[str, dict]:
    """Per network: its seeds' errors on the device (k = 0) trained noiselessly and noise-aware."""
    aware = [r for r in rows("aware") if "seed" in r]
    out = {}
    for name in AWARE["networks"]:
        pairs = []
        for seed in AWARE["seeds"]:
            plain, tuned = (
                next(
                    (
                        r
                        for r in aware
                        if r["variant"] == label and r["seed"] == seed and r["fold"] == 0
                    ),
                    None,
                )
                for label in (name, f"{name} noise-aware")
            )
            if plain and tuned:
                pairs.append((seed, plain, tuned))
        if pairs:
            out[name] = {"pairs": pairs}
    return out


def aware_table() -> list[str]:
    aware = [r for r in rows("aware") if "seed" in r]
    if not aware:
        return []
    folds = sorted({r["fold"] for r in aware if r["fold"] is not None})
    lines = [
        "Noise-aware training (`python -m experiments.noise_study aware`): each configuration "
        f"trained {AWARE['epochs']} epochs with `--noise device:{AWARE['device']}` in the loop "
        "(the exact layered noisy engine inside `model.fit`) and noiselessly, with the same seeds; "
        "all run noiseless and on that device (10,000 images, 15-shot vote). Mean ± std over "
        "seeds (n):",
        "",
        "| network | noiseless | " + " | ".join(f"{AWARE['device']} k={k}" for k in folds) + " |",
        "|---|---|" + "---|" * len(folds),
    ]
    for label in sorted({r["variant"] for r in aware}, key=lambda v: (v.split()[0], v)):
        cells = []
        for k in [None, *folds]:
            values = [r["error_rate"] for r in aware if r["variant"] == label and r["fold"] == k]
            spread = f" ± {np.std(values, ddof=1):.4f}" if len(values) > 1 else ""
            cells.append(f"{np.mean(values):.4f}{spread} (n={len(values)})" if values else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _sort_change(text: str, a: dict, b: dict, found: list, unchanged: list) -> None:
    """Point ``a`` → ``b``: a finding when McNemar says so, else "no measurable change"."""
    p = paired(a, b)
    if p is not None and p < SIGNIFICANT:
        found.append(
            f"- {text}: {a['error_rate']:.4f} → {b['error_rate']:.4f} "
            f"({b['error_rate'] - a['error_rate']:+.4f}; McNemar p = {p:.1g}, "
            f"{a['images']:,} images)."
        )
    elif p is not None:
        unchanged.append(f"{text} (p = {p:.2f})")


def findings() -> list[str]:
    """The changes a paired test supports, with the test and p-value; the rest, unchanged.

    Computed from the result files (no number typed by hand).
    """
    from scipy import stats

    found, unchanged = [], []
    fold = rows("fold")
    for device in DEVICES:
        for label in STYLES:
            points = {r["fold"]: r for r in fold if r["variant"] == label and r["device"] == device}
            top = max(FOLDS)
            if 0 in points and top in points:
                text = f"folding k = 0 → {top} on {device}, {label}"
                _sort_change(text, points[0], points[top], found, unchanged)
    strength = rows("strength")
    for kind, values in KINDS.items():
        top = max(values)
        for label in STYLES:
            points = {(r["noise"], r["strength"]): r for r in strength if r["variant"] == label}
            if ("none", 0.0) in points and (kind, top) in points:
                text = f"{kind} {top} on the dynamic circuit, {label}"
                _sort_change(text, points[("none", 0.0)], points[(kind, top)], found, unchanged)
    for name, data in aware_pairs().items():
        pairs = data["pairs"]
        differences = [t["error_rate"] - p["error_rate"] for _, p, t in pairs]
        per_seed = ", ".join(
            f"seed {seed} {p['error_rate']:.4f} → {t['error_rate']:.4f} "
            f"(McNemar p = {paired(p, t):.1g})"
            for seed, p, t in pairs
        )
        text = f"noise-aware training of {name}, run on {AWARE['device']}"
        if len(pairs) >= 2:
            test = stats.ttest_rel(
                [t["error_rate"] for _, _, t in pairs], [p["error_rate"] for _, p, _ in pairs]
            )
            if test.pvalue < 0.05:
                found.append(
                    f"- {text}: mean change {np.mean(differences):+.4f} over {len(pairs)} seeds "
                    f"(paired t-test over seeds p = {test.pvalue:.2g}; {per_seed})."
                )
            else:
                unchanged.append(
                    f"{text} ({len(pairs)} seeds, paired t p = {test.pvalue:.2f}; {per_seed})"
                )
        else:
            unchanged.append(f"{text}: one seed only so far ({per_seed}); not a finding")
    out = []
    if found:
        out += ["Changes a paired test on the same images supports:", "", *found, ""]
    if unchanged:
        out += ["No measurable change: " + "; ".join(unchanged) + ".", ""]
    return out


def report() -> None:
    from experiments.report import write_readme_block

    print("figures:", ", ".join(draw()) or "none")
    write_readme_block(
        START, END, readme_block(), "## Noise studies", Path("docs/noise-studies.md")
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=("strength", "fold", "devices", "aware", "report", "all"))
    parser.add_argument("--images", type=int, default=10_000, help="test images (strength, fold)")
    parser.add_argument("--shots", type=int, default=15)
    parser.add_argument(
        "--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS, help="a subset"
    )
    args = parser.parse_args(argv)
    library_versions()  # fixes the recorded revision to the one this run starts from
    if args.study in ("strength", "all"):
        study_strength(args.images, args.shots, args.networks)
    if args.study in ("fold", "all"):
        study_fold(args.images, args.shots, args.networks)
    if args.study in ("devices", "all"):
        study_devices(args.shots, args.networks)
    if args.study in ("aware", "all"):
        study_aware(args.shots, [n for n in args.networks if n in AWARE["networks"]])
    report()


if __name__ == "__main__":
    main()
