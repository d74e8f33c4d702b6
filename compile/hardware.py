"""Hardware targeting with cirq_google: gate sets, device placement, tiles and packing.

* Gate sets (``cz``, ``sqrt_iswap``, ``sycamore``) go through ``cirq.optimize_for_target_gateset``
  with Cirq's and cirq_google's target gate sets.
* Devices (``rainbow``, ``weber``: the processors whose specifications ship with cirq_google) take
  layered circuits only. Each neuron-ancilla pair sits on two adjacent qubits of the device graph
  (a maximum matching of the coupler graph); without ancillas (``g = pi/2``) every qubit holds a
  neuron. A layer larger than the chip is split into tiles of neurons, one circuit each (exact:
  pairs never interact). A layer smaller than the chip is packed: several replicas (inputs or shots)
  side by side in one circuit, as hardware experiments do. Every circuit is validated by the device.

In packed circuits each replica ``r`` has its own symbols ``theta_{k}_{i}_r{r}`` and keys
``d{k}_{i}_r{r}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from natq_cirq.compile.circuits import (
    layer_circuit,
    measurement_key,
    theta_symbol,
    uses_ancillas,
)
from natq_cirq.compile.gates import WeakMeasurementEntangler
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile

import cirq
import networkx as nx
import numpy as np
import sympy

GATESETS = ("cz", "sqrt_iswap", "sycamore")
DEVICES = ("rainbow", "weber")


def gateset(name: str) -> cirq.CompilationTargetGateset:
    """The Cirq compilation target of ``cz``, ``sqrt_iswap`` or ``sycamore``."""
    import cirq_google

    factories = {
        "cz": cirq_google.GoogleCZTargetGateset,
        "sqrt_iswap": cirq.SqrtIswapTargetGateset,
        "sycamore": cirq_google.SycamoreTargetGateset,
    }
    if name not in factories:
        raise NatqError(f"unknown gate set {name!r}; choose one of {', '.join(GATESETS)}")
    return factories[name]()


# Device-placed execution rewrites into sqrt(iSWAP): cirq_google's calibrations (and so the noise
# models of rainbow and weber) characterize sqrt(iSWAP) and Sycamore gates, and give CZ no gate
# error at all -- a CZ circuit would look cleaner than the processor is.
DEVICE_GATESET = "sqrt_iswap"


@cache
def device(name: str) -> cirq.Device:
    """The ``cirq_google.GridDevice`` of a processor whose specification ships with cirq_google."""
    if name not in DEVICES:
        raise NatqError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    from cirq_google.engine import virtual_engine_factory

    return virtual_engine_factory.create_device_from_processor_id(name)


def to_gateset(circuit: cirq.Circuit, name: str) -> cirq.Circuit:
    """``circuit`` rewritten into the gate set ``name`` (a new circuit)."""
    with warnings.catch_warnings():
        # Cirq 1.5's own transformers emit a deprecation warning about CircuitOperation ids.
        warnings.simplefilter("ignore")
        return cirq.optimize_for_target_gateset(circuit, gateset=gateset(name))


def device_slots(dev: cirq.Device, with_ancillas: bool) -> list[tuple[cirq.Qid, cirq.Qid | None]]:
    """Places for neurons: adjacent (neuron, ancilla) pairs, or single qubits without ancillas."""
    qubits = sorted(dev.metadata.qubit_set)
    if not with_ancillas:
        return [(q, None) for q in qubits]
    graph = nx.Graph()
    graph.add_edges_from(tuple(pair) for pair in dev.metadata.qubit_pairs)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted((min(a, b), max(a, b)) for a, b in matching)


@dataclass
class TargetedLayer:
    """The circuits of one hidden layer for a device or gate set (layered mode).

    Attributes:
        layer: hidden layer, 1-based.
        circuits: one circuit per tile.
        tiles: the neurons each circuit holds.
        replicas: instances (inputs or shots) packed side by side in every circuit.
        slots_used: device qubits used by the largest circuit.
    """

    layer: int
    circuits: list[cirq.Circuit]
    tiles: list[list[int]]
    replicas: int = 1
    slots_used: int = 0
    device_name: str | None = None
    gateset_name: str | None = None
    notes: list[str] = field(default_factory=list)

    def resolver(self, tile: int, angles: np.ndarray) -> cirq.ParamResolver:
        """Symbol values of circuit ``tile`` from ``angles (replicas, N)`` (one row per replica)."""
        values = {}
        for r, row in enumerate(np.atleast_2d(angles)[: self.replicas]):
            for i in self.tiles[tile]:
                values[symbol(self.layer, i, r if self.replicas > 1 else None)] = float(row[i])
        return cirq.ParamResolver(values)

    def bits(self, tile: int, records: dict[str, np.ndarray]) -> np.ndarray:
        """Outcomes ``(repetitions, replicas, len(tile))`` in ``{+1, -1}`` from measurement records."""
        columns = [
            [
                np.asarray(records[key(self.layer, i, r if self.replicas > 1 else None)]).reshape(
                    -1
                )
                for i in self.tiles[tile]
            ]
            for r in range(self.replicas)
        ]
        return (1 - 2 * np.array(columns).transpose(2, 0, 1)).astype(np.int8)


def slot_symbol(slot: int) -> sympy.Symbol:
    """The angle symbol of slot ``slot`` in a :func:`slot_circuit`."""
    return sympy.Symbol(f"slot_{slot}")


def slot_key(slot: int) -> str:
    """The measurement key of slot ``slot`` in a :func:`slot_circuit`."""
    return f"slot_{slot}"


def slot_circuit(
    g: float,
    slots: Sequence[tuple[cirq.Qid, cirq.Qid | None]],
    gateset_name: str | None = None,
    fold: int = 0,
) -> cirq.Circuit:
    """Independent neuron read-outs side by side: the execution unit of layered runners.

    Slot ``s`` prepares its neuron with ``R_Y(slot_s)`` and reads it out, weakly through its
    ancilla or (``ancilla`` ``None``) projectively, into key ``slot_s``. Any neuron of any layer,
    input or shot can fill any slot, since neurons never interact and a layer's read-out depends
    only on the neuron's angle (the layered rule, :class:`natq_cirq.compile.LayeredRule`).
    ``fold`` adds that many rounds of identity-equivalent gate pairs (:func:`fold_identities`).
    """
    entangler = WeakMeasurementEntangler(g)
    moments = [cirq.Moment(cirq.ry(slot_symbol(s)).on(n) for s, (n, _) in enumerate(slots))]
    weak = [(s, n, a) for s, (n, a) in enumerate(slots) if a is not None]
    if weak:
        moments.append(cirq.Moment(cirq.H(a) for _, _, a in weak))
        moments.append(cirq.Moment(entangler(n, a) for _, n, a in weak))
    moments.append(
        cirq.Moment(
            cirq.measure(n if a is None else a, key=slot_key(s)) for s, (n, a) in enumerate(slots)
        )
    )
    circuit = cirq.Circuit(moments)
    circuit = to_gateset(circuit, gateset_name) if gateset_name else circuit
    return fold_identities(circuit, fold) if fold else circuit


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


def symbol(layer: int, neuron: int, replica: int | None = None) -> sympy.Symbol:
    """``theta_{k}_{i}``, or ``theta_{k}_{i}_r{r}`` for replica ``r`` of a packed circuit."""
    base = theta_symbol(layer, neuron)
    return base if replica is None else sympy.Symbol(f"{base.name}_r{replica}")


def key(layer: int, neuron: int, replica: int | None = None) -> str:
    """``d{k}_{i}``, or ``d{k}_{i}_r{r}`` for replica ``r`` of a packed circuit."""
    base = measurement_key(layer, neuron)
    return base if replica is None else f"{base}_r{replica}"


def _rename(
    circuit: cirq.Circuit, layer: int, neurons: Sequence[int], replica: int
) -> cirq.Circuit:
    symbols = {symbol(layer, i): symbol(layer, i, replica) for i in neurons}
    keys = {key(layer, i): key(layer, i, replica) for i in neurons}
    renamed = cirq.with_measurement_key_mapping(circuit, keys)
    return cirq.resolve_parameters(renamed, cirq.ParamResolver(symbols), recursive=False)


def target_layer(
    model: ModelFile,
    layer: int,
    device_name: str | None = None,
    gateset_name: str | None = None,
    drop_ancillas: bool = True,
    replicas: int | None = None,
) -> TargetedLayer:
    """Layered circuits of one layer, placed on a device and/or rewritten into a gate set.

    Args:
        model: the trained network.
        layer: hidden layer, 1-based.
        device_name: ``rainbow`` or ``weber`` (or ``None`` for no placement).
        gateset_name: ``cz``, ``sqrt_iswap`` or ``sycamore`` (default with a device: ``cz``).
        drop_ancillas: with ``g = pi/2``, measure neurons directly.
        replicas: instances packed per circuit (default: as many as fit; 1 without a device).

    Raises:
        NatqError: unknown device or gate set, or a device without room for one pair.
    """
    neurons = list(range(model.hidden))
    ancillas = uses_ancillas(model.knobs, drop_ancillas)
    if device_name is None:
        circuit = layer_circuit(model, layer, neurons, drop_ancillas)
        if gateset_name:
            circuit = to_gateset(circuit, gateset_name)
        return TargetedLayer(
            layer, [circuit], [neurons], 1, len(circuit.all_qubits()), None, gateset_name
        )
    dev = device(device_name)
    gateset_name = gateset_name or "cz"
    slots = device_slots(dev, ancillas)
    if not slots:
        raise NatqError(f"device {device_name} has no room for a neuron")
    per_tile = min(len(slots), len(neurons))
    tiles = [neurons[i : i + per_tile] for i in range(0, len(neurons), per_tile)]
    fit = max(1, len(slots) // len(neurons)) if len(tiles) == 1 else 1
    if replicas is not None:
        if replicas < 1 or replicas > fit:
            raise NatqError(
                f"{replicas} replicas of {len(neurons)} neurons do not fit on "
                f"{device_name} ({len(slots)} {'pairs' if ancillas else 'qubits'}); "
                f"at most {fit}"
            )
        fit = replicas
    circuits = []
    for tile in tiles:
        parts = []
        for r in range(fit):
            local = layer_circuit(model, layer, tile, drop_ancillas)
            if fit > 1:
                local = _rename(local, layer, tile, r)
            mapping = {}
            for slot, i in zip(slots[r * len(tile) : (r + 1) * len(tile)], tile, strict=True):
                mapping[cirq.NamedQubit(f"neuron{i}")] = slot[0]
                if ancillas:
                    mapping[cirq.NamedQubit(f"ancilla{i}")] = slot[1]
            parts.append(local.transform_qubits(mapping))
        circuit = cirq.Circuit(
            cirq.Moment(op for part in parts for op in part[m]) for m in range(len(parts[0]))
        )
        circuit = to_gateset(circuit, gateset_name)
        try:
            dev.validate_circuit(circuit)
        except ValueError as error:
            raise NatqError(f"layer {layer} cannot be placed on {device_name}: {error}") from None
        circuits.append(circuit)
    used = max(len(c.all_qubits()) for c in circuits)
    return TargetedLayer(layer, circuits, tiles, fit, used, device_name, gateset_name)


__all__ = [
    "DEVICES",
    "GATESETS",
    "TargetedLayer",
    "device",
    "device_slots",
    "gateset",
    "key",
    "slot_circuit",
    "slot_key",
    "slot_symbol",
    "symbol",
    "target_layer",
    "to_gateset",
]
