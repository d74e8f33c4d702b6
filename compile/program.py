"""The compiler's front door: a model in, an executable :class:`Program` out.

A program is what a backend runs, exactly:

* **layered** (:func:`compile_layered`): one slot circuit -- ``K`` independent read-outs side by
  side (:func:`natq_cirq.hardware.readout.slot_circuit`), placed on a device's qubit pairs or on line
  qubits, rewritten into a gate set, folded, validated -- and the classical rule, the model's
  weights and knobs, named by their content hash (:meth:`natq_cirq.files.ModelFile.digest`).
  The assignment: slot ``s`` is measured into key ``slot_{s}`` and rotated by symbol ``slot_{s}``;
  a run computes every (input, shot, neuron) item's angle layer by layer with
  :class:`~natq_cirq.compile.LayeredRule`, groups items of equal angle into one execution with as
  many repetitions as items, and deals ``K`` groups to the ``K`` slots of each execution, in order
  of angle (:mod:`natq_cirq.runners.layered`). Every layer of every network runs this one circuit.
* **dynamic** (:func:`compile_dynamic`): the whole network for one input, with feed-forward
  inside the circuit (``cirq:dynamic``).

``natq compile`` writes a program as JSON (:meth:`Program.write`; the circuit and the slots inside
are Cirq JSON), ``natq run PROGRAM.json`` reads it back (:func:`read_program`), and
``natq run MODEL.npz`` compiles in memory with the backend's defaults: one path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from natq_cirq.compile.circuits import LayeredRule, check_quantum, dynamic_circuit
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, read_document, write_texts
from natq_cirq.hardware.calibration import Compensation, probability_minus, select_slots
from natq_cirq.hardware.devices import (
    DEFAULT_GATESET,
    DEVICES,
    device,
    device_slots,
    placed_slot_circuit,
)
from natq_cirq.hardware.readout import Slot, line_slots, slot_key, slot_symbol, uses_ancillas
from natq_cirq.identity import strong_id
from natq_cirq.target import Target

import cirq
import numpy as np
import sympy

FORMAT = "natq-program"
VERSION = 1
DEFAULT_SLOTS = 4  # read-outs per execution: 2^(2K) amplitudes for a simulator
ALL_SLOTS = 0  # ask for every slot of the device (hardware)


@dataclass(frozen=True)
class Program:
    """A compiled, executable program: a :class:`LayeredProgram` or a :class:`DynamicProgram`.

    One reader (:func:`read_program`) and one writer (:meth:`write`) serve both kinds.

    Attributes:
        circuit: the circuit exactly as a backend executes it.
        model_sha256: content hash of the model the program was compiled from.
        network: the model's shape and knobs (``inputs``, ``layers``, ``hidden``, ``outputs``,
            ``a``, ``g``, ``memory``), for display and checks.
        model_path: where the model file was when compiled (relative to the program file once
            written); a run checks the hash of what it finds there.
    """

    mode: ClassVar[str] = ""
    keys: ClassVar[str] = ""  # the measurement keys' scheme, as written in the file

    circuit: cirq.Circuit
    model_sha256: str
    network: dict
    model_path: str | None = None

    # What every kind answers (overridden where a kind has more).
    device: ClassVar[str | None] = None
    gateset: ClassVar[str | None] = None
    fold: ClassVar[int] = 0
    slots: ClassVar[tuple] = ()
    compensation: ClassVar[Compensation | None] = None

    @property
    def slot_count(self) -> int:
        return len(self.slots)

    @property
    def target(self) -> Target:
        """Where this program's read-outs run: its processor, gate set, slots and fold.

        A calibrated program's calibration is named by :attr:`compensation` (its hash and the
        tables it needs), not carried whole.
        """
        return Target()

    @property
    def for_any_input(self) -> bool:
        """Whether this is a dynamic program for any input (layer-1 angles are symbols)."""
        return False

    def check_model(self, model: ModelFile, where: str = "the model") -> None:
        """Refuse a model other than the one compiled (edited weights or knobs)."""
        if model.digest() != self.model_sha256:
            raise NatqError(
                f"{where} is not the model this program was compiled from (its content hash "
                f"differs: weights or knobs changed); recompile with natq compile"
            )

    def summary(self) -> dict:
        """Qubits, moments, gate counts and what the program runs on."""
        ops = list(self.circuit.all_operations())
        return {
            "mode": self.mode,
            "device": self.device,
            "gateset": self.gateset,
            "fold": self.fold,
            "slots": self.slot_count,
            "qubits": len(self.circuit.all_qubits()),
            "moments": len(self.circuit),
            "one_qubit_gates": sum(
                1 for op in ops if len(op.qubits) == 1 and not cirq.is_measurement(op)
            ),
            "two_qubit_gates": sum(1 for op in ops if len(op.qubits) == 2),
            "measurements": sum(1 for op in ops if cirq.is_measurement(op)),
        }

    def describe(self) -> str:
        """The summary as a few printable lines."""
        s, n = self.summary(), self.network
        head = f"{s['mode']} program of a {n['inputs']} -> {n['layers']} x {n['hidden']} network"
        head += f" on {s['device']}" if s["device"] else " on line qubits"
        head += f", gate set {s['gateset']}" if s["gateset"] else ""
        head += f", fold {s['fold']}" if s["fold"] else ""
        lines = [
            head,
            f"qubits {s['qubits']}, moments {s['moments']}, one-qubit gates "
            f"{s['one_qubit_gates']}, two-qubit gates {s['two_qubit_gates']}, "
            f"measurements {s['measurements']}",
        ]
        return "\n".join(lines + self._more())

    def _more(self) -> list[str]:
        """Lines of :meth:`describe` that only one kind has."""
        return []

    def draw(self, width: int = 120) -> str:
        """The circuit as text, wrapped into blocks of moments at most ``width`` columns wide.

        Every block shows every qubit's wire; a moment wider than ``width`` gets a block alone.
        """
        qubits = cirq.QubitOrder.explicit(sorted(self.circuit.all_qubits()))

        def text(moments) -> str:
            return cirq.Circuit(moments).to_text_diagram(transpose=False, qubit_order=qubits)

        blocks, current = [], []
        for moment in self.circuit:
            if current and max(map(len, text([*current, moment]).splitlines())) > width:
                blocks.append(text(current))
                current = []
            current.append(moment)
        if current:
            blocks.append(text(current))
        return "\n\n(continued)\n\n".join(blocks)

    def to_qasm(self) -> str:
        """OpenQASM 3 of a layered program's slot circuit (its angles as inputs)."""
        raise NatqError(
            "OpenQASM is written for layered programs (dynamic circuits need feed-forward "
            "that Cirq's OpenQASM output cannot express)"
        )

    def to_json(self, relative_to: Path | None = None) -> str:
        """The program as JSON; ``model.path`` relative to ``relative_to`` (the program's folder)."""
        path = self.model_path
        if path is not None and relative_to is not None:
            path = os.path.relpath(Path(path).resolve(), relative_to.resolve())
        document = {
            "format": FORMAT,
            "version": VERSION,
            "mode": self.mode,
            "model": {"sha256": self.model_sha256, "path": path},
            "network": self.network,
            "device": self.device,
            "gateset": self.gateset,
            "fold": self.fold,
            "keys": self.keys,
            "slots": json.loads(cirq.to_json([list(slot) for slot in self.slots])),
            "compensation": None if self.compensation is None else self.compensation.to_dict(),
            "circuit": json.loads(cirq.to_json(self.circuit)),
        }
        document["sha256"] = content_hash(document)
        return json.dumps(document, indent=1) + "\n"

    def write(self, path: str | Path, qasm: str | Path | None = None) -> list[Path]:
        """Write the program's JSON to ``path`` (and OpenQASM to ``qasm``): both, or neither."""
        texts = {path: self.to_json(relative_to=Path(path).parent)}
        if qasm is not None:
            texts[qasm] = self.to_qasm()
        return write_texts(texts)


