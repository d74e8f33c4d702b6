"""The physics of one neuron qubit: the single source of truth.

Every formula the engine, the compiler's tests and the runners' tests need lives here, written once
against a small array namespace ``xp`` (NumPy by default; the engine passes TensorFlow's ops), so that
NumPy reference checks and the TensorFlow engine evaluate literally the same expressions.

Conventions (``docs/physics.md``):

* bit ``0`` <-> activation ``d = +1`` <-> state ``|0>``; bit ``1`` <-> ``d = -1`` <-> ``|1>``;
  ``sgn(0) = +1``.
* ``phi_a(x) = clip(x / a, -1, 1)`` for ``a > 0`` and ``phi_0 = sgn``.
* Layer ``k`` rotates its neuron by ``R_Y(theta)``, ``theta = pi/2 (d_prev - phi_a(h))``, where ``d_prev``
  is the neuron's recorded outcome in layer ``k - 1`` (``+1`` in layer 1, whose qubits start in ``|0>``).
* Read-out with strength ``s = sin g``: ``P(d) = (1 + d s z) / 2`` with ``z = alpha^2 - beta^2``; the
  neuron is left in eq. 9 of the paper. ``g = pi/2`` is a projective measurement.
* Neuron memory: ``persistent`` (the paper's circuit; the next rotation acts on the post-measurement
  state) or ``reprepared`` (the neuron is reset to ``|d_prev>`` before each rotation).
* Classical stochastic baselines (:class:`ClassicalStochasticNeuron`, no qubit at all): the ``sgn``
  network with ``P(d = +1) = sigma(beta h)``, with Gaussian noise on ``h`` (``P(d = +1) =
  Phi(h / sigma)``), or with inverted dropout on its activations.

All amplitudes stay real, so a neuron's state ``alpha|0> + beta|1>`` is a point ``(z, x) =
(alpha^2 - beta^2, 2 alpha beta)`` of the Bloch circle. The paper's equations are written here once in
amplitudes (:func:`rotate_y`, :func:`probability_plus`, :func:`post_measurement_amplitudes`: the
reference, tested against Cirq, and what :func:`exact_record_distribution` enumerates with), and the
engine carries the Bloch form (:func:`neuron_step`), which needs no square roots: a rotation is a
rotation of the circle and eq. 9 becomes ``z -> (z + d s) / (1 + d s z)``,
``x -> x cos g / (1 + d s z)``. Tests hold the two forms equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from natq_cirq.errors import NatqError

import numpy as np

HALF_PI = math.pi / 2
MEMORY_MODES = ("persistent", "reprepared")
DEFAULT_MEMORY = "persistent"
CLASSICAL_A = 0.0
CLASSICAL_G = HALF_PI

# The smallest denominator eq. 9 may see; only reached by outcomes of probability ~0.
_TINY = 1e-30


@dataclass(frozen=True)
class Knobs:
    """The quantumness knobs of a network, validated on construction.

    Attributes:
        a: stretch of the activation ``phi_a`` (``a >= 0``; ``0`` is ``sgn``).
        g: weak-measurement angle (``0 <= g <= pi/2``; ``pi/2`` is projective).
        memory: ``"persistent"`` (default, the paper's circuit) or ``"reprepared"``.
    """

    a: float = CLASSICAL_A
    g: float = CLASSICAL_G
    memory: str = DEFAULT_MEMORY

    def __post_init__(self) -> None:
        check_knobs(self.a, self.g, self.memory)
        object.__setattr__(self, "a", float(self.a))
        object.__setattr__(self, "g", float(self.g))

    @property
    def strength(self) -> float:
        """The measurement strength ``sin g``."""
        return measurement_strength(self.g)

    @property
    def basis_memory(self) -> bool:
        """True when every neuron enters each layer in the basis state ``|d_prev>``.

        That holds after a projective read-out (``g = pi/2``) and with re-prepared memory; then the
        outcome probability has the closed form of :func:`basis_probability_plus` and no amplitudes
        need to be carried between layers.
        """
        return self.memory == "reprepared" or self.strength == 1.0

    @property
    def is_classical(self) -> bool:
        """True for ``a = 0, g = pi/2``, where every outcome is certain."""
        return self.a == 0 and self.strength == 1.0


def check_knobs(a: Any, g: Any, memory: str = DEFAULT_MEMORY) -> None:
    """Raise a one-line :class:`NatqError` unless ``a``, ``g`` and ``memory`` are valid."""
    try:
        a_value, g_value = float(a), float(g)
    except (TypeError, ValueError):
        raise NatqError(f"a and g must be numbers (got a={a!r}, g={g!r})") from None
    if not math.isfinite(a_value) or a_value < 0:
        raise NatqError(f"a must be a finite number >= 0 (got a={a!r}); a=0 is the classical sgn")
    # Allow the float rounding of pi/2 written by hand (1.5707963...).
    if not math.isfinite(g_value) or g_value < 0 or g_value > HALF_PI + 1e-12:
        raise NatqError(
            f"g must lie in [0, pi/2] = [0, {HALF_PI:.6f}] (got g={g!r}); g=pi/2 is projective"
        )
    if memory not in MEMORY_MODES:
        raise NatqError(f"memory must be one of {', '.join(MEMORY_MODES)} (got {memory!r})")


def measurement_strength(g: float) -> float:
    """``sin g``, exactly ``1.0`` at ``g = pi/2`` so that the classical limit is exact."""
    return 1.0 if g >= HALF_PI else math.sin(g)


def activation(h: Any, a: float, xp: Any = np) -> Any:
    """``phi_a(h)``: ``clip(h / a, -1, 1)``, or ``sgn(h)`` with ``sgn(0) = +1`` when ``a = 0``."""
    if a == 0:
        ones = xp.ones_like(h)
        return xp.where(h >= 0, ones, -ones)
    return xp.clip(h / a, -1.0, 1.0)


def rotation_angle(h: Any, a: float, d_prev: Any = 1.0, xp: Any = np) -> Any:
    """Eq. 5: ``theta = pi/2 (d_prev - phi_a(h))``; ``d_prev = +1`` in layer 1."""
    return HALF_PI * (d_prev - activation(h, a, xp))


def rotate_y(alpha: Any, beta: Any, theta: Any, xp: Any = np) -> tuple[Any, Any]:
    """Apply ``R_Y(theta) = exp(-i theta Y / 2)`` to the real state ``alpha|0> + beta|1>``."""
    cos, sin = xp.cos(theta / 2), xp.sin(theta / 2)
    return cos * alpha - sin * beta, sin * alpha + cos * beta


def probability_plus(alpha: Any, beta: Any, g: float) -> Any:
    """``P(d = +1) = (1 + sin g * z) / 2`` for the state ``(alpha, beta)``, ``z = alpha^2 - beta^2``."""
    z = alpha * alpha - beta * beta
    return 0.5 * (1.0 + measurement_strength(g) * z)


def post_measurement_amplitudes(
    alpha: Any, beta: Any, d: Any, g: float, xp: Any = np
) -> tuple[Any, Any]:
    """Eq. 9: the neuron's amplitudes after its read-out gave ``d`` (``+1`` or ``-1``).

    ``alpha -> alpha sqrt((1 + d s) / (1 + d s z))``, ``beta -> beta sqrt((1 - d s) / (1 + d s z))``;
    ``g = pi/2`` leaves the basis state ``|d>`` (up to a global sign).
    """
    s = measurement_strength(g)
    z = alpha * alpha - beta * beta
    norm = xp.sqrt(xp.maximum(1.0 + d * (s * z), _TINY))
    return (
        alpha * xp.sqrt(xp.maximum(1.0 + d * s, 0.0)) / norm,
        beta * xp.sqrt(xp.maximum(1.0 - d * s, 0.0)) / norm,
    )


def basis_state(d: Any, xp: Any = np) -> tuple[Any, Any]:
    """The state ``|d>``: ``(1, 0)`` for ``d = +1`` and ``(0, 1)`` for ``d = -1``."""
    plus = d > 0
    ones, zeros = xp.ones_like(d), xp.zeros_like(d)
    return xp.where(plus, ones, zeros), xp.where(plus, zeros, ones)


def sample_outcome(p_plus: Any, u: Any, xp: Any = np) -> Any:
    """``+1`` where the uniform draw ``u`` in ``[0, 1)`` is below ``P(d = +1)``, else ``-1``.

    Outcomes of probability exactly 1 or 0 (the classical limit) come out certain for every ``u``.
    """
    ones = xp.ones_like(p_plus)
    return xp.where(u < p_plus, ones, -ones)


def neuron_step(
    h: Any,
    d_prev: Any,
    z: Any,
    x: Any,
    u: Any,
    knobs: Knobs,
    xp: Any = np,
) -> tuple[Any, Any, Any]:
    """One layer for a batch of neurons: rotate, read out, sample, collapse (Bloch form).

    Args:
        h: pre-activations ``d_prev_layer @ W`` of these neurons.
        d_prev: each neuron's recorded outcome in the previous layer (``+1`` in layer 1).
        z: each neuron's Bloch ``z = alpha^2 - beta^2`` before this layer, or ``None`` for the basis
            state ``|d_prev>`` (layer 1, and always when ``knobs.basis_memory``).
        x: each neuron's Bloch ``x = 2 alpha beta``, or ``None`` when the neuron is in a basis state
            (``z = +-1``), which it stays in at ``a = 0``.
        u: uniform draws in ``[0, 1)``, one per neuron.
        knobs: ``a``, ``g`` and the memory mode.
        xp: array namespace (NumPy, or the engine's TensorFlow ops).

    Returns:
        ``(d, z, x)``: the recorded outcomes and the post-measurement states; the states are
        ``None`` when ``knobs.basis_memory`` (the next layer starts from ``|d>``).
    """
    if knobs.basis_memory:  # closed form, no state to carry
        return sample_outcome(basis_probability_plus(h, knobs, xp), u, xp), None, None
    return read_out(*pre_measurement_state(h, d_prev, z, x, knobs, xp), u, knobs, xp)


def read_out(z: Any, x: Any, u: Any, knobs: Knobs, xp: Any = np) -> tuple[Any, Any, Any]:
    """Sample ``d`` with ``P(d = +1) = (1 + s z) / 2`` and collapse (eq. 9): ``(d, z, x)``."""
    d = sample_outcome(0.5 + (0.5 * knobs.strength) * z, u, xp)
    return (d, *post_measurement_state(z, x, d, knobs, xp))


def pre_measurement_state(
    h: Any, d_prev: Any, z: Any, x: Any, knobs: Knobs, xp: Any = np
) -> tuple[Any, Any]:
    """The neuron's Bloch ``(z, x)`` after this layer's rotation, just before its read-out.

    ``z``/``x`` are the state carried from the previous layer (see :func:`neuron_step`).
    ``R_Y(theta)`` turns the Bloch circle by ``theta = pi/2 (d_prev - phi)``; because ``d_prev = +-1``,
    ``cos theta = d_prev sin(pi/2 phi)`` and ``sin theta = d_prev cos(pi/2 phi)``.
    """
    if knobs.basis_memory or z is None:
        z, x = d_prev, None  # |d_prev>; broadcast against h below
    if knobs.a == 0:
        # theta is 0 or +-pi: the circle turns by cos theta = d_prev sgn(h), basis states stay basis.
        turn = xp.where(h >= 0, d_prev, -d_prev)
        return turn * z, None if x is None else turn * x
    sin_half, cos_half = half_turn(h, knobs.a, xp)
    return rotate_bloch(z, x, d_prev * sin_half, d_prev * cos_half)


def half_turn(h: Any, a: float, xp: Any = np) -> tuple[Any, Any]:
    """``(sin, cos)`` of ``pi/2 phi_a(h)``: ``theta``'s cosine and sine up to the sign ``d_prev``."""
    angle = HALF_PI * activation(h, a, xp)
    return xp.sin(angle), xp.cos(angle)


def rotate_bloch(z: Any, x: Any, cos_theta: Any, sin_theta: Any) -> tuple[Any, Any]:
    """``R_Y(theta)`` on the Bloch circle; ``x`` ``None`` is ``0``."""
    if x is None:
        return cos_theta * z, sin_theta * z
    return cos_theta * z - sin_theta * x, cos_theta * x + sin_theta * z


def post_measurement_state(z: Any, x: Any, d: Any, knobs: Knobs, xp: Any = np) -> tuple[Any, Any]:
    """Eq. 9 in Bloch form: ``z -> (z + d s) / (1 + d s z)``, ``x -> x cos g / (1 + d s z)``.

    A basis state (``x`` is ``None``) is left as it is.
    """
    if x is None:
        return z, None
    ds = d * knobs.strength
    inverse = 1.0 / xp.maximum(1.0 + ds * z, _TINY)
    return (z + ds) * inverse, (math.cos(knobs.g) * inverse) * x


def preparation_angle(z: Any, x: Any, xp: Any = np) -> Any:
    """The angle ``chi`` with ``R_Y(chi)|0>`` the state of Bloch ``(z, x)`` (up to a global sign).

    Layered execution re-prepares each neuron's known state with this one rotation.
    """
    return xp.arctan2(xp.zeros_like(z) if x is None else x, z)


def bloch(alpha: Any, beta: Any) -> tuple[Any, Any]:
    """``(z, x) = (alpha^2 - beta^2, 2 alpha beta)`` of the real state ``alpha|0> + beta|1>``."""
    return alpha * alpha - beta * beta, 2.0 * alpha * beta


def exact_record_distribution(
    x: np.ndarray, kernels: list[np.ndarray], knobs: Knobs
) -> dict[tuple[float, ...], float]:
    """``P(record)`` of every record of hidden outcomes of a tiny network, by enumeration.

    The reference every backend is tested against: ``2**(L N)`` records, so keep ``L N`` small.

    Args:
        x: one input ``(M,)``.
        kernels: ``[W0, ..., WL]``; only the hidden ones are used.
        knobs: ``a``, ``g``, memory.

    Returns:
        A dict from records (tuples of ``+-1.0``, layer-major) to probabilities.
    """
    import itertools

    hidden, layers = kernels[0].shape[1], len(kernels) - 1
    x = np.asarray(x, dtype=np.float64)
    out = {}
    for record in itertools.product((1.0, -1.0), repeat=hidden * layers):
        bits = np.array(record).reshape(layers, hidden)
        p, d_in, d_prev, alpha, beta = 1.0, x, np.ones(hidden), None, None
        for k in range(layers):
            h = d_in @ np.asarray(kernels[k], dtype=np.float64)
            if alpha is None or knobs.basis_memory:
                alpha, beta = basis_state(d_prev)
            # In amplitudes, as the paper writes it (the engine's Bloch form is checked against it).
            alpha, beta = rotate_y(alpha, beta, rotation_angle(h, knobs.a, d_prev))
            p_plus = probability_plus(alpha, beta, knobs.g)
            p *= float(np.prod(np.where(bits[k] > 0, p_plus, 1 - p_plus)))
            if p == 0:
                break
            alpha, beta = post_measurement_amplitudes(alpha, beta, bits[k], knobs.g)
            d_prev = d_in = bits[k]
        out[record] = p
    return out


STOCHASTIC_KINDS = ("sigmoid", "gaussian", "dropout")


@dataclass(frozen=True)
class ClassicalStochasticNeuron:
    """A classical stochastic binary neuron: the baselines the quantum knobs are measured against.

    Text form ``KIND:SCALE`` (``sigmoid:8``, ``gaussian:0.2``, ``dropout:0.1``):

    * ``sigmoid:BETA`` — ``P(d = +1) = 1 / (1 + exp(-BETA h))`` (the stochastic binary neuron);
    * ``gaussian:SIGMA`` — ``d = sgn(h + SIGMA eps)``, ``eps ~ N(0, 1)``: ``P(d = +1) = Phi(h / SIGMA)``;
    * ``dropout:P`` — ``d = sgn(h) m / (1 - P)`` with ``m = 0`` with probability ``P`` (inverted
      dropout; a dropped neuron passes no gradient).

    The network's knobs stay classical (``a = 0, g = pi/2``); deterministic inference is the ``sgn``
    network, sampled inference draws the noise in every shot.
    """

    kind: str
    scale: float

    def __post_init__(self) -> None:
        if self.kind not in STOCHASTIC_KINDS:
            raise NatqError(
                f"unknown stochastic neuron {self.kind!r}; choose one of {', '.join(STOCHASTIC_KINDS)}"
            )
        try:
            scale = float(self.scale)
        except (TypeError, ValueError):
            raise NatqError(f"{self.kind} needs a number (got {self.scale!r})") from None
        upper = 1.0 if self.kind == "dropout" else math.inf
        if not math.isfinite(scale) or not 0 < scale < upper:
            bound = "in (0, 1)" if self.kind == "dropout" else "finite and > 0"
            raise NatqError(f"{self.kind}'s parameter must be {bound} (got {self.scale!r})")
        object.__setattr__(self, "scale", scale)

    def __str__(self) -> str:
        short = f"{self.scale:g}"  # the text must parse back to the same number
        return f"{self.kind}:{short if float(short) == self.scale else repr(self.scale)}"

    @classmethod
    def parse(cls, text: str) -> ClassicalStochasticNeuron:
        """``KIND:SCALE`` -> the neuron; anything else is one :class:`NatqError` line."""
        kind, sep, scale = str(text).partition(":")
        if not sep:
            raise NatqError(f"a stochastic neuron is KIND:NUMBER, e.g. sigmoid:8 (got {text!r})")
        try:
            value = float(scale)
        except ValueError:
            raise NatqError(f"{kind} needs a number (got {scale!r})") from None
        return cls(kind.strip(), value)

    @classmethod
    def coerce(cls, value: Any) -> ClassicalStochasticNeuron | None:
        """``None``, a neuron, or its text (as configs read back from JSON hold it)."""
        if value is None or isinstance(value, cls):
            return value
        return cls.parse(value)

    def sample(self, h: Any, u: Any, xp: Any = np) -> Any:
        """The neurons' activations for pre-activations ``h`` and uniform draws ``u``."""
        if self.kind == "dropout":
            kept = xp.where(u >= self.scale, xp.ones_like(h), xp.zeros_like(h))
            return activation(h, 0.0, xp) * (kept / (1.0 - self.scale))
        return sample_outcome(self.probability_plus(h, xp), u, xp)

    def probability_plus(self, h: Any, xp: Any = np) -> Any:
        """``P(d = +1 | h)`` (for dropout: of ``d > 0``; ``d = 0`` has probability ``P``)."""
        if self.kind == "sigmoid":
            return 1.0 / (1.0 + xp.exp(-self.scale * h))
        if self.kind == "gaussian":
            erf = getattr(xp, "erf", None) or _NUMPY_ERF
            return 0.5 * (1.0 + erf(h * (1.0 / (self.scale * math.sqrt(2.0)))))
        ones = xp.ones_like(h)
        return (1.0 - self.scale) * xp.where(h >= 0, ones, 0.0 * ones)


_NUMPY_ERF = np.vectorize(math.erf, otypes=[np.float64])


def check_stochastic_neuron(
    neuron: ClassicalStochasticNeuron | str | None, knobs: Knobs, noisy: bool
) -> ClassicalStochasticNeuron | None:
    """The parsed neuron; a baseline is the classical network plus classical noise, nothing else."""
    neuron = ClassicalStochasticNeuron.coerce(neuron)
    if neuron is not None and (not knobs.is_classical or noisy):
        raise NatqError(
            f"a classical stochastic neuron ({neuron}) goes with a = 0, g = pi/2 and no quantum noise"
        )
    return neuron


def basis_probability_plus(h: Any, knobs: Knobs, xp: Any = np) -> Any:
    """``P(d = +1) = (1 + sin g sin(pi/2 phi_a(h))) / 2`` for a neuron entering in ``|d_prev>``.

    Independent of ``d_prev``: ``R_Y(pi/2 (d_prev - phi))`` turns ``|d_prev>`` into a state with
    ``z = sin(pi/2 phi)`` either way.
    """
    return 0.5 * (1.0 + knobs.strength * xp.sin(HALF_PI * activation(h, knobs.a, xp)))


def expected_activation(h: Any, knobs: Knobs, xp: Any = np) -> Any:
    """``E[d | h]`` for a prior basis state: ``sin g * sin(pi/2 phi_a(h))``.

    Exact for layer 1 and for re-prepared memory; persistent memory adds a dependence on the history.
    """
    return 2.0 * basis_probability_plus(h, knobs, xp) - 1.0
