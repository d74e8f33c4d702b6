"""Is the advantage quantum? The headline quantum families against classical stochastic baselines.

    python -m experiments.report         # writes its table (docs/results.md, README) and figure

Reads only result files: ``experiments/results/headline`` (classical, projective a, weak g,
combined; 8 seeds each) and ``experiments/results/baselines`` (each stochastic family's grid at
seed 0 and its best grid point at seeds 0-3, ``python -m experiments.sweep baselines`` then
``baselines_best``). Every model's error is the mean of its independent 15-shot votes on the
10,000 test images. A family's statistic combines only files of one training-code digest.

Two tests back every comparison, and a difference is called a finding only when both say so
(p < 0.05): Welch's t-test over the models (seed-to-seed variation, the larger one), and a paired
t-test on identical images of the per-image error averaged over each family's models and votes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from experiments.sweep import (  # noqa: E402
    BASELINE_GRID,
    BASELINES,
    CLASSICAL,
    HEADLINE,
    best_baselines,
)

HEADLINE_RESULTS = Path("experiments/results/headline")
FIGURE = Path("experiments/figures/families.png")
ALPHA = 0.05
BOOTSTRAP = 10_000
PI = math.pi

# The headline configurations by family (HEADLINE's order).
QUANTUM = {
    "classical deterministic (a = 0, g = π/2)": HEADLINE[0],
    "projective a = 10^(−1/2) (paper's best a)": HEADLINE[1],
    "projective a = 10^(−1/3) (our best a)": HEADLINE[2],
    "weak g = 5π/19, persistent memory": HEADLINE[3],
    "weak g = 5π/19, re-prepared memory": HEADLINE[4],
    "combined a = 10^(−1/3), g = 9π/19": HEADLINE[5],
}
BASELINE_LABELS = {
    "sigmoid": "stochastic binary neuron P(+1) = σ(βh), β = {}",
    "gaussian": "sgn(h + σε), Gaussian pre-activation noise, σ = {}",
    "dropout": "sgn network with dropout, p = {}",
}


@dataclass
class Family:
    """The models of one configuration (one training-code digest) and their vote errors."""

    label: str
    rows: list[dict]
    folder: Path

    @property
    def errors(self) -> np.ndarray:
        return np.array([r["votes"]["mean"] for r in self.rows])

    @property
    def n(self) -> int:
        return len(self.rows)

    def interval(self) -> tuple[float, float, float, float]:
        """Mean, std over models, and the 95% Student-t interval of the mean."""
        e = self.errors
        mean, std = float(e.mean()), float(e.std(ddof=1)) if len(e) > 1 else math.nan
        half = (
            float(stats.t.ppf(0.975, len(e) - 1) * std / math.sqrt(len(e)))
            if len(e) > 1
            else math.nan
        )
        return mean, std, mean - half, mean + half

    def per_image_error(self) -> np.ndarray:
        """``(n_images,)`` error of each image averaged over the models and their votes."""
        total = None
        for r in self.rows:
            with np.load(self.folder / r["votes"]["file"]) as votes:
                wrong = (votes["votes"] != votes["labels"][None, :]).mean(axis=0)
            total = wrong if total is None else total + wrong
        return total / len(self.rows)


def _majority(rows: list[dict]) -> list[dict]:
    """The rows of the most common training-code digest (a statistic never mixes code)."""
    if not rows:
        return rows
    digests = [r["training_digest"] for r in rows]
    digest = max(set(digests), key=digests.count)
    return [r for r in rows if r["training_digest"] == digest]


def _matches(row: dict, config: dict, neuron: str | None = None) -> bool:
    c = row["config"]
    return (
        math.isclose(c["a"], config["a"], abs_tol=1e-9)
        and math.isclose(c["g"], config["g"], abs_tol=1e-9)
        and c["memory"] == config.get("memory", "persistent")
        and c.get("stochastic_neuron") == neuron
    )


def _load(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def families(
    headline: Path = HEADLINE_RESULTS, baselines: Path = BASELINES
) -> tuple[list[Family], list[Family]]:
    """``(quantum, stochastic)``: the headline families and each baseline family's best point."""
    quantum_rows, baseline_rows = _load(headline), _load(baselines)
    quantum = [
        Family(label, _majority([r for r in quantum_rows if _matches(r, config)]), headline)
        for label, config in QUANTUM.items()
    ]
    stochastic = []
    for kind, neuron in best_baselines(baselines).items():
        rows = _majority([r for r in baseline_rows if _matches(r, CLASSICAL, neuron)])
        label = BASELINE_LABELS[kind].format(neuron.split(":")[1])
        stochastic.append(Family(label, rows, baselines))
    return [f for f in quantum if f.n], [f for f in stochastic if f.n]


