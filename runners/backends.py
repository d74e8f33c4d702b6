"""The backends of ``natq run --backend``, in a registry (:data:`BACKENDS`).

========================  ==============================================================
``analytic``              the exact vectorized engine (TensorFlow); with qubit-wise noise,
                          the exact noisy engine of the dynamic circuit; with a device's noise
                          (or ``fold``), the exact noisy engine of the layered program placed on
                          that device (as ``qsim``/``qvm:``). Runs models, not circuits.
``cirq``                  ``cirq.Simulator`` on the layered program
``cirq:dynamic``          ``cirq.Simulator`` on dynamic circuits (real-time feed-forward inside
                          the circuit, one simulation per input: the reference, and slow)
``natq:dynamic``          :class:`~natq_cirq.runners.sampler.NatqSampler` on dynamic circuits:
                          exact, every shot of an input at once (thousands of times faster)
``qsim``                  qsim on the layered program: noiseless and canonical, in qsim's C++ form
                          directly (:class:`~natq_cirq.runners.executors.QsimSlotExecutor`); else
                          qsimcirq's sampler (with noise: trajectories)
``tfq``                   TensorFlow Quantum's batched state op on the layered program
``qvm:PROCESSOR``         cirq_google's noisy quantum virtual machine (``rainbow``, ``weber``) on
                          the layered program placed on that processor
``engine:PROCESSOR``      Google hardware through cirq_google's Engine (``project_id`` or
                          ``GOOGLE_CLOUD_PROJECT``, application-default credentials)
========================  ==============================================================

A layered backend runs a given :class:`~natq_cirq.compile.Program` exactly, or compiles the model
in memory with its defaults (:class:`Backend`'s ``slots``; a processor's backends and device noise
place the slots on that processor) -- the same code path. A program placed on one processor runs
on that processor's ``qvm:``/``engine:`` and on the simulators, never on another processor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from natq_cirq.compile import Program, compile_layered, dynamic_circuit, input_resolvers
from natq_cirq.devices import DEVICES, virtual_engine
from natq_cirq.engine import device_scope
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.inference import build_network
from natq_cirq.noise import NoiseSpec
from natq_cirq.noisy import sample_noisy
from natq_cirq.readout import bits_from_records, record_key
from natq_cirq.runners.base import Runner, RunResult, check_shots_and_seed
from natq_cirq.runners.executors import (
    QsimSlotExecutor,
    SamplerSlotExecutor,
    SlotExecutor,
    TfqSlotExecutor,
    engine_call,
)
from natq_cirq.runners.layered import LayeredRunner
from natq_cirq.runners.sampler import NatqSampler

import cirq
import cirq_google
import google.auth
import numpy as np
import qsimcirq
import tensorflow as tf

MAX_SIMULATED_SLOTS = 10


@dataclass(frozen=True)
class RunOptions:
    """How a backend runs, parsed once (``natq run``'s flags).

    Attributes:
        noise: simulated noise (analytic, cirq, cirq:dynamic, qsim).
        slots: read-outs per execution when a model is compiled in memory (default: the
            backend's; ``0`` the whole device, hardware only).
        fold: rounds of identity-equivalent gate pairs in the in-memory program.
        journal: folder keeping finished batches (resume).
        progress: progress bars.
        project_id: Google Cloud project of ``engine:``.
        dry_run: plan only: nothing is submitted and no credentials are needed.
    """

    noise: NoiseSpec | None = None
    slots: int | None = None
    fold: int = 0
    journal: Path | None = None
    progress: bool = False
    project_id: str | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.fold < 0:
            raise NatqError(f"fold must be >= 0 (got {self.fold})")
        if self.slots is not None and self.slots < 0:
            raise NatqError(f"slots must be >= 1, or 0 for a whole device (got {self.slots})")

    @property
    def total_fold(self) -> int:
        return self.fold + (self.noise.fold if self.noise else 0)


@dataclass(frozen=True)
class Backend:
    """One entry of :data:`BACKENDS`.

    Attributes:
        name: as written after ``--backend`` (``qvm`` and ``engine`` take ``:PROCESSOR``).
        build: ``(processor, options, program, engine) -> Runner``.
        slots: default read-outs per execution of an in-memory program (``0``: the device).
        noise: whether ``options.noise`` applies.
        simulated: whether the backend simulates (slots bounded by memory).
    """

    name: str
    build: Callable[..., Runner]
    slots: int | None = None
    noise: bool = False
    simulated: bool = True


class AnalyticRunner(Runner):
    """The exact vectorized engine (:mod:`natq_cirq.engine`)."""

    name = "analytic"

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        _, bits = build_network(model).sample(x, shots, seed=seed)
        return bits

    def predictions_only(
        self, model: ModelFile, x: np.ndarray, shots: int, seed: int
    ) -> np.ndarray:
        # The engine's logits without the hidden bits: no (n, S, L, N) array is ever made.
        logits, _ = build_network(model).sample(x, shots, seed=seed, record_bits=False)
        return logits.argmax(axis=-1)


class NoisyAnalyticRunner(Runner):
    """The exact noisy engine (:mod:`natq_cirq.noisy`): the noisy dynamic circuit, sampled exactly."""

    name = "analytic"

    def __init__(self, noise: NoiseSpec):
        self.noise = noise

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        return sample_noisy(model, x, shots, self.noise, seed)


class NoisyLayeredRunner(Runner):
    """The exact noisy engine of layered execution, in TensorFlow (the training path).

    Each read-out's probability comes from the slot circuit a layered backend runs -- placed on the
    device's qubit pairs with the device's gate set when the noise is a device's, folded on
    request -- decorated with the noise model (:class:`natq_cirq.noisy.SlotReadout`); read-outs
    land on uniformly random slots.
    """

    name = "analytic"

    def __init__(self, noise: NoiseSpec):
        self.noise = noise
        self.coefficients = None

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        network = build_network(model, noise=self.noise)
        self.coefficients = network.hidden_layers[0].layered_readout.numpy()
        with device_scope():
            _, bits = network.sample(x, shots, seed=seed)
        return bits

    def stats(self) -> dict:
        if self.coefficients is None:
            return {}
        return {"mean_slot_readout_coefficients": self.coefficients.round(6).tolist()}


class DynamicCircuitRunner(Runner):
    """A ``cirq.Sampler`` on the dynamic circuit (feed-forward inside the circuit).

    The circuit is compiled once for any input (layer-1 angles are symbols) and each input is
    one parameter resolver of it; a dynamic ``program`` for one input runs with
    :meth:`run_program`, one for any input with :meth:`run`.

    Args:
        name: the backend's name (``cirq:dynamic``: ``cirq.Simulator``; ``natq:dynamic``:
            :class:`~natq_cirq.runners.sampler.NatqSampler`).
        sampler: ``sampler(seed)`` makes the sampler of a run.
        noise: simulated noise, added to the circuit (``cirq.Circuit.with_noise``).
        program: a dynamic program for any input to run (else compiled from the model).
    """

    def __init__(
        self,
        name: str,
        sampler: Callable[[int], cirq.Sampler],
        noise: NoiseSpec | None = None,
        progress: bool = False,
        program: Program | None = None,
    ):
        self.name = name
        self.sampler = sampler
        self.noise = noise
        self.progress = progress
        self.program = program

    def _circuit(self, circuit: cirq.AbstractCircuit) -> cirq.AbstractCircuit:
        return circuit.with_noise(self.noise.model()) if self.noise else circuit

    @staticmethod
    def _bits(result: cirq.Result, model: ModelFile) -> np.ndarray:
        """Bits ``(shots, L, N)`` of one run of a dynamic circuit."""
        records = {key: value[:, 0] for key, value in result.records.items()}
        return np.stack(
            [
                bits_from_records(records, [record_key(k, i) for i in range(model.hidden)])
                for k in range(1, model.layers + 1)
            ],
            axis=1,
        )

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        if self.program is not None:
            if not self.program.for_any_input:
                raise NatqError(
                    "this dynamic program has its input compiled in: run it without inputs, or "
                    "compile one for any input (natq compile --mode dynamic without --inputs)"
                )
            self.program.check_model(model)
            circuit = self.program.circuit
        else:
            circuit = dynamic_circuit(model)
        circuit, sampler = self._circuit(circuit), self.sampler(seed)
        bar = tf.keras.utils.Progbar(len(x), unit_name="input") if self.progress else None
        out = []
        for i, resolver in enumerate(input_resolvers(model, x)):
            out.append(self._bits(sampler.run(circuit, resolver, repetitions=shots), model))
            if bar is not None:
                bar.update(i + 1)
        return np.stack(out)

    def run_program(
        self, program: Program, model: ModelFile, shots: int, seed: int = 0
    ) -> RunResult:
        """Run a dynamic program with its input compiled in: a result for one input."""
        check_shots_and_seed(shots, seed)
        program.check_model(model)
        if program.for_any_input:
            raise NatqError("this dynamic program runs on any inputs: give them to natq run")
        start = time.perf_counter()
        result = self.sampler(seed).run(self._circuit(program.circuit), repetitions=shots)
        return self.result(model, self._bits(result, model)[None], time.perf_counter() - start)


def _google_engine(project_id: str | None):
    """cirq_google's Engine for a project; credentials come from the environment, never logged."""
    project_id = project_id or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project_id:
        raise NatqError(
            "engine: needs a Google Cloud project: --project-id or GOOGLE_CLOUD_PROJECT "
            "(and credentials: gcloud auth application-default login)"
        )
    try:
        google.auth.default()
    except Exception:
        raise NatqError(
            "engine: no Google Cloud credentials found; run gcloud auth "
            "application-default login or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None
    return cirq_google.Engine(project_id=project_id)


def _layered_compile(
    backend: Backend, options: RunOptions, device_name: str | None, device_spec=None
) -> Callable[[ModelFile], Program]:
    """The backend's in-memory compilation: its default slots, the device, the fold."""
    noise = options.noise
    slots = options.slots if options.slots is not None else (noise.pairs if noise else None)
    slots = backend.slots if slots is None else slots
    return lambda model: compile_layered(
        model, device_name, slots=slots, fold=options.total_fold, device_spec=device_spec
    )


def _check_program(backend: str, program: Program, processor: str | None) -> None:
    """A program placed on one processor runs there (and on simulators), never on another."""
    if program.mode != "layered":
        raise NatqError(
            f"a dynamic program (feed-forward inside the circuit) runs on cirq:dynamic, not {backend}"
        )
    if processor is not None and program.device != processor:
        placed = f"placed on {program.device}" if program.device else "not placed on a device"
        raise NatqError(
            f"the program is {placed}; {backend} runs programs placed on {processor} "
            f"(natq compile --device {processor})"
        )


def _simulator(
    name: str,
    sampler: Callable[[int, cirq.NoiseModel | None], cirq.Sampler],
    batch_size: int,
    native: Callable[[Program], SlotExecutor] | None = None,
) -> Callable[..., Runner]:
    """A simulator backend: a device's noise places the program on that device."""

    def build(processor, options: RunOptions, program: Program | None, engine) -> Runner:
        noise = options.noise
        device_name = noise.device if noise else None
        noise_model = noise.model() if noise else None
        if program is not None:
            _check_program(name, program, device_name)

        def factory(program: Program) -> SlotExecutor:
            if native is not None and noise is None and QsimSlotExecutor.supports(program):
                return native(program)
            return SamplerSlotExecutor(lambda seed: sampler(seed, noise_model), program)

        return LayeredRunner(
            name,
            factory,
            _layered_compile(BACKENDS[name], options, device_name),
            program,
            batch_size,
            options.journal,
            options.progress,
        )

    return build


def _build_analytic(processor, options: RunOptions, program, engine) -> Runner:
    if program is not None:
        raise NatqError(
            "analytic runs models, not circuits: pass MODEL.npz, or run the program on cirq, "
            "qsim, tfq, qvm:PROCESSOR or engine:PROCESSOR"
        )
    noise = options.noise
    if noise is None:
        return AnalyticRunner()
    if noise.qubitwise and not options.fold:
        return NoisyAnalyticRunner(noise)
    slots = options.slots if options.slots is not None else noise.pairs
    return NoisyLayeredRunner(replace(noise, fold=options.total_fold, pairs=slots))


def _dynamic(name: str, sampler: Callable[[int], cirq.Sampler]):
    def build(processor, options: RunOptions, program, engine) -> Runner:
        if options.noise is not None and not options.noise.qubitwise:
            raise NatqError(
                "a device's noise model needs circuits placed on the device; dynamic "
                "circuits are not: use --backend cirq, qsim or qvm:" + str(options.noise.device)
            )
        if program is not None and program.mode != "dynamic":
            raise NatqError(f"{name} runs dynamic programs (natq compile --mode dynamic)")
        return DynamicCircuitRunner(name, sampler, options.noise, options.progress, program)

    return build


def _build_tfq(processor, options: RunOptions, program, engine) -> Runner:
    if program is not None:
        _check_program("tfq", program, None)
    return LayeredRunner(
        "tfq",
        TfqSlotExecutor,
        _layered_compile(BACKENDS["tfq"], options, None),
        program,
        8192,
        options.journal,
        options.progress,
    )


def _build_qvm(processor, options: RunOptions, program, engine) -> Runner:
    if processor not in DEVICES:
        raise NatqError(
            f"unknown processor {processor!r} for qvm; choose one of "
            f"{', '.join('qvm:' + d for d in DEVICES)}"
        )
    if program is not None:
        _check_program(f"qvm:{processor}", program, processor)
    qvm = virtual_engine(processor, seed=0)
    return _processor_runner(f"qvm:{processor}", processor, lambda: qvm, options, program)


def _build_engine(processor, options: RunOptions, program, engine) -> Runner:
    if not processor:
        raise NatqError("engine needs a processor: --backend engine:PROCESSOR")
    if program is not None:
        _check_program(f"engine:{processor}", program, processor)
    if options.dry_run:
        if processor not in DEVICES and program is None:
            raise NatqError(
                f"no offline specification of {processor}; plan against a program compiled for "
                f"it, or one of {', '.join(DEVICES)}"
            )
        return _processor_runner(f"engine:{processor}", processor, None, options, program)
    engine = engine or _google_engine(options.project_id)
    return _processor_runner(f"engine:{processor}", processor, lambda: engine, options, program)


def _processor_runner(
    name: str, processor_id: str, engine: Callable | None, options: RunOptions, program
) -> LayeredRunner:
    """A layered runner on a cirq_google processor (virtual or real); ``engine`` None plans only.

    The processor is looked up when the runner executes (a dry run never touches it); its device
    places an in-memory program when its specification does not ship with cirq_google.
    """
    processor = spec = None
    if engine is not None:
        try:

            def look_up():
                found = engine().get_processor(processor_id)
                return found, found.get_device()

            processor, spec = engine_call(look_up, f"Engine processor {processor_id}")
        except NatqError:
            raise
        except Exception as error:
            raise NatqError(
                f"processor {processor_id!r} is not available to this Engine project "
                f"({type(error).__name__})"
            ) from None
    if processor_id in DEVICES:
        spec = None  # placed with the specification of the device registry
    base = name.partition(":")[0]

    def factory(program: Program) -> SlotExecutor:
        if processor is None:
            raise NatqError(f"{name} was set up for planning (--dry-run); nothing is submitted")
        return SamplerSlotExecutor(processor.get_sampler(), program, processor=processor)

    return LayeredRunner(
        name,
        factory,
        _layered_compile(BACKENDS[base], options, processor_id, spec),
        program,
        100,
        options.journal,
        options.progress,
    )


BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("analytic", _build_analytic, noise=True),
        Backend(
            "cirq",
            _simulator(
                "cirq",
                lambda seed, noise: cirq.Simulator(seed=np.random.RandomState(seed), noise=noise),
                512,
            ),
            slots=4,
            noise=True,
        ),
        Backend(
            "cirq:dynamic",
            _dynamic("cirq:dynamic", lambda seed: cirq.Simulator(seed=np.random.RandomState(seed))),
            noise=True,
        ),
        Backend("natq:dynamic", _dynamic("natq:dynamic", NatqSampler), noise=True),
        Backend(
            "qsim",
            _simulator(
                "qsim",
                lambda seed, noise: qsimcirq.QSimSimulator(seed=seed, noise=noise),
                4096,
                QsimSlotExecutor,
            ),
            slots=4,
            noise=True,
        ),
        Backend("tfq", _build_tfq, slots=1),
        Backend("qvm", _build_qvm, slots=4),
        Backend("engine", _build_engine, slots=0, simulated=False),
    )
}
BACKEND_NAMES = (
    "analytic",
    "cirq",
    "cirq:dynamic",
    "natq:dynamic",
    "qsim",
    "tfq",
    "qvm:PROCESSOR",
    "engine:PROCESSOR",
)