@dataclass(frozen=True)
class LayeredProgram(Program):
    """One slot circuit every layer of the network runs (:func:`compile_layered`).

    Attributes:
        slots: ``(neuron, ancilla)`` qubits of each slot (ancilla ``None`` for projective
            read-out); slot ``s`` is measured into key ``slot_{s}``, rotated by symbol ``slot_{s}``.
        device: the processor the circuit is placed on and validated for, or ``None``.
        gateset: the gate set it is rewritten into, or ``None``.
        fold: rounds of identity-equivalent gate pairs in it (noise amplification).
        compensation: with a calibration: the calibration's hash, its tables of the program's
            slots and whether angles are compensated
            (:class:`natq_cirq.hardware.calibration.Compensation`); a run applies it.
    """

    mode: ClassVar[str] = "layered"
    keys: ClassVar[str] = "slot_{s}"

    slots: tuple[Slot, ...] = ()
    device: str | None = None
    gateset: str | None = None
    fold: int = 0
    compensation: Compensation | None = None

    @property
    def target(self) -> Target:
        return Target(
            processor=self.device, gateset=self.gateset, slots=self.slot_count, fold=self.fold
        )

    def _more(self) -> list[str]:
        lines = [
            f"{self.slot_count} slot(s) per execution (keys and symbols slot_0 ..): each layer's "
            "read-outs of all inputs and shots are dealt to slots, equal angles sharing an "
            "execution"
        ]
        if self.compensation is not None:
            c = self.compensation
            lines.append(
                f"slots chosen by calibration {c.calibration[:12]}; angles "
                + ("compensated to the ideal read-out probabilities" if c.compensate else "as is")
            )
        return lines

    def to_qasm(self) -> str:
        """OpenQASM 3 of the slot circuit; its angles become ``input float[64]`` parameters."""
        return qasm_with_inputs(self.circuit)

    def check(self) -> None:
        """Refuse, in one line, a program whose parts disagree (an edited or hand-made file).

        Its slots, the circuit's measurement keys and symbols (``slot_0`` ..), the qubits (the
        slots' own, and the processor's), the compensation's tables and the network's shape must
        agree with each other.
        """
        k = self.slot_count
        if k < 1:
            raise NatqError("it has no slots")
        for slot in self.slots:
            if not (
                len(slot) == 2
                and isinstance(slot[0], cirq.Qid)
                and (slot[1] is None or isinstance(slot[1], cirq.Qid))
            ):
                raise NatqError(f"slot {slot!r} is not (neuron qubit, ancilla qubit or null)")
        expected = {slot_key(s) for s in range(k)}
        keys = {str(key) for key in cirq.measurement_key_names(self.circuit)}
        if keys != expected:
            raise NatqError(
                f"its {k} slots and the circuit's measurement keys disagree "
                f"({len(keys)} keys; {sorted(keys ^ expected)[:3]} ..)"
            )
        symbols = {str(name) for name in cirq.parameter_names(self.circuit)}
        if symbols != {str(slot_symbol(s)) for s in range(k)}:
            raise NatqError(f"the circuit's symbols are not slot_0 .. slot_{k - 1}")
        qubits = self.circuit.all_qubits()
        slot_qubits = {q for slot in self.slots for q in slot if q is not None}
        if not slot_qubits <= qubits:
            raise NatqError("its slots name qubits the circuit does not use")
        if self.device in DEVICES and not qubits <= set(device(self.device).metadata.qubit_set):
            raise NatqError(f"it claims {self.device}, but its circuit uses other qubits")
        if self.compensation is not None:
            tables = np.asarray(self.compensation.coefficients, dtype=np.float64)
            ideal = np.asarray(self.compensation.ideal, dtype=np.float64)
            if tables.shape != (k, 3) or ideal.shape != (3,):
                raise NatqError(f"its compensation has tables for {len(tables)} of {k} slots")
            if not (np.isfinite(tables).all() and np.isfinite(ideal).all()):
                raise NatqError("its compensation tables are not finite")


