"""Google processors and gate sets: placement of slots, rewriting, folding, validation.

* Gate sets (``cz``, ``sqrt_iswap``, ``sycamore``) go through ``cirq.optimize_for_target_gateset``
  with Cirq's and cirq_google's target gate sets.
* Processors (:data:`PROCESSORS`, one registry): ``rainbow`` and ``weber`` (2021; their device
  specifications and median calibrations ship with cirq_google) and ``willow_pink`` (105 qubits,
  2024; shipped by cirq_google from 1.6, and as natq-cirq's package data for cirq_google 1.5:
  ``natq_cirq/hardware/device_data/willow_pink/SOURCE.json``). :func:`device_data` is the one
  decision of which files and which noise properties a processor uses, and what a calibration or
  a device-noise run records of them. Each declares its native two-qubit gate set
  (:data:`DEFAULT_GATESET`): the gate its calibration characterizes.
  Each neuron-ancilla slot sits on two adjacent qubits of the device graph (a maximum matching of
  the coupler graph); without ancillas (``g = pi/2``) every qubit is a slot.
* :func:`placed_slot_circuit` is the one builder of what a layered backend executes: the slot
  circuit on given slots, rewritten into a gate set, folded, validated by the device.
* :func:`virtual_engine` is cirq_google's quantum virtual machine of a processor: its device, its
  median calibration's noise model, qsim.

One gate set per device, used by ``natq compile``, ``natq run``, the demo and the noisy engine
alike: rainbow's and weber's calibrations characterize sqrt(iSWAP) gates and give CZ no gate error
at all (a CZ circuit would look cleaner than the processor is); willow_pink's characterize CZ.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from natq_cirq import catalog
from natq_cirq.catalog import GATESETS
from natq_cirq.errors import NatqError
from natq_cirq.hardware.readout import Slot, slot_circuit
from natq_cirq.imports import DeferredModule

import cirq
import networkx as nx
import qsimcirq
from google.protobuf import text_format

# Loaded when a processor is first asked for: unplaced circuit runs never need it.
cirq_google = DeferredModule("cirq_google")

DEVICE_DATA = Path(__file__).with_name("device_data")


@dataclass(frozen=True)
class Processor:
    """A Google processor natq-cirq can place, simulate and plan for.

    Attributes:
        name: the processor id (``qvm:NAME``, ``engine:NAME``, ``device:NAME``).
        gateset: its native two-qubit gate set, the one its calibration characterizes.
        data: folder of natq-cirq's copy of its specification and calibration (with
            ``SOURCE.json``), used when the installed cirq_google does not ship them; ``None``
            when every supported cirq_google does.
    """

    name: str
    gateset: str
    data: str | None = None

    def specification(self) -> cirq_google.api.v2.device_pb2.DeviceSpecification:
        """The device specification proto (from where :func:`device_data` says)."""
        if device_data(self.name).from_cirq_google:
            return _factory().create_device_spec_from_processor_id(self.name)
        spec = cirq_google.api.v2.device_pb2.DeviceSpecification()
        # cirq_google 1.5's proto lacks the newer ``reset`` gate specification: skipped (natq's
        # circuits reset nothing on hardware; layered read-outs use fresh qubits per execution).
        text = device_data(self.name).specification.read_text()
        text_format.Parse(text, spec, allow_unknown_field=True)
        return spec

    def calibration(self) -> cirq_google.Calibration:
        """The median calibration cirq_google's virtual machine uses."""
        data = device_data(self.name)
        if data.from_cirq_google:
            return _factory().load_median_device_calibration(self.name)
        calibration = cirq.read_json(data.calibration)
        calibration.timestamp = data.timestamp_ms
        return calibration


@dataclass(frozen=True)
class DeviceData:
    """Which files a processor's device, calibration and noise come from (:func:`device_data`).

    Attributes:
        processor: the processor's name.
        origin: ``cirq-google X.Y.Z`` (its own files) or ``natq-cirq package data (...)``.
        specification: the device specification file.
        calibration: the median calibration file.
        timestamp_ms: the calibration's timestamp, as cirq_google's virtual machine records it.
        noise: how its noise properties are made: ``cirq_google`` (its
            ``load_device_noise_properties``: gate times from the device, Z phases where it has
            them) or ``calibration`` (``noise_properties_from_calibration`` with cirq_google
            1.5's default gate times, what its virtual machine did).
        zphase: the Z-phase data file the ``cirq_google`` noise uses, if any.
    """

    processor: str
    origin: str
    specification: Path
    calibration: Path
    timestamp_ms: int
    noise: str
    zphase: Path | None = None

    @property
    def from_cirq_google(self) -> bool:
        return self.origin.startswith("cirq-google")

    def record(self) -> dict:
        """What a calibration or a device-noise run records: origin, files and their SHA-256."""
        paths = (self.specification, self.calibration, self.zphase)
        files = {path.name: _sha256(path) for path in paths if path is not None}
        return {
            "processor": self.processor,
            "origin": self.origin,
            "configuration": self.specification.name.split("_device_spec")[0],
            "files": files,
            "noise": self.noise,
        }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _factory():
    return cirq_google.engine.virtual_engine_factory


