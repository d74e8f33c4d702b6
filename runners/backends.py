"""The backends of ``natq run --backend``.

========================  ==============================================================
``analytic``              the exact vectorized engine (TensorFlow); with qubit-wise ``--noise``,
                          the exact noisy engine of the dynamic circuit (as ``cirq:dynamic``);
                          with a device's noise (or ``--fold``), the exact noisy engine of the
                          layered circuits placed on that device (as ``qsim``/``qvm:``)
``cirq``                  ``cirq.Simulator`` on layered circuits, feed-forward driven here
``cirq:dynamic``          ``cirq.Simulator`` on dynamic circuits (real-time feed-forward inside
                          the circuit, one simulation per shot: the reference, and slow)
``qsim``                  qsim on layered circuits: noiseless, each execution's circuit is built
                          directly in qsim's C++ form (:class:`QsimSlotExecutor`); with
                          ``--noise``, qsimcirq's ``run_sweep`` (trajectories)
``tfq``                   TensorFlow Quantum's batched state op on layered circuits
``qvm:PROCESSOR``         cirq_google's noisy quantum virtual machine (``rainbow``, ``weber``):
                          device-placed, sqrt(iSWAP)-rewritten, validated layered circuits with the device's
                          noise model (qsim trajectories)
``engine:PROCESSOR``      Google hardware through cirq_google's Engine (``--project-id`` or
                          ``GOOGLE_CLOUD_PROJECT``, application-default credentials)
========================  ==============================================================

Only ``cirq:dynamic`` executes classical control inside a circuit; the others run layered circuits
(see :mod:`natq_cirq.runners.layered` for how that differs under noise).
"""

from __future__ import annotations

import os
from pathlib import Path

from natq_cirq.compile.circuits import sample_dynamic, uses_ancillas
from natq_cirq.compile.hardware import DEVICE_GATESET, DEVICES, device, device_slots
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.runners.base import Runner
from natq_cirq.runners.layered import (
    LayeredRunner,
    SamplerSlotExecutor,
    SlotExecutor,
    pair_slots,
)
from natq_cirq.runners.noise import parse_noise

import cirq
import numpy as np

BACKENDS = (
    "analytic",
    "cirq",
    "cirq:dynamic",
    "qsim",
    "tfq",
    "qvm:PROCESSOR",
    "engine:PROCESSOR",
)
MAX_SIMULATED_SLOTS = 10


class AnalyticRunner(Runner):
    """The exact vectorized engine (:mod:`natq_cirq.engine`)."""

    name = "analytic"

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        from natq_cirq.inference import build_network

        _, bits = build_network(model).sample(x, shots, seed=seed)
        return bits


class NoisyAnalyticRunner(Runner):
    """The exact noisy engine (:mod:`natq_cirq.noisy`): the noisy dynamic circuit, sampled exactly."""

    name = "analytic"

    def __init__(self, noise: cirq.NoiseModel):
        self.noise = noise

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        from natq_cirq.noisy import sample_noisy

        return sample_noisy(model, x, shots, self.noise, seed)


class NoisyLayeredRunner(Runner):
    """The exact noisy engine of layered execution, in TensorFlow (the training path).

    Each read-out's probability comes from the same slot circuit a layered backend runs -- placed
    on the device's qubit pairs and rewritten when the noise is a device's, folded on request --
    decorated with the noise model (:class:`natq_cirq.noisy.SlotReadout`); read-outs land on
    uniformly random pairs. :func:`natq_cirq.noisy.sample_noisy_layered` is its NumPy reference.
    """

    name = "analytic"

    def __init__(self, spec: str):
        self.spec = spec
        self.coefficients = None

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        from natq_cirq.engine import device_scope
        from natq_cirq.inference import build_network

        network = build_network(model, noise=self.spec)
        self.coefficients = network.hidden_layers[0].layered_readout.numpy()
        with device_scope():
            _, bits = network.sample(x, shots, seed=seed)
        return bits

    def stats(self) -> dict:
        if self.coefficients is None:
            return {}
        return {"mean_slot_readout_coefficients": self.coefficients.round(6).tolist()}


class CirqRunner(Runner):
    """``cirq.Simulator`` on the dynamic circuit of each input (feed-forward inside the circuit)."""

    name = "cirq:dynamic"

    def __init__(self, noise: cirq.NoiseModel | None = None, progress: bool = False):
        self.noise = noise
        self.progress = progress

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        simulator = cirq.Simulator(seed=np.random.RandomState(seed), noise=self.noise)
        bar = _progress(len(x), "input") if self.progress else None
        out = []
        for i, row in enumerate(x):
            out.append(sample_dynamic(model, row, shots, simulator))
            if bar is not None:
                bar.update(i + 1)
        return np.stack(out)


