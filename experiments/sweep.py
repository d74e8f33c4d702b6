"""Paper-reproduction sweeps: one JSON result file per finished configuration, dispatched by Ray.

    python -m experiments.sweep fig5 [--epochs 500] [--workers 2] [--threads 1] [--address ADDR]
    python -m experiments.sweep fig5 --list          # the configurations and which are done

Figures (the paper's protocol, Table I, unless a flag says otherwise):

* ``fig2`` — the classical network (a = 0, g = pi/2), seeds 0, 1, 2 (training and validation curves);
* ``fig4`` — a trained a = 0.5 network (its error vs the number of shots is drawn from the model);
* ``fig5`` — a in {0, 10^-2, 10^-1.5, 10^-1, 10^-2/3, 10^-1/2, 10^-1/3, 1, 10^0.5};
* ``fig7`` — g in {k pi/19, k = 1..9} and pi/2, with persistent and with re-prepared memory;
* ``fig8`` — a in {0, 10^-1, 10^-2/3, 10^-1/2, 10^-1/3, 1} x g in {3, 5, 7, 9 pi/19, pi/2};
* ``seeds`` — seeds 1 and 2 of the paper's best a, best g and best combined point, and of our best
  a on the Fig. 5 grid, 10^-1/3 (error bars);
* ``estimators`` — the Fig. 5 points again with the ``mean_field`` gradient estimator, and seeds 1
  and 2 of its two best points (10^-1/2 and 10^-1/3);
* ``choices`` — the classical network and the paper's best a with inputs scaled to [-1, 1]
  (``signed``) or He-uniform initial weights, seed 0 (the other choices that move the numbers).
* ``headline`` — the six headline configurations (classical; a = 10^-1/2, the paper's best a;
  a = 10^-1/3, ours; g = 5 pi/19 with persistent and with re-prepared memory; a = 10^-1/3 with
  g = 9 pi/19, the paper's best combined), seeds 0..7, each model judged by ``VOTES`` independent
  15-shot votes; its files go to ``experiments/results/headline`` (``--results``).
* ``baselines`` — classical stochastic baselines (``natq_cirq.physics.ClassicalStochasticNeuron``)
  under the same protocol, tuned on a grid as the quantum knobs were, seed 0: ``sigmoid:BETA``
  (``P(d = +1) = sigma(BETA h)``), ``gaussian:SIGMA`` (noise on the pre-activations),
  ``dropout:P``; each model judged by ``VOTES`` votes, files in ``experiments/results/baselines``.
* ``baselines_best`` — seeds 1..3 of each family's best grid point (lowest mean vote error of the
  finished ``baselines`` files; run it after ``baselines``).

Each configuration trains in ``runs/sweeps/ID`` (checkpoints: an interrupted configuration resumes
there) and, once finished, writes ``experiments/results/sweeps/ID.json``: the configuration, seed,
data subset, library versions, per-epoch history, final errors and wall time. Finished
configurations are skipped, so a sweep interrupted at any point resumes where it stopped.
Every result file records the code revision and the digest of the training code
(``natq_cirq.engine.training.training_code_digest``); reports combine only files whose digests agree.
Configurations are independent: each is one Ray task with ``--threads`` CPUs (Ray starts locally
unless ``--address`` names a cluster).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

RESULTS = Path("experiments/results/sweeps")
SCRATCH = Path("runs/sweeps")
PI = math.pi

A_FIG5 = [0.0, 10**-2, 10**-1.5, 10**-1, 10 ** (-2 / 3), 10**-0.5, 10 ** (-1 / 3), 1.0, 10**0.5]
G_FIG7 = [k * PI / 19 for k in range(1, 10)] + [PI / 2]
A_FIG8 = [0.0, 10**-1, 10 ** (-2 / 3), 10**-0.5, 10 ** (-1 / 3), 1.0]
G_FIG8 = [3 * PI / 19, 5 * PI / 19, 7 * PI / 19, 9 * PI / 19, PI / 2]
BEST = {"a": (10**-0.5, PI / 2), "g": (0.0, 5 * PI / 19), "combined": (10 ** (-1 / 3), 9 * PI / 19)}
HEADLINE = [
    dict(a=0.0, g=PI / 2),
    dict(a=10**-0.5, g=PI / 2),
    dict(a=10 ** (-1 / 3), g=PI / 2),
    dict(a=0.0, g=5 * PI / 19, memory="persistent"),
    dict(a=0.0, g=5 * PI / 19, memory="reprepared"),
    dict(a=10 ** (-1 / 3), g=9 * PI / 19),
]
HEADLINE_SEEDS = range(8)
# Grids centred on the stochastic neurons whose slope at h = 0 matches projective a in [0.2, 1]:
# sigmoid beta = pi / a, Gaussian sigma ~ 0.51 a; dropout at the usual rates.
BASELINE_GRID = {
    "sigmoid": (2.0, 4.0, 8.0, 16.0, 32.0),
    "gaussian": (0.05, 0.1, 0.2, 0.4, 0.8),
    "dropout": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5),  # 0.3 was the edge of the first grid
}
BASELINE_SEEDS = (1, 2, 3)  # at each family's best point (seed 0 chose it)
CLASSICAL = dict(a=0.0, g=PI / 2)
VOTES = 10  # independent 15-shot votes per headline model
VOTE_SEED = 10_000  # vote v samples with seed VOTE_SEED + v (training never uses these)


def best_baselines(results: Path, epochs: int = 500) -> dict[str, str]:
    """Each baseline family's grid point (seed 0) with the lowest mean vote error, by its files.

    A family whose grid is not finished yet is left out (its best point is not known).
    """
    import json

    best = {}
    for kind, scales in BASELINE_GRID.items():
        scored = []
        for scale in scales:
            kwargs = dict(**CLASSICAL, stochastic_neuron=f"{kind}:{scale:g}", seed=0)
            path = Path(results) / f"{config_id(kwargs, epochs)}.json"
            if not path.exists():
                break
            scored.append(
                (json.loads(path.read_text())["votes"]["mean"], kwargs["stochastic_neuron"])
            )
        else:
            best[kind] = min(scored)[1]
    return best


def configurations(figure: str, results: Path | None = None) -> list[dict]:
    """The configurations of a figure, as keyword arguments of ``TrainConfig``.

    ``results``: where ``baselines_best`` finds the grid's files (default: its own folder).
    """
    if figure == "fig2":
        return [dict(a=0.0, g=PI / 2, seed=s) for s in (0, 1, 2)]
    if figure == "fig4":
        return [dict(a=0.5, g=PI / 2, seed=0)]
    if figure == "fig5":
        return [dict(a=a, g=PI / 2, seed=0) for a in A_FIG5]
    if figure == "fig7":
        return [
            dict(a=0.0, g=g, memory=m, seed=0) for m in ("persistent", "reprepared") for g in G_FIG7
        ]
    if figure == "fig8":
        return [dict(a=a, g=g, seed=0) for a in A_FIG8 for g in G_FIG8]
    if figure == "seeds":
        # The paper's best points, and our own best a of the Fig. 5 grid (10^-1/3).
        points = [*BEST.values(), (10 ** (-1 / 3), PI / 2)]
        return [dict(a=a, g=g, seed=s) for a, g in points for s in (1, 2)]
    if figure == "estimators":
        grid = [dict(a=a, g=PI / 2, seed=0) for a in A_FIG5]
        best = [dict(a=a, g=PI / 2, seed=s) for a in (10**-0.5, 10 ** (-1 / 3)) for s in (1, 2)]
        return [dict(**c, gradient_estimator="mean_field") for c in grid + best]
    if figure == "choices":
        points = [(0.0, PI / 2), BEST["a"]]
        return [
            dict(a=a, g=g, seed=0, **choice)
            for choice in (dict(scaling="signed"), dict(initializer="he_uniform"))
            for a, g in points
        ]
    if figure == "headline":
        return [dict(**c, seed=s) for s in HEADLINE_SEEDS for c in HEADLINE]
    if figure == "baselines":
        return [
            dict(**CLASSICAL, stochastic_neuron=f"{kind}:{scale:g}", seed=0)
            for kind, scales in BASELINE_GRID.items()
            for scale in scales
        ]
    if figure == "baselines_best":
        return [
            dict(**CLASSICAL, stochastic_neuron=neuron, seed=s)
            for neuron in best_baselines(results or DEFAULT_RESULTS["baselines"]).values()
            for s in BASELINE_SEEDS
        ]
    raise SystemExit(f"unknown figure {figure!r}; choose one of {', '.join(FIGURES)}")


FIGURES = (
    "fig2",
    "fig4",
    "fig5",
    "fig7",
    "fig8",
    "seeds",
    "estimators",
    "choices",
    "headline",
    "baselines",
    "baselines_best",
)
BASELINES = Path("experiments/results/baselines")
DEFAULT_RESULTS = {
    "headline": Path("experiments/results/headline"),
    "baselines": BASELINES,
    "baselines_best": BASELINES,
}
# Never resume a run of older code.
DEFAULT_SCRATCH = {
    "headline": Path("runs/headline"),
    "baselines": Path("runs/baselines"),
    "baselines_best": Path("runs/baselines"),
}
JUDGED = ("headline", "baselines", "baselines_best")  # figures whose models get VOTES votes


def config_id(kwargs: dict, epochs: int) -> str:
    """A file name that says what the configuration is."""
    memory = kwargs.get("memory", "persistent")
    estimator = kwargs.get("gradient_estimator", "ste")
    # Non-default data scaling, initializer and neuron are named; defaults keep the original names.
    choices = "".join(
        f"_{str(kwargs[k]).replace(':', '')}"
        for k in ("scaling", "initializer", "stochastic_neuron")
        if k in kwargs
    )
    return (
        f"a{kwargs['a']:.4f}_g{kwargs['g']:.4f}_{memory}_{estimator}{choices}"
        f"_seed{kwargs['seed']}_ep{epochs}"
    )


def train_config(kwargs: dict, epochs: int):
    """The :class:`~natq_cirq.config.TrainConfig` a sweep trains for ``kwargs``."""
    from natq_cirq.config import TrainConfig
    from natq_cirq.data import DataSpec

    options = dict(kwargs)
    data = DataSpec(scaling=options.pop("scaling", "unit"))
    return TrainConfig(epochs=epochs, eval_every=5, vote_every=25, data=data, **options)


def result_identity(kwargs: dict, epochs: int) -> str:
    """The run identity of a configuration's result file (natq_cirq.identity.strong_id)."""
    from natq_cirq.identity import strong_id

    return strong_id({"training": train_config(kwargs, epochs).identity(), "epochs": epochs})


