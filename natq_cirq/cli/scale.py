"""``natq run``'s scale-out flags: shards of inputs on Ray (:mod:`natq_cirq.runners.distributed`).

The flags are generated from :class:`natq_cirq.runners.options.ScaleOut`'s fields.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from natq_cirq.cli.flags import add_fields, values
from natq_cirq.runners.options import ScaleOut


def add_scale_arguments(parser) -> None:
    add_fields(parser, ScaleOut)


def check_scale(args: argparse.Namespace) -> ScaleOut:
    return ScaleOut(**values(args, ScaleOut))


def sharded(args: argparse.Namespace, options, program):
    """The sharded runner of ``--workers N``, or None."""
    scale = check_scale(args)
    if scale.workers is None:
        return None
    from natq_cirq.runners.distributed import ShardedRunner  # Ray loads for sharded runs

    return ShardedRunner(args.backend, options, program, **asdict(scale))