def tfq_ready(circuit: cirq.Circuit) -> tuple[cirq.Circuit, dict[str, cirq.Qid]]:
    """``circuit`` in gates TensorFlow Quantum knows, and the qubit each measurement key reads.

    TFQ takes Cirq's common gates: the entangler is decomposed, and measurements and the
    entangler's global phase (which no probability sees) are dropped.
    """
    from natq_cirq.compile.gates import WeakMeasurementEntangler

    measured = {
        cirq.measurement_key_name(op): op.qubits[0]
        for op in circuit.all_operations()
        if cirq.is_measurement(op)
    }
    unmeasured = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    body = cirq.Circuit(
        op
        for op in cirq.decompose(
            unmeasured, keep=lambda op: not isinstance(op.gate, WeakMeasurementEntangler)
        )
        if not isinstance(op.gate, cirq.GlobalPhaseGate)
    )
    return body, measured


class TfqSlotExecutor(SlotExecutor):
    """Slot circuits simulated in batches by TensorFlow Quantum's state op.

    The circuit is serialized once and tiled; TFQ computes every execution's final state in one
    op call, and the read-outs are drawn from those states' exact probabilities with a seeded
    NumPy generator (TFQ's own sampling op cannot be seeded).
    """

    def __init__(self, g: float, slots: int, seed: int, batch_size: int = 8192):
        import natq_cirq  # noqa: F401  (TF_USE_LEGACY_KERAS)
        from natq_cirq.compile.hardware import slot_circuit, slot_key, slot_symbol

        import tensorflow as tf
        import tensorflow_quantum as tfq

        self.tf, self.slots, self.batch_size = tf, slots, batch_size
        projective = g >= np.pi / 2
        circuit = slot_circuit(g, pair_slots(slots, projective))
        body, measured = tfq_ready(circuit)
        self.qubits = sorted(body.all_qubits())
        self.program = tfq.convert_to_tensor([body])
        self.names = tf.constant([slot_symbol(s).name for s in range(slots)])
        self.state_op = tfq.get_state_op()
        self.positions = [self.qubits.index(measured[slot_key(s)]) for s in range(slots)]
        self.rng = np.random.default_rng(seed)

    def execute(self, angles: np.ndarray, repetitions: int) -> np.ndarray:
        tf = self.tf
        values = tf.constant(angles, dtype=tf.float32)
        programs = tf.tile(self.program, [len(angles)])
        states = self.state_op(programs, self.names, values).to_tensor().numpy()
        n = len(self.qubits)
        probabilities = np.abs(states[:, : 2**n].reshape((len(angles),) + (2,) * n)) ** 2
        out = np.empty((len(angles), repetitions, self.slots), dtype=np.int8)
        for s, position in enumerate(self.positions):
            axes = tuple(i + 1 for i in range(n) if i != position)
            p_one = probabilities.sum(axis=axes)[:, 1] / probabilities.sum(
                axis=tuple(range(1, n + 1))
            )
            draws = self.rng.random((len(angles), repetitions)) < p_one[:, None]
            out[:, :, s] = np.where(draws, -1, 1)
        return out

    def describe(self) -> str:
        return f"TFQ state op, {self.slots} slot(s) per circuit"


class QsimSlotExecutor(SlotExecutor):
    """Slot circuits on qsim's C++ state-vector simulator, built without a per-point translation.

    ``qsimcirq.QSimSimulator.run_sweep`` resolves the parameters of the Cirq circuit and
    translates it to qsim's form at every sweep point (~0.5 ms in Python, far more than the
    simulation). The slot circuit's structure never changes, so this executor writes each
    execution's qsim circuit directly with qsimcirq's bindings -- the same gate kinds and
    matrices qsimcirq's translator would emit -- and samples it with ``qsim_sample_final``.

    Layout: slot ``s`` is qsim qubit ``s`` (projective) or neuron ``2s + 1`` with ancilla ``2s``.
    """

    def __init__(self, g: float, slots: int, seed: int, qsim_options: dict | None = None):
        from natq_cirq.compile.gates import WeakMeasurementEntangler

        import qsimcirq
        from qsimcirq import qsim

        self.qsim = qsim
        self.slots = slots
        self.batch_size = 4096
        self.projective = g >= np.pi / 2
        self.options = {**qsimcirq.QSimOptions().as_dict(), **(qsim_options or {})}
        self.num_qubits = slots if self.projective else 2 * slots
        self.neurons = list(range(slots)) if self.projective else [2 * s + 1 for s in range(slots)]
        self.measured = self.neurons if self.projective else [2 * s for s in range(slots)]
        unitary = cirq.unitary(WeakMeasurementEntangler(g))
        self.entangler = [part for z in unitary.flat for part in (z.real, z.imag)]
        self.rng = np.random.default_rng(seed)

    def _circuit(self, exponents: list[float]):
        qsim = self.qsim
        circuit = qsim.Circuit()
        circuit.num_qubits = self.num_qubits
        for neuron, exponent in zip(self.neurons, exponents, strict=True):
            # cirq.ry(theta) = YPowGate(exponent=theta/pi, global_shift=-1/2).
            qsim.add_gate(
                qsim.kYPowGate, 0, [neuron], {"exponent": exponent, "global_shift": -0.5}, circuit
            )
        if not self.projective:
            for neuron, ancilla in zip(self.neurons, self.measured, strict=True):
                qsim.add_gate(qsim.kH, 0, [ancilla], {}, circuit)
                qsim.add_matrix_gate(1, [neuron, ancilla], self.entangler, circuit)
        return circuit

    def execute(self, angles: np.ndarray, repetitions: int) -> np.ndarray:
        options = dict(self.options)
        seeds = self.rng.integers(2**31 - 1, size=len(angles))
        raw = np.empty((len(angles), repetitions), dtype=np.int64)
        for i, row in enumerate((np.asarray(angles) / np.pi).tolist()):
            options["c"] = self._circuit(row)
            options["s"] = int(seeds[i])
            raw[i] = self.qsim.qsim_sample_final(options, repetitions)
        # Bit q of a qsim sample is qsim qubit q; |1> is the outcome -1.
        bits = (raw[:, :, None] >> np.array(self.measured)) & 1
        return (1 - 2 * bits).astype(np.int8)

    def describe(self) -> str:
        return f"qsim (direct circuits), {self.slots} slot(s) per circuit"


