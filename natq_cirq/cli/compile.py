"""``natq compile``: lower a model into the program ``natq run`` executes (``PROGRAM.json``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from natq_cirq.catalog import PROCESSORS
from natq_cirq.cli.inputs import inside
from natq_cirq.cli.numbers import whole
from natq_cirq.cli.target import add_target_arguments, target_of
from natq_cirq.errors import NatqError

NEEDS_TENSORFLOW = False
DESCRIPTION = (
    "Compile MODEL.npz into the program natq run executes. layered (hardware, qsim, TFQ, cirq): "
    "one slot circuit -- K read-outs side by side, placed on a device and rewritten into its "
    "gate set, folded, validated -- plus the model's content hash; natq run PROGRAM.json "
    "--inputs X --backend B runs exactly this circuit. dynamic: the whole network with "
    "feed-forward inside (cirq:dynamic, natq:dynamic), for one input (--inputs) or for any "
    "(layer-1 angles as symbols). natq run MODEL.npz compiles in memory with the backend's "
    "defaults: the same path."
)


def register(sub) -> None:
    comp = sub.add_parser(
        "compile",
        help="lower a model into an executable program (PROGRAM.json) for natq run",
        description=DESCRIPTION,
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
    comp.add_argument("--index", type=whole, default=0, help="row of --inputs (default 0)")
    comp.add_argument(
        "--device",
        choices=tuple(PROCESSORS),
        help="place the slots on this Google processor and validate (runs on its qvm:/engine: "
        "and on the simulators)",
    )
    add_target_arguments(comp, ("gateset", "slots", "fold", "calibration"), noise=None)
    comp.add_argument(
        "--keep-ancillas", action="store_true", help="read out through ancillas even at g = pi/2"
    )
    comp.add_argument("--draw", action="store_true", help="print the circuit's diagram")
    comp.add_argument("--qasm", help="also write OpenQASM 3 of the layered circuit to this file")
    comp.add_argument("--out", required=True, help="PROGRAM.json")
    comp.add_argument("--force", action="store_true", help="overwrite existing files")
    comp.set_defaults(command=__name__)


def _dynamic(args: argparse.Namespace, model):
    from natq_cirq import files
    from natq_cirq.compile import compile_dynamic

    given = [f for f in ("device", "gateset", "slots", "calibration") if getattr(args, f)]
    given += ["fold"] * bool(args.fold)
    if given:
        raise NatqError(
            f"--{given[0]} applies to layered programs (feed-forward rotations are decided at "
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
    return compile_dynamic(model, x, not args.keep_ancillas, model_path=args.model)


def _layered(args: argparse.Namespace, model):
    from natq_cirq import files
    from natq_cirq.compile import compile_layered

    if args.inputs and not args.calibration:
        raise NatqError("a layered program runs on any inputs: give them to natq run")
    target, reference = target_of(args, processor=args.device), None
    if target.calibration is not None:
        from natq_cirq.compile.program import REFERENCE_INPUTS
        from natq_cirq.data import load_split

        # The slots are ranked by the network's read-out angles on reference inputs.
        if args.inputs:
            reference = files.load_inputs(args.inputs, model.input_dim)
        else:
            reference, _ = load_split(f"mnist-train:{REFERENCE_INPUTS}", model.scaling)
            reference = files.check_inputs(reference, model.input_dim, "mnist-train")
    return compile_layered(
        model,
        target,
        drop_ancillas=not args.keep_ancillas,
        model_path=args.model,
        reference_inputs=reference,
    )


def main(args: argparse.Namespace) -> int:
    from natq_cirq import files

    out = Path(args.out)
    for path in (out, Path(args.qasm) if args.qasm else None):
        if path is not None and path.exists() and not args.force:
            raise NatqError(f"{path} exists; use --force to overwrite it")
    inputs = [args.model, args.inputs, args.calibration]
    files.check_output(out, inputs)
    if args.qasm:
        files.check_output(args.qasm, [*inputs, out])
    files.check_writable(out)
    model = files.load_model(args.model)
    # Placing and rewriting the paper's network takes about a minute: say what is happening.
    print(f"compiling {model.describe()} ({args.mode}) …", flush=True)
    program = (_dynamic if args.mode == "dynamic" else _layered)(args, model)
    written = program.write(out, args.qasm)  # the program and its OpenQASM: both or neither
    print(f"{model.describe()}")
    print(program.describe())
    for path in written:
        print(f"wrote {path}")
    if not inside(Path(args.model), out.parent):
        print(
            f"note: the model is outside {out.parent}: run the program with --model-file {args.model}"
        )
    if args.draw:
        print(program.draw())
    return 0
