"""Classical stochastic baselines: sampled distributions, gradients, training, files, refusals."""

import json
import math

from natq_cirq import engine
from natq_cirq.compile import compile_layered, dynamic_circuit
from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine.inference import build_network, predict
from natq_cirq.engine.training import TrainConfig, train
from natq_cirq.errors import NatqError
from natq_cirq.files import load_model
from natq_cirq.physics import ClassicalStochasticNeuron, Knobs

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from experiments import sweep

SAMPLES = 40_000


def sampled_fraction_plus(neuron: ClassicalStochasticNeuron, h: np.ndarray, seed: int = 0):
    hs = tf.constant(np.repeat(h[None, :], SAMPLES, axis=0), tf.float32)
    u = tf.random.Generator.from_seed(seed).uniform(hs.shape)
    d, _, _ = engine.classical_stochastic_layer(hs, u, neuron)
    return d.numpy()


def binomial_p_value(counts: np.ndarray, p: np.ndarray) -> float:
    """Chi-square of counts of d = +1 per neuron against the probabilities ``p``."""
    expected = SAMPLES * p
    statistic = np.sum((counts - expected) ** 2 / (expected * (1 - p)))
    return stats.chi2.sf(statistic, df=len(p))


@pytest.mark.parametrize("text", ["sigmoid:4", "gaussian:0.3"])
def test_sampled_outcomes_follow_the_neurons_probability_with_power(text):
    neuron = ClassicalStochasticNeuron.parse(text)
    h = np.linspace(-0.8, 0.8, 9)
    d = sampled_fraction_plus(neuron, h)
    assert set(np.unique(d)) == {-1.0, 1.0}
    counts = (d > 0).sum(axis=0)
    assert binomial_p_value(counts, neuron.probability_plus(h)) > 1e-3
    # Power: the same samples reject a neuron 20 % steeper or flatter.
    other = ClassicalStochasticNeuron(neuron.kind, neuron.scale * (1.2 if "sig" in text else 0.8))
    assert binomial_p_value(counts, other.probability_plus(h)) < 1e-6


def test_gaussian_neuron_is_sgn_of_noisy_pre_activation():
    # P(sgn(h + sigma eps) = +1) = Phi(h / sigma): the closed form against SciPy's normal law.
    neuron = ClassicalStochasticNeuron("gaussian", 0.3)
    h = np.linspace(-1, 1, 11)
    np.testing.assert_allclose(neuron.probability_plus(h), stats.norm.cdf(h / 0.3), atol=1e-12)


def test_dropout_drops_at_its_rate_scales_survivors_and_their_gradient():
    neuron = ClassicalStochasticNeuron("dropout", 0.25)
    h = tf.constant(np.tile([[-2.0, -0.5, 0.0, 0.5, 2.0]], (SAMPLES, 1)), tf.float32)
    u = tf.random.Generator.from_seed(1).uniform(h.shape)
    with tf.GradientTape() as tape:
        tape.watch(h)
        d, _, _ = engine.classical_stochastic_layer(h, u, neuron)
        total = tf.reduce_sum(d)
    d, grad = d.numpy(), tape.gradient(total, h).numpy()
    kept = d != 0
    dropped_fraction = 1 - kept.mean()
    assert abs(dropped_fraction - 0.25) < 4 * math.sqrt(0.25 * 0.75 / d.size)
    np.testing.assert_allclose(d[kept], np.sign(np.where(h.numpy() >= 0, 1, -1))[kept] / 0.75)
    # Kept neurons inside the straight-through window pass 1 / (1 - p); the rest pass nothing.
    window = np.abs(h.numpy()) <= 1
    np.testing.assert_allclose(grad, np.where(kept & window, 1 / 0.75, 0.0), rtol=1e-6)


