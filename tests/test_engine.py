"""The exact vectorized engine (TensorFlow) against physics.py and a plain sgn network."""

import json
import math

from natq_cirq import engine, physics
from natq_cirq.config import GRADIENT_ESTIMATORS
from natq_cirq.data import DataSpec, load_mnist
from natq_cirq.engine import fused
from natq_cirq.engine.layers import NaturallyQuantizedNetwork, QuantumNeuronLayer
from natq_cirq.errors import NatqError
from natq_cirq.physics import Knobs
from natq_cirq.target import Target

import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_records_match


def plain_sgn_network(x, kernels):
    """The classical binarized MLP written directly in NumPy: d_k = sgn(d_{k-1} @ W), sgn(0)=+1."""
    d, bits = x, []
    for w in kernels[:-1]:
        d = np.where(d @ w >= 0, 1.0, -1.0).astype(np.float32)
        bits.append(d)
    return d @ kernels[-1], np.stack(bits, axis=1)


def test_classical_knobs_equal_plain_sgn_network_on_all_test_images():
    data = load_mnist(DataSpec(train_size=1))
    network = NaturallyQuantizedNetwork(hidden=512, layers=3, seed=3)
    rng = np.random.default_rng(5)
    kernels = [
        rng.normal(0, 1 / math.sqrt(w.shape[0]), w.shape).astype(np.float32)
        for w in network.get_kernels()
    ]
    network.set_kernels(kernels)
    logits, bits = network.sample(data.x_val, shots=2, seed=11)
    expected_logits, expected_bits = plain_sgn_network(data.x_val, kernels)
    assert len(data.x_val) == 10000
    np.testing.assert_array_equal(bits[:, 0], expected_bits.astype(np.int8))
    np.testing.assert_array_equal(bits[:, 1], expected_bits.astype(np.int8))  # every shot
    np.testing.assert_allclose(logits[:, 0], expected_logits, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(logits[:, 0].argmax(-1), expected_logits.argmax(-1))
    # Deterministic inference (no draws) is the same network, sgn(0) = +1 included (blank image).
    x = np.concatenate([data.x_val, np.zeros((1, 784), np.float32)])
    deterministic = network.deterministic_logits(x, rows_per_chunk=4096)
    np.testing.assert_array_equal(deterministic[:-1], logits[:, 0])
    np.testing.assert_allclose(deterministic[-1], plain_sgn_network(x[-1:], kernels)[0][0], 1e-5)


@pytest.mark.parametrize(
    "knobs",
    [
        Knobs(0.6, np.pi / 2),
        Knobs(0.0, 0.7),
        Knobs(0.4, 1.1),
        Knobs(0.0, 0.7, "reprepared"),
        Knobs(0.5, 0.9, "reprepared"),
    ],
    ids=str,
)
def test_engine_samples_the_exact_distribution(knobs):
    rng = np.random.default_rng(1)
    kernels = [rng.normal(0, 0.6, (4, 3)), rng.normal(0, 0.6, (3, 3)), rng.normal(0, 1, (3, 2))]
    kernels = [k.astype(np.float32) for k in kernels]
    x = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)
    network = NaturallyQuantizedNetwork(
        input_dim=4, hidden=3, layers=2, outputs=2, a=knobs.a, g=knobs.g, memory=knobs.memory
    )
    network.set_kernels(kernels)
    shots = 40000
    _, bits = network.sample(x, shots=shots, seed=2)
    records = bits[0].reshape(shots, -1)
    exact = physics.exact_record_distribution(x[0], kernels, knobs)
    assert_records_match(records, exact)


def test_shots_are_independent_and_seeded():
    network = NaturallyQuantizedNetwork(input_dim=6, hidden=8, layers=2, a=0.8, seed=1)
    x = np.random.default_rng(0).uniform(size=(5, 6)).astype(np.float32)
    _, bits_a = network.sample(x, shots=7, seed=3)
    _, bits_b = network.sample(x, shots=7, seed=3)
    _, bits_c = network.sample(x, shots=7, seed=4)
    np.testing.assert_array_equal(bits_a, bits_b)
    assert (bits_a != bits_c).any()
    assert bits_a.shape == (5, 7, 2, 8) and bits_a.dtype == np.int8
    assert set(np.unique(bits_a)) <= {-1, 1}


def test_chunking_does_not_change_the_distribution_shape():
    network = NaturallyQuantizedNetwork(input_dim=6, hidden=8, layers=2, a=0.8, seed=1)
    x = np.random.default_rng(0).uniform(size=(50, 6)).astype(np.float32)
    logits, bits = network.sample(x, shots=3, rows_per_chunk=7)
    assert logits.shape == (50, 3, 10) and bits.shape == (50, 3, 2, 8)


