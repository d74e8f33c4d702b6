"""The exact noisy engine: noiseless it is the physics; noisy it samples the noisy dynamic circuit."""

from natq_cirq import physics
from natq_cirq.compile import LayeredRule
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.hardware.devices import placed_slot_circuit
from natq_cirq.hardware.noisy import ReadoutChannel, SlotReadout, layered_slot_readout, sample_noisy
from natq_cirq.hardware.readout import line_slots, slot_circuit
from natq_cirq.physics import Knobs
from natq_cirq.runners import make_runner
from natq_cirq.target import Target

import numpy as np
import pytest
from helpers import assert_records_match, empirical_distribution

X = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)
SPEC = "depolarizing:0.03+amplitude_damping:0.05+readout:0.04"


def tiny_model(knobs):
    rng = np.random.default_rng(1)
    return ModelFile(
        [rng.normal(0, 0.6, s).astype(np.float32) for s in [(4, 3), (3, 3), (3, 2)]], knobs
    )


@pytest.mark.parametrize("knobs", [Knobs(0.3, 1.1), Knobs(0.3)], ids=str)
def test_noiseless_channel_is_the_physics(knobs):
    channel = ReadoutChannel.from_noise(knobs, None, first_layer=False)
    rng = np.random.default_rng(0)
    chi, theta = rng.uniform(-np.pi, np.pi, (2, 50))
    alpha, beta = np.cos(chi / 2), np.sin(chi / 2)
    bloch = np.stack([2 * alpha * beta, 0 * alpha, alpha**2 - beta**2], axis=-1)
    out = channel.apply(bloch, theta)
    rotated = physics.rotate_y(alpha, beta, theta)
    np.testing.assert_allclose(
        out[0, :, 0], physics.probability_plus(*rotated, knobs.g), atol=1e-12
    )
    post_alpha, post_beta = physics.post_measurement_amplitudes(*rotated, 1.0, knobs.g)
    expected = np.stack(
        [2 * post_alpha * post_beta, 0 * post_alpha, post_alpha**2 - post_beta**2], axis=-1
    )
    np.testing.assert_allclose(out[0, :, 1:] / out[0, :, :1], expected, atol=1e-9)


@pytest.mark.parametrize(
    "knobs", [Knobs(0.4, 1.1), Knobs(0.6), Knobs(0.5, 0.9, "reprepared")], ids=str
)
def test_noiseless_engine_samples_the_exact_distribution(knobs):
    model = tiny_model(knobs)
    bits = sample_noisy(model, X, 20000, None, seed=1)
    assert_records_match(
        bits.reshape(20000, -1), physics.exact_record_distribution(X[0], model.kernels, knobs)
    )


def test_noisy_engine_matches_the_noisy_dynamic_circuit_on_cirq():
    model = tiny_model(Knobs(0.6))
    reference = sample_noisy(model, X, 400000, Target.parse(SPEC), seed=1).reshape(400000, -1)
    distribution = empirical_distribution(reference)
    shots = 1500
    noisy = make_runner("cirq:dynamic", noise=SPEC).run(model, X, shots=shots, seed=2).bits
    assert_records_match(noisy.reshape(shots, -1), distribution)
    # The check has power: the noiseless network fails it.
    clean = make_runner("analytic").run(model, X, shots=shots, seed=2).bits
    with pytest.raises(AssertionError):
        assert_records_match(clean.reshape(shots, -1), distribution)


def test_analytic_backend_with_noise_and_bad_folding():
    model = tiny_model(Knobs(0.4, 1.1))
    result = make_runner("analytic", noise="depolarizing:0.01").run(model, X, shots=50, seed=0)
    assert result.bits.shape == (1, 50, 2, 3)
    device = make_runner("analytic", noise="device:weber").run(model, X, shots=50, seed=0)
    assert len(device.stats["mean_slot_readout_coefficients"]) == 3
    every_pair = layered_slot_readout(model.knobs, Target.parse("device:weber"))
    assert every_pair.coefficients.shape == (24, 3)  # every matched pair of weber
    with pytest.raises(NatqError, match="amplifies noise"):
        make_runner("analytic", fold=2)
    with pytest.raises(NatqError, match="fold must be in 0..1000"):
        make_runner("analytic", noise="readout:0.1", fold=-1)


def keras_network(knobs, noise):
    from natq_cirq.engine.layers import NaturallyQuantizedNetwork

    network = NaturallyQuantizedNetwork(
        input_dim=4,
        hidden=3,
        layers=2,
        outputs=2,
        a=knobs.a,
        g=knobs.g,
        memory=knobs.memory,
        noise=noise,
    )
    network.set_kernels(tiny_model(knobs).kernels)
    return network


@pytest.mark.parametrize("knobs", [Knobs(0.4, 1.1), Knobs(0.5, 0.9, "reprepared")], ids=str)
def test_keras_layers_with_zero_noise_sample_the_exact_distribution(knobs):
    _, bits = keras_network(knobs, "depolarizing:0").sample(X, shots=20000, seed=3)
    assert_records_match(
        bits[0].reshape(20000, -1),
        physics.exact_record_distribution(X[0], tiny_model(knobs).kernels, knobs),
    )


