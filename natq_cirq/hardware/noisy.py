"""An exact noisy engine: each neuron as a qubit density matrix, its read-out as a fixed channel.

Under a Cirq noise model that acts qubit by qubit, a neuron–ancilla pair still never interacts with
other pairs, so each neuron is a one-qubit density matrix, written as its Bloch vector
``r = (x, y, z)``. One layer of the dynamic circuit (docs/physics.md) is, for one pair: the rotation
``R_Y(theta)`` of the neuron, the ancilla's reset (layers >= 2), ``H``, the entangler, the ancilla's
measurement, and the noise the model attaches to each of those moments. That map is

* linear in the neuron's input state ``(1, x, y, z)``, and
* a trigonometric polynomial of degree 1 in ``theta``: ``A + B cos(theta) + C sin(theta)``,

so it is fixed by a few density-matrix simulations of the noise-decorated block with
``cirq.DensityMatrixSimulator`` (:class:`ReadoutChannel`), after which every neuron of every shot
and input goes through the same small tensor at once (:func:`sample_noisy`). The ancilla is
projected at its measurement moment; noise after it acts on the neuron only (the ancilla is reset
before it is used again). Re-prepared memory (reset, then ``X`` if ``d_prev = -1``) is modelled
as ideal.

Without noise this reproduces :mod:`natq_cirq.physics` exactly (tested), and with noise it samples
what ``cirq.Simulator`` samples on the noisy dynamic circuit (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

from natq_cirq import physics
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.hardware.devices import DEFAULT_GATESET, device, device_slots, placed_slot_circuit
from natq_cirq.hardware.noise import noise_model
from natq_cirq.hardware.readout import (
    line_slots,
    read_out_block,
    slot_key,
    slot_symbol,
    uses_ancillas,
)
from natq_cirq.physics import Knobs
from natq_cirq.target import Target

import cirq
import numpy as np
import sympy

PAULIS = (np.eye(2), cirq.unitary(cirq.X), cirq.unitary(cirq.Y), cirq.unitary(cirq.Z))
THETA = sympy.Symbol("theta")


def _block(knobs: Knobs, first_layer: bool, drop_ancillas: bool) -> tuple[cirq.Circuit, list]:
    """One pair's moments of a layer of the dynamic circuit, with a symbolic rotation."""
    neuron, ancilla = cirq.LineQubit.range(2)
    block = read_out_block(
        neuron,
        ancilla if uses_ancillas(knobs, drop_ancillas) else None,
        knobs.g,
        "d",
        reset=not first_layer,
    )
    return cirq.Circuit([cirq.ry(THETA).on(neuron), *block]), [neuron, ancilla]