@dataclass(frozen=True)
class DynamicProgram(Program):
    """The whole network with feed-forward inside the circuit (:func:`compile_dynamic`)."""

    mode: ClassVar[str] = "dynamic"
    keys: ClassVar[str] = "d{layer}_{neuron}"

    @property
    def for_any_input(self) -> bool:
        """Whether it runs on any input, or has one input compiled in.

        For any input, layer-1 angles are symbols, bound per input by
        :func:`natq_cirq.compile.input_resolvers`.
        """
        return cirq.is_parameterized(self.circuit)

    def _more(self) -> list[str]:
        if self.for_any_input:
            return ["layer-1 angles are symbols theta1_0 ..: one circuit for every input"]
        return []


KINDS: dict[str, type[Program]] = {"layered": LayeredProgram, "dynamic": DynamicProgram}
MODES = tuple(KINDS)


def _network(model: ModelFile) -> dict:
    return {
        "inputs": model.input_dim,
        "layers": model.layers,
        "hidden": model.hidden,
        "outputs": model.outputs,
        "a": model.knobs.a,
        "g": model.knobs.g,
        "memory": model.knobs.memory,
    }


def compile_layered(
    model: ModelFile,
    target: Target | str | None = None,
    *,
    drop_ancillas: bool = True,
    device_spec: cirq.Device | None = None,
    model_path: str | None = None,
    reference_inputs: np.ndarray | None = None,
    **target_fields: object,
) -> Program:
    """The layered program of ``model`` on ``target``.

    Args:
        model: the trained network.
        target: where the read-outs run (:class:`natq_cirq.target.Target`), or a processor's name
            (``rainbow``, ``weber``, ``willow_pink``, or any name with ``device_spec``). What
            this compiler reads of it: the placement (slots placed on that processor's qubit
            pairs, the circuit validated there), ``gateset`` (``cz``, ``sqrt_iswap`` or
            ``sycamore``; default with a processor: its own,
            :data:`natq_cirq.hardware.devices.DEFAULT_GATESET`), ``slots`` (read-outs per execution,
            default :data:`DEFAULT_SLOTS`; ``0``: every slot of the processor), ``fold`` (rounds
            of identity-equivalent gate pairs), and ``calibration`` (of the processor, same gate
            set, ``g`` and fold: the slots are the ones with the smallest expected read-out bias
            for this network, :func:`natq_cirq.hardware.calibration.select_slots`, and the program
            carries their tables; ``compensate``: whether a run replaces each angle by the one
            whose calibrated probability is the ideal one). Its noise is a run's, not the
            program's.
        drop_ancillas: with ``g = pi/2``, measure neurons directly (default).
        device_spec: the device itself (a processor's ``get_device()``), when not shipped offline.
        model_path: where the model file is, recorded in the program.
        reference_inputs: inputs whose noiseless read-out angles rank the slots (default: a
            uniform grid of angles).
        **target_fields: :class:`~natq_cirq.target.Target` fields added to ``target``.

    Raises:
        NatqError: an impossible request, in one line.
    """
    if target is None or isinstance(target, str):
        target = Target(processor=target)
    target = target.merged(Target(**target_fields))
    device_name, gateset, slots = target.placement, target.gateset, target.slots
    fold, calibration, compensate = target.fold, target.calibration, target.compensate
    check_quantum(model)
    with_ancillas = uses_ancillas(model.knobs, drop_ancillas)
    dev = None
    if device_name is not None:
        dev = device_spec or device(device_name)
        gateset = gateset or DEFAULT_GATESET.get(device_name, "sqrt_iswap")
        available = device_slots(dev, with_ancillas)
    if slots == ALL_SLOTS:
        if dev is None:
            raise NatqError("slots 0 (the whole device) needs a device")
        # With a calibration, every slot that responds to its angle.
        slots = len(available) if calibration is None else len(calibration.usable())
    count = DEFAULT_SLOTS if slots is None else int(slots)
    if dev is None:
        placed = line_slots(count, with_ancillas)
    else:
        count = min(count, len(available)) if slots is None else count
        if count > len(available):
            raise NatqError(
                f"{count} slots do not fit on {device_name}: it has {len(available)} "
                f"{'qubit pairs' if with_ancillas else 'qubits'}"
            )
        placed = available[:count]
    compensation = None
    if calibration is not None:
        calibration.check(replace(target, gateset=gateset), model.knobs.g)
        if with_ancillas != calibration.ancillas:
            raise NatqError("the calibration and the program read out differently (ancillas)")
        angles = (
            None
            if reference_inputs is None
            else reference_angles(model, reference_inputs, calibration.ideal)
        )
        placed = select_slots(calibration, count, angles, compensate)
        compensation = Compensation(
            calibration.digest(),
            tuple(map(tuple, calibration.coefficients(placed).tolist())),
            calibration.ideal,
            compensate,
        )
    check_size(len(placed), with_ancillas, int(fold))
    circuit = placed_slot_circuit(model.knobs.g, placed, gateset, fold, dev)
    return LayeredProgram(
        circuit,
        model.digest(),
        _network(model),
        model_path,
        slots=tuple(placed),
        device=device_name,
        gateset=gateset,
        fold=int(fold),
        compensation=compensation,
    )