def _progress(total: int, unit: str):
    import natq_cirq  # noqa: F401

    import tensorflow as tf

    return tf.keras.utils.Progbar(total, unit_name=unit)


def _simulator_runner(
    name: str, make_sampler, noise_model, slots: int, journal, progress: bool, fold: int = 0
) -> LayeredRunner:
    """A layered runner on a simulator's ``run_sweep``; a device's noise model gets placed circuits.

    A device's noise model acts on that device's qubits and gates, so the slot circuits are then
    placed on the device's qubit pairs and rewritten into its gate set.
    """

    def factory(model: ModelFile, seed: int) -> SlotExecutor:
        sampler = make_sampler(seed)
        if noise_model is not None and noise_model.device:
            placed = device_slots(device(noise_model.device), uses_ancillas(model.knobs))
            return SamplerSlotExecutor(
                sampler,
                model.knobs.g,
                placed[:slots],
                DEVICE_GATESET,
                device(noise_model.device),
                batch_size=512,
                fold=fold,
            )
        projective = not uses_ancillas(model.knobs)
        return SamplerSlotExecutor(
            sampler, model.knobs.g, pair_slots(slots, projective), batch_size=512, fold=fold
        )

    return LayeredRunner(name, factory, journal, progress)


def _processor_runner(
    name: str, processor, journal, progress: bool, max_slots: int | None, fold: int = 0
) -> LayeredRunner:
    """A layered runner on a cirq_google processor (virtual or real): placed, rewritten, validated.

    ``max_slots`` caps the read-outs per circuit: hardware takes the whole chip, but a simulated
    processor pays exponentially for every qubit a circuit touches.
    """
    device = processor.get_device()
    sampler = processor.get_sampler()

    def factory(model: ModelFile, seed: int) -> SlotExecutor:
        slots = device_slots(device, uses_ancillas(model.knobs))[:max_slots]
        return SamplerSlotExecutor(
            sampler,
            model.knobs.g,
            slots,
            DEVICE_GATESET,
            device,
            batch_size=100,
            processor=processor,
            fold=fold,
        )

    return LayeredRunner(name, factory, journal, progress)


