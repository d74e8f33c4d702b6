"""The ``natq`` command (also ``python -m natq_cirq``).

Subcommands: ``train`` (train or resume a run), ``compile`` (Cirq circuits), ``run`` (inference
on a backend, writes ``RESULTS.npz``), ``calibrate`` (a processor's read-out slots, for
``--calibration``), ``demo`` (the README's main job). Bad input ends with one
line on stderr and exit status 2; an interrupted command says how to resume and exits with 130.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from natq_cirq.catalog import GATESETS, PROCESSORS
from natq_cirq.config import GRADIENT_ESTIMATORS, INITIALIZERS, TrainConfig
from natq_cirq.data import DataSpec
from natq_cirq.errors import NatqError
from natq_cirq.imports import collector_paused
from natq_cirq.physics import MEMORY_MODES

if TYPE_CHECKING:  # annotations only: both load Cirq or the runners, after the early checks
    from natq_cirq.calibration import Calibration
    from natq_cirq.runners import RunOptions


def angle(text: str) -> float:
    """A number, or a multiple of pi such as ``pi/2``, ``5pi/19``, ``5*pi/19``, ``0.25pi``."""
    cleaned = text.strip().lower().replace(" ", "").replace("*", "").replace("π", "pi")
    match = re.fullmatch(r"([0-9.eE+-]*)pi(?:/([0-9.]+))?", cleaned)
    try:
        if match:
            numerator = (
                float(match.group(1))
                if match.group(1) not in ("", "+", "-")
                else (-1.0 if match.group(1) == "-" else 1.0)
            )
            return numerator * math.pi / (float(match.group(2)) if match.group(2) else 1.0)
        return float(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or multiple of pi: {text!r}") from None


def _fraction(text: str) -> float:
    """``-0.5``, ``-1/3`` or ``(-1/2)``."""
    text = text.strip("()")
    numerator, _, denominator = text.partition("/")
    return float(numerator) / (float(denominator) if denominator else 1.0)


def number(text: str) -> float:
    """A float, or a power of ten as the paper writes it: ``10^-0.5``, ``10^-1/3``, ``10^(-1/2)``."""
    cleaned = text.strip().replace(" ", "")
    try:
        if cleaned.startswith("10^"):
            return 10.0 ** _fraction(cleaned[3:])
        return float(cleaned)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def slot_count(text: str) -> int:
    """A number of slots, or ``all`` (0: every slot of the device)."""
    if text.strip().lower() == "all":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number or 'all': {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or 'all' (got {value})")
    return value


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    # Every default and choice is TrainConfig's own (the paper's Table I).
    d, data = TrainConfig(), DataSpec()
    group = parser.add_argument_group("network and knobs")
    group.add_argument(
        "--layers", type=int, default=d.layers, help=f"hidden layers L (default {d.layers})"
    )
    group.add_argument(
        "--hidden", type=int, default=d.hidden, help=f"neurons per layer N (default {d.hidden})"
    )
    group.add_argument(
        "--a",
        type=number,
        default=d.a,
        help=f"activation stretch a >= 0, e.g. 0.316, 10^-0.5 or 10^-1/3 (default {d.a:g}: sgn)",
    )
    group.add_argument(
        "--g",
        type=angle,
        default=d.g,
        help="weak-measurement angle in [0, pi/2], e.g. 5pi/19 or π/2 (default pi/2)",
    )
    group.add_argument(
        "--memory",
        choices=MEMORY_MODES,
        default=d.memory,
        help=f"neuron memory between layers (default {d.memory}, the paper's circuit)",
    )
    group.add_argument(
        "--gradient-estimator",
        choices=GRADIENT_ESTIMATORS,
        default=d.gradient_estimator,
        help=f"backward pass of the sampled bits (default {d.gradient_estimator}, the paper's eq. 3)",
    )
    group.add_argument(
        "--initializer",
        choices=INITIALIZERS,
        metavar="NAME",
        default=d.initializer,
        help=f"Keras initializer of the weights: {', '.join(INITIALIZERS)} "
        f"(default {d.initializer})",
    )
    group.add_argument(
        "--stochastic-neuron",
        metavar="KIND:VALUE",
        help="train a classical stochastic baseline instead of qubits (classical knobs): "
        "sigmoid:BETA (P(d=+1) = sigmoid(BETA h)), gaussian:SIGMA (noise on h) or dropout:P",
    )
    group.add_argument(
        "--noise",
        help="train (and vote) with the exact noisy engine in the loop, e.g. depolarizing:0.01",
    )
    group = parser.add_argument_group("protocol (defaults: the paper's Table I)")
    group.add_argument(
        "--epochs", type=int, default=d.epochs, help=f"training epochs (default {d.epochs})"
    )
    group.add_argument(
        "--batch-size", type=int, default=d.batch_size, help=f"batch size (default {d.batch_size})"
    )
    group.add_argument(
        "--lr", type=float, default=d.lr, help=f"SGD learning rate (default {d.lr:g})"
    )
    group.add_argument(
        "--momentum", type=float, default=d.momentum, help=f"SGD momentum (default {d.momentum:g})"
    )
    group.add_argument(
        "--shots",
        type=int,
        default=d.shots,
        help=f"shots of the validation vote (default {d.shots})",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        help=f"seed of the weights and the sampling (default {d.seed})",
    )
    group.add_argument(
        "--train-size",
        type=int,
        default=data.train_size,
        help=f"training images (default {data.train_size})",
    )
    group.add_argument(
        "--train-offset",
        type=int,
        default=data.train_offset,
        help=f"first training image used (default {data.train_offset}: the first train-size images)",
    )
    group.add_argument(
        "--val-size",
        type=int,
        default=data.val_size,
        help=f"test images used as validation (default {data.val_size:,})",
    )
    group.add_argument(
        "--scaling",
        choices=("unit", "signed"),
        default=data.scaling,
        help=f"pixels/255 (unit) or 2*pixels/255-1 (signed); default {data.scaling}",
    )
    group = parser.add_argument_group("bookkeeping")
    group.add_argument(
        "--eval-every",
        type=int,
        default=d.eval_every,
        help="epochs between deterministic validation evaluations (and vote epochs, the last; "
        f"default {d.eval_every})",
    )
    group.add_argument(
        "--vote-every",
        type=int,
        default=d.vote_every,
        help=f"epochs between S-shot validation votes (and the last epoch; default {d.vote_every})",
    )
    group.add_argument(
        "--checkpoint-every",
        type=int,
        default=d.checkpoint_every,
        help=f"epochs between checkpoints (default {d.checkpoint_every}; see --checkpoint-seconds)",
    )
    group.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=d.checkpoint_seconds,
        help=f"checkpoint no more often than this (default {d.checkpoint_seconds:g}; the last "
        "epoch always): an interrupted run resumes exactly and loses at most this much training",
    )
    group.add_argument(
        "--steps-per-execution",
        type=int,
        default=d.steps_per_execution,
        help="training steps per TensorFlow call (speed only; default "
        f"{d.steps_per_execution}: a whole epoch)",
    )
    group.add_argument("--force", action="store_true", help="overwrite a different or finished run")
    group.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="0 quiet, 1 progress bar (default), 2 one line per epoch",
    )


def _config_from(args: argparse.Namespace) -> TrainConfig:
    """The run's :class:`TrainConfig`, validated (before anything heavy loads)."""
    return TrainConfig(
        layers=args.layers,
        hidden=args.hidden,
        a=args.a,
        g=args.g,
        memory=args.memory,
        gradient_estimator=args.gradient_estimator,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        momentum=args.momentum,
        shots=args.shots,
        seed=args.seed,
        initializer=args.initializer,
        noise=args.noise,
        stochastic_neuron=args.stochastic_neuron,
        data=DataSpec(
            train_size=args.train_size,
            train_offset=args.train_offset,
            val_size=args.val_size,
            scaling=args.scaling,
        ),
        eval_every=args.eval_every,
        vote_every=args.vote_every,
        checkpoint_every=args.checkpoint_every,
        checkpoint_seconds=args.checkpoint_seconds,
        steps_per_execution=args.steps_per_execution,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from natq_cirq.training import train

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


def cmd_run(args: argparse.Namespace) -> int:
    import shutil

    from natq_cirq import files
    from natq_cirq.data import load_split
    from natq_cirq.runners import make_runner
    from natq_cirq.runners.registry import lookup

    import numpy as np

    if args.shots < 1:
        raise NatqError(f"--shots must be >= 1 (got {args.shots})")
    if args.workers is None and (args.address or args.max_jobs):
        raise NatqError("--address and --max-jobs go with --workers N")
    source = Path(args.model)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise NatqError(f"{out} exists; use --force to overwrite it")
    files.check_writable(out)
    program = None
    if source.suffix == ".json":
        from natq_cirq.compile import read_program  # Cirq loads for programs only

        program = read_program(source)
        model_path = args.model_file or program.model_path
        if model_path is None:
            raise NatqError(f"{source} names no model file; give it with --model-file MODEL.npz")
        model = files.load_model(model_path)
        program.check_model(model, str(model_path))
    else:
        if args.model_file:
            raise NatqError("--model-file goes with PROGRAM.json")
        model = files.load_model(source)
    if args.deterministic:
        if program is not None:
            raise NatqError("--deterministic changes the knobs: run MODEL.npz, not a program")
        model = model.deterministic()
        args.shots = 1  # a = 0, g = pi/2: every shot is the same, so one is drawn and reported
    journal = out.with_name(out.name + ".journal")
    calibration = _calibration_of(args)
    options = _run_options(
        args, journal=journal, calibration=calibration, compensate=not args.no_compensation
    )
    if lookup(args.backend)[0].tensorflow:
        _import_tensorflow_quietly()  # the circuit backends never load it
    with collector_paused(freeze=True):  # loads the backend's libraries: see natq_cirq.imports
        runner = make_runner(args.backend, options, program=program)
    if args.workers is not None:
        # Ray loads only for a sharded run.
        from natq_cirq.runners.distributed import ShardedRunner

        sharded = ShardedRunner(
            args.backend,
            options,
            program,
            args.workers,
            args.address,
            args.shard_size,
            args.max_jobs,
        )
    labels = None
    if program is not None and program.mode == "dynamic" and not program.for_any_input:
        if args.inputs or args.dataset:
            raise NatqError(f"{source} is a dynamic program: its input is compiled in")
        x = None
    elif args.inputs:
        x = files.load_inputs(args.inputs, model.input_dim)
    elif args.dataset:
        x, labels = load_split(args.dataset, model.scaling)
        x = files.check_inputs(x, model.input_dim, args.dataset)
    else:
        raise NatqError("give the inputs: --inputs X.npy or --dataset mnist-test[:N]")
    if args.labels:
        labels = files.load_labels(args.labels, 1 if x is None else len(x), model.outputs)
    if args.dry_run:
        from natq_cirq.runners.layered import LayeredRunner

        if not isinstance(runner, LayeredRunner):
            raise NatqError(
                f"--dry-run plans layered backends (cirq, qsim, tfq, qvm:, engine:); "
                f"{args.backend} submits nothing"
            )
        for key, value in runner.plan(model, x, args.shots, args.seed).items():
            print(f"{key.replace('_', ' ')}: {value}")
        if args.workers is not None:
            shards = -(-len(x) // args.shard_size)
            print(f"shards: {shards} of {args.shard_size} inputs, {sharded.in_flight} at a time")
        return 0
    with files.run_lock(out):  # one process per results file (and its journal)
        started = time.perf_counter()
        if x is None:
            result = runner.run_program(program, model, shots=args.shots, seed=args.seed)
            n = 1
        else:
            chosen = sharded if args.workers is not None else runner
            result = chosen.run(
                model, x, shots=args.shots, seed=args.seed, record_bits=not args.no_bits
            )
            n = len(x)
        wall = time.perf_counter() - started
        measurements = n * args.shots * model.layers * model.hidden
        arrays = {
            "predictions": result.predictions.astype(np.int64),
            "shot_predictions": result.shot_predictions.astype(np.int64),
            "backend": np.array(args.backend),
            "shots": np.int64(args.shots),
            "seed": np.int64(args.seed),
            "seconds": np.float64(wall),
            "seconds_simulation": np.float64(result.seconds),
            "neuron_measurements_per_second": np.float64(measurements / max(result.seconds, 1e-12)),
            "a": np.float64(model.knobs.a),
            "g": np.float64(model.knobs.g),
            "memory": np.array(model.knobs.memory),
            "stochastic_neuron": np.array(str(model.stochastic_neuron or "")),
            "noise": np.array(str(options.noise or "")),
            "model": np.array(str(model_path if program is not None else source)),
            "model_sha256": np.array(model.digest()),
            "program": np.array(str(source) if program is not None else ""),
            "calibration": np.array(str(args.calibration or "")),
            "calibration_sha256": np.array(calibration.digest() if calibration else ""),
            "compensated": np.bool_(calibration is not None and options.compensate),
            "stats": np.array(json.dumps(result.stats)),
        }
        if not args.no_bits:
            arrays["bits"] = result.bits
        line = f"{n} input(s) x {args.shots} shots on {args.backend}"
        if args.deterministic:
            line = f"{n} input(s), deterministic inference (a = 0, g = pi/2) on {args.backend}"
        if labels is not None:
            arrays["labels"] = labels
            arrays["error_rate"] = np.float64(result.error_rate(labels))
            line += f": error rate {arrays['error_rate']:.4f}"
        files.write_npz(out, **arrays)
        shutil.rmtree(journal, ignore_errors=True)  # everything is in RESULTS now
        print(line)
        print(
            f"wall time {wall:.2f} s (simulation {result.seconds:.2f} s), "
            f"{arrays['neuron_measurements_per_second']:.3g} neuron-measurements/s; wrote {out}"
        )
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from natq_cirq import files
    from natq_cirq.compile import compile_dynamic, compile_layered

    out = Path(args.out)
    for path in (out, Path(args.qasm) if args.qasm else None):
        if path is not None and path.exists() and not args.force:
            raise NatqError(f"{path} exists; use --force to overwrite it")
    files.check_writable(out)
    model = files.load_model(args.model)
    # Placing and rewriting the paper's network takes about a minute: say what is happening.
    print(f"compiling {model.describe()} ({args.mode}) …", flush=True)
    if args.mode == "dynamic":
        for flag, value in (
            ("--device", args.device),
            ("--gateset", args.gateset),
            ("--slots", args.slots),
            ("--fold", args.fold),
            ("--calibration", args.calibration),
        ):
            if value:
                raise NatqError(
                    f"{flag} applies to layered programs (feed-forward rotations are decided at "
                    f"run time); use --mode layered"
                )
        x = None  # without --inputs: layer-1 angles are symbols, one circuit for any input
        if args.index and not args.inputs:
            raise NatqError("--index selects a row of --inputs; give --inputs X.npy")
        if args.inputs:
            inputs = files.load_inputs(args.inputs, model.input_dim)
            if not 0 <= args.index < len(inputs):
                raise NatqError(
                    f"--index {args.index} is out of range: {args.inputs} has "
                    f"{len(inputs)} rows (0..{len(inputs) - 1})"
                )
            x = inputs[args.index]
        program = compile_dynamic(model, x, not args.keep_ancillas, model_path=args.model)
    else:
        if args.inputs and not args.calibration:
            raise NatqError("a layered program runs on any inputs: give them to natq run")
        calibration, reference = _calibration_of(args), None
        if calibration is not None:
            from natq_cirq.compile.program import REFERENCE_INPUTS
            from natq_cirq.data import load_split

            # The slots are ranked by the network's read-out angles on reference inputs.
            if args.inputs:
                reference = files.load_inputs(args.inputs, model.input_dim)
            else:
                reference, _ = load_split(f"mnist-train:{REFERENCE_INPUTS}", model.scaling)
                reference = files.check_inputs(reference, model.input_dim, "mnist-train")
        program = compile_layered(
            model,
            args.device,
            args.gateset,
            args.slots,
            args.fold,
            drop_ancillas=not args.keep_ancillas,
            model_path=args.model,
            calibration=calibration,
            compensate=not args.no_compensation,
            reference_inputs=reference,
        )
    written = program.write(out, args.qasm)  # the program and its OpenQASM: both or neither
    print(f"{model.describe()}")
    print(program.describe())
    for path in written:
        print(f"wrote {path}")
    if args.draw:
        print(program.draw())
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from natq_cirq import files
    from natq_cirq.runners.calibrate import calibrate, plan_calibration

    out = Path(args.out)
    files.check_writable(out)
    g = args.g if args.g is not None else math.pi / 2
    if args.model:
        g = files.load_model(args.model).knobs.g
    options = _run_options(args)
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


def _run_options(args: argparse.Namespace, **more) -> RunOptions:
    """The runner options ``natq run`` and ``natq calibrate`` share, from their flags."""
    from natq_cirq.config import NoiseSpec
    from natq_cirq.runners import RunOptions

    return RunOptions(
        noise=NoiseSpec.parse(args.noise) if args.noise else None,
        slots=args.slots,
        fold=args.fold,
        progress=args.verbose > 0,
        project_id=args.project_id,
        dry_run=args.dry_run,
        **more,
    )


def _calibration_of(args: argparse.Namespace) -> Calibration | None:
    """``--calibration CAL.json`` read (Cirq loads for calibrations only), or ``None``."""
    if not args.calibration:
        if args.no_compensation:
            raise NatqError("--no-compensation goes with --calibration CAL.json")
        return None
    from natq_cirq.calibration import read_calibration

    return read_calibration(args.calibration)


def _add_calibration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calibration",
        help="CAL.json from natq calibrate: place read-outs on its best slots and compensate "
        "each angle so the calibrated probability is the ideal one (analytic: predict such a "
        "run from the calibration alone)",
    )
    parser.add_argument(
        "--no-compensation",
        action="store_true",
        help="with --calibration: choose the slots only, send the ideal angles",
    )


def cmd_demo(args: argparse.Namespace) -> int:
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


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line too (``natq: error: ...``, exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"natq: error: {self.prog.split()[-1]}: {message} (see {self.prog} -h)\n")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="natq", description="Naturally quantized neural networks on Cirq, qsim and TFQ."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train, or resume, a network (history.json, model.npz)")
    train.add_argument("--out", required=True, help="run folder (rerun the command to resume)")
    _add_train_arguments(train)
    train.set_defaults(func=cmd_train)

    run = sub.add_parser("run", help="run a trained model on inputs and write RESULTS.npz")
    run.add_argument(
        "model", help="MODEL.npz (compiled in memory), or PROGRAM.json from natq compile"
    )
    run.add_argument(
        "--model-file",
        help="with PROGRAM.json: the model file, if it moved (its content hash is checked)",
    )
    given = run.add_mutually_exclusive_group()
    given.add_argument("--inputs", help="X.npy, shape (n, M), scaled as the model expects")
    run.add_argument("--labels", help="Y.npy with the inputs' labels (to report the error rate)")
    given.add_argument("--dataset", help="mnist-test[:N] or mnist-train[:N] (labels included)")
    run.add_argument(
        "--backend",
        default="analytic",
        help="analytic (default; models only), cirq, cirq:dynamic, natq:dynamic, qsim, tfq, "
        + ", ".join(f"qvm:{p}" for p in PROCESSORS)
        + ", engine:PROCESSOR",
    )
    run.add_argument(
        "--noise",
        help="noise for analytic, cirq and qsim, e.g. depolarizing:0.001+readout:0.02 "
        "(kinds: depolarizing, amplitude_damping, readout, device:" + "|".join(PROCESSORS) + ")",
    )
    run.add_argument(
        "--slots",
        type=slot_count,
        help="read-outs per circuit when MODEL.npz is compiled in memory (default: the "
        "backend's; all: the whole device, engine only)",
    )
    run.add_argument(
        "--fold",
        type=int,
        default=0,
        help="add K rounds of identity-equivalent gate pairs (sqrt(X) sqrt(X)^dag, CZ CZ^dag) "
        "to every layered read-out circuit: noise amplification",
    )
    _add_calibration_arguments(run)
    run.add_argument(
        "--project-id", help="Google Cloud project of engine: (or GOOGLE_CLOUD_PROJECT)"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="layered backends: build and validate the program, report jobs, circuit "
        "executions and repetitions; submit nothing, need no credentials",
    )
    scale = run.add_argument_group("scale-out on Ray (every backend but analytic)")
    scale.add_argument(
        "--workers",
        type=int,
        help="split the inputs into shards run by N Ray workers in parallel; the bits do not "
        "depend on N (a local Ray with N CPUs unless --address)",
    )
    scale.add_argument("--address", help="join this Ray cluster (e.g. HEAD:6379, ray start)")
    scale.add_argument("--shard-size", type=int, default=16, help="inputs per shard (default 16)")
    scale.add_argument(
        "--max-jobs", type=int, help="engine: at most this many shards submitting at once"
    )
    run.add_argument("--verbose", type=int, default=1, choices=(0, 1), help="progress bars")
    run.add_argument("--shots", type=int, default=15, help="shots per input (default 15)")
    run.add_argument(
        "--seed", type=int, default=0, help="seed of the sampling, in [0, 2^32) (default 0)"
    )
    run.add_argument(
        "--deterministic",
        action="store_true",
        help="infer with a=0, g=pi/2 (the paper's deterministic inference; one shot)",
    )
    run.add_argument("--no-bits", action="store_true", help="do not store the hidden bits")
    run.add_argument("--out", required=True, help="RESULTS.npz")
    run.add_argument("--force", action="store_true", help="overwrite an existing RESULTS.npz")
    run.set_defaults(func=cmd_run)

    comp = sub.add_parser(
        "compile",
        help="lower a model into an executable program (PROGRAM.json) for natq run",
        description="Compile MODEL.npz into the program natq run executes. layered (hardware, "
        "qsim, TFQ, cirq): one slot circuit -- K read-outs side by side, placed on a device "
        "and rewritten into its gate set, folded, validated -- plus the model's content hash; "
        "natq run PROGRAM.json --inputs X --backend B runs exactly this circuit. dynamic: the "
        "whole network with feed-forward inside (cirq:dynamic, natq:dynamic), for one input "
        "(--inputs) or for any (layer-1 angles as symbols). natq run "
        "MODEL.npz compiles in memory with the backend's defaults: the same path.",
    )
    comp.add_argument("model", help="MODEL.npz")
    comp.add_argument(
        "--mode",
        choices=("layered", "dynamic"),
        default="layered",
        help="layered (default): the slot circuit every layered backend runs; dynamic: one "
        "circuit with feed-forward (cirq:dynamic, natq:dynamic)",
    )
    comp.add_argument(
        "--inputs",
        help="dynamic mode: X.npy (n, M); row --index is compiled in (default: any input, "
        "layer-1 angles as symbols theta1_i). Layered with --calibration: inputs whose read-out "
        "angles rank the slots (default: 256 MNIST training images)",
    )
    comp.add_argument("--index", type=int, default=0, help="row of --inputs (default 0)")
    comp.add_argument(
        "--device",
        choices=tuple(PROCESSORS),
        help="place the slots on this Google processor and validate (runs on its qvm:/engine: "
        "and on the simulators)",
    )
    comp.add_argument(
        "--gateset",
        choices=GATESETS,
        help="rewrite into this gate set (default with --device: the device's native one: "
        + ", ".join(f"{p} {native}" for p, (native, _) in PROCESSORS.items())
        + ")",
    )
    comp.add_argument(
        "--slots",
        type=slot_count,
        help="read-outs per execution (default 4; all: every pair of --device, for hardware)",
    )
    comp.add_argument(
        "--fold",
        type=int,
        default=0,
        help="K rounds of identity-equivalent gate pairs before the read-out (noise amplification)",
    )
    _add_calibration_arguments(comp)
    comp.add_argument(
        "--keep-ancillas", action="store_true", help="read out through ancillas even at g = pi/2"
    )
    comp.add_argument("--draw", action="store_true", help="print the circuit's diagram")
    comp.add_argument("--qasm", help="also write OpenQASM 3 of the layered circuit to this file")
    comp.add_argument("--out", required=True, help="PROGRAM.json")
    comp.add_argument("--force", action="store_true", help="overwrite existing files")
    comp.set_defaults(func=cmd_compile)

    cal = sub.add_parser(
        "calibrate",
        help="measure every read-out slot of a processor (CAL.json for --calibration)",
        description="Run the read-out circuits a layered run sends -- placed on every slot of "
        "the processor, rewritten into its gate set, folded -- at several angles, and fit each "
        "slot's P(-1) = A + B cos(psi) + C sin(psi) with standard errors. A fit that does not "
        "describe the data is refused. analytic (with --noise device:D) computes the exact "
        "tables of the simulated processor instead. The cost is printed before anything runs.",
    )
    cal.add_argument(
        "--backend",
        required=True,
        help=", ".join(f"qvm:{p}" for p in PROCESSORS)
        + ", engine:PROCESSOR, or analytic/cirq/qsim with --noise device:PROCESSOR",
    )
    cal.add_argument(
        "--noise",
        help="simulated processor of analytic, cirq, qsim: device:" + "|".join(PROCESSORS),
    )
    knob = cal.add_mutually_exclusive_group()
    knob.add_argument(
        "--g",
        type=angle,
        help="read-out strength of the circuits, e.g. 5pi/19 (default pi/2: projective)",
    )
    knob.add_argument("--model", help="take g from this MODEL.npz")
    cal.add_argument(
        "--fold",
        type=int,
        default=0,
        help="rounds of identity-equivalent gate pairs, as the runs to compensate (default 0)",
    )
    cal.add_argument(
        "--slots",
        type=slot_count,
        help="slots per calibration circuit (default: the backend's, as a run packs them)",
    )
    cal.add_argument(
        "--angles", type=int, default=8, help="calibration angles over [0, 2 pi) (default 8)"
    )
    cal.add_argument(
        "--shots", type=int, default=2000, help="repetitions per circuit and angle (default 2000)"
    )
    cal.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of simulated sampling, cirq and qsim (default 0; qvm: cirq_google's virtual "
        "machine is seeded once, with 0, as in natq run)",
    )
    cal.add_argument(
        "--project-id", help="Google Cloud project of engine: (or GOOGLE_CLOUD_PROJECT)"
    )
    cal.add_argument("--dry-run", action="store_true", help="print the plan and its cost only")
    cal.add_argument(
        "--verbose", type=int, default=1, choices=(0, 1), help="progress bar (default 1)"
    )
    cal.add_argument("--out", required=True, help="CAL.json")
    cal.add_argument("--force", action="store_true", help="overwrite an existing CAL.json")
    cal.set_defaults(func=cmd_calibrate)

    demo = sub.add_parser("demo", help="the main job: train classical and quantized, print a table")
    demo.add_argument(
        "--out", default="runs/demo", help="folder of the demo runs (default runs/demo)"
    )
    demo.add_argument("--epochs", type=int, default=5, help="epochs per network (default 5)")
    demo.add_argument("--layers", type=int, default=3, help="hidden layers (default 3)")
    demo.add_argument("--hidden", type=int, default=512, help="neurons per layer (default 512)")
    demo.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="0 silent, 1 progress bars (default), 2 one line per epoch",
    )
    demo.add_argument(
        "--no-backends",
        action="store_true",
        help="skip the small network run on analytic, qsim and qvm:rainbow",
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up messages (CUDA plugin probing) silenced.

    ``TF_CPP_MIN_LOG_LEVEL`` cannot silence lines printed before TensorFlow's logging starts, so
    file descriptor 2 is pointed at /dev/null for the import only; Python errors still surface.
    """
    if "tensorflow" in sys.modules:
        return
    import natq_cirq  # noqa: F401  (TF_USE_LEGACY_KERAS)

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull, collector_paused(freeze=True):
            os.dup2(devnull.fileno(), 2)
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    # TensorFlow's own advice (retracing when the demo trains several models in one process) is
    # for TensorFlow's developers, not for natq's users: errors only.
    tensorflow.get_logger().setLevel("ERROR")


# Files a command reads, checked before anything heavy loads: a mistyped path is answered at once.
_READ_FILES = {
    "model": "model",
    "model_file": "model",
    "inputs": "inputs",
    "labels": "labels",
    "calibration": "calibration",
}


def _check_early(args: argparse.Namespace) -> None:
    """What can be refused before anything heavy loads (the commands check again, fully).

    A missing input file, an output that exists, and a training run's whole configuration.
    """
    if getattr(args, "func", None) is cmd_train:
        args.config = _config_from(args)  # TrainConfig checks everything; nothing heavy loads
    for attr, what in _READ_FILES.items():
        value = getattr(args, attr, None)
        if value is None or Path(value).is_file():
            continue
        if attr == "model" and Path(value).suffix == ".json":
            what = "program"
        raise NatqError(f"{what} file {value} not found")
    out = getattr(args, "out", None)
    if out is not None and Path(out).exists() and not getattr(args, "force", True):
        if args.func is not cmd_train:  # training resumes in an existing run folder
            raise NatqError(f"{out} exists; use --force to overwrite it")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``natq``; returns the exit status."""
    args = make_parser().parse_args(argv)
    try:
        _check_early(args)
        if args.func in (cmd_train, cmd_demo):
            _import_tensorflow_quietly()
        return args.func(args)
    except NatqError as error:
        print(f"natq: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("natq: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
