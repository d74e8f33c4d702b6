"""Interoperability proven in a second toolchain: the OpenQASM 3 of a layered program, parsed by
Qiskit's importer with its inputs bound, gives Cirq's read-out probabilities."""

from natq_cirq.compile import compile_layered
from natq_cirq.physics import Knobs

import cirq
import numpy as np
import pytest
import qiskit.qasm3
from qiskit.quantum_info import Statevector
from test_compile import tiny_model

RNG = np.random.default_rng(11)


def qiskit_probabilities(qasm: str, values: dict[str, float]) -> dict[int, float]:
    """P(bit = 1) of each ``slot_s`` measurement, by Qiskit's state vector of the parsed program."""
    circuit = qiskit.qasm3.loads(qasm)
    bound = circuit.assign_parameters({p: values[p.name] for p in circuit.parameters})
    measured = {}
    for instruction in bound.data:
        if instruction.operation.name == "measure":
            register = bound.find_bit(instruction.clbits[0]).registers[0][0].name
            measured[int(register.removeprefix("m_slot_"))] = bound.find_bit(
                instruction.qubits[0]
            ).index
    probabilities = Statevector(bound.remove_final_measurements(inplace=False)).probabilities()
    indices = np.arange(len(probabilities))
    # Qiskit numbers basis states little-endian: qubit k is bit k of the index.
    return {s: float(probabilities[(indices >> q) & 1 == 1].sum()) for s, q in measured.items()}


def cirq_probabilities(circuit: cirq.Circuit, values: dict[str, float]) -> dict[int, float]:
    resolved = cirq.resolve_parameters(circuit, values)
    keyed = {
        int(cirq.measurement_key_name(op).removeprefix("slot_")): op.qubits[0]
        for op in resolved.all_operations()
        if cirq.is_measurement(op)
    }
    qubits = sorted(resolved.all_qubits())
    state = cirq.final_state_vector(cirq.drop_terminal_measurements(resolved), qubit_order=qubits)
    probabilities = np.abs(state.reshape((2,) * len(qubits))) ** 2
    out = {}
    for s, qubit in keyed.items():
        axes = tuple(i for i in range(len(qubits)) if qubits[i] != qubit)
        out[s] = float(probabilities.sum(axis=axes)[1])
    return out


@pytest.mark.parametrize(
    "knobs, device",
    [(Knobs(0.4, 1.1), None), (Knobs(0.4), None), (Knobs(0.3, 0.7), "rainbow")],
    ids=["weak", "projective", "weak-on-rainbow"],
)
def test_qasm_parses_in_qiskit_and_gives_cirqs_probabilities(knobs, device):
    program = compile_layered(tiny_model(knobs), device, slots=3)
    qasm = program.to_qasm()
    for _ in range(3):
        values = {f"slot_{s}": float(v) for s, v in enumerate(RNG.uniform(-np.pi, np.pi, 3))}
        ours, theirs = (
            cirq_probabilities(program.circuit, values),
            qiskit_probabilities(qasm, values),
        )
        assert ours.keys() == theirs.keys() == {0, 1, 2}
        for s in ours:
            assert abs(ours[s] - theirs[s]) < 1e-6, (s, ours[s], theirs[s])
    # Power: a different angle gives a measurably different probability.
    shifted = {k: v + 0.5 for k, v in values.items()}
    assert max(abs(qiskit_probabilities(qasm, shifted)[s] - ours[s]) for s in ours) > 1e-3
