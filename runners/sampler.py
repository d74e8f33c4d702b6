"""``NatqSampler``: a ``cirq.Sampler`` that runs natq circuits exactly, vectorized over repetitions.

A naturally quantized network never entangles two neurons: every two-qubit gate acts on a neuron
and its own ancilla, and neurons talk only through measurement records. So the state of a circuit
is a product of independent groups of at most two qubits, and every repetition of it can be
simulated at once with one small state vector per group and repetition (an array ``(groups,
repetitions, 4)``). Measurements sample and collapse; classical feed-forward reads the records of
each repetition. This is exact, not an approximation: the same quantum trajectories
``cirq.Simulator`` samples one repetition at a time.

Like stimcirq's ``StimSampler``, the sampler runs ordinary Cirq circuits and returns ordinary
``cirq.Result`` objects with the circuit's own measurement keys. It executes:

* any operation with a unitary (or a parameterized one resolved by the sweep) on one qubit or on
  two qubits of one group, :class:`cirq.GlobalPhaseGate` included (a no-op on samples);
* measurements (``invert_mask`` included), resets, and channels with Kraus operators
  (depolarizing, amplitude damping...) on a group, each repetition following one trajectory;
* ``cirq.ClassicallyControlledOperation`` with :class:`cirq.KeyCondition` conditions;
* operations implementing the batch protocol ``_natq_batch_unitaries_(ops, records)`` (a
  classmethod returning the unitaries ``(len(ops), repetitions, 2, 2)``; see
  :class:`natq_cirq.hardware.gates.FeedForwardRotation`), as stim's ``_stim_conversion_``;
* ``cirq.CircuitOperation`` (key maps, prefixes, repetitions), by unrolling.

Anything else (a gate coupling more than two qubits into one group, a ``SympyCondition``, a
confusion map) is refused with one :class:`~natq_cirq.errors.NatqError` naming the operation.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence

from natq_cirq.errors import NatqError

import cirq
import numpy as np

# Basis index of a group's two-qubit state for (bit of position 0, bit of position 1).
_ONE = (np.array([2, 3]), np.array([1, 3]))  # indices where the qubit at position p is 1
_SWAP = cirq.unitary(cirq.SWAP)


class Records:
    """Measurement records of every repetition so far: ``key -> [(repetitions, qubits) per instance]``.

    The vectorized counterpart of ``cirq.ClassicalDataStoreReader`` that batch protocols read.
    """

    def __init__(self, repetitions: int):
        self.repetitions = repetitions
        self.instances: dict[cirq.MeasurementKey, list[np.ndarray]] = defaultdict(list)

    def record(self, key: cirq.MeasurementKey, bits: np.ndarray) -> None:
        self.instances[key].append(bits)

    def get_int(self, key: cirq.MeasurementKey, index: int = -1) -> np.ndarray:
        """``(repetitions,)`` the record of ``key`` (latest instance by default) as an integer."""
        if key not in self.instances:
            raise NatqError(f"measurement key {key} is read before it is measured")
        bits = self.instances[key][index].astype(np.int64)
        return bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1))

    def to_cirq(self) -> dict[str, np.ndarray]:
        """Records as ``cirq.ResultDict`` takes them: ``(repetitions, instances, qubits)``."""
        return {str(k): np.stack(v, axis=1).astype(np.int8) for k, v in self.instances.items()}


class _Groups:
    """Qubits grouped by the multi-qubit operations that couple them (at most two per group)."""

    def __init__(self, moments: Sequence[cirq.Moment]):
        parent = {q: q for q in sorted({q for m in moments for q in m.qubits})}

        def find(q):
            while parent[q] != q:
                q = parent[q]
            return q

        members = {q: [q] for q in parent}
        for op in (op for m in moments for op in m):
            if cirq.is_measurement(op) or _is_reset(op) or len(op.qubits) < 2:
                continue
            roots = {find(q) for q in op.qubits}
            joined = sorted({m for r in roots for m in members[r]})
            if len(joined) > 2:
                raise NatqError(
                    f"NatqSampler runs circuits whose qubits interact in pairs at most; {op!r} "
                    f"joins {len(joined)} qubits ({', '.join(map(str, joined))}) into one group"
                )
            root = joined[0]
            for q in joined:
                parent[q] = root
            members[root] = joined
        roots = sorted({find(q) for q in parent})
        self.count = len(roots)
        index = {r: i for i, r in enumerate(roots)}
        # (group, position): a qubit's group and its place (0 or 1) in the group's two-qubit state.
        self.place = {q: (index[find(q)], members[find(q)].index(q)) for q in parent}


def _is_reset(op: cirq.Operation) -> bool:
    return isinstance(op.gate, cirq.ResetChannel)


class _State:
    """Every group's two-qubit state for every repetition: ``(groups, repetitions, 4)`` complex."""

    def __init__(self, groups: _Groups, repetitions: int, rng: np.random.Generator):
        self.groups = groups
        self.psi = np.zeros((groups.count, repetitions, 4), dtype=np.complex128)
        self.psi[:, :, 0] = 1.0
        self.rng = rng

    def places(self, qubits: Sequence[cirq.Qid]) -> tuple[np.ndarray, np.ndarray]:
        places = np.array([self.groups.place[q] for q in qubits], dtype=np.int64).reshape(-1, 2)
        return places[:, 0], places[:, 1]

    def index(self, groups: np.ndarray) -> np.ndarray | slice:
        """``groups`` as an index of ``psi``, a slice (a view) when they are all groups in order.

        A layer of a network usually touches every group: the slice saves two copies of the state.
        """
        if len(groups) == self.groups.count and np.array_equal(groups, np.arange(len(groups))):
            return slice(None)
        return groups

    def apply_1q(self, qubits: Sequence[cirq.Qid], unitaries: np.ndarray) -> None:
        """``unitaries (k, 2, 2)`` or ``(k, repetitions, 2, 2)`` on ``k`` qubits."""
        unitaries = np.asarray(unitaries, dtype=np.complex128)
        if unitaries.ndim == 3:
            unitaries = unitaries[:, None]
        groups, positions = self.places(qubits)
        for p in (0, 1):
            pick = positions == p
            if not pick.any():
                continue
            g = self.index(groups[pick])
            u = unitaries[pick][..., None]  # (k, 1 or R, 2, 2, 1): broadcast over the other qubit
            v = self.psi[g].reshape(len(u), -1, 2, 2)
            if p == 1:
                v = v.swapaxes(-1, -2)  # the qubit acted on first
            # Two multiply-adds per amplitude: several times faster than einsum on these shapes.
            w = np.stack(
                [
                    u[:, :, 0, 0] * v[:, :, 0] + u[:, :, 0, 1] * v[:, :, 1],
                    u[:, :, 1, 0] * v[:, :, 0] + u[:, :, 1, 1] * v[:, :, 1],
                ],
                axis=2,
            )
            if p == 1:
                w = w.swapaxes(-1, -2)
            self.psi[g] = w.reshape(len(u), -1, 4)

    def apply_2q(self, pairs: Sequence[Sequence[cirq.Qid]], unitaries: np.ndarray) -> None:
        """``unitaries (k, 4, 4)`` or ``(k, repetitions, 4, 4)`` on ``k`` pairs, each one group."""
        unitaries = np.asarray(unitaries, dtype=np.complex128)
        if unitaries.ndim == 3:
            unitaries = unitaries[:, None]
        groups, positions = self.places([q for pair in pairs for q in pair])
        groups, first = groups[0::2], positions[0::2]
        swapped = first == 1  # the pair's first qubit is the group's second: reorder the matrix
        if swapped.any():
            unitaries = unitaries.copy()
            unitaries[swapped] = _SWAP @ unitaries[swapped] @ _SWAP
        groups = self.index(groups)
        self.psi[groups] = np.matmul(unitaries, self.psi[groups][..., None])[..., 0]

    def measure(self, qubits: Sequence[cirq.Qid]) -> np.ndarray:
        """Measure each qubit in Z (collapsing the state): bits ``(k, repetitions)``."""
        groups, positions = self.places(qubits)
        bits = np.empty((len(qubits), self.psi.shape[1]), dtype=np.int8)
        for p in (0, 1):  # two qubits of one group are measured one after the other
            pick = np.flatnonzero(positions == p)
            if not len(pick):
                continue
            g = self.index(groups[pick])
            v = self.psi[g]
            one = np.zeros(4, dtype=bool)
            one[_ONE[p]] = True
            p1 = np.sum(np.abs(v[:, :, one]) ** 2, axis=-1)
            b = self.rng.random(p1.shape) < p1
            keep = np.where(b[..., None], one, ~one)
            v = np.where(keep, v, 0.0)
            v /= np.linalg.norm(v, axis=-1, keepdims=True)
            self.psi[g] = v
            bits[pick] = b
        return bits

    def reset(self, qubits: Sequence[cirq.Qid]) -> None:
        bits = self.measure(qubits)
        x = np.where(bits[..., None, None], cirq.unitary(cirq.X), np.eye(2))
        self.apply_1q(qubits, x)

    def kraus(self, op: cirq.Operation, operators: Sequence[np.ndarray]) -> None:
        """One trajectory of a channel per repetition: operator ``j`` with probability ``|K_j psi|^2``."""
        groups, positions = self.places(op.qubits)
        g = groups[0]
        before = self.psi[g].copy()
        branches, weights = [], []
        for k in operators:
            self.psi[g] = before
            if len(op.qubits) == 1:
                self.apply_1q(op.qubits, np.asarray(k)[None])
            else:
                self.apply_2q([op.qubits], np.asarray(k)[None])
            branches.append(self.psi[g].copy())
            weights.append(np.sum(np.abs(branches[-1]) ** 2, axis=-1))
        weights = np.stack(weights, axis=0)  # (operators, repetitions)
        cumulative = np.cumsum(weights, axis=0)
        u = self.rng.random(weights.shape[1]) * cumulative[-1]
        choice = np.minimum((u[None] >= cumulative).sum(axis=0), len(operators) - 1)
        chosen = np.stack(branches)[choice, np.arange(weights.shape[1])]
        self.psi[g] = chosen / np.linalg.norm(chosen, axis=-1, keepdims=True)


