"""The flags that say where a run's read-outs happen (``run``, ``compile``, ``calibrate``).

They build one :class:`natq_cirq.target.Target`: ``--noise`` (its text form), ``--gateset``,
``--slots`` and ``--fold`` (generated from the target's fields), ``--calibration`` and
``--no-compensation``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from natq_cirq.catalog import PROCESSORS
from natq_cirq.cli.flags import add_fields, values
from natq_cirq.errors import NatqError
from natq_cirq.target import Target

if TYPE_CHECKING:  # annotations only: both load Cirq or the runners, after the early checks
    from natq_cirq.hardware.calibration import Calibration
    from natq_cirq.runners import RunOptions

NOISE_HELP = (
    "simulated noise, e.g. depolarizing:0.001+readout:0.02 (kinds: depolarizing, "
    "amplitude_damping, readout, device:" + "|".join(PROCESSORS) + "; slots:K and fold:K are "
    "--slots and --fold)"
)


def add_target_arguments(
    parser, names=("gateset", "slots", "fold"), noise: str | None = NOISE_HELP
):
    """``--noise`` (unless None), the target's flags in ``names``, and the calibration's."""
    groups: dict = {}
    add_fields(parser, Target, names, groups)
    group = next(iter(groups.values()), parser)
    if noise is not None:
        group.add_argument("--noise", help=noise)
    if "calibration" in names:
        group.add_argument(
            "--calibration",
            help="CAL.json from natq calibrate: place read-outs on its best slots and "
            "compensate each angle so the calibrated probability is the ideal one (analytic: "
            "predict such a run from the calibration alone)",
        )
        group.add_argument(
            "--no-compensation",
            action="store_true",
            help="with --calibration: choose the slots only, send the ideal angles",
        )


def target_of(args: argparse.Namespace, **more) -> Target:
    """The target of a command's flags (``more``: fields the command sets itself).

    ``--noise`` is a target's text (:mod:`natq_cirq.target`): ``slots:K`` and ``fold:K`` in it are
    ``--slots K`` and ``--fold K`` (``pairs:K`` is the old name of ``slots:K``); a field given
    both ways is refused.
    """
    noise = Target.parse(args.noise) if getattr(args, "noise", None) else Target()
    calibration = calibration_of(args)
    flags = Target(
        gateset=getattr(args, "gateset", None),
        slots=getattr(args, "slots", None),
        fold=getattr(args, "fold", 0),
        calibration=calibration,
        compensate=calibration is None or not args.no_compensation,
        **more,
    )
    return noise.merged(flags)


def run_options(args: argparse.Namespace, **more) -> RunOptions:
    """The runner options ``natq run`` and ``natq calibrate`` share, from their flags."""
    from natq_cirq.runners import RunOptions

    return RunOptions(
        target=target_of(args),
        progress=args.verbose > 0,
        **values(args, RunOptions, ("project_id", "dry_run")),
        **more,
    )


def calibration_of(args: argparse.Namespace) -> Calibration | None:
    """``--calibration CAL.json`` read (Cirq loads for calibrations only), or ``None``."""
    if not getattr(args, "calibration", None):
        if getattr(args, "no_compensation", False):
            raise NatqError("--no-compensation goes with --calibration CAL.json")
        return None
    from natq_cirq.hardware.calibration import read_calibration

    return read_calibration(args.calibration)


def run_device_data(target: Target, program) -> dict | None:
    """The device data a run records and is keyed by: its program's or its target's processor.

    Cirq loads only for a run on a processor (whose backend has loaded it already).
    """
    processor = program.device if program is not None else target.placement
    if processor is None:
        return None
    from natq_cirq.hardware.devices import data_record

    return data_record(processor)
