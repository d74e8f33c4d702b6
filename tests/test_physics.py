"""The neuron physics against Cirq itself: cirq.unitary of the real gates and cirq.Simulator."""

import itertools
import math

from natq_cirq import physics
from natq_cirq.errors import NatqError
from natq_cirq.physics import Knobs

import cirq
import numpy as np
import pytest
import scipy.linalg

RNG = np.random.default_rng(20261123)
NEURON, ANCILLA = cirq.LineQubit.range(2)


def random_real_states(count):
    angles = RNG.uniform(-np.pi, np.pi, count)
    return np.cos(angles), np.sin(angles)


def entangler(g):
    """physics.md: R_ZY(-g) = exp(+i g/2 Z_neuron Y_ancilla) as a Cirq PauliStringPhasor."""
    return cirq.PauliStringPhasor(
        cirq.Z(NEURON) * cirq.Y(ANCILLA),
        exponent_neg=-g / (2 * np.pi),
        exponent_pos=g / (2 * np.pi),
    )


def read_out_circuit(g):
    return cirq.Circuit(cirq.H(ANCILLA), entangler(g))


# --- activation and knobs -----------------------------------------------------------------------


def test_activation_sgn_and_clip():
    h = np.array([-2.0, -0.5, 0.0, 0.1, 3.0])
    np.testing.assert_array_equal(physics.activation(h, 0.0), [-1, -1, 1, 1, 1])  # sgn(0) = +1
    np.testing.assert_allclose(physics.activation(h, 0.5), [-1, -1, 0, 0.2, 1])


@pytest.mark.parametrize(
    "a, g, memory",
    [
        (-0.1, 1.0, "persistent"),
        (float("nan"), 1.0, "persistent"),
        (0.1, -0.01, "persistent"),
        (0.1, 1.6, "persistent"),
        (0.1, float("inf"), "persistent"),
        (0.1, 1.0, "forgetful"),
        ("x", 1.0, "persistent"),
    ],
)
def test_invalid_knobs_are_one_line_errors(a, g, memory):
    with pytest.raises(NatqError) as error:
        Knobs(a, g, memory)
    assert "\n" not in str(error.value)


def test_classical_knobs():
    assert Knobs().is_classical and Knobs().strength == 1.0
    assert not Knobs(a=0.1).is_classical and not Knobs(g=1.0).is_classical
    assert Knobs(g=1.0, memory="reprepared").basis_memory and not Knobs(g=1.0).basis_memory


# --- gates: cirq.unitary ------------------------------------------------------------------------


def test_rotate_y_is_cirq_ry():
    alpha, beta = random_real_states(200)
    thetas = RNG.uniform(-2 * np.pi, 2 * np.pi, 200)
    for a0, b0, theta in zip(alpha, beta, thetas):
        expected = cirq.unitary(cirq.ry(theta)) @ np.array([a0, b0])
        got = physics.rotate_y(a0, b0, theta)
        np.testing.assert_allclose(got, expected.real, atol=1e-12)
        np.testing.assert_allclose(expected.imag, 0, atol=1e-12)


def test_entangler_is_exp_zy():
    z, y = cirq.unitary(cirq.Z), cirq.unitary(cirq.Y)
    for g in RNG.uniform(0, np.pi / 2, 20):
        expected = scipy.linalg.expm(1j * g / 2 * np.kron(z, y))
        np.testing.assert_allclose(cirq.unitary(entangler(g)), expected, atol=1e-12)


def test_eq8_pair_state():
    """Paper eq. 8: after H on the ancilla and R_ZY(-g), for random (alpha, beta) and g."""
    alpha, beta = random_real_states(100)
    for a0, b0, g in zip(alpha, beta, RNG.uniform(0, np.pi / 2, 100)):
        state = cirq.unitary(read_out_circuit(g)) @ np.kron([a0, b0], [1, 0])
        c, s = np.sqrt((1 + np.sin(g)) / 2), np.sqrt((1 - np.sin(g)) / 2)
        # basis order |neuron ancilla>: 00, 01, 10, 11
        expected = np.array([c * a0, s * a0, s * b0, c * b0])
        np.testing.assert_allclose(state, expected, atol=1e-12)


@pytest.mark.parametrize("g", [0.0, 0.3, 5 * np.pi / 19, 1.2, np.pi / 2])
def test_probability_and_post_state_match_cirq_projection(g):
    """P(d) and eq. 9 equal the projection of Cirq's pair state onto each ancilla outcome."""
    alpha, beta = random_real_states(100)
    pair = cirq.unitary(read_out_circuit(g))
    for a0, b0 in zip(alpha, beta):
        state = (pair @ np.kron([a0, b0], [1, 0])).reshape(2, 2)  # [neuron, ancilla]
        for bit, d in ((0, 1.0), (1, -1.0)):
            branch = state[:, bit]
            p = np.vdot(branch, branch).real
            p_plus = physics.probability_plus(a0, b0, g)
            np.testing.assert_allclose(p, p_plus if d > 0 else 1 - p_plus, atol=1e-12)
            if p > 1e-9:
                post = physics.post_measurement_amplitudes(a0, b0, d, g)
                np.testing.assert_allclose(branch / np.sqrt(p), post, atol=1e-9)


