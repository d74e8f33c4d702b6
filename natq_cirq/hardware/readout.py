"""The read-out of a neuron qubit as Cirq operations, and the one key and symbol scheme.

One read-out block (:func:`read_out_block`) serves every circuit natq-cirq builds: the dynamic
circuit (:func:`natq_cirq.compile.dynamic_circuit`), the slot circuit that layered backends run
(:func:`slot_circuit`), and the noisy engine's channel derivation (:mod:`natq_cirq.hardware.noisy`).

* Weak read-out (an ancilla): [reset the ancilla,] ``H`` on it,
  :class:`~natq_cirq.hardware.gates.WeakMeasurementEntangler` ``R_ZY(-g)`` on (neuron, ancilla), measure
  the ancilla.
* Projective read-out (no ancilla, ``g = pi/2``): measure the neuron.

Keys and symbols, one scheme:

* a **slot** ``s`` of a slot circuit is measured into key ``slot_{s}`` and rotated by symbol
  ``slot_{s}``; any neuron of any layer, input or shot may fill any slot (neurons never interact);
* the dynamic circuit records neuron ``i`` (0-based) of hidden layer ``k`` (1-based) under key
  ``d{k}_{i}``; compiled for any input, its layer-1 angles are symbols ``theta1_{i}``. Bit ``0``
  means ``d = +1`` everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from natq_cirq.hardware.gates import WeakMeasurementEntangler
from natq_cirq.physics import Knobs

import cirq
import numpy as np
import sympy

# A neuron's place in a circuit: its qubit and its ancilla (None for projective read-out).
Slot = tuple[cirq.Qid, cirq.Qid | None]


def record_key(layer: int, neuron: int) -> str:
    """The dynamic circuit's key of neuron ``neuron`` (0-based) in hidden layer ``layer`` (1-based)."""
    return f"d{layer}_{neuron}"


def input_symbol(neuron: int) -> sympy.Symbol:
    """The symbol of neuron ``neuron``'s layer-1 angle in a dynamic circuit compiled for any input."""
    return sympy.Symbol(f"theta1_{neuron}")


def slot_key(slot: int) -> str:
    """The measurement key of slot ``slot`` of a :func:`slot_circuit`."""
    return f"slot_{slot}"


def slot_symbol(slot: int) -> sympy.Symbol:
    """The rotation-angle symbol of slot ``slot`` of a :func:`slot_circuit`."""
    return sympy.Symbol(f"slot_{slot}")


def uses_ancillas(knobs: Knobs, drop_ancillas: bool = True) -> bool:
    """Whether read-out goes through ancillas (always, unless ``g = pi/2`` and they are dropped)."""
    return not (drop_ancillas and knobs.strength == 1.0)


def read_out_block(
    neuron: cirq.Qid, ancilla: cirq.Qid | None, g: float, key: str, reset: bool = False
) -> list[cirq.Operation]:
    """The read-out of one neuron, one operation per moment (see the module docstring)."""
    if ancilla is None:
        return [cirq.measure(neuron, key=key)]
    block = [cirq.reset(ancilla)] if reset else []
    return block + [
        cirq.H(ancilla),
        WeakMeasurementEntangler(g)(neuron, ancilla),
        cirq.measure(ancilla, key=key),
    ]


def read_out_moments(
    slots: Sequence[Slot], g: float, keys: Sequence[str], reset: bool = False
) -> list[cirq.Moment]:
    """Read-out blocks of several neurons side by side, moment by moment."""
    blocks = [read_out_block(n, a, g, key, reset) for (n, a), key in zip(slots, keys, strict=True)]
    return [cirq.Moment(ops) for ops in zip(*blocks, strict=True)]


def slot_circuit(g: float, slots: Sequence[Slot]) -> cirq.Circuit:
    """Independent neuron read-outs side by side: the circuit every layered backend executes.

    Slot ``s`` prepares its neuron with ``R_Y(slot_s)`` and reads it out into key ``slot_s``. A
    neuron's known state and its layer's rotation fold into that one angle (the layered rule,
    :class:`natq_cirq.compile.LayeredRule`).
    """
    rotations = cirq.Moment(cirq.ry(slot_symbol(s)).on(n) for s, (n, _) in enumerate(slots))
    keys = [slot_key(s) for s in range(len(slots))]
    return cirq.Circuit([rotations, *read_out_moments(slots, g, keys)])


def line_slots(count: int, with_ancillas: bool) -> list[Slot]:
    """``count`` slots on line qubits (neuron ``2s``, ancilla ``2s + 1``), for simulators."""
    if not with_ancillas:
        return [(cirq.LineQubit(s), None) for s in range(count)]
    return [(cirq.LineQubit(2 * s), cirq.LineQubit(2 * s + 1)) for s in range(count)]


def bits_from_records(records: dict[str, np.ndarray], keys: Sequence[str]) -> np.ndarray:
    """``(repetitions, len(keys))`` activations ``+-1`` from Cirq measurement records."""
    columns = [np.asarray(records[key]).reshape(-1) for key in keys]
    return (1 - 2 * np.stack(columns, axis=1)).astype(np.int8)


__all__ = [
    "Slot",
    "bits_from_records",
    "input_symbol",
    "line_slots",
    "read_out_block",
    "read_out_moments",
    "record_key",
    "slot_circuit",
    "slot_key",
    "slot_symbol",
    "uses_ancillas",
]
