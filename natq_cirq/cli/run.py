"""``natq run``: run a model or a compiled program on inputs, write ``RESULTS.npz``.

The file's layout is :data:`natq_cirq.runners.results.FIELDS`; what each backend accepts is its
registry entry's (:data:`natq_cirq.runners.registry.BACKENDS`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from natq_cirq.catalog import PROCESSORS
from natq_cirq.cli.flags import add_fields, import_tensorflow_quietly, values
from natq_cirq.cli.inputs import inputs_of, model_and_program
from natq_cirq.cli.numbers import whole
from natq_cirq.cli.scale import add_scale_arguments, check_scale, sharded
from natq_cirq.cli.target import add_target_arguments, run_device_data, run_options
from natq_cirq.errors import NatqError
from natq_cirq.imports import collector_paused
from natq_cirq.runners.options import RunOptions, Sampling

NEEDS_TENSORFLOW = False  # only the backends that run on it (loaded below)
BACKENDS_HELP = (
    "analytic (default; models only), cirq, cirq:dynamic, natq:dynamic, qsim, tfq, "
    + ", ".join(f"qvm:{p}" for p in PROCESSORS)
    + ", engine:PROCESSOR"
)


def register(sub) -> None:
    run = sub.add_parser("run", help="run a trained model on inputs and write RESULTS.npz")
    run.add_argument("model", help="MODEL.npz (compiled in memory), or PROGRAM.json")
    run.add_argument("--model-file", help="with PROGRAM.json: the model file, if it moved")
    given = run.add_mutually_exclusive_group()
    given.add_argument("--inputs", help="X.npy, shape (n, M), scaled as the model expects")
    run.add_argument("--labels", help="Y.npy with the inputs' labels (to report the error rate)")
    given.add_argument("--dataset", help="mnist-test[:N] or mnist-train[:N] (labels included)")
    run.add_argument("--backend", default="analytic", help=BACKENDS_HELP)
    add_target_arguments(run, ("gateset", "slots", "fold", "calibration"))
    groups: dict = {}
    add_fields(run, Sampling, groups=groups)
    add_fields(run, RunOptions, ("project_id", "dry_run"), groups)
    add_scale_arguments(run)
    run.add_argument("--verbose", type=whole, default=1, choices=(0, 1), help="progress bars")
    run.add_argument(
        "--deterministic",
        action="store_true",
        help="infer with a=0, g=pi/2 (the paper's deterministic inference; one shot)",
    )
    run.add_argument("--no-bits", action="store_true", help="do not store the hidden bits")
    run.add_argument("--out", required=True, help="RESULTS.npz")
    run.add_argument("--force", action="store_true", help="overwrite an existing RESULTS.npz")
    run.set_defaults(command=__name__)


def main(args: argparse.Namespace) -> int:
    from natq_cirq import files
    from natq_cirq.runners import make_runner
    from natq_cirq.runners.registry import lookup
    from natq_cirq.runners.results import write_results

    Sampling(**values(args, Sampling))  # checked before anything loads
    check_scale(args)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise NatqError(f"{out} exists; use --force to overwrite it")
    files.check_output(
        out, [args.model, args.model_file, args.inputs, args.labels, args.calibration]
    )
    files.check_writable(out)
    model, program, model_path = model_and_program(args)
    if args.deterministic:
        model = model.deterministic()
        args.shots = 1  # a = 0, g = pi/2: every shot is the same, so one is drawn and reported
    journal = out.with_name(out.name + ".journal")
    options = run_options(args, journal=journal)
    if lookup(args.backend)[0].tensorflow:
        import_tensorflow_quietly()  # the circuit backends never load it
    with collector_paused(freeze=True):  # loads the backend's libraries: see natq_cirq.imports
        runner = make_runner(args.backend, options, program=program)
    runner = sharded(args, options, program) or runner
    x, labels = inputs_of(args, model, program)
    if args.dry_run:
        if x is None:
            raise NatqError("--dry-run plans runs on inputs; this program has its input inside")
        for key, value in runner.plan(model, x, args.shots, args.seed).items():
            print(f"{key.replace('_', ' ')}: {value}")
        return 0
    device_data = run_device_data(options.target.on(lookup(args.backend)[1]), program)
    identity = options.identity(
        backend=args.backend,
        device_data=device_data,
        model=model.digest(),
        program=program and program.to_json(),
        inputs=x,
        shots=args.shots,
        seed=args.seed,
    )
    with files.run_lock(out):  # one process per results file (and its journal)
        started = time.perf_counter()
        if x is None:
            result = runner.run_program(program, model, shots=args.shots, seed=args.seed)
        else:
            result = runner.run(model, x, args.shots, args.seed, record_bits=not args.no_bits)
        wall = time.perf_counter() - started
        written = write_results(
            out,
            result,
            model,
            backend=args.backend,
            options=options,
            shots=args.shots,
            seed=args.seed,
            seconds=wall,
            identity=identity,
            device_data=device_data,
            labels=labels,
            model_path=model_path,
            program_path=str(args.model) if program else "",
            calibration_path=str(args.calibration or ""),
        )
        files.remove_journal(journal)  # everything is in RESULTS now (natq's folder only)
    n = len(result.predictions)
    line = f"{n} input(s) x {args.shots} shots on {args.backend}"
    if args.deterministic:
        line = f"{n} input(s), deterministic inference (a = 0, g = pi/2) on {args.backend}"
    if labels is not None:
        line += f": error rate {written['error_rate']:.4f}"
    print(line)
    print(
        f"wall time {wall:.2f} s (simulation {result.seconds:.2f} s), "
        f"{written['neuron_measurements_per_second']:.3g} neuron-measurements/s; wrote {out}"
    )
    return 0
