"""Cirq-native gates and operations of a naturally quantized network.

* :class:`WeakMeasurementEntangler` — ``R_ZY(-g) = exp(+i g/2 Z_neuron Y_ancilla)`` on a
  (neuron, ancilla) pair (physics.md), decomposed into ``X**±0.5`` and a ``ZZ`` rotation, which
  ``cirq.optimize_for_target_gateset`` lowers to CZ, sqrt-iSWAP or Sycamore gates.
* :class:`FeedForwardRotation` — ``R_Y(theta)`` on a neuron qubit whose angle
  ``theta = pi/2 (d_prev - phi_a(sum_j w_j d_j))`` is computed *while the circuit runs* from earlier
  measurement records (Cirq 1.5 has no built-in way to set a rotation angle from measurements). It
  reads the simulator's classical data in ``_act_on_`` and declares what it reads in
  ``_control_keys_``, so it runs on ``cirq.Simulator`` and any simulator built on Cirq's
  ``SimulationState``; it has no unitary and cannot run where classical feed-forward is missing
  (use layered mode there).

Both serialize to Cirq JSON; :func:`json_resolver` is registered in Cirq's default resolvers when
``natq_cirq`` is imported, so ``cirq.read_json`` reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence

from natq_cirq import physics

import cirq
import numpy as np

JSON_NAMESPACE = "natq_cirq"


@cirq.value_equality(approximate=True)
class WeakMeasurementEntangler(cirq.Gate):
    """``R_ZY(-g) = exp(+i g/2 Z (x) Y)`` on (neuron, ancilla): the paper's eq. 7.

    Args:
        g: entangling angle in ``[0, pi/2]``; ``pi/2`` makes the ancilla read-out projective.
    """

    def __init__(self, g: float):
        physics.check_knobs(0.0, g)
        self._g = float(g)

    @property
    def g(self) -> float:
        return self._g

    def _num_qubits_(self) -> int:
        return 2

    def _has_unitary_(self) -> bool:
        return True

    def _unitary_(self) -> np.ndarray:
        zy = np.kron(cirq.unitary(cirq.Z), cirq.unitary(cirq.Y))
        return np.cos(self._g / 2) * np.eye(4) + 1j * np.sin(self._g / 2) * zy

    def _decompose_(self, qubits):
        neuron, ancilla = qubits
        # X**-0.5 . Z . X**0.5 = Y on the ancilla turns exp(i g/2 ZZ) into exp(i g/2 ZY);
        # ZZ**t = exp(i pi t/2) exp(-i pi t/2 ZZ), so t = -g/pi and a global phase exp(i g/2).
        yield cirq.X(ancilla) ** 0.5
        yield cirq.ZZ(neuron, ancilla) ** (-self._g / np.pi)
        yield cirq.X(ancilla) ** -0.5
        yield cirq.global_phase_operation(np.exp(1j * self._g / 2))

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> cirq.CircuitDiagramInfo:
        g = args.format_real(self._g)
        return cirq.CircuitDiagramInfo(wire_symbols=(f"ZY(-{g})", f"ZY(-{g})"))

    def _value_equality_values_(self):
        return self._g

    def __repr__(self) -> str:
        return f"natq_cirq.gates.WeakMeasurementEntangler(g={self._g!r})"

    @classmethod
    def _json_namespace_(cls) -> str:
        return JSON_NAMESPACE

    def _json_dict_(self):
        return {"g": self._g}

    @classmethod
    def _from_json_dict_(cls, g, **kwargs):
        return cls(g)


@cirq.value_equality(approximate=True)
class FeedForwardRotation(cirq.Operation):
    """``R_Y(pi/2 (d_prev - phi_a(sum_j w_j d_j)))`` on one neuron, angle read from measurements.

    Each ``d_j = +1`` if the record of ``input_keys[j]`` is 0 and ``-1`` if it is 1 (physics.md);
    ``d_prev`` likewise from ``own_key`` (the neuron's own outcome in the previous layer).

    Args:
        qubit: the neuron qubit.
        weights: the neuron's column of the previous layer's weight matrix, ``len(input_keys)``.
        input_keys: measurement keys of the previous layer's outcomes.
        own_key: measurement key of this neuron's outcome in the previous layer.
        a: activation stretch ``a >= 0``.
    """

    def __init__(
        self,
        qubit: cirq.Qid,
        weights: Sequence[float],
        input_keys: Sequence[str | cirq.MeasurementKey],
        own_key: str | cirq.MeasurementKey,
        a: float,
    ):
        physics.check_knobs(a, physics.CLASSICAL_G)
        weights = tuple(float(w) for w in weights)
        if len(weights) != len(input_keys):
            raise ValueError(f"{len(weights)} weights for {len(input_keys)} input keys")
        self._qubit = qubit
        self._weights = weights
        self._input_keys = tuple(cirq.MeasurementKey.parse_serialized(str(k)) for k in input_keys)
        self._own_key = cirq.MeasurementKey.parse_serialized(str(own_key))
        self._a = float(a)

    @property
    def qubits(self) -> tuple[cirq.Qid, ...]:
        return (self._qubit,)

    @property
    def weights(self) -> tuple[float, ...]:
        return self._weights

    @property
    def input_keys(self) -> tuple[cirq.MeasurementKey, ...]:
        return self._input_keys

    @property
    def own_key(self) -> cirq.MeasurementKey:
        return self._own_key

    @property
    def a(self) -> float:
        return self._a

    def with_qubits(self, *new_qubits: cirq.Qid) -> FeedForwardRotation:
        (qubit,) = new_qubits
        return FeedForwardRotation(qubit, self._weights, self._input_keys, self._own_key, self._a)

    def angle(self, classical_data: cirq.ClassicalDataStoreReader) -> float:
        """The rotation angle given the measurement records so far."""
        bits = np.array([classical_data.get_int(key) for key in self._input_keys], dtype=float)
        h = float(np.dot(self._weights, 1.0 - 2.0 * bits))
        d_prev = 1.0 - 2.0 * classical_data.get_int(self._own_key)
        return float(physics.rotation_angle(h, self._a, d_prev))

    def _act_on_(self, sim_state: cirq.SimulationStateBase) -> bool:
        theta = self.angle(sim_state.classical_data)
        cirq.act_on(cirq.ry(theta).on(self._qubit), sim_state)
        return True

    def _control_keys_(self) -> frozenset[cirq.MeasurementKey]:
        return frozenset(self._input_keys) | {self._own_key}

    def _has_unitary_(self) -> bool:
        return False

    def _is_parameterized_(self) -> bool:
        return False

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> cirq.CircuitDiagramInfo:
        a = args.format_real(self._a)
        symbol = f"RY(ff: a={a}, {len(self._weights)} in, prev={self._own_key})"
        # Like cirq.ClassicallyControlledOperation: one '^' per classical wire drawn.
        wires = len(self._control_keys_()) if args.label_map is not None else 0
        return cirq.CircuitDiagramInfo(wire_symbols=(symbol,) + ("^",) * wires)

    def _value_equality_values_(self):
        return (self._qubit, self._weights, self._input_keys, self._own_key, self._a)

    def __repr__(self) -> str:
        return (
            f"natq_cirq.gates.FeedForwardRotation({self._qubit!r}, {self._weights!r}, "
            f"{tuple(str(k) for k in self._input_keys)!r}, {str(self._own_key)!r}, {self._a!r})"
        )

    @classmethod
    def _json_namespace_(cls) -> str:
        return JSON_NAMESPACE

    def _json_dict_(self):
        return {
            "qubit": self._qubit,
            "weights": list(self._weights),
            "input_keys": [str(k) for k in self._input_keys],
            "own_key": str(self._own_key),
            "a": self._a,
        }

    @classmethod
    def _from_json_dict_(cls, qubit, weights, input_keys, own_key, a, **kwargs):
        return cls(qubit, weights, input_keys, own_key, a)


JSON_CLASSES = {
    f"{JSON_NAMESPACE}.{cls.__name__}": cls
    for cls in (WeakMeasurementEntangler, FeedForwardRotation)
}


def json_resolver(cirq_type: str):
    """Cirq JSON resolver for natq-cirq's gates (``cirq_type`` is ``natq_cirq.ClassName``)."""
    return JSON_CLASSES.get(cirq_type)


def register_json_resolver() -> None:
    """Make ``cirq.read_json`` understand natq-cirq's gates (idempotent)."""
    resolvers = cirq.protocols.json_serialization.DEFAULT_RESOLVERS
    if json_resolver not in resolvers:
        resolvers.append(json_resolver)