@cache
def device_data(name: str) -> DeviceData:
    """The one decision of where a processor's data come from.

    The installed cirq_google's own files when it ships the processor (rainbow and weber always;
    willow_pink from cirq-google 1.6), with its own noise properties where it has
    ``load_device_noise_properties`` (1.6 and later: what its virtual machine simulates); else
    natq-cirq's packaged copy (willow_pink on cirq-google 1.5), with the noise properties 1.5's
    virtual machine makes from a calibration.
    """
    entry = processor(name)
    factory = _factory()
    # cirq-google 1.6+ lists its virtual processors; 1.5 has only the tables behind that list.
    listed = getattr(factory, "list_virtual_processors", lambda: factory.MOST_RECENT_TEMPLATES)()
    if name in listed and name in factory.MEDIAN_CALIBRATIONS:
        root = Path(factory.__file__).resolve().parent.parent / "devices"
        newer = hasattr(factory, "load_device_noise_properties")
        zphase = factory.ZPHASE_DATA.get(name) if newer else None
        return DeviceData(
            name,
            f"cirq-google {cirq_google.__version__}",
            root / "specifications" / factory.MOST_RECENT_TEMPLATES[name],
            root / "calibrations" / factory.MEDIAN_CALIBRATIONS[name],
            factory.MEDIAN_CALIBRATION_TIMESTAMPS[name],
            "cirq_google" if newer else "calibration",
            root / "calibrations" / zphase if zphase else None,
        )
    if entry.data is None:
        raise NatqError(f"cirq-google {cirq_google.__version__} has no data for {name}")
    folder = DEVICE_DATA / entry.data
    source = json.loads((folder / "SOURCE.json").read_text())
    (spec,) = [folder / n for n in source["files"] if n.endswith(".proto.txt")]
    (calibration,) = [folder / n for n in source["files"] if n.endswith("_calibration.json")]
    return DeviceData(
        name,
        f"natq-cirq package data ({source['source'].split(' (')[0]}'s files)",
        spec,
        calibration,
        source["calibration_timestamp_ms"],
        "calibration",
    )


PROCESSORS: dict[str, Processor] = {
    name: Processor(name, native, data) for name, (native, data) in catalog.PROCESSORS.items()
}
DEVICES = tuple(PROCESSORS)
DEFAULT_GATESET = {name: p.gateset for name, p in PROCESSORS.items()}

# Factories by name, read when called (cirq_google loads only for a gate set that needs it).
_GATESET_FACTORIES = {
    "cz": lambda: cirq_google.GoogleCZTargetGateset(),
    "sqrt_iswap": cirq.SqrtIswapTargetGateset,
    "sycamore": lambda: cirq_google.SycamoreTargetGateset(),
}


def gateset(name: str) -> cirq.CompilationTargetGateset:
    """The Cirq compilation target of ``cz``, ``sqrt_iswap`` or ``sycamore``."""
    if name not in _GATESET_FACTORIES:
        raise NatqError(f"unknown gate set {name!r}; choose one of {', '.join(GATESETS)}")
    return _GATESET_FACTORIES[name]()


def processor(name: str) -> Processor:
    """The registry entry of a processor (one clear line for an unknown name)."""
    if name not in PROCESSORS:
        raise NatqError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    return PROCESSORS[name]


def data_record(name: str | None) -> dict | None:
    """:meth:`DeviceData.record` of a processor; ``None`` for a run on no processor.

    What a run on a processor (its placement, its noise) records and keys its journals by, so
    that runs on different device data (cirq-google 1.5's noise and 1.7's) are never mixed.
    """
    return device_data(name).record() if name else None


@cache
def device_specification(name: str) -> cirq_google.api.v2.device_pb2.DeviceSpecification:
    return processor(name).specification()


@cache
def device(name: str) -> cirq.Device:
    """The ``cirq_google.GridDevice`` of a processor."""
    spec = device_specification(name)
    with warnings.catch_warnings():
        # The skipped reset specification leaves a gate Cirq 1.5 announces it ignores.
        warnings.filterwarnings("ignore", "The DeviceSpecification contains the gate 'None'")
        return cirq_google.GridDevice.from_proto(spec)


@cache
def median_calibration(name: str) -> cirq_google.Calibration:
    return processor(name).calibration()


@cache
def noise_properties(name: str) -> cirq_google.GoogleNoiseProperties:
    """cirq_google's noise properties of a processor's median calibration (:func:`device_data`)."""
    if device_data(name).noise == "cirq_google":
        return _factory().load_device_noise_properties(name)
    return cirq_google.noise_properties_from_calibration(median_calibration(name))


def device_noise_model(name: str) -> cirq.NoiseModel:
    """cirq_google's noise model of a processor's median calibration (what its QVM simulates)."""
    return cirq_google.NoiseModelFromGoogleNoiseProperties(noise_properties(name))


def virtual_engine(name: str, seed: int = 0) -> cirq_google.engine.SimulatedLocalEngine:
    """cirq_google's noisy quantum virtual machine of a processor (its device, calibration, qsim).

    Built as ``virtual_engine_factory.create_default_noisy_quantum_virtual_machine`` builds it, from
    the registry's files, so it serves the processors cirq_google 1.5 does not ship too.
    """
    simulator = qsimcirq.QSimSimulator(noise=device_noise_model(name), seed=seed)
    calibration = median_calibration(name)
    return cirq_google.engine.SimulatedLocalEngine(
        [
            cirq_google.engine.SimulatedLocalProcessor(
                processor_id=name,
                sampler=simulator,
                device=device(name),
                calibrations={calibration.timestamp // 1000: calibration},
                device_specification=device_specification(name),
            )
        ]
    )


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
    "DeviceData",
    "PROCESSORS",
    "Processor",
    "device",
    "device_data",
    "data_record",
    "device_noise_model",
    "device_specification",
    "median_calibration",
    "noise_properties",
    "processor",
    "virtual_engine",
    "device_slots",
    "fold_identities",
    "gateset",
    "placed_slot_circuit",
    "to_gateset",
]
