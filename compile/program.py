"""The compiler's front door: a model (and inputs) in, a :class:`CompiledProgram` out.

A program is a list of Cirq circuits with labels: one circuit for a dynamic compilation (one
input), or, for a layered compilation, one circuit per layer and tile. It writes Cirq JSON
(``cirq.read_json`` reads it back once ``natq_cirq`` is imported: a ``cirq.Circuit`` for dynamic
mode, a list of circuits in label order for layered mode), a text diagram, and OpenQASM 3 for
layered circuits (each free angle becomes an ``input float[64]`` parameter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from natq_cirq.compile.circuits import dynamic_circuit
from natq_cirq.compile.hardware import TargetedLayer, target_layer
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, atomic_write

import cirq
import numpy as np
import sympy

MODES = ("dynamic", "layered")


@dataclass
class CompiledProgram:
    """Circuits compiled from one model.

    Attributes:
        mode: ``"dynamic"`` or ``"layered"``.
        circuits: the circuits, in label order.
        labels: what each circuit is (``"input 3"``, ``"layer 2, tile 1/64"``).
        layers: for layered mode, the :class:`TargetedLayer` of each hidden layer.
        device: device name, if placed.
        gateset: gate set name, if rewritten.
    """

    mode: str
    circuits: list[cirq.Circuit]
    labels: list[str]
    layers: list[TargetedLayer] = field(default_factory=list)
    device: str | None = None
    gateset: str | None = None

    def summary(self) -> dict:
        """Qubits, moments, gate counts and depth, over all circuits and per layer."""
        ops = [op for c in self.circuits for op in c.all_operations()]
        measurements = sum(1 for op in ops if cirq.is_measurement(op))
        one = sum(1 for op in ops if len(op.qubits) == 1 and not cirq.is_measurement(op))
        two = sum(1 for op in ops if len(op.qubits) == 2)
        result = {
            "mode": self.mode,
            "device": self.device,
            "gateset": self.gateset,
            "circuits": len(self.circuits),
            "qubits": max(len(c.all_qubits()) for c in self.circuits),
            "moments": sum(len(c) for c in self.circuits),
            "depth": max(len(c) for c in self.circuits),
            "one_qubit_gates": one,
            "two_qubit_gates": two,
            "measurements": measurements,
        }
        if self.layers:
            result["circuits_per_layer"] = [len(layer.circuits) for layer in self.layers]
            result["replicas_per_circuit"] = self.layers[0].replicas
        return result

    def describe(self) -> str:
        """The summary as a few printable lines."""
        s = self.summary()
        lines = [
            f"{s['mode']} program: {s['circuits']} circuit(s)"
            + (f" on {s['device']}" if s["device"] else "")
            + (f", gate set {s['gateset']}" if s["gateset"] else ""),
            f"qubits {s['qubits']}, moments {s['moments']} (depth {s['depth']} per circuit), "
            f"one-qubit gates {s['one_qubit_gates']}, two-qubit gates {s['two_qubit_gates']}, "
            f"measurements {s['measurements']}",
        ]
        if self.layers:
            per_layer = ", ".join(f"layer {t.layer}: {len(t.circuits)}" for t in self.layers)
            lines.append(
                f"circuits per layer: {per_layer}; {s['replicas_per_circuit']} "
                "replica(s) (inputs or shots) side by side per circuit"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        """Cirq JSON: a circuit (dynamic) or a list of circuits (layered)."""
        return cirq.to_json(self.circuits[0] if self.mode == "dynamic" else self.circuits)

    def draw(self) -> str:
        """Text diagrams of every circuit, labelled."""
        return "\n\n".join(
            f"== {label}\n{circuit.to_text_diagram(transpose=False)}"
            for label, circuit in zip(self.labels, self.circuits, strict=True)
        )

    def to_qasm(self) -> str:
        """OpenQASM 3 of every layered circuit; free angles become ``input float[64]`` inputs."""
        if self.mode != "layered":
            raise NatqError(
                "OpenQASM is written for layered circuits (dynamic circuits need "
                "feed-forward that OpenQASM output of Cirq cannot express); use "
                "--mode layered"
            )
        return "\n".join(
            f"// {label}\n{qasm_with_inputs(circuit)}"
            for label, circuit in zip(self.labels, self.circuits, strict=True)
        )

    def write(self, path: str | Path) -> Path:
        """Atomically write the Cirq JSON to ``path``."""
        text = self.to_json()
        return atomic_write(path, lambda handle: handle.write(text), binary=False)


class _InputRotation(cirq.Gate):
    """QASM stand-in for a rotation by a free symbol: ``ry(name) q;`` (or ``rz``/``rx``)."""

    def __init__(self, axis: str, expression: str):
        self.axis, self.expression = axis, expression

    def _num_qubits_(self) -> int:
        return 1

    def _qasm_(self, args: cirq.QasmArgs, qubits) -> str:
        return args.format(f"r{self.axis}({self.expression}) {{0}};\n", qubits[0])


def _natural(name: str) -> list:
    """Sort key that puts theta_1_2 before theta_1_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def qasm_with_inputs(circuit: cirq.Circuit) -> str:
    """OpenQASM 3 of a circuit whose only symbols are in ``X/Y/Z`` rotations."""
    names: set[str] = set()

    def substitute(op: cirq.Operation, _: int) -> cirq.Operation:
        gate = op.gate
        if not cirq.is_parameterized(op):
            return op
        axes = {cirq.XPowGate: "x", cirq.YPowGate: "y", cirq.ZPowGate: "z"}
        axis = next((a for t, a in axes.items() if isinstance(gate, t)), None)
        if axis is None:
            raise NatqError(f"cannot write {op} to OpenQASM")
        angle = sympy.simplify(gate.exponent * sympy.pi)  # R_A(angle) = A**(angle/pi) up to phase
        names.update(str(s) for s in angle.free_symbols)
        return _InputRotation(axis, str(angle)).on(*op.qubits)

    text = cirq.Circuit(cirq.map_operations(circuit, substitute)).to_qasm(version="3.0")
    header, _, body = text.partition('include "stdgates.inc";\n')
    inputs = "".join(f"input float[64] {name};\n" for name in sorted(names, key=_natural))
    return f'{header}include "stdgates.inc";\n{inputs}{body}'