@pytest.mark.parametrize("a", [0.0, 0.1, 10**-0.5, 1.0, 3.0])
def test_projective_rotation_from_either_basis_state(a):
    """With g = pi/2 the neuron is left in |d>, and P(+1) = (1 + sin(pi/2 phi_a(h)))/2."""
    knobs = Knobs(a=a)
    for h in RNG.normal(0, 1, 50):
        for d_prev, prior in ((1.0, [1, 0]), (-1.0, [0, 1])):
            theta = physics.rotation_angle(h, a, d_prev)
            state = cirq.unitary(cirq.ry(theta)) @ np.array(prior, dtype=complex)
            expected = (1 + np.sin(np.pi / 2 * physics.activation(h, a))) / 2
            np.testing.assert_allclose(abs(state[0]) ** 2, expected, atol=1e-12)
            np.testing.assert_allclose(
                physics.basis_probability_plus(h, knobs), expected, atol=1e-12
            )
            np.testing.assert_allclose(
                physics.probability_plus(*physics.rotate_y(*prior, theta), np.pi / 2),
                expected,
                atol=1e-12,
            )
            rotated = physics.rotate_y(*prior, theta)
            for d, p in ((1.0, expected), (-1.0, 1 - expected)):
                if p > 1e-9:
                    post = physics.post_measurement_amplitudes(*rotated, d, np.pi / 2)
                    np.testing.assert_allclose(np.abs(post), [d > 0, d < 0], atol=1e-9)


def test_weak_wrong_probability_for_reprepared_neurons():
    """The paper's '(1 - sin g)/2 wrong' holds exactly for a = 0 with re-prepared memory."""
    for g in (np.pi / 8, 5 * np.pi / 19, 1.3):
        knobs = Knobs(a=0.0, g=g, memory="reprepared")
        h = RNG.normal(0, 1, 100)
        p_plus = physics.basis_probability_plus(h, knobs)
        p_wrong = np.where(h >= 0, 1 - p_plus, p_plus)
        np.testing.assert_allclose(p_wrong, (1 - np.sin(g)) / 2, atol=1e-12)


def test_classical_limit_is_certain():
    h = RNG.normal(0, 1, 1000)
    h[:10] = 0.0
    d, z, x = physics.neuron_step(h, 1.0, None, None, RNG.uniform(size=1000), Knobs())
    np.testing.assert_array_equal(d, np.where(h >= 0, 1.0, -1.0))
    assert z is None and x is None


# --- many layers: cirq.Simulator on the dynamic single-neuron circuit ---------------------------


def neuron_circuit(hs, a, g):
    """One neuron through len(hs) layers with fixed pre-activations, measured through an ancilla.

    The rotation of layer k >= 2 depends on the previous outcome: R_Y(pi/2 (1 - phi)) always, then
    R_Y(-pi) if the previous ancilla bit was 1 (d_prev = -1), since R_Y angles add.
    """
    circuit = cirq.Circuit()
    for k, h in enumerate(hs):
        circuit.append(cirq.ry(physics.rotation_angle(h, a, 1.0)).on(NEURON))
        if k > 0:
            circuit.append(cirq.ry(-np.pi).on(NEURON).with_classical_controls(f"m{k - 1}"))
        circuit.append(
            [cirq.reset(ANCILLA), cirq.H(ANCILLA), entangler(g), cirq.measure(ANCILLA, key=f"m{k}")]
        )
    return circuit


def exact_record_distribution(hs, knobs):
    """P(record) for every record of outcomes, by enumerating branches with physics.py."""
    probabilities = {}
    for record in itertools.product((1.0, -1.0), repeat=len(hs)):
        p, d_prev, alpha, beta = 1.0, 1.0, 1.0, 0.0
        for h, d in zip(hs, record):
            if knobs.memory == "reprepared":
                alpha, beta = physics.basis_state(np.float64(d_prev))
            alpha, beta = physics.rotate_y(alpha, beta, physics.rotation_angle(h, knobs.a, d_prev))
            p_plus = physics.probability_plus(alpha, beta, knobs.g)
            p *= p_plus if d > 0 else 1 - p_plus
            if p == 0:
                break
            alpha, beta = physics.post_measurement_amplitudes(alpha, beta, d, knobs.g)
            d_prev = d
        probabilities[record] = p
    return probabilities


