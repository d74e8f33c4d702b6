"""natq as a Cirq plug-in: NatqSampler against the exact distribution and cirq.Simulator, gates
that compose (key protocols, symbolic g, JSON), and the for-any-input dynamic circuit."""

import natq_cirq
from natq_cirq import physics
from natq_cirq.compile import compile_dynamic, dynamic_circuit, input_resolvers
from natq_cirq.errors import NatqError
from natq_cirq.hardware.gates import FeedForwardRotation, WeakMeasurementEntangler
from natq_cirq.hardware.readout import bits_from_records, record_key
from natq_cirq.physics import Knobs
from natq_cirq.runners import NatqSampler, make_runner

import cirq
import numpy as np
import pytest
import sympy
from helpers import assert_records_match
from test_compile import KNOBS, X, tiny_model

REPS = 20000


def hidden_bits(result: cirq.Result, model, prefix: str = "") -> np.ndarray:
    """``(repetitions, L * N)`` +-1, layer-major, from records keyed ``{prefix}d{k}_{i}``."""
    keys = [
        prefix + record_key(k, i) for k in range(1, model.layers + 1) for i in range(model.hidden)
    ]
    records = {key: value[:, -1] for key, value in result.records.items()}
    return bits_from_records(records, keys)


def exact(model, x=X):
    return physics.exact_record_distribution(x, model.kernels, model.knobs)


@pytest.mark.parametrize("knobs", KNOBS, ids=str)
def test_sampler_samples_the_exact_distribution(knobs):
    model = tiny_model(knobs)
    result = NatqSampler(seed=1).run(dynamic_circuit(model, X), repetitions=REPS)
    bits = hidden_bits(result, model)
    assert_records_match(bits, exact(model))
    # Power: the same records are refused as samples of a network with a nearby knob.
    other = tiny_model(Knobs(knobs.a + 0.15, min(knobs.g + 0.15, np.pi / 2), knobs.memory))
    with pytest.raises(AssertionError):
        assert_records_match(bits, exact(other))


def test_same_seed_same_records_and_plain_cirq_results():
    circuit = dynamic_circuit(tiny_model(KNOBS[0]), X)
    first = NatqSampler(seed=7).run(circuit, repetitions=50)
    again = NatqSampler(seed=7).run(circuit, repetitions=50)
    assert isinstance(first, cirq.Result) and first == again
    assert set(first.measurements) == {str(k) for k in cirq.measurement_key_names(circuit)}
    assert sum(first.histogram(key="d1_0").values()) == 50


@pytest.mark.parametrize("knobs", [KNOBS[0], KNOBS[3]], ids=str)
def test_inside_a_prefixed_circuit_operation_as_cirq_simulator(knobs):
    model = tiny_model(knobs)
    wrapped = cirq.Circuit(
        cirq.with_key_path_prefix(
            cirq.CircuitOperation(dynamic_circuit(model, X).freeze(), use_repetition_ids=False),
            ("net",),
        )
    )
    assert "net:d1_0" in {str(k) for k in cirq.measurement_key_names(wrapped)}
    ours = NatqSampler(seed=2).run(wrapped, repetitions=REPS)
    assert_records_match(hidden_bits(ours, model, "net:"), exact(model))
    reference = cirq.Simulator(seed=3).run(wrapped, repetitions=2000)
    assert_records_match(hidden_bits(reference, model, "net:"), exact(model))


def test_repetitions_rescope_the_feed_forward_keys():
    """Each repetition's rotations read that repetition's records (repetition ids as prefixes)."""
    model = tiny_model(KNOBS[0])
    body = dynamic_circuit(model, X)
    fresh = cirq.Circuit(cirq.Moment(cirq.reset(q) for q in sorted(body.all_qubits())))
    op = cirq.CircuitOperation((fresh + body).freeze(), repetitions=2, use_repetition_ids=True)
    rotations = [
        o
        for o in op.mapped_circuit(deep=True).all_operations()
        if isinstance(o, FeedForwardRotation)
    ]
    assert {str(o.own_key).split(":")[0] for o in rotations} == {"0", "1"}
    assert all(
        str(k).split(":")[0] == str(o.own_key).split(":")[0]
        for o in rotations
        for k in o.input_keys
    )
    result = NatqSampler(seed=4).run(cirq.Circuit(op), repetitions=REPS)
    for repetition in ("0:", "1:"):
        assert_records_match(hidden_bits(result, model, repetition), exact(model))


def test_key_mapping_renames_what_the_rotation_reads():
    op = FeedForwardRotation(cirq.LineQubit(0), [0.5, -1.0], ["m0", "m1"], "m0", 0.3)
    mapped = cirq.with_measurement_key_mapping(op, {"m0": "a", "m1": "b"})
    assert cirq.control_keys(mapped) == {cirq.MeasurementKey("a"), cirq.MeasurementKey("b")}
    assert mapped.own_key == cirq.MeasurementKey("a")


