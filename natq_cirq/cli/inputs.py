"""What ``natq run`` reads: the model or program, and the inputs with their labels."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from natq_cirq.errors import NatqError


def model_and_program(args: argparse.Namespace):
    """The model (and the program, for PROGRAM.json), with their paths as recorded."""
    from natq_cirq import files

    source = Path(args.model)
    if source.suffix != ".json":
        if args.model_file:
            raise NatqError("--model-file goes with PROGRAM.json")
        return files.load_model(source), None, str(source)
    from natq_cirq.compile import read_program  # Cirq loads for programs only

    program = read_program(source)
    model_path = args.model_file or program.model_path
    if model_path is None:
        raise NatqError(f"{source} names no model file; give it with --model-file MODEL.npz")
    if not args.model_file and not inside(Path(model_path), source.parent):
        # A program is not a door: what it names stays within its own folder.
        raise NatqError(
            f"{source} names a model outside its folder ({model_path}); give the model with "
            "--model-file MODEL.npz"
        )
    model = files.load_model(model_path)
    program.check_model(model, str(model_path))
    if args.deterministic:
        raise NatqError("--deterministic changes the knobs: run MODEL.npz, not a program")
    return model, program, str(model_path)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` as written (no symbolic link followed) lies within ``folder``."""
    here = os.path.normpath(os.path.abspath(folder))
    there = os.path.normpath(os.path.abspath(path))
    return os.path.commonpath([here, there]) == here


def inputs_of(args: argparse.Namespace, model, program):
    """``(x, labels)``; ``x`` None for a dynamic program with its input compiled in."""
    from natq_cirq import files
    from natq_cirq.data import load_split

    x = labels = None
    if program is not None and program.mode == "dynamic" and not program.for_any_input:
        if args.inputs or args.dataset:
            raise NatqError(f"{args.model} is a dynamic program: its input is compiled in")
    elif args.inputs:
        x = files.load_inputs(args.inputs, model.input_dim)
    elif args.dataset:
        x, labels = load_split(args.dataset, model.scaling)
        x = files.check_inputs(x, model.input_dim, args.dataset)
    else:
        raise NatqError("give the inputs: --inputs X.npy or --dataset mnist-test[:N]")
    if args.labels:
        labels = files.load_labels(args.labels, 1 if x is None else len(x), model.outputs)
    return x, labels
