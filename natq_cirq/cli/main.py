"""The ``natq`` parser and entry point: one module per command, checks before heavy imports.

Each command module (:data:`COMMANDS`) has ``register(subparsers)`` and ``main(args)``, and says
whether it needs TensorFlow (``NEEDS_TENSORFLOW``). Bad input ends with one line on stderr and
exit status 2; an interrupted command says how to resume and exits with 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from natq_cirq.cli import calibrate, compile, demo, run, train
from natq_cirq.cli.flags import Parser, import_tensorflow_quietly
from natq_cirq.errors import NatqError

COMMANDS = {module.__name__: module for module in (train, run, compile, calibrate, demo)}

# Files a command reads, checked before anything heavy loads: a mistyped path is answered at once.
READ_FILES = {
    "model": "model",
    "model_file": "model",
    "inputs": "inputs",
    "labels": "labels",
    "calibration": "calibration",
}


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="natq", description="Naturally quantized neural networks on Cirq, qsim and TFQ."
    )
    sub = parser.add_subparsers(dest="name", required=True, parser_class=Parser)
    for module in COMMANDS.values():
        module.register(sub)
    return parser


def check_early(args: argparse.Namespace) -> None:
    """What can be refused before anything heavy loads (the commands check again, fully).

    A missing input file, an output that exists, and what a command checks itself (``early``).
    """
    if getattr(args, "early", None) is not None:
        args.early(args)
    for attr, what in READ_FILES.items():
        value = getattr(args, attr, None)
        if value is None or Path(value).is_file():
            continue
        if attr == "model" and Path(value).suffix == ".json":
            what = "program"
        raise NatqError(f"{what} file {value} not found")
    out = getattr(args, "out", None)
    resumes = getattr(COMMANDS[args.command], "RESUMES_IN_OUT", False)
    if out is not None and Path(out).exists() and not getattr(args, "force", True) and not resumes:
        raise NatqError(f"{out} exists; use --force to overwrite it")


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a command as Ctrl-C does: cleanly, resumable


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``natq``; returns the exit status."""
    for stream in (sys.stdout, sys.stderr):  # a path natq prints never fails on the encoding
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = make_parser().parse_args(argv)
    command = COMMANDS[args.command]
    # SIGTERM as SIGINT, where a handler can be set (the main thread).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        check_early(args)
        if command.NEEDS_TENSORFLOW:
            import_tensorflow_quietly()
        return command.main(args)
    except NatqError as error:
        print(f"natq: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("natq: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
