"""Lowering a trained network and its inputs into Cirq circuits.

Two modes:

* **dynamic** (:func:`dynamic_circuit`): one circuit per input, the paper's Figs. 3 and 6 literally.
  Neuron qubits persist across layers; each layer is a moment of rotations (constant angles in
  layer 1, :class:`~natq_cirq.compile.gates.FeedForwardRotation` afterwards), then the read-out:
  ancilla reset, ``H``, :class:`~natq_cirq.compile.gates.WeakMeasurementEntangler`, ancilla
  measurement. With ``g = pi/2`` the ancillas may be dropped and the neurons measured directly
  (``drop_ancillas``, on by default). Runs on ``cirq.Simulator``.
* **layered** (:func:`layer_circuit`, :class:`LayeredRule`): for hardware and simulators without
  real-time feed-forward. One parameterized circuit per layer: each neuron's known state is
  re-prepared by one ``R_Y`` whose angle is a sympy symbol, then read out. The classical rule
  turns measured bits into the next layer's symbol values. Without noise this is exact
  (physics.md: each neuron's state is a known function of the recorded history). Under noise it
  differs from the dynamic circuit: errors of layer ``k`` enter layer ``k + 1`` only through the
  recorded bits, not through the neurons' quantum states, and every layer starts from fresh qubits.

Measurement keys: ``d{k}_{i}`` is the outcome of neuron ``i`` (0-based) in hidden layer ``k``
(1-based, as in the paper); bit ``0`` means ``d = +1``. Symbols: ``theta_{k}_{i}``. Qubits:
``cirq.NamedQubit("neuron{i}")`` and ``cirq.NamedQubit("ancilla{i}")`` before placement on a device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from natq_cirq import physics
from natq_cirq.compile.gates import FeedForwardRotation, WeakMeasurementEntangler
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.physics import Knobs

import cirq
import numpy as np
import sympy


def measurement_key(layer: int, neuron: int) -> str:
    """The key of neuron ``neuron``'s outcome in hidden layer ``layer`` (1-based)."""
    return f"d{layer}_{neuron}"


def theta_symbol(layer: int, neuron: int) -> sympy.Symbol:
    """The symbol of neuron ``neuron``'s rotation angle in layer ``layer`` of a layered circuit."""
    return sympy.Symbol(f"theta_{layer}_{neuron}")


def neuron_qubit(neuron: int) -> cirq.NamedQubit:
    return cirq.NamedQubit(f"neuron{neuron}")


def ancilla_qubit(neuron: int) -> cirq.NamedQubit:
    return cirq.NamedQubit(f"ancilla{neuron}")


def uses_ancillas(knobs: Knobs, drop_ancillas: bool = True) -> bool:
    """Whether read-out goes through ancillas (always, unless ``g = pi/2`` and they are dropped)."""
    return not (drop_ancillas and knobs.strength == 1.0)


def read_out_moments(
    layer: int, neurons: Sequence[int], knobs: Knobs, drop_ancillas: bool, reset: bool
) -> list[cirq.Moment]:
    """The read-out of ``neurons`` in ``layer``: weak (through ancillas) or projective."""
    if not uses_ancillas(knobs, drop_ancillas):
        return [
            cirq.Moment(
                cirq.measure(neuron_qubit(i), key=measurement_key(layer, i)) for i in neurons
            )
        ]
    entangler = WeakMeasurementEntangler(knobs.g)
    moments = [cirq.Moment(cirq.reset(ancilla_qubit(i)) for i in neurons)] if reset else []
    return moments + [
        cirq.Moment(cirq.H(ancilla_qubit(i)) for i in neurons),
        cirq.Moment(entangler(neuron_qubit(i), ancilla_qubit(i)) for i in neurons),
        cirq.Moment(cirq.measure(ancilla_qubit(i), key=measurement_key(layer, i)) for i in neurons),
    ]