# A program's size, planned before it is built: ~300 bytes of JSON an operation, so this is a file
# of ~150 MB (the reader takes 256 MiB). rainbow's 23 qubits folded 1,000 times are ~46,000.
MAX_OPERATIONS = 500_000


def check_size(slots: int, ancillas: bool, fold: int) -> None:
    """Refuse, before building it, a slot circuit of more than :data:`MAX_OPERATIONS` operations.

    A slot's read-out is a handful of operations (rotation, entangler, measurement, rewritten);
    each fold round adds two single-qubit gates a qubit and two two-qubit gates a pair.
    """
    qubits = 2 if ancillas else 1
    operations = slots * (12 + fold * (2 * qubits + 2 * (qubits - 1)))
    if operations > MAX_OPERATIONS:
        raise NatqError(
            f"{slots} slots folded {fold} times make a program of ~{operations:,} operations; "
            f"at most {MAX_OPERATIONS:,}: fewer slots or a smaller fold"
        )


REFERENCE_INPUTS = 256  # inputs whose read-out angles rank a calibration's slots


def reference_angles(
    model: ModelFile, x: np.ndarray, ideal: Sequence[float], seed: int = 0
) -> np.ndarray:
    """Every layer's read-out angles of one noiseless shot on up to :data:`REFERENCE_INPUTS`.

    ``ideal``: the noiseless slot's ``(A0, B0, C0)``, which draws the bits between layers.
    """
    rule, rng, seen = LayeredRule(model), np.random.default_rng(seed), []

    def measure(layer: int, psi: np.ndarray) -> np.ndarray:
        seen.append(psi.reshape(-1))
        return np.where(rng.random(psi.shape) < probability_minus(ideal, psi), -1.0, 1.0)

    rule.sample(np.asarray(x)[:REFERENCE_INPUTS], 1, measure)
    return np.concatenate(seen)