def test_binary_kinds_train_through_the_papers_straight_through_gradient():
    h = tf.constant([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(h)
        d, _, _ = engine.classical_stochastic_layer(
            h, tf.fill(h.shape, 0.5), ClassicalStochasticNeuron("sigmoid", 8)
        )
        total = tf.reduce_sum(d)
    np.testing.assert_array_equal(tape.gradient(total, h).numpy(), [[0, 1, 1, 1, 0]])


@pytest.mark.parametrize(
    "text, message",
    [
        ("sig:1", "unknown stochastic neuron"),
        ("dropout:1", r"in \(0, 1\)"),
        ("gaussian:-1", "> 0"),
        ("sigmoid", "KIND:NUMBER"),
        ("sigmoid:x", "needs a number"),
    ],
)
def test_bad_neuron_text_is_one_clear_error(text, message):
    with pytest.raises(NatqError, match=message):
        ClassicalStochasticNeuron.parse(text)


def test_text_round_trips_exactly_and_configs_refuse_quantum_knobs():
    for neuron in (ClassicalStochasticNeuron("sigmoid", math.pi / 0.3), ("dropout", 0.1)):
        neuron = ClassicalStochasticNeuron(*neuron) if isinstance(neuron, tuple) else neuron
        assert ClassicalStochasticNeuron.parse(str(neuron)) == neuron
    config = TrainConfig(stochastic_neuron="gaussian:0.2")
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(NatqError, match="a = 0, g = pi/2"):
        TrainConfig(a=0.3, stochastic_neuron="dropout:0.2")
    with pytest.raises(NatqError, match="no quantum noise"):
        TrainConfig(noise="depolarizing:0.01", stochastic_neuron="dropout:0.2")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    config = TrainConfig(
        layers=2,
        hidden=64,
        epochs=3,
        shots=5,
        vote_every=3,
        stochastic_neuron="sigmoid:4",
        data=DataSpec(train_size=2000, val_size=500),
    )
    out = tmp_path_factory.mktemp("baseline") / "run"
    return config, train(config, out, verbose=0), load_model(out / "model.npz")


def test_a_baseline_learns_and_its_file_says_what_it_is(trained):
    config, history, model = trained
    last = history["epochs"][-1]
    assert last["val_error_deterministic"] < 0.3 and last["val_error_vote"] < 0.3
    assert model.stochastic_neuron == ClassicalStochasticNeuron("sigmoid", 4)
    assert "classical stochastic neuron sigmoid:4" in model.describe()
    # The same weights as the deterministic network are another model, with another digest.
    assert model.deterministic().stochastic_neuron is None
    assert model.deterministic().digest() != model.digest()


def test_a_baseline_votes_stochastically_and_its_deterministic_inference_is_sgn(trained):
    config, _, model = trained
    x = load_mnist(config.data).x_val[:200]
    network = build_network(model)
    one = predict(network, x, 5, seed=1, record_bits=False)
    two = predict(network, x, 5, seed=2, record_bits=False)
    assert np.any(one.shot_predictions != two.shot_predictions)  # the noise is drawn per shot
    deterministic = predict(network, x, 3, knobs=Knobs(), record_bits=False)
    reference = network.deterministic_logits(x).argmax(-1)
    np.testing.assert_array_equal(
        deterministic.shot_predictions, np.repeat(reference[:, None], 3, 1)
    )
    np.testing.assert_array_equal(predict(model.deterministic(), x, 1).predictions, reference)


def test_a_baseline_has_no_circuit(trained):
    _, _, model = trained
    for make in (lambda: dynamic_circuit(model), lambda: compile_layered(model)):
        with pytest.raises(NatqError, match="classical stochastic baseline"):
            make()


def test_sweep_names_baselines_and_picks_each_familys_best_grid_point(tmp_path):
    grid = sweep.configurations("baselines")
    ids = [sweep.config_id(c, 500) for c in grid]
    assert len(set(ids)) == len(grid) == sum(len(v) for v in sweep.BASELINE_GRID.values())
    assert "a0.0000_g1.5708_persistent_ste_sigmoid8_seed0_ep500" in ids
    # Best points are read from the finished grid files; an unfinished family is left out.
    for kwargs in grid:
        if kwargs["stochastic_neuron"].startswith("dropout"):
            continue
        kind, scale = kwargs["stochastic_neuron"].split(":")
        error = 0.05 + abs(math.log(float(scale)) - math.log(8 if kind == "sigmoid" else 0.2))
        (tmp_path / f"{sweep.config_id(kwargs, 500)}.json").write_text(
            json.dumps({"votes": {"mean": error}})
        )
    assert sweep.best_baselines(tmp_path) == {"sigmoid": "sigmoid:8", "gaussian": "gaussian:0.2"}
    best = sweep.configurations("baselines_best", tmp_path)
    assert {(c["stochastic_neuron"], c["seed"]) for c in best} == {
        (n, s) for n in ("sigmoid:8", "gaussian:0.2") for s in sweep.BASELINE_SEEDS
    }
