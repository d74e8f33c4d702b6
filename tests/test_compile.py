"""The compiler: Cirq protocols of the new gates, eq. 8, and circuits that sample the exact engine."""

import natq_cirq
from natq_cirq import physics
from natq_cirq.compile import LayeredRule, compile_dynamic, compile_layered, dynamic_circuit
from natq_cirq.compile.circuits import ancilla_qubit, neuron_qubit
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.hardware.gates import FeedForwardRotation, WeakMeasurementEntangler
from natq_cirq.hardware.readout import bits_from_records, record_key, slot_key, slot_symbol
from natq_cirq.physics import Knobs
from natq_cirq.runners import make_runner

import cirq
import numpy as np
import pytest
import scipy.linalg
from helpers import assert_records_match

REPR_NAMESPACE = {"natq_cirq": natq_cirq}
RNG = np.random.default_rng(3)


def tiny_model(knobs, hidden=3, layers=2, inputs=4):
    rng = np.random.default_rng(1)
    shapes = [(inputs, hidden)] + [(hidden, hidden)] * (layers - 1) + [(hidden, 2)]
    return ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], knobs)


X = np.array([0.3, -0.2, 0.5, 0.1])


@pytest.mark.parametrize("g", [0.0, 0.3, 5 * np.pi / 19, np.pi / 2])
def test_entangler_protocols(g):
    cirq.testing.assert_implements_consistent_protocols(
        WeakMeasurementEntangler(g), global_vals=REPR_NAMESPACE
    )
    zy = np.kron(cirq.unitary(cirq.Z), cirq.unitary(cirq.Y))
    np.testing.assert_allclose(
        cirq.unitary(WeakMeasurementEntangler(g)), scipy.linalg.expm(1j * g / 2 * zy), atol=1e-12
    )
    # The decomposition is exact, global phase included.
    pair = cirq.LineQubit.range(2)
    decomposed = cirq.Circuit(cirq.decompose_once(WeakMeasurementEntangler(g).on(*pair)))
    np.testing.assert_allclose(
        cirq.unitary(decomposed), scipy.linalg.expm(1j * g / 2 * zy), atol=1e-12
    )


def test_entangler_rejects_non_finite_g():
    for g in (float("nan"), float("inf")):
        with pytest.raises(NatqError, match="finite"):
            WeakMeasurementEntangler(g)


def test_feed_forward_rotation_protocols():
    op = FeedForwardRotation(cirq.LineQubit(0), [0.5, -1.25], ["d1_0", "d1_1"], "d1_0", 0.3)
    # Its angle is a function of many records computed at run time: no static decomposition.
    cirq.testing.assert_implements_consistent_protocols(
        op, global_vals=REPR_NAMESPACE, ignore_decompose_to_default_gateset=True
    )
    assert cirq.control_keys(op) == {cirq.MeasurementKey("d1_0"), cirq.MeasurementKey("d1_1")}
    assert not cirq.has_unitary(op)


def test_feed_forward_angle_reads_the_records():
    q = cirq.LineQubit.range(3)
    op = FeedForwardRotation(q[2], [0.5, -1.25], ["m0", "m1"], "m0", 0.3)
    # m0 = 1 (d = -1), m1 = 0 (d = +1): h = -0.5 - 1.25, d_prev = -1.
    circuit = cirq.Circuit(
        cirq.X(q[0]), cirq.measure(q[0], key="m0"), cirq.measure(q[1], key="m1"), op
    )
    state = cirq.Simulator().simulate(circuit).final_state_vector
    theta = physics.rotation_angle(-1.75, 0.3, -1.0)
    expected = cirq.unitary(cirq.ry(theta)) @ np.array([1, 0])
    np.testing.assert_allclose(state.reshape(2, 2, 2)[1, 0, :], expected, atol=1e-6)


@pytest.mark.parametrize("g", RNG.uniform(0, np.pi / 2, 5))
def test_compiled_pair_block_is_eq8(g):
    """H on the ancilla then the entangler, as compiled, gives eq. 8 for random (alpha, beta)."""
    circuit = dynamic_circuit(tiny_model(Knobs(0.0, g), hidden=1, layers=1, inputs=1), [0.3])
    pair = [neuron_qubit(0), ancilla_qubit(0)]
    block = cirq.Circuit(
        op for op in circuit.all_operations() if pair[1] in op.qubits and cirq.has_unitary(op)
    )
    assert len(list(block.all_operations())) == 2  # H, then the entangler
    unitary = block.unitary(qubit_order=pair)
    c, s = np.sqrt((1 + np.sin(g)) / 2), np.sqrt((1 - np.sin(g)) / 2)
    for angle in RNG.uniform(-np.pi, np.pi, 20):
        alpha, beta = np.cos(angle), np.sin(angle)
        state = unitary @ np.kron([alpha, beta], [1, 0])
        np.testing.assert_allclose(state, [c * alpha, s * alpha, s * beta, c * beta], atol=1e-12)


