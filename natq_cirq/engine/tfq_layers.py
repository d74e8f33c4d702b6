"""A TensorFlow Quantum layer of neuron qubits, for users who build their models in TFQ.

:class:`TFQNeuronLayer` computes the first hidden layer with TensorFlow Quantum's expectation op over the
compiled read-out circuit of each neuron (``R_Y(theta)`` on the neuron, ``H`` and ``R_ZY(-g)``
with the ancilla, ``<Z>`` of the ancilla): the expectation is ``E[d | h]``, differentiable by TFQ's
adjoint differentiator, and each forward pass samples ``d = +-1`` with ``P(+1) = (1 + E) / 2``.
The backward pass is the straight-through estimator through ``E``: the exact gradient of the
expected activation, computed by TFQ. Its outputs ``(d, z, x)`` feed
:class:`natq_cirq.engine.layers.QuantumNeuronLayer` for the later layers (``z``/``x``, the Bloch
components, carry each neuron's post-measurement state, which persistent weak measurement needs).

Layer 1 needs no feed-forward (its input is the data), which is what makes it a plain batch of
parameterized circuits for TFQ.
"""

from __future__ import annotations

from dataclasses import asdict

import natq_cirq  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from natq_cirq.imports import require

# TensorFlow Quantum is the [tfq] extra: without it, importing this module is one line that says so.
require("tensorflow_quantum", "natq_cirq.engine.tfq_layers (TFQNeuronLayer)")

from natq_cirq import physics  # noqa: E402
from natq_cirq.engine import TF_OPS  # noqa: E402
from natq_cirq.engine.layers import QuantumNeuronLayer  # noqa: E402
from natq_cirq.errors import NatqError  # noqa: E402
from natq_cirq.hardware.gates import WeakMeasurementEntangler  # noqa: E402
from natq_cirq.hardware.readout import slot_circuit, slot_key, slot_symbol  # noqa: E402
from natq_cirq.physics import Knobs  # noqa: E402

import cirq  # noqa: E402
import sympy  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_quantum as tfq  # noqa: E402

keras = tf.keras


def tfq_ready(circuit: cirq.Circuit) -> tuple[cirq.Circuit, dict[str, cirq.Qid]]:
    """``circuit`` in gates TensorFlow Quantum knows, and the qubit each measurement key reads.

    TFQ takes Cirq's common gates: the entangler is decomposed, and measurements and the
    entangler's global phase (which no probability sees) are dropped.
    """
    measured = {
        cirq.measurement_key_name(op): op.qubits[0]
        for op in circuit.all_operations()
        if cirq.is_measurement(op)
    }
    unmeasured = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    body = cirq.Circuit(
        op
        for op in cirq.decompose(
            unmeasured, keep=lambda op: not isinstance(op.gate, WeakMeasurementEntangler)
        )
        if not isinstance(op.gate, cirq.GlobalPhaseGate)
    )
    return body, measured


def read_out_circuit(g: float) -> tuple[cirq.Circuit, sympy.Symbol, cirq.PauliSum]:
    """One neuron's layer-1 circuit in TFQ's gates, its angle symbol, and ``Z`` of the ancilla."""
    neuron, ancilla = cirq.LineQubit.range(2)
    body, measured = tfq_ready(
        slot_circuit(g, [(neuron, None if g >= physics.HALF_PI else ancilla)])
    )
    readout = measured[slot_key(0)]
    if readout not in body.all_qubits():  # projective: the circuit is one rotation
        body.append(cirq.I(readout))
    return body, slot_symbol(0), cirq.PauliSum.from_pauli_strings([cirq.Z(readout)])


