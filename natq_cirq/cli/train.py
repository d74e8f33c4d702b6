"""``natq train``: train, or resume, a network (the paper's Table I by default).

Every flag but ``--out``, ``--force`` and ``--verbose`` is generated from
:class:`natq_cirq.config.TrainConfig` and :class:`natq_cirq.data.DataSpec`, so the defaults,
choices and help are the configuration's own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from natq_cirq.cli.flags import add_fields, values
from natq_cirq.cli.numbers import whole
from natq_cirq.config import TrainConfig
from natq_cirq.data import DataSpec
from natq_cirq.flags import BOOKKEEPING

NEEDS_TENSORFLOW = True
RESUMES_IN_OUT = True  # an existing --out is a run to resume, not refused early


def register(sub) -> None:
    parser = sub.add_parser("train", help="train, or resume, a network (history.json, model.npz)")
    parser.add_argument("--out", required=True, help="run folder (rerun the command to resume)")
    groups: dict = {}
    add_fields(parser, TrainConfig, groups=groups)
    groups[BOOKKEEPING].add_argument(
        "--force", action="store_true", help="overwrite a different or finished run"
    )
    groups[BOOKKEEPING].add_argument(
        "--verbose",
        type=whole,
        default=1,
        choices=(0, 1, 2),
        help="0 quiet, 1 progress bar (default), 2 one line per epoch",
    )
    parser.set_defaults(command=__name__, early=config_of)


def config_of(args: argparse.Namespace) -> None:
    """The run's :class:`TrainConfig`, validated before anything heavy loads."""
    data = DataSpec(**values(args, DataSpec))
    fields = {k: v for k, v in values(args, TrainConfig).items() if k not in values(args, DataSpec)}
    args.config = TrainConfig(**fields, data=data)
    args.config.check_resources()  # MNIST's shape; the library checks the data's own again


def main(args: argparse.Namespace) -> int:
    from natq_cirq.engine.training import train

    config = args.config
    history = train(config, args.out, force=args.force, verbose=args.verbose)
    if history["epochs"]:
        last = history["epochs"][-1]
        vote = last.get("val_error_vote")
        print(
            f"epoch {last['epoch']}: train error {last['train_error']:.4f}, validation error "
            f"{last['val_error_deterministic']:.4f} deterministic"
            + (f", {vote:.4f} by {config.shots}-shot vote" if vote is not None else "")
            + f"; model in {Path(args.out) / 'model.npz'}"
        )
    return 0
