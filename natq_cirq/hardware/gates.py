"""Cirq-native gates and operations of a naturally quantized network.

* :class:`WeakMeasurementEntangler` — ``R_ZY(-g) = exp(+i g/2 Z_neuron Y_ancilla)`` on a
  (neuron, ancilla) pair (docs/physics.md), decomposed into ``X**±0.5`` and a ``ZZ`` rotation, which
  ``cirq.optimize_for_target_gateset`` lowers to CZ, sqrt-iSWAP or Sycamore gates.
* :class:`FeedForwardRotation` — ``R_Y(theta)`` on a neuron qubit whose angle
  ``theta = pi/2 (d_prev - phi_a(sum_j w_j d_j))`` is computed *while the circuit runs* from earlier
  measurement records (Cirq 1.5 has no built-in way to set a rotation angle from measurements). It
  reads the simulator's classical data in ``_act_on_`` and declares what it reads in
  ``_control_keys_``, so it runs on ``cirq.Simulator`` and any simulator built on Cirq's
  ``SimulationState``; it has no unitary and cannot run where classical feed-forward is missing
  (use layered mode there).

Both serialize to Cirq JSON; :func:`json_resolver` is registered in Cirq's default resolvers when
this module loads, which ``natq_cirq`` arranges as soon as Cirq is imported, so ``cirq.read_json``
reads them back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

from natq_cirq import physics
from natq_cirq.errors import NatqError

import cirq
import numpy as np
import sympy
from cirq._compat import proper_repr

JSON_NAMESPACE = "natq_cirq"


class WeakMeasurementEntangler(cirq.EigenGate):
    """``R_ZY(-g) = exp(+i g/2 Z (x) Y)`` on (neuron, ancilla): the paper's eq. 7.

    An :class:`cirq.EigenGate` (as Cirq's ``XXPowGate``): ``Z (x) Y`` has eigenvalues ``+-1``, and
    the gate multiplies them by ``exp(+-i g/2)``, i.e. exponent ``g / pi`` on eigen-shifts
    ``+-1/2``. So a symbolic ``g`` (``sympy.Symbol``), ``cirq.resolve_parameters``, powers and
    approximate equality come from Cirq. Any real ``g`` makes a valid gate; the network's knob
    range ``[0, pi/2]`` is checked where knobs are made (:class:`natq_cirq.physics.Knobs`).

    Args:
        g: entangling angle; ``pi/2`` makes the ancilla read-out projective.
    """

    def __init__(self, g: cirq.TParamVal):
        if not cirq.is_parameterized(g) and not np.isfinite(float(g)):
            raise NatqError(f"entangling angle g must be finite (got {g})")
        self._g = g if cirq.is_parameterized(g) else float(g)
        super().__init__(exponent=self._g / (sympy.pi if cirq.is_parameterized(g) else np.pi))

    @property
    def g(self) -> cirq.TParamVal:
        return self._g

    def _num_qubits_(self) -> int:
        return 2

    def _eigen_components(self) -> list[tuple[float, np.ndarray]]:
        zy = np.kron(cirq.unitary(cirq.Z), cirq.unitary(cirq.Y))
        return [(0.5, (np.eye(4) + zy) / 2), (-0.5, (np.eye(4) - zy) / 2)]

    def _with_exponent(self, exponent: cirq.TParamVal) -> WeakMeasurementEntangler:
        return WeakMeasurementEntangler(
            exponent * (sympy.pi if cirq.is_parameterized(exponent) else np.pi)
        )

    def _resolve_parameters_(self, resolver: cirq.ParamResolver, recursive: bool):
        # Resolve g itself (not g / pi): a resolved float g is exactly the value given.
        return WeakMeasurementEntangler(resolver.value_of(self._g, recursive))

    def _decompose_(self, qubits):
        neuron, ancilla = qubits
        # X**-0.5 . Z . X**0.5 = Y on the ancilla turns exp(i g/2 ZZ) into exp(i g/2 ZY); the
        # ZZ rotation with global shift -1/2 is exactly exp(-i pi t/2 ZZ), so t = -g/pi.
        yield cirq.X(ancilla) ** 0.5
        yield cirq.ZZPowGate(exponent=-self._exponent, global_shift=-0.5).on(neuron, ancilla)
        yield cirq.X(ancilla) ** -0.5

    def _qasm_(self, args: cirq.QasmArgs, qubits: tuple[cirq.Qid, ...]) -> str | None:
        # exp(i g/2 ZY): the ancilla's Y turned into Z by R_X(pi/2), then exp(i g/2 ZZ) as
        # CX . R_Z(-g) on the ancilla . CX. Gates of OpenQASM 2's qelib1 and 3's stdgates.
        if cirq.is_parameterized(self):
            return None
        args.validate_version("2.0", "3.0")
        return args.format(
            "rx(pi*0.5) {1};\ncx {0},{1};\nrz({2:half_turns}) {1};\ncx {0},{1};\nrx(pi*-0.5) {1};\n",
            qubits[0],
            qubits[1],
            -self._exponent,
        )

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> cirq.CircuitDiagramInfo:
        g = args.format_real(self._g)
        # Z acts on the neuron, Y on the ancilla: the wires say which is which.
        return cirq.CircuitDiagramInfo(wire_symbols=(f"ZY(-{g}):Z", f"ZY(-{g}):Y"))

    def __str__(self) -> str:
        return f"ZY(-{self._g})"

    def __repr__(self) -> str:
        return f"natq_cirq.hardware.gates.WeakMeasurementEntangler(g={proper_repr(self._g)})"

    @classmethod
    def _json_namespace_(cls) -> str:
        return JSON_NAMESPACE

    def _json_dict_(self):
        return {"g": self._g}

    @classmethod
    def _from_json_dict_(cls, g, **kwargs):
        return cls(g)


@functools.lru_cache(maxsize=64)
def _keys(names: tuple[str, ...]) -> tuple[cirq.MeasurementKey, ...]:
    # One shared tuple per layer: rotations reading the same records compare by identity.
    return tuple(cirq.MeasurementKey.parse_serialized(name) for name in names)


@cirq.value_equality(approximate=True)
class FeedForwardRotation(cirq.Operation):
    """``R_Y(pi/2 (d_prev - phi_a(sum_j w_j d_j)))`` on one neuron, angle read from measurements.

    Each ``d_j = +1`` if the record of ``input_keys[j]`` is 0 and ``-1`` if it is 1 (docs/physics.md);
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
        self._input_keys = _keys(tuple(str(k) for k in input_keys))
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

    @classmethod
    def _natq_batch_unitaries_(cls, ops: Sequence[FeedForwardRotation], records) -> np.ndarray:
        """``R_Y`` matrices ``(len(ops), repetitions, 2, 2)`` of many rotations at once.

        The batch protocol of :class:`natq_cirq.runners.NatqSampler`: ``records.get_int(key)``
        gives every repetition's record of ``key``. Rotations that read the same keys (a layer)
        share one matrix product ``d @ W``.
        """
        thetas = np.empty((len(ops), records.repetitions))
        layers: dict[tuple, list[int]] = {}
        for i, op in enumerate(ops):
            # By identity: rotations of a layer share one key tuple (_keys), and hashing a
            # 512-key tuple per rotation would cost more than the rotations.
            layers.setdefault((id(op._input_keys), op._a), []).append(i)
        for members in layers.values():
            keys, a = ops[members[0]]._input_keys, ops[members[0]]._a
            d = 1.0 - 2.0 * np.stack([records.get_int(k) for k in keys], axis=1)
            weights = np.array([ops[i]._weights for i in members]).T  # (inputs, members)
            d_prev = 1.0 - 2.0 * np.stack([records.get_int(ops[i]._own_key) for i in members])
            thetas[members] = physics.rotation_angle((d @ weights).T, a, d_prev)
        c, s = np.cos(thetas / 2), np.sin(thetas / 2)
        return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)

    def _act_on_(self, sim_state: cirq.SimulationStateBase) -> bool:
        theta = self.angle(sim_state.classical_data)
        cirq.act_on(cirq.ry(theta).on(self._qubit), sim_state)
        return True

    def _control_keys_(self) -> frozenset[cirq.MeasurementKey]:
        return frozenset(self._input_keys) | {self._own_key}

    # Key protocols, as cirq.ClassicallyControlledOperation: they let the operation live inside
    # cirq.CircuitOperations with key maps, key prefixes and repetitions.

    def _with_keys(self, change: Callable[[cirq.MeasurementKey], cirq.MeasurementKey]):
        keys = [change(k) for k in self._input_keys]
        return FeedForwardRotation(self._qubit, self._weights, keys, change(self._own_key), self._a)

    def _with_measurement_key_mapping_(self, key_map: Mapping[str, str]) -> FeedForwardRotation:
        return self._with_keys(lambda key: cirq.with_measurement_key_mapping(key, key_map))

    def _with_key_path_prefix_(self, prefix: tuple[str, ...]) -> FeedForwardRotation:
        return self._with_keys(lambda key: key.with_key_path_prefix(*prefix))

    def _with_rescoped_keys_(
        self, path: tuple[str, ...], bindable_keys: frozenset[cirq.MeasurementKey]
    ) -> FeedForwardRotation:
        def rescope(key: cirq.MeasurementKey) -> cirq.MeasurementKey:
            # The innermost scope that measured the key binds it (cirq.KeyCondition's rule).
            for depth in range(len(path), -1, -1):
                scoped = key.with_key_path_prefix(*path[:depth])
                if scoped in bindable_keys:
                    return scoped
            return key

        return self._with_keys(rescope)

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
            f"natq_cirq.hardware.gates.FeedForwardRotation({self._qubit!r}, {self._weights!r}, "
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


# Whoever loads the gates can read them back from Cirq JSON (natq_cirq's __init__ loads this
# module as soon as Cirq is imported).
register_json_resolver()