def test_symbolic_g_resolves_to_the_float_circuit():
    model = tiny_model(Knobs(0.4, 1.1))
    circuit = dynamic_circuit(model, X)
    g = sympy.Symbol("g")
    symbolic = cirq.map_operations(
        circuit,
        lambda op, _: (
            WeakMeasurementEntangler(g).on(*op.qubits)
            if isinstance(op.gate, WeakMeasurementEntangler)
            else op
        ),
    )
    assert cirq.parameter_names(symbolic) == {"g"}
    assert cirq.resolve_parameters(symbolic, {"g": 1.1}) == circuit
    result = NatqSampler(seed=5).run(symbolic, {"g": 1.1}, repetitions=REPS)
    assert_records_match(hidden_bits(result, model), exact(model))


def test_one_circuit_for_every_input_through_a_sweep():
    model = tiny_model(Knobs(0.5, 0.9, "reprepared"))
    circuit = dynamic_circuit(model)
    assert cirq.parameter_names(circuit) == {f"theta1_{i}" for i in range(model.hidden)}
    inputs = np.stack([X, -X[::-1]])
    results = NatqSampler(seed=6).run_sweep(circuit, input_resolvers(model, inputs), REPS)
    for x, result in zip(inputs, results, strict=True):
        assert_records_match(hidden_bits(result, model), exact(model, x))
    program = compile_dynamic(model)
    assert program.for_any_input and not compile_dynamic(model, X).for_any_input


def test_natq_dynamic_backend_runs_the_model():
    model = tiny_model(KNOBS[1])
    bits = make_runner("natq:dynamic").run(model, np.stack([X, X]), shots=REPS // 2, seed=8).bits
    assert bits.shape == (2, REPS // 2, 2, 3)
    assert_records_match(bits.reshape(REPS, -1), exact(model))


def test_channels_follow_one_trajectory_per_repetition():
    """Amplitude damping after R_Y(theta): P(1) = sin^2(theta/2) (1 - gamma)."""
    q = cirq.LineQubit(0)
    theta, gamma = 2.0, 0.3
    circuit = cirq.Circuit(
        cirq.ry(theta)(q), cirq.amplitude_damp(gamma)(q), cirq.measure(q, key="m")
    )
    ones = NatqSampler(seed=9).run(circuit, repetitions=REPS).measurements["m"].mean()
    p = np.sin(theta / 2) ** 2 * (1 - gamma)
    assert abs(ones - p) < 5 * np.sqrt(p * (1 - p) / REPS)
    assert abs(ones - np.sin(theta / 2) ** 2) > 5 * np.sqrt(p * (1 - p) / REPS)  # power


def test_what_it_cannot_run_is_named():
    q = cirq.LineQubit.range(3)
    chain = cirq.Circuit(cirq.CNOT(q[0], q[1]), cirq.CNOT(q[1], q[2]), cirq.measure(*q, key="m"))
    with pytest.raises(NatqError, match="pairs at most.*CNOT"):
        NatqSampler().run(chain)
    sympy_condition = cirq.Circuit(
        cirq.measure(q[0], key="a"),
        cirq.X(q[1]).with_classical_controls(sympy.Eq(sympy.Symbol("a"), 1)),
    )
    with pytest.raises(NatqError, match="key conditions"):
        NatqSampler().run(sympy_condition)
    with pytest.raises(NatqError, match="unresolved"):
        NatqSampler().run(cirq.Circuit(cirq.ry(sympy.Symbol("t"))(q[0])))


def test_entangler_is_a_symbolic_eigen_gate():
    g = sympy.Symbol("g")
    cirq.testing.assert_implements_consistent_protocols(
        WeakMeasurementEntangler(g), global_vals={"natq_cirq": natq_cirq}
    )
    equal = cirq.testing.EqualsTester()
    equal.add_equality_group(WeakMeasurementEntangler(0.5), WeakMeasurementEntangler(0.5))
    equal.add_equality_group(WeakMeasurementEntangler(0.7), WeakMeasurementEntangler(0.35) ** 2)
    equal.add_equality_group(WeakMeasurementEntangler(g))
    assert cirq.approx_eq(WeakMeasurementEntangler(0.5), WeakMeasurementEntangler(0.5 + 1e-12))
    assert cirq.resolve_parameters(WeakMeasurementEntangler(g), {"g": 0.3}).g == 0.3
    n, a = cirq.NamedQubit("neuron"), cirq.NamedQubit("ancilla")
    cirq.testing.assert_has_diagram(
        cirq.Circuit(WeakMeasurementEntangler(0.5)(n, a)),
        """
ancilla: ───ZY(-0.5):Y───
            │
neuron: ────ZY(-0.5):Z───
""",
    )


def test_json_with_the_exported_resolver():
    model = tiny_model(Knobs(0.4, 1.1))
    circuit = dynamic_circuit(model) + cirq.Circuit(
        WeakMeasurementEntangler(sympy.Symbol("g"))(*cirq.LineQubit.range(2))
    )
    text = cirq.to_json(circuit)
    resolvers = [natq_cirq.JSON_RESOLVER, *cirq.DEFAULT_RESOLVERS]
    assert cirq.read_json(json_text=text, resolvers=resolvers) == circuit
    assert cirq.read_json(json_text=text) == circuit  # importing natq_cirq registers it too
