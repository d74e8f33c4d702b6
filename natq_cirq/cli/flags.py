"""What every ``natq`` command shares: the parser, flag parsers, flags generated from dataclasses.

:func:`add_fields` turns the fields of an option dataclass that carry :func:`natq_cirq.flags.flag`
metadata into flags (name, default, choices and help from the field); :func:`values` reads them
back. Nothing here loads Cirq or TensorFlow: flags are refused before anything heavy loads.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from natq_cirq.cli.numbers import PARSERS
from natq_cirq.imports import collector_paused


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line too (``natq: error: ...``, exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"natq: error: {self.prog.split()[-1]}: {message} (see {self.prog} -h)\n")


def _flagged(cls) -> list[tuple[dataclasses.Field, dict, object]]:
    """``(field, flag metadata, default)`` of every flagged field, nested dataclasses inlined."""
    out = []
    for field in dataclasses.fields(cls):
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
            if dataclasses.is_dataclass(default):
                out += _flagged(type(default))
                continue
        else:
            default = field.default
        if "flag" in field.metadata:
            out.append((field, field.metadata["flag"], default))
    return out


def add_fields(parser, cls, names=None, groups: dict | None = None, **defaults) -> None:
    """Add a flag for each flagged field of ``cls`` (or those in ``names``) to ``parser``.

    ``groups`` collects help sections by name; ``defaults`` overrides a field's default.
    """
    groups = {} if groups is None else groups
    for field, meta, default in _flagged(cls):
        if names is not None and field.name not in names:
            continue
        default = defaults.get(field.name, default)
        name = "--" + field.name.replace("_", "-")
        where = parser
        if meta["group"]:
            if meta["group"] not in groups:
                groups[meta["group"]] = parser.add_argument_group(meta["group"])
            where = groups[meta["group"]]
        if default is False:  # a switch
            where.add_argument(name, action="store_true", help=meta["help"])
            continue
        kind = meta["kind"] or {int: "int", float: "float"}.get(type(default))
        help = meta["help"]
        if meta["show_default"] and default is not None:
            help += (
                f" (default {default:g})" if isinstance(default, float) else f" (default {default})"
            )
        where.add_argument(
            name,
            type=PARSERS.get(kind),
            default=default,
            choices=meta["choices"],
            metavar=meta["metavar"],
            help=help,
        )


def values(args: argparse.Namespace, cls, names=None) -> dict:
    """The flagged fields of ``cls`` read back from ``args`` (as :func:`add_fields` named them)."""
    return {
        field.name: getattr(args, field.name)
        for field, _, _ in _flagged(cls)
        if (names is None or field.name in names) and hasattr(args, field.name)
    }


def import_tensorflow_quietly() -> None:
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


__all__ = [
    "Parser",
    "add_fields",
    "import_tensorflow_quietly",
    "values",
]
