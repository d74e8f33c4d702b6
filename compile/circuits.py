"""Lowering a trained network into Cirq circuits, and the classical rule of layered execution.

* **dynamic** (:func:`dynamic_circuit`): one circuit per input, the paper's Figs. 3 and 6 literally.
  Neuron qubits persist across layers; each layer is a moment of rotations (constant angles in
  layer 1, :class:`~natq_cirq.hardware.gates.FeedForwardRotation` afterwards), then the read-out block
  (:func:`natq_cirq.hardware.readout.read_out_block`). With ``g = pi/2`` the ancillas may be dropped and the
  neurons measured directly (``drop_ancillas``, on by default). Runs on ``cirq.Simulator``.
  Keys ``d{k}_{i}``; qubits ``neuron{i}`` and ``ancilla{i}``.
* **layered** (:class:`LayeredRule`): for hardware and simulators without real-time feed-forward.
  Every read-out is one slot of a slot circuit (:func:`natq_cirq.hardware.readout.slot_circuit`): the
  neuron's known state is re-prepared and rotated by one ``R_Y``, then read out. The rule turns
  measured bits into the next layer's angles. Without noise this is exact (docs/physics.md: each
  neuron's state is a known function of the recorded history). Under noise it differs from the
  dynamic circuit: errors of layer ``k`` enter layer ``k + 1`` only through the recorded bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from natq_cirq import physics
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.hardware.gates import FeedForwardRotation
from natq_cirq.hardware.readout import input_symbol, read_out_moments, record_key, uses_ancillas

import cirq
import numpy as np

# measure(layer, angles (rows, N)) -> outcomes (rows, N) in {+1, -1}: how a layer is read out.
Measure = Callable[[int, np.ndarray], np.ndarray]


def neuron_qubit(neuron: int) -> cirq.NamedQubit:
    return cirq.NamedQubit(f"neuron{neuron}")


def ancilla_qubit(neuron: int) -> cirq.NamedQubit:
    return cirq.NamedQubit(f"ancilla{neuron}")


def _read_out(model: ModelFile, layer: int, drop_ancillas: bool, reset: bool) -> list[cirq.Moment]:
    """Every neuron's read-out block in ``layer`` of the dynamic circuit, side by side."""
    ancillas = uses_ancillas(model.knobs, drop_ancillas)
    slots = [(neuron_qubit(i), ancilla_qubit(i) if ancillas else None) for i in range(model.hidden)]
    keys = [record_key(layer, i) for i in range(model.hidden)]
    return read_out_moments(slots, model.knobs.g, keys, reset)


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


def check_quantum(model: ModelFile) -> None:
    """Refuse a classical stochastic baseline: it has no qubits, so no circuit (one line)."""
    if model.stochastic_neuron is not None:
        raise NatqError(
            f"this model is a classical stochastic baseline ({model.stochastic_neuron}), not a "
            "quantum network: it has no circuit; run it with the analytic backend"
        )


def dynamic_circuit(
    model: ModelFile, x: np.ndarray | None = None, drop_ancillas: bool = True
) -> cirq.Circuit:
    """The whole network with classical feed-forward between layers, for one input or for any.

    Args:
        model: the trained network.
        x: one input ``(M,)``, scaled as the model expects; ``None``: layer 1's angles are the
            symbols ``theta1_{i}``, and :func:`input_resolvers` gives their values per input (one
            circuit serves every input through a sweep).
        drop_ancillas: with ``g = pi/2``, measure neurons directly instead of through ancillas.

    Returns:
        A circuit whose measurement keys ``d{k}_{i}`` record every hidden outcome.
    """
    check_quantum(model)
    knobs, hidden = model.knobs, range(model.hidden)
    kernels = [np.asarray(w, dtype=np.float64) for w in model.kernels]
    if x is None:
        angles = [input_symbol(i) for i in hidden]
    else:
        angles = physics.rotation_angle(check_input(model, x) @ kernels[0], knobs.a, 1.0)
    moments = [cirq.Moment(cirq.ry(angles[i]).on(neuron_qubit(i)) for i in hidden)]
    moments += _read_out(model, 1, drop_ancillas, reset=False)
    for layer in range(2, model.layers + 1):
        previous = [record_key(layer - 1, j) for j in hidden]
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
        moments += _read_out(model, layer, drop_ancillas, reset=True)
    return cirq.Circuit(moments)


def input_resolvers(model: ModelFile, x: np.ndarray) -> list[cirq.ParamResolver]:
    """Values of the layer-1 symbols of ``dynamic_circuit(model)`` for each row of ``x (n, M)``."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    for row in x:
        check_input(model, row)
    angles = physics.rotation_angle(
        x @ np.asarray(model.kernels[0], np.float64), model.knobs.a, 1.0
    )
    names = [input_symbol(i).name for i in range(model.hidden)]
    return [cirq.ParamResolver(dict(zip(names, map(float, row), strict=True))) for row in angles]


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

    :meth:`sample` is the one layer loop of layered execution: the runners, the noisy layered
    engine's NumPy reference and the tests differ only in their ``measure(layer, angles)``, which
    reads out every neuron at its angle (a slot of the slot circuit each) and returns the bits.
    """

    def __init__(self, model: ModelFile):
        check_quantum(model)
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

    def sample(self, x: np.ndarray, shots: int, measure: Measure) -> np.ndarray:
        """Hidden bits ``(n, shots, L, N)`` int8: every layer's angles, measured by ``measure``."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows = np.repeat(x, shots, axis=0)
        state, layers = None, []
        for layer in range(1, self.model.layers + 1):
            angles, pre = self.angles(layer, rows, state)
            d = measure(layer, angles)
            state = self.record(pre, d)
            layers.append(np.asarray(d, dtype=np.int8))
        return np.stack(layers, axis=1).reshape(len(x), shots, self.model.layers, self.model.hidden)