def test_dynamic_circuit_structure():
    circuit = dynamic_circuit(tiny_model(Knobs(0.4, 1.1)), X)
    keys = {str(k) for k in cirq.measurement_key_names(circuit)}
    assert keys == {record_key(k, i) for k in (1, 2) for i in range(3)}
    assert len(circuit.all_qubits()) == 6
    projective = dynamic_circuit(tiny_model(Knobs(0.4)), X)
    assert len(projective.all_qubits()) == 3  # ancillas dropped at g = pi/2
    assert len(dynamic_circuit(tiny_model(Knobs(0.4)), X, drop_ancillas=False).all_qubits()) == 6


KNOBS = [Knobs(0.4, 1.1), Knobs(0.0, 0.8), Knobs(0.6), Knobs(0.5, 0.9, "reprepared")]


@pytest.mark.parametrize("knobs", KNOBS, ids=str)
def test_dynamic_circuit_samples_the_exact_distribution(knobs):
    model = tiny_model(knobs)
    shots = 2000
    bits = make_runner("cirq:dynamic").run(model, X[None], shots=shots, seed=5).bits
    assert_records_match(
        bits.reshape(shots, -1), physics.exact_record_distribution(X, model.kernels, knobs)
    )


@pytest.mark.parametrize("knobs", KNOBS, ids=str)
def test_layered_rule_on_the_slot_circuit_samples_the_exact_distribution(knobs):
    """The reference executor: LayeredRule's loop, one cirq.Simulator run per item."""
    model = tiny_model(knobs)
    shots = 2000
    program = compile_layered(model, slots=1)
    simulator = cirq.Simulator(seed=6)

    def measure(layer, angles):
        d = np.empty(angles.shape, dtype=np.int8)
        for index, angle in np.ndenumerate(angles):
            result = simulator.run(program.circuit, {slot_symbol(0): angle})
            d[index] = bits_from_records(result.measurements, [slot_key(0)])[0, 0]
        return d

    bits = LayeredRule(model).sample(X[None], shots, measure)
    assert bits.shape == (1, shots, 2, 3)
    assert_records_match(
        bits.reshape(shots, -1), physics.exact_record_distribution(X, model.kernels, knobs)
    )


def test_json_round_trip():
    model = tiny_model(Knobs(0.4, 1.1))
    for circuit in (
        dynamic_circuit(model, X),
        compile_layered(model).circuit,
        dynamic_circuit(tiny_model(Knobs(0.3, 1.0, "reprepared")), X),
    ):
        assert cirq.read_json(json_text=cirq.to_json(circuit)) == circuit


def test_bad_inputs():
    model = tiny_model(Knobs(0.4, 1.1))
    with pytest.raises(NatqError, match="expects one row of 4"):
        dynamic_circuit(model, np.zeros(5))
    with pytest.raises(NatqError, match="NaN"):
        dynamic_circuit(model, np.array([0, np.nan, 0, 0]))
    with pytest.raises(NatqError, match="expects one row of 4"):
        compile_dynamic(model, np.zeros(5))


def test_draw_wraps_wide_circuits():
    program = compile_dynamic(tiny_model(Knobs(0.4, 1.1), hidden=8, layers=2), X)
    whole = program.circuit.to_text_diagram(transpose=False)
    wrapped = program.draw(width=120)
    blocks = wrapped.split("\n\n(continued)\n\n")
    assert len(blocks) > 1
    assert max(map(len, wrapped.splitlines())) < max(map(len, whole.splitlines()))
    # Nothing is lost: every gate label appears as often as in the one-piece diagram.
    for label in ("ZY(-1.1):Y", "ZY(-1.1):Z", "RY(ff"):
        assert wrapped.count(label) == whole.count(label), label


def test_a_program_too_large_to_read_back_is_refused_before_it_is_built():
    """Issue 28: --slots and --fold large together compiled for minutes into a 580 MB file."""
    import time

    start = time.perf_counter()
    with pytest.raises(NatqError, match="fewer slots or a smaller fold"):
        compile_layered(tiny_model(Knobs(0.3)), slots=1000, fold=1000)
    assert time.perf_counter() - start < 1
    # Power: a whole processor, folded, is built.
    whole = compile_layered(tiny_model(Knobs(0.3)), "rainbow", slots=0, fold=50)
    assert whole.slot_count == 23 and whole.fold == 50
