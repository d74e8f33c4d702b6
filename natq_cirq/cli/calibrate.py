"""``natq calibrate``: measure every read-out slot of a processor (``CAL.json``)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from natq_cirq.catalog import PROCESSORS
from natq_cirq.cli.flags import add_fields
from natq_cirq.cli.numbers import angle, whole
from natq_cirq.cli.target import add_target_arguments, run_options
from natq_cirq.runners.options import RunOptions

NEEDS_TENSORFLOW = False
DESCRIPTION = (
    "Run the read-out circuits a layered run sends -- placed on every slot of the processor, "
    "rewritten into its gate set, folded -- at several angles, and fit each slot's P(-1) = A + "
    "B cos(psi) + C sin(psi) with standard errors. A fit that does not describe the data is "
    "refused. analytic (with --noise device:D) computes the exact tables of the simulated "
    "processor instead. The cost is printed before anything runs."
)


def register(sub) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="measure every read-out slot of a processor (CAL.json for --calibration)",
        description=DESCRIPTION,
    )
    cal.add_argument(
        "--backend",
        required=True,
        help=", ".join(f"qvm:{p}" for p in PROCESSORS)
        + ", engine:PROCESSOR, or analytic/cirq/qsim with --noise device:PROCESSOR",
    )
    add_target_arguments(
        cal,
        ("gateset", "slots", "fold"),
        noise="simulated processor of analytic, cirq, qsim: device:" + "|".join(PROCESSORS),
    )
    knob = cal.add_mutually_exclusive_group()
    knob.add_argument(
        "--g", type=angle, help="read-out strength, e.g. 5pi/19 (default pi/2: projective)"
    )
    knob.add_argument("--model", help="take g from this MODEL.npz")
    cal.add_argument(
        "--angles", type=whole, default=8, help="calibration angles over [0, 2 pi) (default 8)"
    )
    cal.add_argument(
        "--shots", type=whole, default=2000, help="repetitions per circuit and angle (default 2000)"
    )
    cal.add_argument(
        "--seed",
        type=whole,
        default=0,
        help="seed of simulated sampling, cirq and qsim (default 0; qvm: cirq_google's virtual "
        "machine is seeded once, with 0, as in natq run)",
    )
    add_fields(cal, RunOptions, ("project_id", "dry_run"))
    cal.add_argument(
        "--verbose", type=whole, default=1, choices=(0, 1), help="progress bar (default 1)"
    )
    cal.add_argument("--out", required=True, help="CAL.json")
    cal.add_argument("--force", action="store_true", help="overwrite an existing CAL.json")
    cal.set_defaults(command=__name__)


def main(args: argparse.Namespace) -> int:
    from natq_cirq import files
    from natq_cirq.runners.calibrate import calibrate, plan_calibration

    out = Path(args.out)
    files.check_output(out, [args.model])
    files.check_writable(out)
    g = args.g if args.g is not None else math.pi / 2
    if args.model:
        g = files.load_model(args.model).knobs.g
    options = run_options(args)
    plan = plan_calibration(args.backend, options, g, args.angles, args.shots)
    for line in plan.describe():
        print(line)
    if args.dry_run:
        return 0
    with files.run_lock(out):
        calibration = calibrate(plan, options, args.seed)
        calibration.check_fit()  # refused: nothing is written
        calibration.write(out)
    worst = max(calibration.slots, key=lambda f: max(f.standard_errors))
    low, high = zip(*(fit.reach for fit in calibration.slots), strict=True)
    print(
        f"{len(calibration.slots)} slots fitted; largest standard error "
        f"{max(worst.standard_errors):.4f}; P(-1) reachable from {min(low):.4f}..{max(low):.4f} "
        f"up to {min(high):.4f}..{max(high):.4f}; wrote {out}"
    )
    return 0