def test_keras_layers_with_noise_match_the_numpy_noisy_engine():
    knobs = Knobs(0.4, 1.1)
    reference = sample_noisy(tiny_model(knobs), X, 400000, Target.parse(SPEC), seed=1)
    distribution = empirical_distribution(reference.reshape(400000, -1))
    _, bits = keras_network(knobs, SPEC).sample(X, shots=20000, seed=4)
    assert_records_match(bits[0].reshape(20000, -1), distribution)


def test_noise_aware_training_runs(tmp_path):
    from natq_cirq.data import DataSpec
    from natq_cirq.engine.training import TrainConfig, train

    config = TrainConfig(
        layers=2,
        hidden=16,
        a=0.3,
        g=1.2,
        epochs=2,
        shots=3,
        vote_every=1,
        noise="depolarizing:0.02",
        data=DataSpec(train_size=300, val_size=100),
    )
    history = train(config, tmp_path / "run", verbose=0)
    assert history["epochs"][-1]["val_error_vote"] < 0.9
    with pytest.raises(NatqError, match="bad target part"):
        TrainConfig(noise="cosmic:1")


# -- layered execution under noise (SlotReadout) ----------------------------------------------


def test_slot_readout_without_noise_is_the_physics():
    """P(-1) of R_Y(psi)|0> read out with strength s: (1 - s cos psi) / 2, every slot."""
    for g in (0.9, np.pi / 2):
        readout = SlotReadout.from_circuit(slot_circuit(g, line_slots(3, g < np.pi / 2)), None)
        s = physics.measurement_strength(g)
        np.testing.assert_allclose(readout.coefficients, [[0.5, -s / 2, 0.0]] * 3, atol=1e-9)


def test_slot_readout_folding_adds_noise_and_nothing_else():
    slots = line_slots(1, True)
    clean = SlotReadout.from_circuit(placed_slot_circuit(0.9, slots, fold=3), None).coefficients
    np.testing.assert_allclose(
        clean, SlotReadout.from_circuit(slot_circuit(0.9, slots), None).coefficients, atol=1e-9
    )
    noise = Target.parse("depolarizing:0.01")
    contrast = [
        abs(
            SlotReadout.from_circuit(placed_slot_circuit(0.9, slots, fold=k), noise).coefficients[
                0, 1
            ]
        )
        for k in (0, 2, 4)
    ]
    assert contrast[0] > contrast[1] > contrast[2] > 0


@pytest.mark.parametrize("knobs", [Knobs(0.6), Knobs(0.4, 1.1)], ids=str)
def test_layered_noisy_engine_matches_qsim_trajectories_on_a_device(knobs):
    """Device noise (rainbow), one placed slot: the exact layered engine vs qsim trajectories."""
    model = tiny_model(knobs)
    spec = "device:rainbow"
    engine_bits = make_runner("analytic", noise=spec, slots=1).run(model, X, shots=200000, seed=1)
    distribution = empirical_distribution(engine_bits.bits.reshape(200000, -1))
    shots = 1500
    qsim = make_runner("qsim", noise=spec, slots=1).run(model, X, shots=shots, seed=4).bits
    assert_records_match(qsim.reshape(shots, -1), distribution)
    # Power: the noiseless distribution is rejected at this sample size.
    clean = physics.exact_record_distribution(X[0], model.kernels, knobs)
    with pytest.raises(AssertionError):
        assert_records_match(qsim.reshape(shots, -1), clean)


# willow_pink is so much cleaner than rainbow that 1,500 shots cannot tell its noise from none
# (measured); folded 6 times, they can: the test keeps its power.
@pytest.mark.parametrize("device, fold", [("rainbow", 0), ("willow_pink", 6)])
def test_layered_noisy_engine_matches_the_noisy_virtual_machine(device, fold):
    """qvm:DEVICE (cirq_google's noisy virtual engine) against the exact layered engine."""
    model = tiny_model(Knobs(0.6))
    engine_bits = make_runner("analytic", noise=f"device:{device}", slots=1, fold=fold).run(
        model, X, shots=200000, seed=1
    )
    distribution = empirical_distribution(engine_bits.bits.reshape(200000, -1))
    shots = 1500
    qvm = make_runner(f"qvm:{device}", slots=1, fold=fold).run(model, X, shots=shots, seed=4).bits
    assert_records_match(qvm.reshape(shots, -1), distribution)
    with pytest.raises(AssertionError):  # power: not the noiseless distribution
        assert_records_match(
            qvm.reshape(shots, -1),
            physics.exact_record_distribution(X[0], model.kernels, model.knobs),
        )


@pytest.mark.parametrize("device", ["rainbow", "willow_pink"])
def test_training_path_under_device_noise_matches_the_numpy_engine(device):
    """The TF layer with ``noise=device:...`` samples what the layered NumPy engine samples."""
    from natq_cirq.engine.layers import NaturallyQuantizedNetwork

    model = tiny_model(Knobs(0.4, 1.1))
    spec = f"device:{device}+readout:0.05"
    readout = layered_slot_readout(model.knobs, Target.parse(spec))
    measure = readout.measure(np.random.default_rng(1))
    reference = LayeredRule(model).sample(X, 200000, measure)
    distribution = empirical_distribution(reference.reshape(200000, -1))
    network = NaturallyQuantizedNetwork(
        input_dim=4, hidden=3, layers=2, outputs=2, a=0.4, g=1.1, noise=spec
    )
    network.set_kernels(model.kernels)
    _, bits = network.sample(X, 3000, seed=3)
    assert_records_match(bits.reshape(3000, -1), distribution)