@pytest.mark.parametrize("estimator", GRADIENT_ESTIMATORS)
@pytest.mark.parametrize("knobs", [Knobs(), Knobs(0.3, 1.0), Knobs(2.0, 0.5)], ids=str)
def test_gradient_estimators(estimator, knobs):
    h = tf.constant(np.linspace(-3, 3, 601, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(h)
        d, _, _ = engine.neuron_layer(
            h, *engine.initial_state(h), tf.fill(h.shape, 0.5), knobs, estimator
        )
        total = tf.reduce_sum(d * tf.range(1.0, 602.0))
    grad = tape.gradient(total, h).numpy() / np.arange(1.0, 602.0)
    x = h.numpy()
    if estimator == "ste":
        expected = (np.abs(x) <= 1).astype(float)  # paper eq. 3, whatever a and g are
    else:
        width = max(knobs.a, 1.0)
        expected = np.where(
            np.abs(x) <= width,
            knobs.strength * np.pi / (2 * width) * np.cos(np.pi / 2 * x / width),
            0,
        )
    np.testing.assert_allclose(grad, expected, atol=1e-5)


def test_unknown_estimator_is_rejected():
    from natq_cirq.errors import NatqError

    with pytest.raises(NatqError, match="gradient estimator"):
        QuantumNeuronLayer(4, gradient_estimator="reinforce")


def test_forward_value_is_exactly_the_sampled_bit():
    """The straight-through wrapper must not perturb the forward value (classical bit-exactness)."""
    h = tf.constant(np.random.default_rng(2).normal(size=(64, 512)).astype(np.float32))
    d, _, _ = engine.neuron_layer(h, *engine.initial_state(h), tf.zeros_like(h), Knobs(0.3))
    assert set(np.unique(d.numpy())) <= {-1.0, 1.0}


def test_layer_config_roundtrip():
    layer = QuantumNeuronLayer(
        5, a=0.2, g=1.0, memory="reprepared", gradient_estimator="mean_field"
    )
    clone = QuantumNeuronLayer.from_config(layer.get_config())
    assert clone.knobs == layer.knobs and clone.gradient_estimator == "mean_field"


def test_device_environment_variable(monkeypatch):
    from natq_cirq.errors import NatqError

    network = NaturallyQuantizedNetwork(input_dim=6, hidden=8, layers=2, a=0.8, seed=1)
    x = np.random.default_rng(0).uniform(size=(5, 6)).astype(np.float32)
    from natq_cirq.engine.inference import predict

    monkeypatch.setenv("NATQ_DEVICE", "CPU:0")
    assert predict(network, x, shots=3).bits.shape == (5, 3, 2, 8)
    monkeypatch.setenv("NATQ_DEVICE", "TPU:7")
    with pytest.raises(NatqError, match="not a device here"):
        predict(network, x, shots=3)


@pytest.mark.parametrize("knobs", [Knobs(0.0, 0.7), Knobs(0.4, 1.1), Knobs(3.0, 0.3)], ids=str)
def test_fused_step_equals_the_separate_ops(knobs, monkeypatch):
    """The fused kernel (rotation, read-out, collapse) computes physics.neuron_step's numbers."""
    if knobs.a > 0:  # the fused path is taken (a = 0 neurons carry no x and never need it)
        assert fused.load() is not None, "the fused kernel did not build here"
    rng = np.random.default_rng(4)
    shape = (300, 64)
    h = tf.constant(rng.normal(0, 1, shape), tf.float32)
    d_prev = tf.constant(np.where(rng.uniform(size=shape) < 0.5, 1.0, -1.0), tf.float32)
    u = tf.constant(rng.uniform(size=shape), tf.float32)
    angle = rng.uniform(0, 2 * np.pi, shape)
    if knobs.a == 0:  # a = 0 neurons are always in a basis state
        z, x = tf.constant(np.sign(np.cos(angle)), tf.float32), None
    else:
        z, x = tf.constant(np.cos(angle), tf.float32), tf.constant(np.sin(angle), tf.float32)
    outputs = {}
    for fuse in ("1", "0"):
        monkeypatch.setenv(fused.FUSION_ENV, fuse)
        outputs[fuse] = engine.neuron_layer(h, d_prev, z, x, u, knobs)
    (d, z1, x1), (d0, z0, x0) = outputs["1"], outputs["0"]
    # Outcomes may differ only where u sits within rounding of P(+1).
    assert np.mean(d.numpy() != d0.numpy()) < 1e-3
    same = d.numpy() == d0.numpy()
    np.testing.assert_allclose(z1.numpy()[same], z0.numpy()[same], atol=1e-5)
    assert (x1 is None) == (x0 is None) == (knobs.a == 0)
    if x1 is not None:
        np.testing.assert_allclose(x1.numpy()[same], x0.numpy()[same], atol=1e-5)


def test_kernel_cache_loads_only_what_this_user_built(tmp_path, monkeypatch):
    """A planted or altered library in the cache is never loaded: it is removed and rebuilt, and
    a failed build falls back to the separate ops with one warning."""
    import os
    import warnings

    library = tmp_path / "k.so"
    library.write_bytes(b"\x7fELF planted")
    assert not fused._trusted(library)  # no hash recorded at build time
    (tmp_path / "k.so.sha256").write_text(fused._sha256(library) + "\n")
    os.chmod(library, 0o700)
    assert fused._trusted(library)
    os.chmod(library, 0o722)  # group/world-writable: anyone could have replaced it
    assert not fused._trusted(library)
    os.chmod(library, 0o700)
    library.write_bytes(b"\x7fELF altered")
    assert not fused._trusted(library)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    with pytest.raises(PermissionError):
        fused._private_dir(shared)

    cache = tmp_path / "cache"
    monkeypatch.setenv(fused.CACHE_ENV, str(cache))
    monkeypatch.setattr(fused, "_library", None)
    monkeypatch.setattr(fused, "_unavailable", False)
    builds = []

    def failing_build(target, *flags):
        builds.append(target.exists())
        raise OSError("no compiler here")

    monkeypatch.setattr(fused, "_build", failing_build)
    fused._private_dir(cache)
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    # A file planted under the kernel's name: removed before the (failing) rebuild, never loaded.
    fused.library_path().write_bytes(b"planted")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fused.load() is None
    messages = [str(w.message) for w in caught]
    assert builds == [False] and not fused.library_path().exists()
    assert any("not the kernel this user built" in m for m in messages)
    assert any("unavailable" in m for m in messages)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(a=np.float32(0.316), g=np.float64(1.2)),  # numpy numbers: get_config was empty
        dict(a=0.3, noise=Target.parse("depolarizing:0.01")),  # a target object
        dict(stochastic_neuron="sigmoid:8"),
    ],
    ids=["numpy knobs", "noise target", "stochastic"],
)
def test_a_network_saves_to_keras_and_loads_back_whole(tmp_path, kwargs):
    """Issue 28: a .keras file saved and then failed to load (shape mismatch): the model was lost."""
    from natq_cirq.engine.layers import NaturallyQuantizedNetwork

    import tensorflow as tf

    model = NaturallyQuantizedNetwork(input_dim=6, hidden=5, layers=2, outputs=3, seed=4, **kwargs)
    config = model.get_config()
    json.dumps(config)  # plain JSON
    assert NaturallyQuantizedNetwork.from_config(config).get_config() == config
    model.save(tmp_path / "m.keras")
    loaded = tf.keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is NaturallyQuantizedNetwork and loaded.get_config() == config
    for mine, theirs in zip(model.get_kernels(), loaded.get_kernels(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    x = np.random.default_rng(0).uniform(size=(4, 6)).astype(np.float32)
    np.testing.assert_array_equal(model.sample(x, 5, seed=1)[0], loaded.sample(x, 5, seed=1)[0])
    with pytest.raises(NatqError, match="as a .keras file"):
        model.save(tmp_path / "saved_model")


@pytest.mark.parametrize("mode", ["jit_compile", "mixed_float16"])
def test_training_runs_under_xla_and_mixed_precision(mode):
    """Issue 28: both failed inside the fused op with raw TensorFlow errors."""
    policy = tf.keras.mixed_precision.global_policy()
    if mode == "mixed_float16":
        tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = NaturallyQuantizedNetwork(input_dim=6, hidden=5, layers=2, outputs=3, a=0.3, g=1.2)
        model.compile(
            optimizer="sgd",
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=mode == "jit_compile",
        )
        rng = np.random.default_rng(0)
        x, y = rng.uniform(size=(64, 6)).astype(np.float32), rng.integers(0, 3, 64)
        history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        # The neurons keep float32 physics under any policy.
        assert all(layer.compute_dtype == "float32" for layer in model.hidden_layers)
    finally:
        tf.keras.mixed_precision.set_global_policy(policy)