def compile_model(
    model: ModelFile,
    mode: str = "dynamic",
    x: np.ndarray | None = None,
    gateset: str | None = None,
    device: str | None = None,
    drop_ancillas: bool = True,
    replicas: int | None = None,
) -> CompiledProgram:
    """Compile ``model`` (and, in dynamic mode, the input ``x``).

    Args:
        model: the trained network.
        mode: ``"dynamic"`` (one circuit for the input ``x``) or ``"layered"`` (circuits per layer).
        x: one input ``(M,)`` for dynamic mode.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.
        device: ``rainbow`` or ``weber`` (layered mode only).
        drop_ancillas: with ``g = pi/2``, measure neurons directly (default).
        replicas: layered mode on a device: instances packed per circuit (default: as many as fit).

    Raises:
        NatqError: an impossible request, in one line.
    """
    if mode not in MODES:
        raise NatqError(f"unknown mode {mode!r}; choose dynamic or layered")
    if mode == "dynamic":
        if device:
            raise NatqError(
                "dynamic circuits need real-time feed-forward, which a device cannot "
                "validate; use --mode layered for --device"
            )
        if gateset:
            raise NatqError(
                "a gate set applies to layered circuits (feed-forward rotations are "
                "decided at run time); use --mode layered for --gateset"
            )
        if x is None:
            raise NatqError("dynamic mode compiles one input: give --inputs X.npy [--index I]")
        circuit = dynamic_circuit(model, x, drop_ancillas)
        return CompiledProgram("dynamic", [circuit], ["dynamic circuit"])
    layers = [
        target_layer(model, k, device, gateset, drop_ancillas, replicas)
        for k in range(1, model.layers + 1)
    ]
    circuits, labels = [], []
    for layer in layers:
        for t, circuit in enumerate(layer.circuits):
            circuits.append(circuit)
            labels.append(f"layer {layer.layer}, tile {t + 1}/{len(layer.circuits)}")
    return CompiledProgram("layered", circuits, labels, layers, device, layers[0].gateset_name)


__all__ = ["MODES", "CompiledProgram", "compile_model", "qasm_with_inputs"]