def check_input(model: ModelFile, x: np.ndarray) -> np.ndarray:
    """One input row of the model's width, finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != model.input_dim:
        raise NatqError(
            f"input has shape {x.shape}, but the model expects one row of {model.input_dim} values"
        )
    if not np.all(np.isfinite(x)):
        raise NatqError("input contains NaN or inf")
    return x


def dynamic_circuit(model: ModelFile, x: np.ndarray, drop_ancillas: bool = True) -> cirq.Circuit:
    """The whole network for one input, with classical feed-forward between layers.

    Args:
        model: the trained network.
        x: one input ``(M,)``, scaled as the model expects.
        drop_ancillas: with ``g = pi/2``, measure neurons directly instead of through ancillas.

    Returns:
        A circuit whose measurement keys ``d{k}_{i}`` record every hidden outcome.
    """
    x = check_input(model, x)
    knobs, hidden = model.knobs, range(model.hidden)
    kernels = [np.asarray(w, dtype=np.float64) for w in model.kernels]
    angles = physics.rotation_angle(x @ kernels[0], knobs.a, 1.0)
    moments = [cirq.Moment(cirq.ry(angles[i]).on(neuron_qubit(i)) for i in hidden)]
    moments += read_out_moments(1, hidden, knobs, drop_ancillas, reset=False)
    for layer in range(2, model.layers + 1):
        previous = [measurement_key(layer - 1, j) for j in hidden]
        if knobs.memory == "reprepared":
            # Re-prepare |d_prev>: reset, then flip where the previous outcome was d = -1.
            moments.append(cirq.Moment(cirq.reset(neuron_qubit(i)) for i in hidden))
            moments.append(
                cirq.Moment(
                    cirq.X(neuron_qubit(i)).with_classical_controls(previous[i]) for i in hidden
                )
            )
        moments.append(
            cirq.Moment(
                FeedForwardRotation(
                    neuron_qubit(i), kernels[layer - 1][:, i], previous, previous[i], knobs.a
                )
                for i in hidden
            )
        )
        moments += read_out_moments(layer, hidden, knobs, drop_ancillas, reset=True)
    return cirq.Circuit(moments)


def layer_circuit(
    model: ModelFile, layer: int, neurons: Sequence[int] | None = None, drop_ancillas: bool = True
) -> cirq.Circuit:
    """The parameterized circuit of one hidden layer (layered mode), for some or all neurons.

    Each neuron starts in ``|0>``, gets ``R_Y(theta_{k}_{i})`` (re-preparation and this layer's
    rotation in one gate), and is read out.
    """
    if not 1 <= layer <= model.layers:
        raise NatqError(f"layer {layer} out of range 1..{model.layers}")
    neurons = range(model.hidden) if neurons is None else neurons
    rotations = cirq.Moment(cirq.ry(theta_symbol(layer, i)).on(neuron_qubit(i)) for i in neurons)
    return cirq.Circuit(
        [rotations, *read_out_moments(layer, neurons, model.knobs, drop_ancillas, reset=False)]
    )


@dataclass
class LayerState:
    """What the classical side knows after a layer, for a batch of rows (inputs x shots).

    Attributes:
        d: recorded outcomes ``(rows, N)`` in ``{+1, -1}``.
        z: Bloch ``z`` of each neuron after the read-out, or ``None`` when ``knobs.basis_memory``.
        x: Bloch ``x``, or ``None`` for basis states (see :func:`natq_cirq.physics.neuron_step`).
    """

    d: np.ndarray
    z: np.ndarray | None = None
    x: np.ndarray | None = None


class LayeredRule:
    """The classical half of layered execution: bits in, next layer's symbol values out.

    Usage, per layer ``k = 1 .. L``::

        angles, pre = rule.angles(k, x, state)        # state is None for k = 1
        ... run layer_circuit(model, k) with theta_{k}_{i} = angles[:, i], read bits d ...
        state = rule.record(pre, d)
    """

    def __init__(self, model: ModelFile):
        self.model = model
        self.knobs = model.knobs
        self.kernels = [np.asarray(w, dtype=np.float64) for w in model.kernels]

    def angles(
        self, layer: int, x: np.ndarray, state: LayerState | None
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray | None]]:
        """Symbol values ``(rows, N)`` of ``layer`` and each neuron's pre-measurement Bloch ``(z, x)``.

        Args:
            layer: hidden layer, 1-based.
            x: inputs ``(rows, M)`` (used by layer 1 only).
            state: the previous layer's :class:`LayerState` (``None`` for layer 1).
        """
        if layer == 1:
            h = np.asarray(x, dtype=np.float64) @ self.kernels[0]
            d_prev, z, x = np.ones_like(h), None, None
        else:
            h = state.d @ self.kernels[layer - 1]
            d_prev, z, x = state.d, state.z, state.x
        z, x = physics.pre_measurement_state(h, d_prev, z, x, self.knobs)
        return physics.preparation_angle(z, x), (z, x)

    def record(self, pre: tuple[np.ndarray, np.ndarray | None], d: np.ndarray) -> LayerState:
        """The state after the read-out gave ``d`` ``(rows, N)``."""
        d = np.asarray(d, dtype=np.float64)
        if self.knobs.basis_memory:
            return LayerState(d)
        return LayerState(d, *physics.post_measurement_state(*pre, d, self.knobs))

    def resolver(self, layer: int, angles: np.ndarray) -> cirq.ParamResolver:
        """A resolver for one row of ``angles``."""
        return cirq.ParamResolver(
            {theta_symbol(layer, i): float(value) for i, value in enumerate(angles)}
        )


def bits_from_records(records: dict[str, np.ndarray], layer: int, hidden: int) -> np.ndarray:
    """``(repetitions, N)`` activations ``+-1`` of ``layer`` from Cirq measurement records."""
    columns = [np.asarray(records[measurement_key(layer, i)]).reshape(-1) for i in range(hidden)]
    return (1 - 2 * np.stack(columns, axis=1)).astype(np.int8)


def sample_dynamic(
    model: ModelFile,
    x: np.ndarray,
    shots: int,
    sampler: cirq.Sampler | None = None,
    drop_ancillas: bool = True,
) -> np.ndarray:
    """Hidden bits ``(shots, L, N)`` of one input from the dynamic circuit (reference executor)."""
    sampler = sampler or cirq.Simulator()
    result = sampler.run(dynamic_circuit(model, x, drop_ancillas), repetitions=shots)
    records = {key: value[:, 0] for key, value in result.measurements.items()}
    return np.stack(
        [bits_from_records(records, k, model.hidden) for k in range(1, model.layers + 1)], axis=1
    )


def sample_layered(
    model: ModelFile,
    x: np.ndarray,
    shots: int,
    sampler: cirq.Sampler | None = None,
    drop_ancillas: bool = True,
) -> np.ndarray:
    """Hidden bits ``(n, shots, L, N)`` from layered circuits driven by :class:`LayeredRule`.

    The reference executor: rows that need the same symbol values (all shots of an input in
    layer 1, and any rows with equal histories later) share one ``sampler.run`` with as many
    repetitions as rows.
    """
    sampler = sampler or cirq.Simulator()
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    rows = np.repeat(x, shots, axis=0)
    rule, state, layers = LayeredRule(model), None, []
    for layer in range(1, model.layers + 1):
        circuit = layer_circuit(model, layer, drop_ancillas=drop_ancillas)
        angles, pre = rule.angles(layer, rows, state)
        d = np.empty(angles.shape, dtype=np.int8)
        unique, inverse = np.unique(angles, axis=0, return_inverse=True)
        for index, values in enumerate(unique):
            members = np.flatnonzero(inverse.reshape(-1) == index)
            result = sampler.run(circuit, rule.resolver(layer, values), repetitions=len(members))
            records = {key: value[:, 0] for key, value in result.measurements.items()}
            d[members] = bits_from_records(records, layer, model.hidden)
        state = rule.record(pre, d)
        layers.append(d)
    return np.stack(layers, axis=1).reshape(len(x), shots, model.layers, model.hidden)