def is_finished(path: Path, kwargs: dict, epochs: int) -> bool:
    """Whether ``path`` holds this configuration's result (files from before identities: by name)."""
    import json

    if not path.exists():
        return False
    recorded = json.loads(path.read_text()).get("identity")
    return recorded is None or recorded == result_identity(kwargs, epochs)


def run_configuration(
    kwargs: dict,
    epochs: int,
    threads: int,
    root: str,
    results: str = str(RESULTS),
    scratch: str = str(SCRATCH),
    votes: int = 0,
) -> str:
    """Train one configuration to the end (resuming its checkpoints) and write its result file.

    With ``votes``, the trained model is also judged by that many independent ``shots``-shot
    votes on the validation images; their per-image predictions go to ``ID.votes.npz`` beside
    the result file (for paired tests on identical images).
    """
    os.chdir(root)
    import natq_cirq  # noqa: F401

    import tensorflow as tf

    try:  # Ray reuses worker processes; threads can only be set before TensorFlow starts.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass
    from natq_cirq.engine.training import library_versions, train, training_code_digest
    from natq_cirq.files import write_json

    versions = library_versions()  # the revision this run starts from (code_revision is cached)
    ident = config_id(kwargs, epochs)
    config = train_config(kwargs, epochs)
    start = time.perf_counter()
    history = train(config, Path(scratch) / ident, verbose=0)
    final = history["epochs"][-1]
    result = {
        "id": ident,
        "identity": result_identity(kwargs, epochs),
        "config": config.to_dict(),
        "seed": config.seed,
        "data": config.data.to_dict(),
        "versions": versions,
        "training_digest": training_code_digest(noisy=config.noise is not None),
        "threads": threads,
        "wall_seconds_this_session": time.perf_counter() - start,
        "train_seconds_total": sum(
            e["seconds_train"] + e.get("seconds_eval", 0.0) for e in history["epochs"]
        ),
        "final": {
            k: final.get(k)
            for k in ("epoch", "loss", "train_error", "val_error_deterministic", "val_error_vote")
        },
        "history": history["epochs"],
        "model": str(Path(scratch) / ident / "model.npz"),
    }
    if votes:
        result["votes"] = judge(
            Path(scratch) / ident / "model.npz", config, votes, Path(results) / ident
        )
    write_json(Path(results) / f"{ident}.json", result)
    return ident