def compile_dynamic(
    model: ModelFile,
    x: np.ndarray | None = None,
    drop_ancillas: bool = True,
    model_path: str | None = None,
) -> Program:
    """The dynamic program of ``model`` for one input ``x``, or for any (``x=None``, symbols)."""
    circuit = dynamic_circuit(model, x, drop_ancillas)
    return DynamicProgram(circuit, model.digest(), _network(model), model_path=model_path)


def content_hash(document: dict) -> str:
    """SHA-256 of a program document as natq compile wrote it, but its model's path.

    A run refuses a program whose parts were edited since (a compensation, a slot, the circuit);
    the path may be corrected by hand (the model's own content hash is checked anyway).
    """
    kept = {k: v for k, v in document.items() if k != "sha256"}
    kept["model"] = {k: v for k, v in dict(kept.get("model") or {}).items() if k != "path"}
    return strong_id(kept)


def read_program(path: str | Path) -> Program:
    """A program written by :meth:`Program.write`; anything else is one :class:`NatqError` line."""
    path = Path(path)
    document = read_document(
        path, "program", FORMAT, VERSION, "write one with natq compile MODEL.npz --out P.json"
    )
    kind = KINDS.get(document.get("mode"))
    if kind is None:
        raise NatqError(f"{path} is a damaged natq program (mode)")
    # Programs written before they carried their hash are checked part by part only.
    if "sha256" in document and document["sha256"] != content_hash(document):
        raise NatqError(
            f"{path} was edited after natq compile wrote it (its content hash differs); "
            "recompile it (only the model's path may be changed by hand)"
        )
    try:
        circuit = cirq.read_json(json_text=json.dumps(document["circuit"]))
        model = document["model"]
        fields = {
            "circuit": circuit,
            "model_sha256": str(model["sha256"]),
            "network": dict(document["network"]),
            "model_path": None if model["path"] is None else str(path.parent / model["path"]),
        }
        if kind is LayeredProgram:
            slots = cirq.read_json(json_text=json.dumps(document["slots"]))
            compensation = document.get("compensation")
            fields.update(
                slots=tuple((n, a) for n, a in slots),
                device=document["device"],
                gateset=document["gateset"],
                fold=int(document["fold"]),
                compensation=None if compensation is None else Compensation.from_dict(compensation),
            )
        program = kind(**fields)
    except Exception as error:
        raise NatqError(f"{path} is a damaged natq program ({type(error).__name__})") from None
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise NatqError(f"{path} is a damaged natq program (circuit)")
    _check_network(program.network, path)
    if isinstance(program, LayeredProgram):
        try:
            program.check()
        except NatqError as error:
            raise NatqError(f"{path} is not a consistent natq program: {error}") from None
    return program


