"""The TFQ layer: TFQ's expectation equals the physics, its gradient the analytic one, and fit runs."""

import pytest

# TensorFlow Quantum is the [tfq] extra: these tests run where it is installed (the pinned stack).
pytest.importorskip(
    "tensorflow_quantum",
    reason="TensorFlow Quantum is not installed (the [tfq] extra: pip install 'natq-cirq[tfq]')",
)

from natq_cirq import physics  # noqa: E402
from natq_cirq.data import DataSpec, load_mnist  # noqa: E402
from natq_cirq.engine.tfq_layers import TFQNaturallyQuantizedNetwork, TFQNeuronLayer  # noqa: E402
from natq_cirq.physics import Knobs  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


@pytest.mark.parametrize("knobs", [Knobs(0.4, 1.1), Knobs(0.4), Knobs(2.0, 0.5)], ids=str)
def test_expectation_and_gradient(knobs):
    layer = TFQNeuronLayer(5, knobs.a, knobs.g)
    h = tf.constant(np.random.default_rng(0).normal(0, 0.5, (4, 5)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(h)
        total = tf.reduce_sum(layer.expected_activation(h))
    mean = layer.expected_activation(h).numpy()
    np.testing.assert_allclose(mean, physics.expected_activation(h.numpy(), knobs), atol=1e-5)
    eps = 1e-3
    numeric = (
        physics.expected_activation(h.numpy().astype(float) + eps, knobs)
        - physics.expected_activation(h.numpy().astype(float) - eps, knobs)
    ) / (2 * eps)
    np.testing.assert_allclose(tape.gradient(total, h).numpy(), numeric, atol=1e-3)


def test_samples_follow_the_expectation():
    layer = TFQNeuronLayer(3, 0.5, 1.0, seed=2)
    layer.build((None, 2))
    layer.kernel.assign(np.array([[0.2, -0.1, 0.4], [0.0, 0.3, -0.2]], np.float32))
    x = tf.ones((4000, 2))
    d, z, x_bloch = layer(x)
    expected = physics.expected_activation(np.ones(2) @ layer.kernel.numpy(), layer.knobs)
    assert np.all(np.abs(d.numpy().mean(0) - expected) < 5 * np.sqrt(1 / 4000))
    np.testing.assert_allclose(z.numpy() ** 2 + x_bloch.numpy() ** 2, 1.0, atol=1e-5)


def test_model_fit_learns():
    tf.keras.utils.set_random_seed(0)
    data = load_mnist(DataSpec(train_size=640, val_size=200))
    model = TFQNaturallyQuantizedNetwork(hidden=8, layers=2, a=0.3, g=1.2)
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.01, momentum=0.9),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(data.x_train, data.y_train, batch_size=64, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_layer_is_tfq_controlled_pqc_and_serializes():
    import tensorflow_quantum as tfq

    layer = TFQNeuronLayer(4, 2.0, 0.5, differentiator=tfq.differentiators.ParameterShift())
    assert isinstance(layer.pqc, tfq.layers.ControlledPQC)
    config = layer.get_config()
    assert config["differentiator"] == "ParameterShift" and config["backend"] == "noiseless"
    again = TFQNeuronLayer.from_config(config)
    assert isinstance(again.differentiator, tfq.differentiators.ParameterShift)
    assert (again.units, again.knobs) == (layer.units, layer.knobs)
    # The parameter-shift gradient is TFQ's, and equals the analytic one.
    h = tf.constant([[0.3, -0.4, 0.1, 0.9]])
    with tf.GradientTape() as tape:
        tape.watch(h)
        total = tf.reduce_sum(again.expected_activation(h))
    eps = 1e-3
    numeric = (
        physics.expected_activation(h.numpy().astype(float) + eps, again.knobs)
        - physics.expected_activation(h.numpy().astype(float) - eps, again.knobs)
    ) / (2 * eps)
    np.testing.assert_allclose(tape.gradient(total, h).numpy(), numeric, atol=1e-3)
    model = TFQNaturallyQuantizedNetwork()
    assert (model.first.units, len(model.rest) + 1) == (512, 3)  # NaturallyQuantizedNetwork's
    assert TFQNaturallyQuantizedNetwork.from_config(model.get_config()).get_config() == (
        model.get_config()
    )


@pytest.mark.parametrize("backend", ["noiseless", "noisy"])
def test_sampled_backends_estimate_the_expectation(backend):
    layer = TFQNeuronLayer(3, 0.4, 1.1, backend=backend, repetitions=4000)
    h = tf.constant([[0.2, -0.5, 0.8]])
    estimate = layer.expected_activation(h).numpy()
    exact = physics.expected_activation(h.numpy().astype(float), layer.knobs)
    assert np.all(np.abs(estimate - exact) < 5 * np.sqrt(1 / 4000))
    assert np.any(estimate != exact)  # sampled, not the exact value


def test_tfq_backend_runs_without_tensorflow_warnings(caplog):
    from natq_cirq.files import ModelFile
    from natq_cirq.runners import make_runner

    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3, 3), (3, 2)]
    model = ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], Knobs(0.4, 1.1))
    runner = make_runner("tfq")
    with caplog.at_level("WARNING"):
        for n in (3, 5, 7, 2):  # batches of several sizes: no retracing warnings either
            runner.run(model, rng.normal(size=(n, 4)), shots=2, seed=n)
    assert not [r for r in caplog.records if r.name.startswith("tensorflow")], caplog.text