class TFQNeuronLayer(keras.layers.Layer):
    """A hidden layer whose neurons TensorFlow Quantum simulates: ``tfq.layers.ControlledPQC``.

    Each neuron's read-out circuit (:func:`read_out_circuit`) is TFQ's model circuit and its angle
    ``theta = pi/2 (1 - phi_a(h))`` the controller's value, so the expectation ``E[d | h]`` and its
    gradient are TFQ's own (backend and differentiator as TFQ's layers take them).

    Args:
        units: neurons ``N``.
        a: activation stretch.
        g: weak-measurement angle.
        memory: neuron memory of the network (only matters for the states handed on).
        seed: seed of the sampling of ``d``.
        backend: TFQ's backend: ``"noiseless"`` (default; ``tfq.layers.ControlledPQC``),
            ``"noisy"`` (``tfq.layers.NoisyControlledPQC``, needs ``repetitions``), or a Cirq
            simulator or sampler object (not serialized by :meth:`get_config`).
        differentiator: a ``tfq.differentiators`` instance (default: TFQ's choice for the
            backend, the exact adjoint method when noiseless and analytic).
        repetitions: samples per expectation (``None``: exact, noiseless backends only).
    """

    def __init__(
        self,
        units: int,
        a: float = physics.CLASSICAL_A,
        g: float = physics.CLASSICAL_G,
        memory: str = physics.DEFAULT_MEMORY,
        seed: int = 0,
        backend: str | cirq.Sampler = "noiseless",
        differentiator: tfq.differentiators.Differentiator | str | None = None,
        repetitions: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        self.knobs = Knobs(a, g, memory)
        self.seed = int(seed)
        self.backend, self.repetitions = backend, repetitions
        if isinstance(differentiator, str):  # from get_config: a TFQ differentiator's class name
            differentiator = getattr(tfq.differentiators, differentiator)()
        self.differentiator = differentiator
        circuit, _, observable = read_out_circuit(self.knobs.g)
        if backend == "noisy":  # TFQ's noisy trajectories have their own layer
            if repetitions is None:
                raise NatqError("TFQ's noisy backend samples: give repetitions")
            # sample_based: estimates from measured bits, as hardware gives them.
            layer, chosen = tfq.layers.NoisyControlledPQC, {"sample_based": True}
        else:
            layer, chosen = tfq.layers.ControlledPQC, {"backend": backend}
        self.pqc = layer(
            circuit, observable, repetitions=repetitions, differentiator=differentiator, **chosen
        )
        # ControlledPQC prepends an input circuit to its model circuit; ours start empty.
        self.empty = tfq.convert_to_tensor([cirq.Circuit()])
        self.generator = tf.random.Generator.from_seed(seed)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units,
            **asdict(self.knobs),  # a, g, memory
            seed=self.seed,
            repetitions=self.repetitions,
            backend=self.backend if isinstance(self.backend, str) else "noiseless",
            differentiator=None
            if self.differentiator is None
            else type(self.differentiator).__name__,
        )
        return config

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), self.units),
            initializer="glorot_uniform",
            trainable=True,
        )
        super().build(input_shape)

    def expected_activation(self, h: tf.Tensor) -> tf.Tensor:
        """``E[d | h]`` for every neuron: TFQ's expectation of the read-out qubit's ``Z``."""
        theta = physics.rotation_angle(h, self.knobs.a, 1.0, TF_OPS)
        rows = tf.size(theta)
        expectation = self.pqc([tf.tile(self.empty, [rows]), tf.reshape(theta, (rows, 1))])
        return tf.reshape(tf.cast(expectation, h.dtype), tf.shape(h))

    def call(self, inputs):
        h = tf.matmul(inputs, self.kernel)
        mean = self.expected_activation(h)
        u = self.generator.uniform(tf.shape(h), dtype=h.dtype)
        d = tf.stop_gradient(tf.where(u < 0.5 * (1.0 + mean), tf.ones_like(h), -tf.ones_like(h)))
        # Forward: the sampled bit; backward: the gradient of E[d | h].
        out = mean + tf.stop_gradient(d - mean)
        if self.knobs.basis_memory:
            return out, None, None
        z, x = physics.pre_measurement_state(
            tf.stop_gradient(h), 1.0, None, None, self.knobs, TF_OPS
        )
        return (out, *physics.post_measurement_state(z, x, d, self.knobs, TF_OPS))


class TFQNaturallyQuantizedNetwork(keras.Model):
    """``M -> (N x L) -> P`` with layer 1 in TFQ and layers 2..L in the exact engine.

    Defaults as :class:`natq_cirq.engine.layers.NaturallyQuantizedNetwork` (the paper's 3 x 512, 10
    outputs, the classical knobs); ``backend``, ``differentiator`` and ``repetitions`` go to
    :class:`TFQNeuronLayer`.
    """

    def __init__(
        self,
        hidden: int = 512,
        layers: int = 3,
        outputs: int = 10,
        a: float = physics.CLASSICAL_A,
        g: float = physics.CLASSICAL_G,
        memory: str = physics.DEFAULT_MEMORY,
        seed: int = 0,
        backend="noiseless",
        differentiator=None,
        repetitions: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.first = TFQNeuronLayer(
            hidden,
            a,
            g,
            memory,
            seed=seed,
            backend=backend,
            differentiator=differentiator,
            repetitions=repetitions,
            name="tfq_hidden_0",
        )
        self.rest = [
            QuantumNeuronLayer(hidden, a, g, memory, seed=seed * 1000 + k, name=f"hidden_{k}")
            for k in range(1, layers)
        ]
        self.readout = keras.layers.Dense(outputs, use_bias=False, name="readout")
        first = self.first.get_config()
        self._config = dict(
            hidden=hidden,
            layers=layers,
            outputs=outputs,
            **{k: first[k] for k in ("a", "g", "memory", "seed", "backend", "repetitions")},
            differentiator=first["differentiator"],
        )

    def get_config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def call(self, inputs, training=None):
        state = self.first(inputs)
        for layer in self.rest:
            state = layer(state[0], state)
        return self.readout(state[0])