def judge(model_path: Path, config, votes: int, stem: Path) -> dict:
    """The model's validation error: deterministic, and by ``votes`` independent votes.

    Writes ``STEM.votes.npz`` (``labels``, ``deterministic (n,)`` and ``votes (V, n)``
    predictions, uint8) and returns the errors with the votes' mean and standard error.
    """
    from natq_cirq.data import load_mnist
    from natq_cirq.engine.inference import build_network, predict
    from natq_cirq.files import load_model, write_npz
    from natq_cirq.physics import Knobs
    from natq_cirq.votes import error_rate

    import numpy as np

    data = load_mnist(config.data)
    model = load_model(model_path)
    network = build_network(model)
    deterministic = predict(network, data.x_val, 1, knobs=Knobs(), record_bits=False).predictions
    predictions = np.stack(
        [
            predict(
                network, data.x_val, config.shots, seed=VOTE_SEED + v, record_bits=False
            ).predictions
            for v in range(votes)
        ]
    )
    errors = [error_rate(p, data.y_val) for p in predictions]
    votes_file = stem.parent / f"{stem.name}.votes.npz"  # IDs hold dots: no with_suffix
    write_npz(
        votes_file,
        labels=data.y_val.astype(np.uint8),
        deterministic=deterministic.astype(np.uint8),
        votes=predictions.astype(np.uint8),
    )
    return {
        "file": votes_file.name,
        "n_images": len(data.y_val),
        "shots": config.shots,
        "seeds": [VOTE_SEED + v for v in range(votes)],
        "deterministic_error": error_rate(deterministic, data.y_val),
        "errors": errors,
        "mean": float(np.mean(errors)),
        "sem": float(np.std(errors, ddof=1) / np.sqrt(votes)) if votes > 1 else None,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="+", choices=FIGURES)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="configurations at once")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per configuration")
    parser.add_argument("--address", help="Ray cluster address (default: a local Ray)")
    parser.add_argument("--list", action="store_true", help="list configurations and status")
    parser.add_argument("--no-ray", action="store_true", help="run in this process, one by one")
    parser.add_argument("--results", help="folder of result files (default: per figure)")
    parser.add_argument("--scratch", help="folder of training runs (default: per figure)")
    parser.add_argument("--limit", type=int, help="run at most this many configurations")
    parser.add_argument("--votes", type=int, help=f"votes per model (headline: {VOTES})")
    args = parser.parse_args(argv)
    if len({str(DEFAULT_RESULTS.get(f, RESULTS)) for f in args.figures}) > 1 and not args.results:
        raise SystemExit("these figures keep their results in different folders: run them apart")
    args.results = args.results or str(DEFAULT_RESULTS.get(args.figures[0], RESULTS))
    args.scratch = args.scratch or str(DEFAULT_SCRATCH.get(args.figures[0], SCRATCH))
    if args.votes is None:
        args.votes = VOTES if set(args.figures) & set(JUDGED) else 0

    todo, seen = [], set()
    for figure in args.figures:
        for kwargs in configurations(figure, Path(args.results)):
            ident = config_id(kwargs, args.epochs)
            done = is_finished(Path(args.results) / f"{ident}.json", kwargs, args.epochs)
            if args.list:
                print(f"{figure:10} {ident:60} {'done' if done else 'to do'}")
            if not done and ident not in seen:
                todo.append(kwargs)
                seen.add(ident)
    todo = todo[: args.limit] if args.limit else todo
    if args.list or not todo:
        print(f"{len(todo)} configuration(s) to run")
        return
    root = str(Path.cwd())
    print(
        f"{len(todo)} configuration(s) to run, {args.workers} at a time, "
        f"{args.threads} thread(s) each",
        flush=True,
    )
    if args.no_ray:
        for kwargs in todo:
            ident = run_configuration(
                kwargs, args.epochs, args.threads, root, args.results, args.scratch, args.votes
            )
            print("finished", ident, flush=True)
        return
    import ray

    ray.init(
        address=args.address,
        num_cpus=None if args.address else args.workers * args.threads,
        include_dashboard=False,
        log_to_driver=False,
    )
    task = ray.remote(num_cpus=args.threads)(run_configuration)
    pending = [
        task.remote(kwargs, args.epochs, args.threads, root, args.results, args.scratch, args.votes)
        for kwargs in todo
    ]
    try:
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            print(f"finished {ray.get(finished[0])}; {len(pending)} to go", flush=True)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