@pytest.mark.parametrize("a, g", [(0.0, 5 * np.pi / 19), (0.5, 1.1), (0.3, np.pi / 2)])
def test_persistent_neuron_matches_cirq_simulator(a, g):
    hs = [0.2, -0.1, 0.35]
    repetitions = 1500
    result = cirq.Simulator(seed=7).run(neuron_circuit(hs, a, g), repetitions=repetitions)
    bits = np.stack([result.measurements[f"m{k}"][:, 0] for k in range(len(hs))], axis=1)
    exact = exact_record_distribution(hs, Knobs(a, g))
    assert math.isclose(sum(exact.values()), 1.0, abs_tol=1e-12)
    for record, p in exact.items():
        observed = np.mean(np.all(bits == (1 - np.array(record)) / 2, axis=1))
        # 5 standard deviations of a binomial frequency, plus one count for tiny p.
        assert (
            abs(observed - p) <= 5 * math.sqrt(max(p * (1 - p), 0) / repetitions) + 1 / repetitions
        )


def test_persistent_and_reprepared_differ_under_weak_measurement():
    hs = [0.2, -0.1, 0.35]
    persistent = exact_record_distribution(hs, Knobs(0.0, 5 * np.pi / 19))
    reprepared = exact_record_distribution(hs, Knobs(0.0, 5 * np.pi / 19, "reprepared"))
    assert max(abs(persistent[r] - reprepared[r]) for r in persistent) > 0.01
    # ... and agree for projective read-out, where the neuron is left in |d> anyway.
    persistent = exact_record_distribution(hs, Knobs(0.4))
    reprepared = exact_record_distribution(hs, Knobs(0.4, memory="reprepared"))
    assert max(abs(persistent[r] - reprepared[r]) for r in persistent) < 1e-12


def test_neuron_step_general_path_equals_closed_form_in_layer_one():
    """Layer 1 with persistent weak memory: the carried-state path equals the closed form."""
    knobs = Knobs(0.3, 0.9)
    h = RNG.normal(0, 0.5, 2000)
    u = RNG.uniform(size=2000)
    d, z, x = physics.neuron_step(h, 1.0, None, None, u, knobs)
    alpha0, beta0 = physics.rotate_y(1.0, 0.0, physics.rotation_angle(h, knobs.a, 1.0))
    np.testing.assert_allclose(
        physics.probability_plus(alpha0, beta0, knobs.g),
        physics.basis_probability_plus(h, knobs),
        atol=1e-12,
    )
    np.testing.assert_allclose(z**2 + x**2, 1.0, atol=1e-12)
    np.testing.assert_array_equal(d, np.where(u < physics.basis_probability_plus(h, knobs), 1, -1))


@pytest.mark.parametrize(
    "knobs",
    [
        Knobs(0.0, 5 * np.pi / 19),
        Knobs(0.3, 0.9),
        Knobs(10 ** (-1 / 3), 9 * np.pi / 19),
        Knobs(2.0, 0.2),
        Knobs(0.3, 0.9, "reprepared"),
    ],
)
def test_bloch_form_equals_the_amplitude_equations(knobs):
    """The engine's state (Bloch ``z, x``) follows eq. 5, 9 in amplitudes through five layers."""
    rows, layers = 500, 5
    d_prev, z, x = np.ones(rows), None, None
    alpha, beta = np.ones(rows), np.zeros(rows)
    for _ in range(layers):
        h = RNG.normal(0, 0.6, rows)
        u = RNG.uniform(size=rows)
        if knobs.basis_memory:
            alpha, beta = physics.basis_state(d_prev)
        alpha, beta = physics.rotate_y(alpha, beta, physics.rotation_angle(h, knobs.a, d_prev))
        d, z, x = physics.neuron_step(h, d_prev, z, x, u, knobs)
        p_plus = physics.probability_plus(alpha, beta, knobs.g)
        np.testing.assert_array_equal(d, np.where(u < p_plus, 1.0, -1.0))
        alpha, beta = physics.post_measurement_amplitudes(alpha, beta, d, knobs.g)
        if not knobs.basis_memory:
            expected_z, expected_x = physics.bloch(alpha, beta)
            np.testing.assert_allclose(z, expected_z, atol=1e-9)
            np.testing.assert_allclose(0 if x is None else x, expected_x, atol=1e-9)
            # The state the layered runners re-prepare is this one, as Cirq's R_Y makes it.
            for chi, zi, xi in zip(physics.preparation_angle(z, x)[:20], z, expected_x):
                state = cirq.unitary(cirq.ry(chi))[:, 0].real
                np.testing.assert_allclose(physics.bloch(*state), (zi, xi), atol=1e-9)
        d_prev = d
    assert (x is None) == (knobs.a == 0 or knobs.basis_memory)
