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

Each configuration trains in ``runs/sweeps/ID`` (checkpoints: an interrupted configuration resumes
there) and, once finished, writes ``experiments/results/sweeps/ID.json``: the configuration, seed,
data subset, library versions, per-epoch history, final errors and wall time. Finished
configurations are skipped, so a sweep interrupted at any point resumes where it stopped.
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


def configurations(figure: str) -> list[dict]:
    """The configurations of a figure, as keyword arguments of ``TrainConfig``."""
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
    raise SystemExit(f"unknown figure {figure!r}; choose one of {', '.join(FIGURES)}")


FIGURES = ("fig2", "fig4", "fig5", "fig7", "fig8", "seeds", "estimators", "choices")


def config_id(kwargs: dict, epochs: int) -> str:
    """A file name that says what the configuration is."""
    memory = kwargs.get("memory", "persistent")
    estimator = kwargs.get("gradient_estimator", "ste")
    # Non-default data scaling and initializer are named; the defaults keep the original names.
    choices = "".join(f"_{kwargs[k]}" for k in ("scaling", "initializer") if k in kwargs)
    return (
        f"a{kwargs['a']:.4f}_g{kwargs['g']:.4f}_{memory}_{estimator}{choices}"
        f"_seed{kwargs['seed']}_ep{epochs}"
    )


def run_configuration(
    kwargs: dict,
    epochs: int,
    threads: int,
    root: str,
    results: str = str(RESULTS),
    scratch: str = str(SCRATCH),
) -> str:
    """Train one configuration to the end (resuming its checkpoints) and write its result file."""
    os.chdir(root)
    import natq_cirq  # noqa: F401

    import tensorflow as tf

    try:  # Ray reuses worker processes; threads can only be set before TensorFlow starts.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass
    from natq_cirq.data import DataSpec
    from natq_cirq.files import write_json
    from natq_cirq.training import TrainConfig, library_versions, train

    ident = config_id(kwargs, epochs)
    options = dict(kwargs)
    data = DataSpec(scaling=options.pop("scaling", "unit"))
    config = TrainConfig(epochs=epochs, eval_every=5, vote_every=25, data=data, **options)
    start = time.perf_counter()
    history = train(config, Path(scratch) / ident, verbose=0)
    final = history["epochs"][-1]
    result = {
        "id": ident,
        "config": config.to_dict(),
        "seed": config.seed,
        "data": config.data.to_dict(),
        "versions": library_versions(),
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
    write_json(Path(results) / f"{ident}.json", result)
    return ident


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="+", choices=FIGURES)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="configurations at once")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per configuration")
    parser.add_argument("--address", help="Ray cluster address (default: a local Ray)")
    parser.add_argument("--list", action="store_true", help="list configurations and status")
    parser.add_argument("--no-ray", action="store_true", help="run in this process, one by one")
    parser.add_argument("--results", default=str(RESULTS), help="folder of result files")
    parser.add_argument("--scratch", default=str(SCRATCH), help="folder of training runs")
    parser.add_argument("--limit", type=int, help="run at most this many configurations")
    args = parser.parse_args(argv)

    todo, seen = [], set()
    for figure in args.figures:
        for kwargs in configurations(figure):
            ident = config_id(kwargs, args.epochs)
            done = (Path(args.results) / f"{ident}.json").exists()
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
                kwargs, args.epochs, args.threads, root, args.results, args.scratch
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
        task.remote(kwargs, args.epochs, args.threads, root, args.results, args.scratch)
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
