"""Keras layers (tf-keras, the Keras TensorFlow Quantum uses) around the exact engine.

A :class:`QuantumNeuronLayer` is a thin wrapper around :func:`natq_cirq.engine.neuron_layer`: it holds
the layer's weights and a random generator, and draws one shot per forward pass. A
:class:`NaturallyQuantizedNetwork` chains ``L`` of them and a linear read-out, ``M -> (N x L) -> P``,
carrying each neuron's outcome and two real amplitudes from layer to layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import natq_cirq  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from natq_cirq import engine, physics
from natq_cirq.config import DEFAULT_ESTIMATOR, TRAINING_FEATURES, Target, check_estimator
from natq_cirq.errors import NatqError
from natq_cirq.physics import ClassicalStochasticNeuron, Knobs, check_stochastic_neuron

import numpy as np
import tensorflow as tf

keras = tf.keras

NeuronState = tuple[tf.Tensor, tf.Tensor, tf.Tensor]


@keras.utils.register_keras_serializable(package="natq")
class QuantumNeuronLayer(keras.layers.Layer):
    """``units`` neuron qubits fed by a weight matrix ``(fan_in, units)``; ``h = d_prev_layer @ W``.

    Args:
        units: number of neurons ``N``.
        a: activation stretch (``0`` is ``sgn``).
        g: weak-measurement angle (``pi/2`` is projective).
        memory: ``"persistent"`` or ``"reprepared"`` neuron memory.
        gradient_estimator: ``"ste"`` or ``"mean_field"`` (see :mod:`natq_cirq.engine`).
        seed: seed of this layer's random generator (one uniform draw per neuron per pass).
        kernel_initializer: Keras initializer of ``W``.
        noise: a :class:`natq_cirq.target.Target` (or its text) simulated exactly in
            every pass, training included: qubit-wise noise on the dynamic circuit
            (:class:`natq_cirq.hardware.noisy.ReadoutChannel`), a device's noise on layered circuits placed
            on that device (:class:`natq_cirq.hardware.noisy.SlotReadout`).
        stochastic_neuron: a :class:`natq_cirq.physics.ClassicalStochasticNeuron` (or its text):
            the layer is then a classical stochastic baseline, not qubits (classical knobs only).
    """

    def __init__(
        self,
        units: int,
        a: float = physics.CLASSICAL_A,
        g: float = physics.CLASSICAL_G,
        memory: str = physics.DEFAULT_MEMORY,
        gradient_estimator: str = DEFAULT_ESTIMATOR,
        seed: int = 0,
        kernel_initializer: str = "glorot_uniform",
        noise: Target | str | None = None,
        stochastic_neuron: ClassicalStochasticNeuron | str | None = None,
        **kwargs,
    ):
        # The physics runs in float32 whatever the global policy (mixed_float16 included):
        # probabilities near 0 and 1 need it, as Keras' guide advises for such layers.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        check_estimator(gradient_estimator)
        self.noise = noise = Target.coerce(noise)
        if noise is not None:
            noise.require(TRAINING_FEATURES, "a naturally quantized network")
        self.units = int(units)
        self.knobs = Knobs(a, g, memory)
        self.stochastic_neuron = check_stochastic_neuron(
            stochastic_neuron, self.knobs, noise is not None
        )
        self.gradient_estimator = gradient_estimator
        self.seed = int(seed)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.generator = tf.random.Generator.from_seed(self.seed)
        self.readout_tables = None
        self.layered_readout = None
        if noise:
            # Only a noisy network needs Cirq (the noise channels, the devices): loaded here, so
            # that the noiseless engine starts without it.
            from natq_cirq.hardware.noisy import ReadoutChannel, layered_slot_readout

            if not noise.qubitwise:
                # A device's noise: layered execution on that device (a random pair per read-out).
                self.layered_readout = tf.constant(
                    layered_slot_readout(self.knobs, noise).coefficients.mean(axis=0), tf.float32
                )
                return
            # Qubit-wise noise: the exact noisy dynamic circuit, the read-out channels of the
            # first and of later layers.
            self.readout_tables = [
                tf.constant(
                    ReadoutChannel.from_noise(self.knobs, noise, first)
                    .maps.transpose(1, 2, 0, 3)
                    .reshape(12, 8),
                    tf.float32,
                )
                for first in (True, False)
            ]

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), self.units),
            initializer=self.kernel_initializer,
            trainable=True,
        )
        super().build(input_shape)

    def step(
        self,
        h: tf.Tensor,
        state: NeuronState | None,
        knobs: Knobs | None = None,
        generator: tf.random.Generator | None = None,
    ) -> NeuronState:
        """Measure the neurons given their pre-activations ``h`` and the carried ``state``."""
        if state is None:
            state = engine.initial_state(h)
        u = (generator or self.generator).uniform(tf.shape(h), dtype=h.dtype)
        if self.stochastic_neuron is not None and knobs is None:
            return engine.classical_stochastic_layer(
                h, u, self.stochastic_neuron, self.gradient_estimator
            )
        if self.layered_readout is not None and (knobs is None or knobs == self.knobs):
            return engine.layered_noisy_neuron_layer(
                h, *state, u, self.layered_readout, self.knobs, self.gradient_estimator
            )
        if self.readout_tables is not None and (knobs is None or knobs == self.knobs):
            first = state[1] is None
            table = self.readout_tables[0 if first else 1]
            return engine.noisy_neuron_layer(
                h, state[0], state[1], u, table, self.knobs, self.gradient_estimator
            )
        return engine.neuron_layer(h, *state, u, knobs or self.knobs, self.gradient_estimator)

    def call(self, inputs: tf.Tensor, state: NeuronState | None = None) -> NeuronState:
        """One shot: ``inputs`` are the previous layer's activations (or the data for layer 1)."""
        return self.step(tf.matmul(inputs, self.kernel), state)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            **asdict(self.knobs),  # a, g, memory
            gradient_estimator=self.gradient_estimator,
            seed=int(self.seed),
            noise=str(self.noise) if self.noise else None,
            stochastic_neuron=str(self.stochastic_neuron) if self.stochastic_neuron else None,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
        )
        return config