def _check_network(network: dict, path: Path) -> None:
    """The network's shape: positive whole numbers (what a run checks the model against)."""
    for key in ("inputs", "layers", "hidden", "outputs"):
        value = network.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise NatqError(f"{path} is a damaged natq program (network {key}: {value!r})")


class _InputRotation(cirq.Gate):
    """QASM stand-in for a rotation by a free symbol: ``ry(name) q;`` (or ``rz``/``rx``)."""

    def __init__(self, axis: str, expression: str):
        self.axis, self.expression = axis, expression

    def _num_qubits_(self) -> int:
        return 1

    def _qasm_(self, args: cirq.QasmArgs, qubits) -> str:
        return args.format(f"r{self.axis}({self.expression}) {{0}};\n", qubits[0])


def _natural(name: str) -> list:
    """Sort key that puts slot_2 before slot_10."""
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
    # Cirq writes sxdg, which OpenQASM 3's stdgates.inc lacks: define it (qelib1's definition).
    defined = "gate sxdg a { s a; h a; s a; }\n" if re.search(r"^sxdg ", body, re.M) else ""
    return f'{header}include "stdgates.inc";\n{defined}{inputs}{body}'


__all__ = [
    "ALL_SLOTS",
    "DEFAULT_SLOTS",
    "KINDS",
    "MODES",
    "DynamicProgram",
    "LayeredProgram",
    "Program",
    "compile_dynamic",
    "compile_layered",
    "qasm_with_inputs",
    "read_program",
    "reference_angles",
    "slot_key",
    "slot_symbol",
]