@dataclass
class ReadoutChannel:
    """The noisy read-out of one neuron in one layer, as a tensor.

    ``maps[d, k, i, j]``: outcome ``d`` (0: ``d = +1``, 1: ``d = -1``), trigonometric term ``k``
    (``1, cos theta, sin theta``), input component ``i`` of ``(1, x, y, z)``, output component ``j``
    of the unnormalized post-measurement neuron ``(p, p x', p y', p z')``.
    """

    maps: np.ndarray

    @classmethod
    def from_noise(
        cls,
        knobs: Knobs,
        noise: Target | None,
        first_layer: bool,
        drop_ancillas: bool = True,
    ) -> ReadoutChannel:
        """Simulate the noise-decorated block at three angles and four input states."""
        circuit, (neuron, ancilla) = _block(knobs, first_layer, drop_ancillas)
        if noise is not None and noise.noisy:
            circuit = cirq.Circuit(
                noise_model(noise).noisy_moments(circuit, sorted(circuit.all_qubits()))
            )
        measured = next(op.qubits[0] for op in circuit.all_operations() if cirq.is_measurement(op))
        # Split at the measurement: before it (with any readout error) and after it (its noise).
        index = next(i for i, m in enumerate(circuit) if any(cirq.is_measurement(o) for o in m))
        before = cirq.Circuit(
            [*circuit[:index], cirq.Moment(o for o in circuit[index] if not cirq.is_measurement(o))]
        )
        # After the read-out only the neuron matters: a measured ancilla is reset before reuse.
        after = cirq.Circuit(
            cirq.Moment(o for o in m if measured == neuron or measured not in o.qubits)
            for m in circuit[index + 1 :]
        )
        qubits = [neuron] if measured == neuron else [neuron, ancilla]
        simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
        maps = np.zeros((2, 3, 4, 4))
        inputs = [np.eye(2) / 2] + [(np.eye(2) + p) / 2 for p in PAULIS[1:]]
        for t, theta in enumerate((0.0, np.pi / 2, np.pi)):
            for i, rho in enumerate(inputs):
                for bit in (0, 1):
                    out = _branch(simulator, before, after, qubits, measured, rho, theta, bit)
                    # Tr(out P) = p * (Bloch component of the normalized post-measurement state).
                    maps[bit, t, i] = [np.trace(out @ p).real for p in PAULIS]
        # rho = I/2 + sum_P r_P P/2, and P/2 = (I + P)/2 - I/2: linearity gives each component.
        maps[:, :, 1:] -= maps[:, :, :1]
        # theta in (0, pi/2, pi) -> coefficients of (1, cos, sin).
        at0, at90, at180 = maps[:, 0].copy(), maps[:, 1].copy(), maps[:, 2].copy()
        maps[:, 0] = (at0 + at180) / 2
        maps[:, 1] = (at0 - at180) / 2
        maps[:, 2] = at90 - maps[:, 0]
        return cls(maps)

    def apply(self, r: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Unnormalized outputs ``(2, ..., 4)`` for Bloch vectors ``r (..., 3)`` and angles."""
        state = np.concatenate([np.ones(r.shape[:-1] + (1,)), r], axis=-1)
        trig = np.stack([np.ones_like(theta), np.cos(theta), np.sin(theta)], axis=-1)
        # One (elements, 12) x (12, 8) matrix product instead of a 4-index einsum.
        features = (trig[..., :, None] * state[..., None, :]).reshape(-1, 12)
        table = self.maps.transpose(1, 2, 0, 3).reshape(12, 8)
        out = (features @ table).reshape(theta.shape + (2, 4))
        return np.moveaxis(out, -2, 0)


def _branch(simulator, before, after, qubits, measured, rho_neuron, theta, bit) -> np.ndarray:
    """The neuron's unnormalized density matrix when the measured qubit reads ``bit``."""
    ancilla_zero = np.diag([1.0, 0.0])
    rho = rho_neuron if len(qubits) == 1 else np.kron(rho_neuron, ancilla_zero)
    final = simulator.simulate(
        before, {THETA: theta}, qubit_order=qubits, initial_state=rho.astype(np.complex128)
    ).final_density_matrix
    projector = np.diag([1.0, 0.0] if bit == 0 else [0.0, 1.0])
    if len(qubits) == 1:
        neuron = projector @ final @ projector
    else:
        full = np.kron(np.eye(2), projector) @ final @ np.kron(np.eye(2), projector)
        neuron = np.einsum("iaja->ij", full.reshape(2, 2, 2, 2))
    if len(after) and len(after.all_qubits()):
        trace = np.trace(neuron).real
        if trace > 1e-15:
            neuron = (
                trace
                * simulator.simulate(
                    after,
                    qubit_order=[qubits[0]],
                    initial_state=(neuron / trace).astype(np.complex128),
                ).final_density_matrix
            )
    return neuron


def sample_noisy(
    model: ModelFile,
    x: np.ndarray,
    shots: int,
    noise: Target | None,
    seed: int = 0,
    drop_ancillas: bool = True,
    rows_per_chunk: int = 4096,
) -> np.ndarray:
    """Hidden bits ``(n, shots, L, N)`` of the noisy dynamic circuit, exactly sampled.

    ``noise`` must be qubit-wise (:attr:`Target.qubitwise`): a device's noise model needs its
    qubits, which only layered circuits are placed on (:func:`layered_slot_readout`).
    """
    knobs = model.knobs
    if noise is not None and not noise.qubitwise:
        raise NatqError(
            "the noisy engine of the dynamic circuit takes qubit-wise noise (depolarizing, "
            "amplitude_damping, readout); a device's noise or folding needs layered circuits"
        )
    channels = [
        ReadoutChannel.from_noise(knobs, noise, first, drop_ancillas) for first in (True, False)
    ]
    rng = np.random.default_rng(seed)
    kernels = [np.asarray(w, dtype=np.float32) for w in model.kernels]  # as the engine
    # Layer 1's pre-activations do not depend on the shot.
    first_all = np.repeat(np.asarray(x, dtype=np.float32) @ kernels[0], shots, axis=0)
    out = np.empty((len(first_all), model.layers, model.hidden), dtype=np.int8)
    # Chunks of rows bound the memory (12 features per neuron and row in float64).
    for start in range(0, len(first_all), rows_per_chunk):
        first = first_all[start : start + rows_per_chunk]
        rows = first.shape[0]
        d_in, d_prev = None, np.ones((rows, model.hidden))
        r = np.zeros((rows, model.hidden, 3))
        r[..., 2] = 1.0  # |0>
        for k in range(model.layers):
            h = first if k == 0 else (d_in.astype(np.float32) @ kernels[k])
            if knobs.memory == "reprepared" and k > 0:
                r = np.zeros_like(r)
                r[..., 2] = d_prev
            theta = physics.rotation_angle(h, knobs.a, d_prev)
            result = (channels[0] if k == 0 else channels[1]).apply(r, theta)
            p_plus = np.clip(result[0, ..., 0], 0.0, 1.0)
            d = np.where(rng.random(p_plus.shape) < p_plus, 1.0, -1.0).astype(np.float32)
            chosen = np.where((d > 0)[..., None], result[0], result[1])
            r = chosen[..., 1:] / np.maximum(chosen[..., :1], 1e-300)
            out[start : start + rows, k] = d
            d_in = d_prev = d
    return out.reshape(len(x), shots, model.layers, model.hidden)


@dataclass
class SlotReadout:
    """The noisy read-out of each slot of a layered slot circuit, in closed form.

    In layered execution every read-out starts from fresh qubits and one rotation ``R_Y(psi)``
    (the layer's angle with the neuron's known state folded in), so under any Cirq noise model the
    probability of reading ``-1`` is ``A + B cos(psi) + C sin(psi)``: the density matrix is linear
    in ``(1, cos psi, sin psi)``. ``coefficients[s] = (A, B, C)`` of slot ``s``, from three
    ``cirq.DensityMatrixSimulator`` runs of the slot's part of the noise-decorated circuit -- the
    very circuit (placed, rewritten, folded) a layered backend executes.
    """

    coefficients: np.ndarray

    @classmethod
    def from_circuit(cls, circuit: cirq.Circuit, noise: Target | None) -> SlotReadout:
        """Tables of every slot of a slot circuit (:func:`natq_cirq.hardware.devices.placed_slot_circuit`).

        Slots never share a gate, so each one is simulated alone on its own qubits with the
        circuit's moment structure; noise models that act on idle qubits see the same moments.
        """
        measured = {
            cirq.measurement_key_name(op): op.qubits[0]
            for op in circuit.all_operations()
            if cirq.is_measurement(op)
        }
        slots = len(measured)
        simulator = cirq.DensityMatrixSimulator(dtype=np.complex128)
        coefficients = np.zeros((slots, 3))
        for s in range(slots):
            qubit = measured[slot_key(s)]
            group = _connected_qubits(circuit, qubit)
            part = cirq.Circuit(
                cirq.Moment(op for op in moment if set(op.qubits) <= group) for moment in circuit
            )
            others = {slot_symbol(t): 0.0 for t in range(slots) if t != s}
            part = cirq.resolve_parameters(part, others)
            if noise is not None and noise.noisy:
                part = cirq.Circuit(noise_model(noise).noisy_moments(part, sorted(group)))
            # Terminal measurements: read P(1) off the final state (read-out noise sits before).
            part = cirq.Circuit(
                cirq.Moment(op for op in moment if not cirq.is_measurement(op)) for moment in part
            )
            order = sorted(group)
            index = order.index(qubit)
            p_one = []
            for psi in (0.0, np.pi / 2, np.pi):
                rho = simulator.simulate(
                    part, {slot_symbol(s): psi}, qubit_order=order
                ).final_density_matrix
                diagonal = np.real(np.diag(rho)).reshape((2,) * len(order))
                p_one.append(float(np.moveaxis(diagonal, index, 0)[1].sum()))
            at0, at90, at180 = p_one
            coefficients[s] = [(at0 + at180) / 2, (at0 - at180) / 2, at90 - (at0 + at180) / 2]
        return cls(coefficients)

    def probability_minus(
        self, psi: np.ndarray, slot: np.ndarray | int | None = None
    ) -> np.ndarray:
        """``P(d = -1)`` at angles ``psi``: of slot ``slot``, or of a uniformly random slot."""
        a, b, c = self.coefficients.mean(axis=0) if slot is None else self.coefficients[slot].T
        return np.clip(a + b * np.cos(psi) + c * np.sin(psi), 0.0, 1.0)

    def measure(self, rng: np.random.Generator):
        """A ``measure(layer, psi) -> d`` for :meth:`natq_cirq.compile.LayeredRule.sample`.

        Each read-out lands on a uniformly random slot, so its probability is the slots' mean
        table: the exact NumPy reference of layered execution under noise.
        """

        def measure(layer: int, psi: np.ndarray) -> np.ndarray:
            p_minus = self.probability_minus(psi)
            return np.where(rng.random(p_minus.shape) < p_minus, -1.0, 1.0)

        return measure


def layered_slot_readout(knobs: Knobs, target: Target | None) -> SlotReadout:
    """:class:`SlotReadout` of the slot circuit a layered backend runs on ``target``.

    A placed target (a device's noise model, ``device:D``) gets the circuit placed on that
    device's first ``target.slots`` slots (default all), rewritten into the target's gate set (by
    default the device's, :data:`natq_cirq.hardware.devices.DEFAULT_GATESET`) and validated, as ``natq
    compile --device`` does; an unplaced one gets one slot on line qubits (its slots read out
    alike). Folded by ``target.fold``.
    """
    target = target or Target()
    with_ancillas = uses_ancillas(knobs)
    name = target.placement
    if name:
        dev = device(name)
        placed = device_slots(dev, with_ancillas)[: target.slots or None]
        gateset = target.gateset or DEFAULT_GATESET[name]
        circuit = placed_slot_circuit(knobs.g, placed, gateset, target.fold, dev)
    else:
        placed = line_slots(1, with_ancillas)
        circuit = placed_slot_circuit(knobs.g, placed, target.gateset, target.fold)
    return SlotReadout.from_circuit(circuit, target)


def _connected_qubits(circuit: cirq.Circuit, qubit: cirq.Qid) -> set[cirq.Qid]:
    """The qubits linked to ``qubit`` by the circuit's multi-qubit operations."""
    group, changed = {qubit}, True
    while changed:
        changed = False
        for op in circuit.all_operations():
            qubits = set(op.qubits)
            if len(qubits) > 1 and qubits & group and not qubits <= group:
                group |= qubits
                changed = True
    return group


__all__ = ["ReadoutChannel", "SlotReadout", "layered_slot_readout", "sample_noisy"]
