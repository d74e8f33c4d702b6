"""How a field of an option dataclass becomes a command-line flag: :func:`flag` metadata only.

The option classes (:class:`natq_cirq.config.TrainConfig`, :class:`natq_cirq.data.DataSpec`,
:class:`natq_cirq.target.Target`, and the run's :class:`natq_cirq.runners.options.RunOptions`,
:class:`~natq_cirq.runners.options.Sampling` and :class:`~natq_cirq.runners.options.ScaleOut`)
say once, beside each field, what its flag means; the command line (:mod:`natq_cirq.cli.flags`)
generates the flags, their defaults and help from them.
"""

from __future__ import annotations

from typing import Any

# Help sections.
NETWORK = "network and knobs"
PROTOCOL = "protocol (defaults: the paper's Table I)"
BOOKKEEPING = "bookkeeping"
TARGET = "target: where and how the read-outs run"
EXECUTION = "execution"
SCALE = "scale-out on Ray (every backend but analytic)"

# How a flag's text becomes a value, by name (the command line holds the parsers).
KINDS = ("int", "float", "number", "angle", "slots", "text")


def flag(
    help: str,
    *,
    kind: str | None = None,
    choices: tuple[str, ...] | None = None,
    group: str | None = None,
    metavar: str | None = None,
    show_default: bool = True,
) -> dict[str, Any]:
    """Field metadata for a flag: ``field(default=..., metadata=flag("what it is"))``.

    Args:
        help: what the flag means (the default is appended unless ``show_default`` is false).
        kind: one of :data:`KINDS` (default: from the field's default value's type).
        choices: the values allowed.
        group: the help section it is listed under.
        metavar: the placeholder shown in help.
        show_default: append ``(default …)`` to the help.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown flag kind {kind!r}")
    return {
        "flag": {
            "help": help,
            "kind": kind,
            "choices": choices,
            "group": group,
            "metavar": metavar,
            "show_default": show_default,
        }
    }


__all__ = [
    "BOOKKEEPING",
    "EXECUTION",
    "KINDS",
    "NETWORK",
    "PROTOCOL",
    "SCALE",
    "TARGET",
    "flag",
]
