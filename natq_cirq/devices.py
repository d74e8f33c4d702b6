"""Google processors and gate sets: placement of slots, rewriting, folding, validation.

* Gate sets (``cz``, ``sqrt_iswap``, ``sycamore``) go through ``cirq.optimize_for_target_gateset``
  with Cirq's and cirq_google's target gate sets.
* Devices (``rainbow``, ``weber``: the processors whose specifications ship with cirq_google).
  Each neuron-ancilla slot sits on two adjacent qubits of the device graph (a maximum matching of
  the coupler graph); without ancillas (``g = pi/2``) every qubit is a slot.
* :func:`placed_slot_circuit` is the one builder of what a layered backend executes: the slot
  circuit on given slots, rewritten into a gate set, folded, validated by the device.

One gate set per device (:data:`DEFAULT_GATESET`), used by ``natq compile``, ``natq run``, the demo
and the noisy engine alike: cirq_google's calibrations (and so the noise models of rainbow and
weber) characterize sqrt(iSWAP) gates and give CZ no gate error at all -- a CZ circuit would look
cleaner than the processor is.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import cache

from natq_cirq.errors import NatqError
from natq_cirq.readout import Slot, slot_circuit

import cirq
import cirq_google
import networkx as nx
from cirq_google.engine import virtual_engine_factory

GATESETS = ("cz", "sqrt_iswap", "sycamore")
DEVICES = ("rainbow", "weber")
DEFAULT_GATESET = {"rainbow": "sqrt_iswap", "weber": "sqrt_iswap"}

_GATESET_FACTORIES = {
    "cz": cirq_google.GoogleCZTargetGateset,
    "sqrt_iswap": cirq.SqrtIswapTargetGateset,
    "sycamore": cirq_google.SycamoreTargetGateset,
}


def gateset(name: str) -> cirq.CompilationTargetGateset:
    """The Cirq compilation target of ``cz``, ``sqrt_iswap`` or ``sycamore``."""
    if name not in _GATESET_FACTORIES:
        raise NatqError(f"unknown gate set {name!r}; choose one of {', '.join(GATESETS)}")
    return _GATESET_FACTORIES[name]()


@cache
def device(name: str) -> cirq.Device:
    """The ``cirq_google.GridDevice`` of a processor whose specification ships with cirq_google."""
    if name not in DEVICES:
        raise NatqError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    return virtual_engine_factory.create_device_from_processor_id(name)


def to_gateset(circuit: cirq.Circuit, name: str) -> cirq.Circuit:
    """``circuit`` rewritten into the gate set ``name`` (a new circuit)."""
    with warnings.catch_warnings():
        # Cirq 1.5's own transformers emit a deprecation warning about CircuitOperation ids.
        warnings.simplefilter("ignore")
        return cirq.optimize_for_target_gateset(circuit, gateset=gateset(name))


def device_slots(dev: cirq.Device, with_ancillas: bool) -> list[Slot]:
    """Places for neurons: adjacent (neuron, ancilla) pairs, or single qubits without ancillas."""
    qubits = sorted(dev.metadata.qubit_set)
    if not with_ancillas:
        return [(q, None) for q in qubits]
    graph = nx.Graph()
    graph.add_edges_from(tuple(pair) for pair in dev.metadata.qubit_pairs)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted((min(a, b), max(a, b)) for a, b in matching)


def fold_identities(circuit: cirq.Circuit, k: int) -> cirq.Circuit:
    """``circuit`` with ``k`` rounds of identity-equivalent gate pairs before its measurements.

    Each round is ``sqrt(X)`` then ``sqrt(X)^dagger`` on every qubit (as ``PhasedXZGate``, the
    single-qubit gate device noise models know) and a two-qubit gate then its inverse on every pair
    that shares one: ``sqrt(iSWAP)`` and its inverse when the circuit uses ``sqrt(iSWAP)``, else
    ``CZ CZ^dagger``. The identity when noiseless, ``k`` times the gate noise otherwise (the folding
    of the paper's authors' hardware studies). A new circuit.
    """
    if k < 0:
        raise NatqError(f"the folding factor must be >= 0 (got {k})")
    qubits = sorted(circuit.all_qubits())
    pairs = sorted(
        {tuple(sorted(op.qubits)) for op in circuit.all_operations() if len(op.qubits) == 2}
    )
    end = next(
        (i for i, moment in enumerate(circuit) if any(cirq.is_measurement(o) for o in moment)),
        len(circuit),
    )
    iswap = any(isinstance(op.gate, cirq.ISwapPowGate) for op in circuit.all_operations())
    forward, backward = (cirq.SQRT_ISWAP, cirq.SQRT_ISWAP_INV) if iswap else (cirq.CZ, cirq.CZ)
    half_x = [
        cirq.PhasedXZGate(x_exponent=e, z_exponent=0, axis_phase_exponent=0) for e in (0.5, -0.5)
    ]
    folds = []
    for _ in range(k):
        folds += [cirq.Moment(gate(q) for q in qubits) for gate in half_x]
        if pairs:
            folds += [cirq.Moment(gate(*pair) for pair in pairs) for gate in (forward, backward)]
    return cirq.Circuit([*circuit[:end], *folds, *circuit[end:]])


def placed_slot_circuit(
    g: float,
    slots: Sequence[Slot],
    gateset_name: str | None = None,
    fold: int = 0,
    dev: cirq.Device | None = None,
) -> cirq.Circuit:
    """The slot circuit on ``slots``, rewritten into ``gateset_name``, folded, validated by ``dev``."""
    circuit = slot_circuit(g, slots)
    if gateset_name:
        circuit = to_gateset(circuit, gateset_name)
    if fold:
        circuit = fold_identities(circuit, fold)
    if dev is not None:
        try:
            dev.validate_circuit(circuit)
        except ValueError as error:
            raise NatqError(f"the slot circuit does not validate on the device: {error}") from None
    return circuit


__all__ = [
    "DEFAULT_GATESET",
    "DEVICES",
    "GATESETS",
    "device",
    "device_slots",
    "fold_identities",
    "gateset",
    "placed_slot_circuit",
    "to_gateset",
]
