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

``analytic`` and ``tfq`` live in modules of their own (:mod:`~natq_cirq.runners.analytic`,
:mod:`~natq_cirq.runners.tfq`), imported when asked for: the other backends never load TensorFlow.

A layered backend runs a given :class:`~natq_cirq.compile.Program` exactly, or compiles the model
in memory with its defaults (:class:`Backend`'s ``slots``; a processor's backends and device noise
place the slots on that processor) -- the same code path. A program placed on one processor runs
on that processor's ``qvm:``/``engine:`` and on the simulators, never on another processor.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from natq_cirq.compile import Program, dynamic_circuit, input_resolvers
from natq_cirq.config import NoiseSpec
from natq_cirq.devices import DEVICES, virtual_engine
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.noise import noise_model
from natq_cirq.readout import bits_from_records, record_key
from natq_cirq.runners.base import Runner, RunResult, check_shots_and_seed
from natq_cirq.runners.executors import (
    QsimSlotExecutor,
    SamplerSlotExecutor,
    SlotExecutor,
    engine_call,
)
from natq_cirq.runners.layered import LayeredRunner
from natq_cirq.runners.options import Backend, RunOptions, check_program, layered_compile
from natq_cirq.runners.progress import Progress
from natq_cirq.runners.sampler import NatqSampler

import cirq
import cirq_google
import google.auth
import numpy as np
import qsimcirq

MAX_SIMULATED_SLOTS = 10


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
        return circuit.with_noise(noise_model(self.noise)) if self.noise else circuit

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
        bar = Progress(len(x), "input", self.progress)
        out = []
        for resolver in input_resolvers(model, x):
            out.append(self._bits(sampler.run(circuit, resolver, repetitions=shots), model))
            bar.add(1)
        bar.close()
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
        cirq_noise = noise_model(noise) if noise else None
        if program is not None:
            check_program(name, program, device_name)

        def factory(program: Program) -> SlotExecutor:
            if native is not None and noise is None and QsimSlotExecutor.supports(program):
                return native(program)
            return SamplerSlotExecutor(lambda seed: sampler(seed, cirq_noise), program)

        return LayeredRunner(
            name,
            factory,
            layered_compile(BACKENDS[name].slots, options, device_name),
            program,
            batch_size,
            options.journal,
            options.progress,
        )

    return build


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


def _build_qvm(processor, options: RunOptions, program, engine) -> Runner:
    if processor not in DEVICES:
        raise NatqError(
            f"unknown processor {processor!r} for qvm; choose one of "
            f"{', '.join('qvm:' + d for d in DEVICES)}"
        )
    if program is not None:
        check_program(f"qvm:{processor}", program, processor)
    qvm = virtual_engine(processor, seed=0)
    return _processor_runner(f"qvm:{processor}", processor, lambda: qvm, options, program)


def _build_engine(processor, options: RunOptions, program, engine) -> Runner:
    if not processor:
        raise NatqError("engine needs a processor: --backend engine:PROCESSOR")
    if program is not None:
        check_program(f"engine:{processor}", program, processor)
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
        layered_compile(BACKENDS[base].slots, options, processor_id, spec),
        program,
        100,
        options.journal,
        options.progress,
    )


def _load(module: str) -> Callable[..., Runner]:
    """The ``build`` of a backend module that loads TensorFlow, imported when first used.

    The other backends then start without TensorFlow (seconds of import on a small machine).
    """

    def build(*args) -> Runner:
        return importlib.import_module(module).build(*args)

    return build


BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("analytic", _load("natq_cirq.runners.analytic"), noise=True, tensorflow=True),
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
        Backend("tfq", _load("natq_cirq.runners.tfq"), slots=1, tensorflow=True),
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
    "Backend",
    "DynamicCircuitRunner",
    "RunOptions",
    "lookup",
    "make_runner",
]
