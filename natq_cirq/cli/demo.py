"""``natq demo``: the README's main job (train classical and quantized, run on three backends)."""

from __future__ import annotations

import argparse
from pathlib import Path

from natq_cirq.cli.numbers import whole

NEEDS_TENSORFLOW = True


def register(sub) -> None:
    demo = sub.add_parser("demo", help="the main job: train classical and quantized, print a table")
    demo.add_argument(
        "--out", default="runs/demo", help="folder of the demo runs (default runs/demo)"
    )
    demo.add_argument("--epochs", type=whole, default=5, help="epochs per network (default 5)")
    demo.add_argument("--layers", type=whole, default=3, help="hidden layers (default 3)")
    demo.add_argument("--hidden", type=whole, default=512, help="neurons per layer (default 512)")
    demo.add_argument(
        "--verbose",
        type=whole,
        default=1,
        choices=(0, 1, 2),
        help="0 silent, 1 progress bars (default), 2 one line per epoch",
    )
    demo.add_argument(
        "--no-backends",
        action="store_true",
        help="skip the small network run on analytic, qsim and qvm:rainbow",
    )
    demo.set_defaults(command=__name__)


def main(args: argparse.Namespace) -> int:
    from natq_cirq.demo import run_backends_demo, run_demo

    run_demo(
        out=Path(args.out),
        epochs=args.epochs,
        hidden=args.hidden,
        layers=args.layers,
        verbose=args.verbose,
    )
    if not args.no_backends:
        run_backends_demo(out=Path(args.out), epochs=args.epochs, verbose=args.verbose)
    return 0
