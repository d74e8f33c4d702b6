"""``natq run``'s scale-out flags: shards of inputs on Ray (:mod:`natq_cirq.runners.distributed`)."""

from __future__ import annotations

import argparse

from natq_cirq.cli.numbers import whole
from natq_cirq.errors import NatqError


def add_scale_arguments(parser) -> None:
    scale = parser.add_argument_group("scale-out on Ray (every backend but analytic)")
    scale.add_argument(
        "--workers",
        type=whole,
        help="split the inputs into shards run by N Ray workers in parallel; the bits do not "
        "depend on N (a local Ray with N CPUs unless --address)",
    )
    scale.add_argument("--address", help="join this Ray cluster (e.g. HEAD:6379, ray start)")
    scale.add_argument("--shard-size", type=whole, default=16, help="inputs per shard (default 16)")
    scale.add_argument("--max-jobs", type=whole, help="engine: shards submitting at once")


def check_scale(args: argparse.Namespace) -> None:
    if args.workers is None and (args.address or args.max_jobs):
        raise NatqError("--address and --max-jobs go with --workers N")


def sharded(args: argparse.Namespace, options, program):
    """The sharded runner of ``--workers N``, or None."""
    if args.workers is None:
        return None
    from natq_cirq.runners.distributed import ShardedRunner  # Ray loads for sharded runs

    return ShardedRunner(
        args.backend, options, program, args.workers, args.address, args.shard_size, args.max_jobs
    )
