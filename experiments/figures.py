"""Figures 2, 4, 5, 7 and 8 as PNG, drawn only from the sweep result files.

    python -m experiments.figures            # writes experiments/figures/fig*.png

Missing configurations are left out and counted in the title; the paper's reported points are
marked with red stars. Validation errors are the 15-shot majority vote (the paper's metric) unless
a panel says "deterministic".
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.sweep import A_FIG5, A_FIG8, G_FIG7, G_FIG8, RESULTS  # noqa: E402

FIGURES = Path("experiments/figures")
PI = math.pi
PAPER = {
    "a": (10**-0.5, 0.0472),
    "g": (5 * PI / 19, 0.0529),
    "combined": (10 ** (-1 / 3), 9 * PI / 19, 0.0463),
}


def load(results: Path = RESULTS) -> list[dict]:
    """Every finished configuration."""
    return [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]


def select(
    rows,
    a=None,
    g=None,
    memory="persistent",
    estimator="ste",
    seed=None,
    scaling="unit",
    initializer="glorot_uniform",
):
    """The result files of one configuration (all seeds unless ``seed`` is given)."""
    out = []
    for r in rows:
        c = r["config"]
        if c["data"]["scaling"] != scaling or c["initializer"] != initializer:
            continue
        if a is not None and not math.isclose(c["a"], a, rel_tol=1e-6, abs_tol=1e-12):
            continue
        if g is not None and not math.isclose(c["g"], g, rel_tol=1e-6):
            continue
        if c["memory"] != memory or c["gradient_estimator"] != estimator:
            continue
        if seed is not None and c["seed"] != seed:
            continue
        out.append(r)
    return out


def curve(result: dict, key: str):
    points = [(e["epoch"], e[key]) for e in result["history"] if e.get(key) is not None]
    return np.array(points).T if points else (np.array([]), np.array([]))


def final(result: dict) -> float:
    return result["final"]["val_error_vote"]


def fig2(rows):
    classical = select(rows, a=0.0, g=PI / 2)
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in classical:
        ax.plot(
            *curve(r, "train_error"),
            color="tab:blue",
            alpha=0.6,
            label="training" if r is classical[0] else None,
        )
        ax.plot(
            *curve(r, "val_error_deterministic"),
            color="tab:orange",
            alpha=0.8,
            label="validation" if r is classical[0] else None,
        )
    ax.set(
        xlabel="epoch",
        ylabel="error rate",
        yscale="log",
        title=f"Fig. 2: classical network ({len(classical)} seed(s))",
    )
    ax.legend()
    return fig


def fig5(rows):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    finals = defaultdict(list)
    for a in A_FIG5:
        found = select(rows, a=a, g=PI / 2)
        for r in found:
            finals[a].append(final(r))
        seed0 = [r for r in found if r["config"]["seed"] == 0]
        if seed0 and a in (0.0, 10**-1, 10**-0.5, 1.0):
            left.plot(*curve(seed0[0], "val_error_vote"), marker=".", label=f"a={a:.3g}")
    left.set(xlabel="epoch", ylabel="validation error (15-shot vote)", title="(a) training curves")
    left.legend()
    _final_panel(right, finals, "a", PAPER["a"], log=True, label="ours, ste estimator")
    # Open question (b): the same grid trained with the mean-field gradient estimator.
    mean_field = {
        a: [final(r) for r in select(rows, a=a, g=PI / 2, estimator="mean_field")] for a in A_FIG5
    }
    mean_field = {a: v for a, v in mean_field.items() if v}
    if mean_field:
        _series(
            right,
            mean_field,
            log=True,
            label="ours, mean_field estimator",
            marker="s",
            linestyle="--",
        )
        right.legend()
    right.set(title=f"(b) final error vs a ({len(finals)}/{len(A_FIG5)} values)")
    fig.suptitle("Fig. 5: projective read-out, stretched activation")
    return fig


def _series(ax, finals, log, label, **style):
    """Mean ± std over seeds of each grid value; ``0`` on a log axis goes a third below the rest.

    Returns the plotted x and means (empty when ``finals`` is).
    """
    xs = sorted(finals)
    if not xs:
        return [], []
    plot_x = [x if (x > 0 or not log) else min(v for v in xs if v > 0) / 3 for x in xs]
    means = [np.mean(finals[x]) for x in xs]
    stds = [np.std(finals[x]) if len(finals[x]) > 1 else 0 for x in xs]
    ax.errorbar(plot_x, means, yerr=stds, capsize=3, label=label, **{"marker": "o", **style})
    return plot_x, means


def _final_panel(ax, finals, name, paper_point, log=False, label="ours"):
    plot_x, means = _series(ax, finals, log, label)
    if log and plot_x and min(finals) == 0:
        ax.annotate(f"{name}=0", (plot_x[0], means[0]), textcoords="offset points", xytext=(4, 6))
    ax.plot([paper_point[0]], [paper_point[-1]], "r*", markersize=14, label="paper's best")
    ax.set(xlabel=name, ylabel="final validation error", xscale="log" if log else "linear")
    ax.legend()


def fig7(rows):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    left, right = axes
    for memory, style in (("persistent", "o-"), ("reprepared", "s--")):
        finals = {}
        for g in G_FIG7:
            found = select(rows, a=0.0, g=g, memory=memory)
            if found:
                finals[g] = [final(r) for r in found]
            if memory == "persistent" and found and g in (G_FIG7[1], G_FIG7[4], G_FIG7[8], PI / 2):
                left.plot(
                    *curve(found[0], "val_error_vote"),
                    marker=".",
                    label="g=π/2" if math.isclose(g, PI / 2) else f"g={g / PI * 19:.0f}π/19",
                )
        xs = sorted(finals)
        if xs:
            right.plot(xs, [np.mean(finals[x]) for x in xs], style, label=f"ours, {memory}")
    right.plot([PAPER["g"][0]], [PAPER["g"][1]], "r*", markersize=14, label="paper's best")
    right.axvline(PI / 8, color="gray", lw=0.8, ls=":")
    right.set(
        xlabel="g",
        ylabel="final validation error",
        yscale="log",
        title="(b) final error vs g (dotted: π/8)",
    )
    right.legend(fontsize=8)
    left.set(xlabel="epoch", ylabel="validation error (15-shot vote)", title="(a) training curves")
    left.legend()
    inset = right.inset_axes([0.45, 0.3, 0.5, 0.35])
    for memory, style in (("persistent", "o-"), ("reprepared", "s--")):
        pts = [
            (g, np.mean([final(r) for r in select(rows, a=0.0, g=g, memory=memory)]))
            for g in G_FIG7
            if g >= 3 * PI / 19 and select(rows, a=0.0, g=g, memory=memory)
        ]
        if pts:
            inset.plot(*zip(*pts, strict=True), style, markersize=3)
    inset.plot([PAPER["g"][0]], [PAPER["g"][1]], "r*")
    inset.set_title("zoom near the minimum", fontsize=7)
    inset.tick_params(labelsize=6)
    fig.suptitle("Fig. 7: weak measurement (a = 0)")
    return fig


def fig8(rows):
    grid = np.full((len(A_FIG8), len(G_FIG8)), np.nan)
    for i, a in enumerate(A_FIG8):
        for j, g in enumerate(G_FIG8):
            found = select(rows, a=a, g=g, seed=0)
            if found:
                grid[i, j] = final(found[0])
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(grid, cmap="viridis_r", aspect="auto", origin="upper")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if not np.isnan(grid[i, j]):
                ax.text(
                    j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=7, color="white"
                )
    ax.set_xticks(
        range(len(G_FIG8)), [f"{g / PI * 19:.0f}π/19" if g < PI / 2 else "π/2" for g in G_FIG8]
    )
    ax.set_yticks(range(len(A_FIG8)), [f"{a:.3g}" for a in A_FIG8])
    ia = int(np.argmin([abs(a - PAPER["combined"][0]) for a in A_FIG8]))
    jg = int(np.argmin([abs(g - PAPER["combined"][1]) for g in G_FIG8]))
    # In the cell's corner, so that our value stays readable.
    ax.plot(
        [jg + 0.32], [ia - 0.3], "r*", markersize=12, label=f"paper's best {PAPER['combined'][2]}"
    )
    ax.set(
        xlabel="g",
        ylabel="a",
        title=f"Fig. 8: final validation error ({int(np.sum(~np.isnan(grid)))}/{grid.size} done)",
    )
    ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(image, ax=ax)
    return fig


def fig4(path: Path = Path("experiments/results/fig4_shots.json")):
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    fig, ax = plt.subplots(figsize=(6, 4))
    shots, mean = np.array(data["shots"]), np.array(data["error_by_shots"])
    ax.plot(shots, mean, "o-", label=f"quantum inference (vote, mean of {data.get('votes', 1)})")
    if "error_by_shots_std_over_votes" in data:
        spread = np.array(data["error_by_shots_std_over_votes"])
        se = np.array(data["binomial_se_over_images"])
        ax.fill_between(shots, mean - spread, mean + spread, alpha=0.35, label="± 1 std over votes")
        ax.fill_between(
            shots, mean - 2 * se, mean + 2 * se, alpha=0.15, label="± 2 binomial SE (images)"
        )
    ax.axhline(data["deterministic_error"], color="k", ls="--", label="deterministic (a=0)")
    ax.set(
        xlabel="shots per image",
        ylabel="validation error",
        title=f"Fig. 4: a = {data['a']} network, {data['epochs']} epochs",
    )
    ax.legend()
    return fig


def main() -> None:
    rows = load()
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name, figure in (
        ("fig2", fig2(rows)),
        ("fig4", fig4()),
        ("fig5", fig5(rows)),
        ("fig7", fig7(rows)),
        ("fig8", fig8(rows)),
    ):
        if figure is None:
            print(f"{name}: no data yet")
            continue
        figure.tight_layout()
        figure.savefig(FIGURES / f"{name}.png", dpi=110)
        plt.close(figure)
        print(f"wrote {FIGURES / name}.png")


if __name__ == "__main__":
    main()