def compare(one: Family, other: Family) -> dict:
    """Mean difference ``one - other`` with Welch's (over models) and the paired image test."""
    welch = stats.ttest_ind(one.errors, other.errors, equal_var=False).pvalue
    paired = stats.ttest_rel(one.per_image_error(), other.per_image_error()).pvalue
    difference = float(one.errors.mean() - other.errors.mean())
    return {
        "difference": difference,
        "welch_p": float(welch),
        "paired_p": float(paired),
        "finding": bool(welch < ALPHA and paired < ALPHA),
    }


def advantage_fraction(
    classical: Family, stochastic: Family, quantum: Family, seed: int = 0
) -> tuple[float, float, float]:
    """How much of ``classical - quantum`` the stochastic family also gets: value and 95% CI.

    The interval resamples each family's models with replacement (percentile bootstrap).
    """
    rng = np.random.default_rng(seed)

    def draw(f: Family) -> np.ndarray:
        return rng.choice(f.errors, (BOOTSTRAP, f.n)).mean(axis=1)

    c, s, q = draw(classical), draw(stochastic), draw(quantum)
    ratio = (c - s) / (c - q)
    value = (classical.errors.mean() - stochastic.errors.mean()) / (
        classical.errors.mean() - quantum.errors.mean()
    )
    low, high = np.percentile(ratio, [2.5, 97.5])
    return float(value), float(low), float(high)


def grid_table(baselines: Path = BASELINES) -> list[str]:
    """Seed 0 of every baseline grid point (the tuning, as the quantum knobs were tuned)."""
    rows = _load(baselines)
    lines = ["| family | parameter | seed-0 vote error ± vote-to-vote SE | deterministic error |"]
    lines.append("|---|---|---|---|")
    for kind, scales in BASELINE_GRID.items():
        for scale in scales:
            neuron = f"{kind}:{scale:g}"
            found = [r for r in rows if _matches(r, CLASSICAL, neuron) and r["seed"] == 0]
            if not found:
                lines.append(f"| {kind} | {scale:g} | not finished yet | |")
                continue
            v = found[0]["votes"]
            lines.append(
                f"| {kind} | {scale:g} | {v['mean']:.4f} ± {v['sem']:.4f} | "
                f"{v['deterministic_error']:.4f} |"
            )
    return lines


