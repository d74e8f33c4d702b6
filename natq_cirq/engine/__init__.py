"""The exact vectorized engine: the neuron physics as one differentiable TensorFlow operation.

Neurons never entangle with each other, so a layer of ``N`` neuron qubits is ``N`` independent
two-amplitude states: an exact simulation costs the classical network's matrix products plus O(N)
element-wise work per shot and layer. The formulas are those of :mod:`natq_cirq.physics`, evaluated
with TensorFlow's ops (``TF_OPS``), so the same code runs on a CPU or a GPU.

Training needs a gradient through the sampled bits, which have none; the *gradient estimator* says
what the backward pass uses as ``dd/dh``:

* ``"ste"`` (default, the paper's eq. 3): the clipped straight-through estimator, ``1`` where
  ``|h| <= 1`` and ``0`` elsewhere, whatever ``a`` and ``g`` are.
* ``"mean_field"``: the derivative of the expected activation of a neuron whose prior state is a basis
  state, ``sin g * sin(pi/2 * phi_b(h))`` with ``b = max(a, 1)``: a smooth window that shrinks with the
  measurement strength ``sin g`` and widens with ``a`` beyond the unit window. ``b`` is floored at 1 so
  the gradient stays bounded (``<= pi/2``) as ``a -> 0``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import natq_cirq  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from natq_cirq import physics
from natq_cirq.config import DEFAULT_ESTIMATOR, check_estimator
from natq_cirq.engine import fused
from natq_cirq.errors import NatqError
from natq_cirq.physics import Knobs

import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # XLA contexts: no public API

# The array namespace physics.py is written against, filled with TensorFlow ops.
TF_OPS = SimpleNamespace(
    where=tf.where,
    clip=tf.clip_by_value,
    sin=tf.sin,
    cos=tf.cos,
    sqrt=tf.sqrt,
    maximum=tf.maximum,
    ones_like=tf.ones_like,
    zeros_like=tf.zeros_like,
    exp=tf.exp,
    erf=tf.math.erf,
)


DEVICE_ENV = "NATQ_DEVICE"


def device_scope():
    """``tf.device`` of ``$NATQ_DEVICE`` (e.g. ``GPU:0``, ``CPU:0``), else TensorFlow's placement.

    Raises:
        NatqError: the named device does not exist on this machine.
    """
    import contextlib
    import os

    name = os.environ.get(DEVICE_ENV, "").strip()
    if not name:
        return contextlib.nullcontext()
    available = [d.name.split("device:")[-1] for d in tf.config.list_logical_devices()]
    if name.upper() not in [a.upper() for a in available]:
        raise NatqError(
            f"{DEVICE_ENV}={name} is not a device here; available: {', '.join(available)}"
        )
    return tf.device(name)


def surrogate_derivative(h: tf.Tensor, knobs: Knobs, estimator: str) -> tf.Tensor:
    """``dd/dh`` used in the backward pass (see the module docstring)."""
    if estimator == "ste":
        return tf.cast(tf.abs(h) <= 1.0, h.dtype)
    if estimator == "mean_field":
        width = max(knobs.a, 1.0)
        x = h / width
        slope = knobs.strength * (math.pi / (2 * width)) * tf.cos(physics.HALF_PI * x)
        return tf.where(tf.abs(x) <= 1.0, slope, tf.zeros_like(slope))
    check_estimator(estimator)
    raise AssertionError("unreachable")


def _fusable(h: tf.Tensor) -> bool:
    """Whether the fused kernel serves: float32, built, and not inside an XLA cluster.

    XLA (``jit_compile=True``) cannot compile a custom op, so a compiled step runs the separate
    ops (the same physics; tests/test_engine.py measures the speed of both).
    """
    if h.dtype != tf.float32 or not fused.enabled():
        return False
    return not control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def neuron_layer(
    h: tf.Tensor,
    d_prev: tf.Tensor,
    z: tf.Tensor | None,
    x: tf.Tensor | None,
    u: tf.Tensor,
    knobs: Knobs,
    estimator: str = DEFAULT_ESTIMATOR,
) -> tuple[tf.Tensor, tf.Tensor | None, tf.Tensor | None]:
    """A differentiable layer of neuron qubits: :func:`natq_cirq.physics.neuron_step`, surrogate gradient.

    Args:
        h: pre-activations, shape ``(batch, N)``.
        d_prev: the previous layer's recorded outcomes (``+1`` for layer 1), broadcastable to ``h``.
        z: the neurons' Bloch ``z`` before this layer, or ``None`` for ``|d_prev>``.
        x: the neurons' Bloch ``x``, or ``None`` for a basis state (see
            :func:`natq_cirq.physics.neuron_step`).
        u: uniform draws in ``[0, 1)``, shape of ``h``.
        knobs: ``a``, ``g``, memory mode.
        estimator: gradient estimator name.

    Returns:
        ``(d, z, x)`` (states ``None`` when not needed). Only ``d`` carries a gradient, to ``h``.
    """
    # The states (when carried) are not differentiated: the estimator defines the gradient.
    h_value = tf.stop_gradient(h)
    if knobs.a > 0 and not knobs.basis_memory and _fusable(h_value):
        d_prev = _full_shape(d_prev, h_value)  # the kernel takes equal shapes
        d, new_z, new_x = fused.carried_read_out(h_value, d_prev, z, x, u, knobs)
    else:
        d, new_z, new_x = physics.neuron_step(h_value, d_prev, z, x, u, knobs, TF_OPS)
    return _straight_through(d, h, knobs, estimator), new_z, new_x


def noisy_neuron_layer(
    h: tf.Tensor,
    d_prev: tf.Tensor,
    bloch: tf.Tensor | None,
    u: tf.Tensor,
    table: tf.Tensor,
    knobs: Knobs,
    estimator: str = DEFAULT_ESTIMATOR,
) -> tuple[tf.Tensor, tf.Tensor, None]:
    """:func:`neuron_layer` under noise: each neuron a Bloch vector, the read-out a fixed channel.

    Args:
        h: pre-activations ``(batch, N)``.
        d_prev: the previous layer's outcomes (``+1`` for layer 1).
        bloch: the neurons' Bloch vectors ``(batch, N, 3)`` (``None``: ``|0>``, layer 1).
        u: uniform draws, shape of ``h``.
        table: the layer's read-out channel, ``ReadoutChannel.maps`` as a ``(12, 8)`` tensor.
        knobs: ``a``, ``g``, memory (re-prepared neurons restart from ``|d_prev>``).
        estimator: gradient estimator name.

    Returns:
        ``(d, bloch, None)``; only ``d`` carries a gradient, to ``h``.
    """
    h_value = tf.stop_gradient(h)
    if bloch is None or knobs.memory == "reprepared":
        zeros = tf.zeros_like(h_value)
        bloch = tf.stack([zeros, zeros, d_prev * tf.ones_like(h_value)], axis=-1)
    theta = physics.rotation_angle(h_value, knobs.a, d_prev, TF_OPS)
    state = tf.concat([tf.ones_like(bloch[..., :1]), bloch], axis=-1)
    trig = tf.stack([tf.ones_like(theta), tf.cos(theta), tf.sin(theta)], axis=-1)
    features = tf.reshape(trig[..., :, None] * state[..., None, :], (-1, 12))
    out = tf.reshape(features @ table, tf.concat([tf.shape(theta), [2, 4]], axis=0))
    p_plus = tf.clip_by_value(out[..., 0, 0], 0.0, 1.0)
    d = physics.sample_outcome(p_plus, u, TF_OPS)
    chosen = tf.where((d > 0)[..., None], out[..., 0, :], out[..., 1, :])
    new_bloch = chosen[..., 1:] / tf.maximum(chosen[..., :1], 1e-30)
    return _straight_through(d, h, knobs, estimator), new_bloch, None


def layered_noisy_neuron_layer(
    h: tf.Tensor,
    d_prev: tf.Tensor,
    z: tf.Tensor | None,
    x: tf.Tensor | None,
    u: tf.Tensor,
    coefficients: tf.Tensor,
    knobs: Knobs,
    estimator: str = DEFAULT_ESTIMATOR,
) -> tuple[tf.Tensor, tf.Tensor | None, tf.Tensor | None]:
    """:func:`neuron_layer` as layered hardware runs it under noise.

    The read-out tables are :class:`natq_cirq.hardware.noisy.SlotReadout`'s.

    The neuron's known state ``R_Y(psi)|0>``, Bloch ``(z, x) = (cos psi, sin psi)``, is prepared and
    read out afresh: ``P(d = -1) = A + B cos(psi) + C sin(psi)``; the state carried on is the ideal
    post-measurement state of the recorded bit, as the layered rule computes it. ``coefficients``
    is ``(A, B, C)``.
    """
    z, x = physics.pre_measurement_state(tf.stop_gradient(h), d_prev, z, x, knobs, TF_OPS)
    z = _full_shape(z, h)  # layer 1's |d_prev> may be a broadcast d_prev
    p_minus = coefficients[0] + coefficients[1] * z
    if x is not None:
        p_minus += coefficients[2] * x
    d = physics.sample_outcome(1.0 - tf.clip_by_value(p_minus, 0.0, 1.0), u, TF_OPS)
    if knobs.basis_memory:
        new_z, new_x = None, None
    else:
        new_z, new_x = physics.post_measurement_state(z, x, d, knobs, TF_OPS)
    return _straight_through(d, h, knobs, estimator), new_z, new_x


def classical_stochastic_layer(
    h: tf.Tensor,
    u: tf.Tensor,
    neuron: physics.ClassicalStochasticNeuron,
    estimator: str = DEFAULT_ESTIMATOR,
) -> tuple[tf.Tensor, None, None]:
    """A layer of classical stochastic neurons (the baselines), trained as the quantum ones are.

    The same surrogate gradient as :func:`neuron_layer` (the classical knobs'), scaled by ``|d|``:
    ``1`` for the binary kinds; for dropout ``1 / (1 - P)`` on kept neurons and ``0`` on dropped
    ones, which is the gradient of inverted dropout.
    """
    d = neuron.sample(tf.stop_gradient(h), u, TF_OPS)
    scale = tf.abs(d) if neuron.kind == "dropout" else None
    return _straight_through(d, h, Knobs(), estimator, scale), None, None


def _full_shape(value, like: tf.Tensor) -> tf.Tensor:
    """``value`` broadcast to ``like``'s shape; a pass over memory only where it is not already."""
    if isinstance(value, tf.Tensor) and value.shape == like.shape:
        return value
    return tf.broadcast_to(tf.cast(value, like.dtype), tf.shape(like))


def _straight_through(
    d: tf.Tensor, h: tf.Tensor, knobs: Knobs, estimator: str, scale: tf.Tensor | None = None
) -> tf.Tensor:
    """``d`` in the forward pass (bit-exact), ``surrogate_derivative`` (times ``scale``) backward."""

    @tf.custom_gradient
    def op(h):
        def grad(d_upstream):
            slope = surrogate_derivative(h, knobs, estimator)
            return d_upstream * (slope if scale is None else slope * scale)

        return tf.identity(d), grad

    return op(h)


def initial_state(h: tf.Tensor) -> tuple[tf.Tensor, None, None]:
    """Layer 1's ``(d_prev, z, x)``: every qubit starts in ``|0>``, i.e. ``d_prev = +1``."""
    return tf.ones_like(h), None, None