ROWS_PER_CHUNK = 16384  # (input, shot) rows simulated at once: bounds the engine's memory


@keras.utils.register_keras_serializable(package="natq")
class NaturallyQuantizedNetwork(keras.Model):
    """The naturally quantized binarized MLP ``M -> (N x L) -> P`` (no biases, as in the paper).

    ``a = 0, g = pi/2`` is exactly the classical ``sgn`` network. Calling the model draws one shot
    and returns the logits ``f = d_L @ W_L``; :meth:`sample` draws many shots for inference.
    ``noise`` (a spec such as ``depolarizing:0.01``) puts the exact noisy engine in the loop:
    training and sampling with the model's knobs then run the noisy dynamic circuit (inference
    with other knobs, e.g. deterministic, stays noiseless). ``stochastic_neuron`` makes it a
    classical stochastic baseline (:class:`natq_cirq.physics.ClassicalStochasticNeuron`).
    """

    def __init__(
        self,
        input_dim: int = 784,
        hidden: int = 512,
        layers: int = 3,
        outputs: int = 10,
        a: float = physics.CLASSICAL_A,
        g: float = physics.CLASSICAL_G,
        memory: str = physics.DEFAULT_MEMORY,
        gradient_estimator: str = DEFAULT_ESTIMATOR,
        seed: int = 0,
        noise: Target | str | None = None,
        stochastic_neuron: ClassicalStochasticNeuron | str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("input_dim", input_dim),
            ("hidden", hidden),
            ("layers", layers),
            ("outputs", outputs),
        ):
            if int(value) < 1:
                raise NatqError(f"{name} must be a positive integer (got {value})")
        self.input_dim, self.hidden, self.outputs = int(input_dim), int(hidden), int(outputs)
        self.knobs = Knobs(a, g, memory)
        self.stochastic_neuron = check_stochastic_neuron(
            stochastic_neuron, self.knobs, Target.coerce(noise) is not None
        )
        self.gradient_estimator = gradient_estimator
        self.seed = int(seed)
        self.hidden_layers = [
            QuantumNeuronLayer(
                hidden,
                a,
                g,
                memory,
                gradient_estimator,
                seed=seed * 1000 + k,
                noise=noise,
                stochastic_neuron=self.stochastic_neuron,
                name=f"hidden_{k}",
            )
            for k in range(int(layers))
        ]
        self.readout = keras.layers.Dense(outputs, use_bias=False, name="readout")
        # Inference draws from its own generator so that sampling never disturbs training's stream.
        self._inference_generator = tf.random.Generator.from_seed(0)
        # Each layer built from its shape, in the order a call would build them (the same weights
        # for a seed), without tracing ``call`` symbolically (a second of AutoGraph at start-up).
        shape = (None, self.input_dim)
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = (None, self.hidden)
        self.readout.build(shape)
        self.built = True

    def get_config(self) -> dict:
        """Every constructor argument as plain JSON (any numeric type; noise as the target's text).

        ``from_config(get_config())`` rebuilds the same network, so a ``.keras`` file loads back.
        """
        noise = self.hidden_layers[0].noise if self.hidden_layers else None
        return {
            "name": self.name,
            "input_dim": int(self.input_dim),
            "hidden": int(self.hidden),
            "layers": len(self.hidden_layers),
            "outputs": int(self.outputs),
            "a": float(self.knobs.a),
            "g": float(self.knobs.g),
            "memory": str(self.knobs.memory),
            "gradient_estimator": str(self.gradient_estimator),
            "seed": int(self.seed),
            "noise": str(noise) if noise else None,
            "stochastic_neuron": str(self.stochastic_neuron) if self.stochastic_neuron else None,
        }

    @classmethod
    def from_config(cls, config: dict) -> NaturallyQuantizedNetwork:
        return cls(**config)

    def save(self, filepath, *args, **kwargs):
        """Save as a ``.keras`` file (Keras' own format, which restores this class).

        A SavedModel folder loads back as a generic object without the knobs or :meth:`sample`,
        so it is refused here with the alternative named.
        """
        if not str(filepath).endswith(".keras"):
            raise NatqError(
                f"save a naturally quantized network as a .keras file (got {filepath}): a "
                "SavedModel loads back without its knobs or sample(); for the weights alone, "
                "use natq_cirq.files.save_model"
            )
        return super().save(filepath, *args, **kwargs)

    @property
    def is_deterministic(self) -> bool:
        """True when every shot is the same: classical knobs and no stochastic neuron."""
        return self.knobs.is_classical and self.stochastic_neuron is None

    def call(self, inputs, training=None):
        d, state = inputs, None
        for layer in self.hidden_layers:
            state = layer(d, state)
            d = state[0]
        return self.readout(d)

    # -- weights in the convention of docs/commands.md (model.npz) ------------------------------
    def get_kernels(self) -> list[np.ndarray]:
        """``[W0, ..., WL]`` as NumPy arrays, ``h = d @ W``."""
        return [layer.kernel.numpy() for layer in self.hidden_layers] + [
            self.readout.kernel.numpy()
        ]

    def set_kernels(self, kernels: Sequence[np.ndarray]) -> None:
        """Load ``[W0, ..., WL]`` (shapes must match the architecture)."""
        targets = [layer.kernel for layer in self.hidden_layers] + [self.readout.kernel]
        if len(kernels) != len(targets):
            raise NatqError(f"expected {len(targets)} weight matrices, got {len(kernels)}")
        for k, (variable, value) in enumerate(zip(targets, kernels, strict=True)):
            if tuple(variable.shape) != tuple(np.shape(value)):
                raise NatqError(
                    f"W{k} has shape {tuple(np.shape(value))}, expected {tuple(variable.shape)}"
                )
            variable.assign(np.asarray(value, dtype=np.float32))

    # -- inference --------------------------------------------------------------------------------
    @tf.function(reduce_retracing=True, autograph=False)  # plain Python loops: no AutoGraph
    def _deterministic_chunk(self, x):
        d = x
        for layer in self.hidden_layers:
            d = physics.activation(tf.matmul(d, layer.kernel), physics.CLASSICAL_A, engine.TF_OPS)
        return tf.matmul(d, self.readout.kernel)

    def deterministic_logits(
        self, x: np.ndarray, rows_per_chunk: int = ROWS_PER_CHUNK
    ) -> np.ndarray:
        """Logits of deterministic inference: the classical ``sgn`` network (``a = 0, g = pi/2``).

        The outcomes of :meth:`sample` with ``Knobs()``, whose shots are all alike, without its
        random draws: what validation with deterministic inference evaluates (paper, Fig. 4).

        Args:
            x: inputs ``(n, M)``, already scaled.
            rows_per_chunk: bound on the inputs simulated at once (memory).

        Returns:
            ``logits (n, P)`` float32.
        """
        x = np.asarray(x, dtype=np.float32)
        parts = [
            self._deterministic_chunk(tf.constant(x[start : start + rows_per_chunk])).numpy()
            for start in range(0, len(x), rows_per_chunk)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.outputs), np.float32)

    @tf.function(reduce_retracing=True, autograph=False)  # plain Python loops: no AutoGraph
    def _sample_chunk(self, x, shots, knobs, record_bits):
        # Layer 1's pre-activations do not depend on the shot: compute them once per input.
        h = tf.matmul(x, self.hidden_layers[0].kernel)
        h = tf.repeat(h, shots, axis=0)
        state, bits = None, []
        for k, layer in enumerate(self.hidden_layers):
            if k > 0:
                h = tf.matmul(state[0], layer.kernel)
            state = layer.step(h, state, knobs, self._inference_generator)
            if record_bits:
                bits.append(tf.cast(state[0], tf.int8))
        logits = tf.matmul(state[0], self.readout.kernel)
        n = tf.shape(x)[0]
        logits = tf.reshape(logits, (n, shots, self.outputs))
        if not record_bits:
            return logits, None
        return logits, tf.reshape(
            tf.stack(bits, axis=1), (n, shots, len(self.hidden_layers), self.hidden)
        )

    def sample(
        self,
        x: np.ndarray,
        shots: int,
        knobs: Knobs | None = None,
        seed: int = 0,
        record_bits: bool = True,
        rows_per_chunk: int = ROWS_PER_CHUNK,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Run ``shots`` independent shots of every input.

        Args:
            x: inputs ``(n, M)``, already scaled.
            shots: shots per input.
            knobs: knobs for inference (default: the training knobs and, for a baseline, its
                stochastic neuron); ``Knobs()`` is deterministic.
            seed: seed of the inference random generator.
            record_bits: also return the hidden outcomes.
            rows_per_chunk: bound on ``inputs x shots`` simulated at once (memory).

        Returns:
            ``logits (n, shots, P)`` float32 and ``bits (n, shots, L, N)`` int8 in ``{+1, -1}``
            (``None`` unless ``record_bits``).
        """
        self._inference_generator.reset_from_seed(int(seed))
        x = np.asarray(x, dtype=np.float32)
        chunk = max(1, rows_per_chunk // max(1, shots))
        logits_parts, bits_parts = [], []
        shots_t = tf.constant(int(shots), tf.int32)
        for start in range(0, len(x), chunk):
            logits, bits = self._sample_chunk(
                tf.constant(x[start : start + chunk]), shots_t, knobs, bool(record_bits)
            )
            logits_parts.append(logits.numpy())
            if record_bits:
                bits_parts.append(bits.numpy())
        logits = (
            np.concatenate(logits_parts) if logits_parts else np.zeros((0, shots, self.outputs))
        )
        bits = None
        if record_bits:
            bits = (
                np.concatenate(bits_parts)
                if bits_parts
                else np.zeros((0, shots, len(self.hidden_layers), self.hidden), np.int8)
            )
        return logits.astype(np.float32), bits