def lookup(backend: str) -> tuple[Backend, str | None]:
    """The registry entry of a ``--backend`` value and its processor (``qvm:rainbow``)."""
    if backend in BACKENDS:
        return BACKENDS[backend], None
    base, _, processor = backend.partition(":")
    if base in ("qvm", "engine"):
        return BACKENDS[base], processor
    hint = " (cirq runs as cirq or cirq:dynamic)" if base == "cirq" else ""
    raise NatqError(f"unknown backend {backend!r}{hint}; choose one of {', '.join(BACKEND_NAMES)}")


def make_runner(
    backend: str,
    options: RunOptions | None = None,
    *,
    program: Program | None = None,
    engine: cirq_google.engine.AbstractEngine | None = None,
    **fields: object,
) -> Runner:
    """The runner of a backend (see the module docstring).

    Args:
        backend: ``analytic``, ``cirq``, ``cirq:dynamic``, ``qsim``, ``tfq``, ``qvm:PROCESSOR`` or
            ``engine:PROCESSOR``.
        options: :class:`RunOptions`; or give its fields as keywords.
        **fields: :class:`RunOptions` fields (``noise`` may be text, parsed here).
        program: a compiled program to run instead of compiling the model in memory.
        engine: an engine object for ``engine:`` (tests pass cirq_google's virtual engine).
    """
    if options is None:
        if "noise" in fields:
            fields["noise"] = NoiseSpec.coerce(fields["noise"])
        if fields.get("journal") is not None:
            fields["journal"] = Path(fields["journal"])
        options = RunOptions(**fields)
    entry, processor = lookup(backend)
    if (
        options.slots is not None
        and entry.simulated
        and not 1 <= options.slots <= MAX_SIMULATED_SLOTS
    ):
        raise NatqError(
            f"--slots must be in 1..{MAX_SIMULATED_SLOTS} for simulated backends (a "
            f"circuit of K pairs holds 2^(2K) amplitudes); got {options.slots}"
        )
    if program is not None and (options.slots is not None or options.fold):
        raise NatqError("the program fixes its slots and folding; recompile to change them")
    if options.noise is not None and not entry.noise:
        raise NatqError(
            f"--noise applies to the analytic, cirq and qsim backends; {backend} has "
            + ("its device's own noise" if entry.name == "qvm" else "no noise option yet")
        )
    if options.fold and entry.name in ("tfq", "cirq:dynamic"):
        raise NatqError("--fold applies to layered circuits on analytic, cirq, qsim, qvm:, engine:")
    if options.fold and options.noise is None and entry.name not in ("qvm", "engine"):
        raise NatqError(
            "--fold amplifies noise: give --noise (or use qvm:/engine:); without noise the "
            "folded gates are the identity"
        )
    return entry.build(processor, options, program, engine)


__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "AnalyticRunner",
    "Backend",
    "DynamicCircuitRunner",
    "NoisyAnalyticRunner",
    "NoisyLayeredRunner",
    "RunOptions",
    "lookup",
    "make_runner",
]