class NatqSampler(cirq.Sampler):
    """Runs natq circuits (and any circuit whose qubits interact in pairs) exactly and fast.

    Args:
        seed: seed or ``numpy.random.Generator`` of the sampling; the same seed gives the same
            records.

    Example:
        >>> result = NatqSampler(seed=1).run(circuit, repetitions=1000)
        >>> result.histogram(key="d1_0")
    """

    def __init__(self, seed: int | np.random.Generator | None = None):
        self._rng = np.random.default_rng(seed)

    def run_sweep(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> Sequence[cirq.Result]:
        if int(repetitions) < 0:
            raise NatqError(f"repetitions must be >= 0 (got {repetitions})")
        circuit = list(_moments(program))
        groups = _Groups(circuit)
        return [
            cirq.ResultDict(
                params=resolver, records=self._run(circuit, groups, resolver, int(repetitions))
            )
            for resolver in cirq.to_resolvers(params)
        ]

    def _run(
        self,
        circuit: Sequence[cirq.Moment],
        groups: _Groups,
        resolver: cirq.ParamResolver,
        repetitions: int,
    ) -> dict[str, np.ndarray]:
        state = _State(groups, repetitions, self._rng)
        records = Records(repetitions)
        for moment in circuit:
            _run_moment(moment, state, records, resolver)
        return records.to_cirq()


def _moments(circuit: cirq.AbstractCircuit):
    """The circuit's moments with every ``cirq.CircuitOperation`` unrolled in place.

    A moment's other operations come first, then each sub-circuit's moments (with its key maps,
    prefixes and repetitions applied by ``mapped_circuit``): operations of one moment act on
    distinct qubits and cannot read each other's records, so this order is a valid schedule.
    """
    for moment in circuit:
        subs = [op for op in moment if isinstance(op, cirq.CircuitOperation)]
        if not subs:
            yield moment
            continue
        yield cirq.Moment(op for op in moment if not isinstance(op, cirq.CircuitOperation))
        for op in subs:
            yield from _moments(op.mapped_circuit(deep=False))


def _run_moment(
    moment: cirq.Moment, state: _State, records: Records, resolver: cirq.ParamResolver
) -> None:
    """Apply one moment: its operations act on distinct qubits, so their order does not matter."""
    batches: dict[type, list[cirq.Operation]] = defaultdict(list)
    single: list[tuple[cirq.Qid, np.ndarray]] = []
    double: list[tuple[tuple[cirq.Qid, ...], np.ndarray]] = []
    measurements: list[cirq.Operation] = []
    resets: list[cirq.Qid] = []
    for op in moment:
        if cirq.is_parameterized(op):
            op = cirq.resolve_parameters(op, resolver)
            if cirq.is_parameterized(op):
                raise NatqError(f"{op!r} has unresolved parameters {cirq.parameter_names(op)}")
        if hasattr(type(op), "_natq_batch_unitaries_"):
            batches[type(op)].append(op)
        elif isinstance(op, cirq.ClassicallyControlledOperation):
            _controlled(op, state, records)
        elif isinstance(op.gate, cirq.MeasurementGate):
            measurements.append(op)
        elif _is_reset(op):
            resets.extend(op.qubits)
        elif not op.qubits and cirq.has_unitary(op):
            continue  # a global phase: no effect on samples
        elif len(op.qubits) == 1 and cirq.has_unitary(op):
            single.append((op.qubits[0], _unitary(op.gate) if op.gate else cirq.unitary(op)))
        elif len(op.qubits) == 2 and cirq.has_unitary(op):
            double.append((op.qubits, _unitary(op.gate) if op.gate else cirq.unitary(op)))
        elif len(op.qubits) <= 2 and cirq.has_kraus(op):
            state.kraus(op, cirq.kraus(op))
        else:
            raise NatqError(f"NatqSampler cannot execute {op!r} exactly")
    if single:
        qubits, unitaries = zip(*single, strict=True)
        state.apply_1q(qubits, np.stack(unitaries))
    if double:
        pairs, unitaries = zip(*double, strict=True)
        state.apply_2q(pairs, np.stack(unitaries))
    for kind, ops in batches.items():
        unitaries = kind._natq_batch_unitaries_(ops, records)
        state.apply_1q([op.qubits[0] for op in ops], unitaries)
    if measurements:
        _measure(measurements, state, records)
    if resets:
        state.reset(resets)


@functools.lru_cache(maxsize=4096)
def _unitary(gate: cirq.Gate) -> np.ndarray:
    return cirq.unitary(gate)


def _measure(ops: Sequence[cirq.Operation], state: _State, records: Records) -> None:
    """The measurements of one moment, sampled together, recorded under their keys."""
    for op in ops:
        if op.gate.confusion_map:
            raise NatqError(f"NatqSampler does not model confusion maps ({op!r})")
    bits = state.measure([q for op in ops for q in op.qubits])  # (qubits, repetitions)
    start = 0
    for op in ops:
        gate: cirq.MeasurementGate = op.gate
        mine = bits[start : start + len(op.qubits)].T  # (repetitions, qubits)
        start += len(op.qubits)
        if gate.invert_mask:
            mask = np.zeros(len(op.qubits), dtype=np.int8)
            mask[: len(gate.invert_mask)] = gate.invert_mask
            mine = mine ^ mask
        records.record(gate.mkey, mine)


def _controlled(op: cirq.ClassicallyControlledOperation, state: _State, records: Records) -> None:
    active = np.ones(records.repetitions, dtype=bool)
    for condition in op.classical_controls:
        if not isinstance(condition, cirq.KeyCondition):
            raise NatqError(f"NatqSampler supports key conditions only ({op!r})")
        active &= records.get_int(condition.key, condition.index) != 0
    inner = op.without_classical_controls()
    if not cirq.has_unitary(inner) or len(inner.qubits) > 2:
        raise NatqError(f"NatqSampler cannot execute {op!r} exactly")
    unitary = cirq.unitary(inner)
    per_repetition = np.where(active[:, None, None], unitary, np.eye(len(unitary)))
    if len(inner.qubits) == 1:
        state.apply_1q(inner.qubits, per_repetition[None])
    else:
        state.apply_2q([inner.qubits], per_repetition[None])


__all__ = ["NatqSampler", "Records"]