def make_runner(
    backend: str,
    noise: str | None = None,
    journal: str | Path | None = None,
    progress: bool = False,
    project_id: str | None = None,
    engine=None,
    slots: int | None = None,
    fold: int = 0,
) -> Runner:
    """The runner of a backend name (see the module docstring).

    Args:
        backend: ``analytic``, ``cirq``, ``qsim``, ``tfq``, ``qvm:PROCESSOR`` or ``engine:PROCESSOR``.
        noise: a noise spec for ``cirq`` and ``qsim`` (:func:`natq_cirq.runners.noise.parse_noise`).
        journal: folder that keeps finished batches of layered runs (resume).
        progress: show progress bars.
        project_id: Google Cloud project of ``engine:``.
        engine: an engine object to use for ``engine:`` (tests pass cirq_google's virtual engine).
        slots: read-outs per circuit (defaults: cirq 4, qsim 4, tfq 1, qvm 4, engine and the
            layered noisy engine the whole chip).
        fold: rounds of identity-equivalent gate pairs added to every layered read-out circuit
            (:func:`natq_cirq.compile.hardware.fold_identities`): noise amplification.
    """
    base, _, processor_id = backend.partition(":")
    if slots is not None and not 1 <= slots <= MAX_SIMULATED_SLOTS and base != "engine":
        raise NatqError(
            f"--slots must be in 1..{MAX_SIMULATED_SLOTS} for simulated backends (a "
            f"circuit of K pairs holds 2^(2K) amplitudes); got {slots}"
        )
    noise_model = parse_noise(noise) if noise else None
    if noise_model is not None and noise_model.fold:
        fold, noise_model.fold = fold + noise_model.fold, 0
    if fold and noise_model is None and base not in ("qvm", "engine"):
        raise NatqError(
            "--fold amplifies noise: give --noise (or use qvm:/engine:); without noise the "
            "folded gates are the identity"
        )
    if fold < 0:
        raise NatqError(f"--fold must be >= 0 (got {fold})")
    if fold and (base == "tfq" or processor_id == "dynamic"):
        raise NatqError("--fold applies to layered circuits on analytic, cirq, qsim, qvm:, engine:")
    if noise_model is not None and base not in ("analytic", "cirq", "qsim"):
        raise NatqError(
            f"--noise applies to the analytic, cirq and qsim backends; {backend} has "
            + ("its device's own noise" if base == "qvm" else "no noise option yet")
        )
    if base == "cirq" and processor_id not in ("", "dynamic"):
        raise NatqError(f"unknown backend {backend!r}; cirq runs as cirq or cirq:dynamic")
    layered_spec = "+".join(
        [noise or "readout:0"] + [f"fold:{fold}"] * bool(fold) + [f"pairs:{slots}"] * bool(slots)
    )
    if base == "analytic" and not processor_id:
        if noise_model is not None and (noise_model.device or fold):
            return NoisyLayeredRunner(layered_spec)
        return AnalyticRunner() if noise_model is None else NoisyAnalyticRunner(noise_model)
    if base == "cirq" and processor_id == "dynamic":
        if noise_model is not None and noise_model.device:
            raise NatqError(
                "a device's noise model needs circuits placed on the device; dynamic "
                "circuits are not: use --backend cirq, qsim or qvm:" + noise_model.device
            )
        return CirqRunner(noise_model, progress)
    if base == "cirq" and not processor_id:
        return _simulator_runner(
            "cirq",
            lambda seed: cirq.Simulator(seed=np.random.RandomState(seed), noise=noise_model),
            noise_model,
            slots or 4,
            journal,
            progress,
            fold,
        )
    if base == "qsim" and not processor_id:
        import qsimcirq

        if noise_model is None:
            return LayeredRunner(
                "qsim",
                lambda model, seed: QsimSlotExecutor(model.knobs.g, slots or 4, seed),
                journal,
                progress,
            )
        return _simulator_runner(
            "qsim",
            lambda seed: qsimcirq.QSimSimulator(seed=seed, noise=noise_model),
            noise_model,
            slots or 4,
            journal,
            progress,
            fold,
        )
    if base == "tfq" and not processor_id:
        return LayeredRunner(
            "tfq",
            lambda model, seed: TfqSlotExecutor(model.knobs.g, slots or 1, seed),
            journal,
            progress,
        )
    if base == "qvm":
        if processor_id not in DEVICES:
            raise NatqError(
                f"unknown processor {processor_id!r} for qvm; choose one of "
                f"{', '.join('qvm:' + d for d in DEVICES)}"
            )
        from cirq_google.engine import virtual_engine_factory

        qvm = virtual_engine_factory.create_default_noisy_quantum_virtual_machine(
            processor_id, seed=0
        )
        return _processor_runner(
            backend, qvm.get_processor(processor_id), journal, progress, slots or 4, fold
        )
    if base == "engine":
        if not processor_id:
            raise NatqError("engine needs a processor: --backend engine:PROCESSOR")
        if engine is None:
            engine = _google_engine(project_id)
        try:
            processor = engine.get_processor(processor_id)
            processor.get_device()
        except NatqError:
            raise
        except Exception as error:
            raise NatqError(
                f"processor {processor_id!r} is not available to this Engine project "
                f"({type(error).__name__})"
            ) from None
        return _processor_runner(backend, processor, journal, progress, slots, fold)
    raise NatqError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def _google_engine(project_id: str | None):
    """cirq_google's Engine for a project; credentials come from the environment, never logged."""
    project_id = project_id or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project_id:
        raise NatqError(
            "engine: needs a Google Cloud project: --project-id or GOOGLE_CLOUD_PROJECT "
            "(and credentials: gcloud auth application-default login)"
        )
    try:
        import google.auth

        google.auth.default()
    except Exception:
        raise NatqError(
            "engine: no Google Cloud credentials found; run gcloud auth "
            "application-default login or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None
    import cirq_google

    return cirq_google.Engine(project_id=project_id)