def table(headline: Path = HEADLINE_RESULTS, baselines: Path = BASELINES) -> tuple[str, str]:
    """``(docs block, README block)`` answering "is the advantage quantum?" from the files."""
    quantum, listed = families(headline, baselines)
    stochastic = [f for f in listed if f.n >= 2]  # a statistic needs more than one model
    if len(quantum) < 2 or not stochastic:
        missing = (
            "(not enough results yet: `python -m experiments.sweep headline`, then `baselines` "
            "and `baselines_best`; a family's best point is known when its grid is finished)"
        )
        grid = grid_table(baselines)
        return "\n".join([missing, "", "The baselines' grid so far (seed 0):", "", *grid]), missing
    lines = [
        "| family | n models | mean vote error | std over models | 95% interval of the mean |",
        "|---|---|---|---|---|",
    ]
    for f in quantum + listed:
        mean, std, low, high = f.interval()
        if f.n < 2:
            lines.append(
                f"| {f.label} | 1 | {mean:.4f} | seed 0 only (its other seeds pending) | |"
            )
            continue
        lines.append(f"| {f.label} | {f.n} | {mean:.4f} | {std:.4f} | [{low:.4f}, {high:.4f}] |")
    classical = quantum[0]
    best_stochastic = min(stochastic, key=lambda f: f.errors.mean())
    best_quantum = min(quantum[1:], key=lambda f: f.errors.mean())
    weak = [f for f in quantum if "persistent" in f.label or "combined" in f.label]
    lines += [
        "",
        "| comparison | difference of means | Welch p (over models) | paired p (same images) | "
        "verdict |",
        "|---|---|---|---|---|",
    ]
    pairs = [(best_stochastic, classical)] + [(f, best_stochastic) for f in quantum[1:]]
    verdicts = {}
    for one, other in pairs:
        result = compare(one, other)
        verdicts[one.label, other.label] = result
        if result["finding"]:
            verdict = "lower" if result["difference"] < 0 else "higher"
        else:
            verdict = "no measurable change"
        lines.append(
            f"| {one.label} − {other.label} | {result['difference']:+.4f} | "
            f"{result['welch_p']:.2g} | {result['paired_p']:.2g} | {verdict} |"
        )
    fraction, low, high = advantage_fraction(classical, best_stochastic, best_quantum)
    weak_words = []
    for f in weak:
        result = verdicts[f.label, best_stochastic.label]
        if result["finding"] and result["difference"] < 0:
            weak_words.append(
                f"{f.label} is lower by {-result['difference']:.4f} (Welch p = "
                f"{result['welch_p']:.2g}, paired p = {result['paired_p']:.2g})"
            )
        elif result["finding"]:
            weak_words.append(
                f"{f.label} is higher by {result['difference']:.4f} (Welch p = "
                f"{result['welch_p']:.2g}, paired p = {result['paired_p']:.2g})"
            )
        else:
            weak_words.append(
                f"{f.label}: no measurable change (Welch p = {result['welch_p']:.2g})"
            )
    c_mean = classical.errors.mean()
    answer = (
        f"The classical network errs on {c_mean:.4f} of the test images (n = {classical.n}); the "
        f"best quantum family, {best_quantum.label}, on {best_quantum.errors.mean():.4f}; the best "
        f"classical stochastic network, {best_stochastic.label}, on "
        f"{best_stochastic.errors.mean():.4f} (n = {best_stochastic.n}). The stochastic network "
        f"gets {fraction:.0%} of the quantum advantage (95% bootstrap interval "
        f"[{low:.0%}, {high:.0%}]). Against it, {'; '.join(weak_words)}."
    )
    lines += ["", answer]
    lines += ["", "Tuning of the baselines (seed 0, the grid):", "", *grid_table(baselines)]
    commits = sorted(
        {r["versions"]["code"]["commit"][:7] for f in quantum + stochastic for r in f.rows}
    )
    lines += [
        "",
        "Every model: the mean of 10 independent 15-shot votes on the 10,000 test images. A "
        "difference is a finding only when Welch's test over models and the paired test on the "
        f"same images both give p < {ALPHA}. Code: commits {', '.join(commits)}; "
        "`python -m experiments.sweep headline`, `baselines`, `baselines_best` made the files, "
        "`python -m experiments.report` this table and `experiments/figures/families.png`.",
    ]
    return "\n".join(lines), answer


def figure(headline: Path = HEADLINE_RESULTS, baselines: Path = BASELINES, out: Path = FIGURE):
    """Every family side by side: each model's error (dots) and the 95% interval of the mean."""
    quantum, stochastic = families(headline, baselines)
    if not quantum and not stochastic:
        return None
    everything = quantum + stochastic
    fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(everything) + 1.2))
    for y, f in enumerate(everything):
        mean, _, low, high = f.interval()
        color = "tab:blue" if f in quantum else "tab:orange"
        ax.scatter(f.errors, np.full(f.n, y), s=12, color=color, alpha=0.5)
        if f.n > 1:
            ax.errorbar(
                mean, y, xerr=[[mean - low], [high - mean]], fmt="D", color=color, capsize=4
            )
    ax.set_yticks(range(len(everything)), [f"{f.label} (n={f.n})" for f in everything], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("validation error (mean of 10 votes of 15 shots, 10,000 images)")
    ax.set_title("Quantum families (blue) vs classical stochastic baselines (orange)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


START, END = "<!-- families:start -->", "<!-- families:end -->"
