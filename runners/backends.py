"""The circuit backends: ``cirq``, ``cirq:dynamic``, ``natq:dynamic``, ``qsim``, ``qvm:``, ``engine:``.

Loaded by the registry (:mod:`natq_cirq.runners.registry`) when one of them is used. A layered
backend runs a given :class:`~natq_cirq.compile.Program` exactly, or compiles the model in memory
with its defaults (the registry's ``slots``; a processor's backends and device noise place the
slots on that processor) -- the same code path. A program placed on one processor runs on that
processor's ``qvm:``/``engine:`` and on the simulators, never on another processor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from natq_cirq.compile import Program, dynamic_circuit, input_resolvers
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.hardware.devices import DEVICES, virtual_engine
from natq_cirq.hardware.noise import noise_model
from natq_cirq.hardware.readout import bits_from_records, record_key
from natq_cirq.imports import DeferredModule
from natq_cirq.runners.base import Runner, RunResult, check_shots_and_seed
from natq_cirq.runners.executors import (
    QsimSlotExecutor,
    SamplerSlotExecutor,
    SlotExecutor,
    engine_call,
)
from natq_cirq.runners.layered import LayeredRunner, check_program, layered_compile
from natq_cirq.runners.options import RunOptions
from natq_cirq.runners.progress import Progress
from natq_cirq.runners.registry import BACKENDS
from natq_cirq.runners.sampler import NatqSampler
from natq_cirq.target import Target

import cirq
import numpy as np
import qsimcirq

# The Engine's client and credentials load for engine: runs only.
cirq_google = DeferredModule("cirq_google")
google_auth = DeferredModule("google.auth")


class DynamicCircuitRunner(Runner):
    """A ``cirq.Sampler`` on the dynamic circuit (feed-forward inside the circuit).

    The circuit is compiled once for any input (layer-1 angles are symbols) and each input is
    one parameter resolver of it; a dynamic ``program`` for one input runs with
    :meth:`run_program`, one for any input with :meth:`run`.

    Args:
        name: the backend's name (``cirq:dynamic``: ``cirq.Simulator``; ``natq:dynamic``:
            :class:`~natq_cirq.runners.sampler.NatqSampler`).
        sampler: ``sampler(seed)`` makes the sampler of a run.
        noise: a target of qubit-wise channels, added to the circuit (``cirq.Circuit.with_noise``).
        program: a dynamic program for any input to run (else compiled from the model).
    """

    def __init__(
        self,
        name: str,
        sampler: Callable[[int], cirq.Sampler],
        noise: Target | None = None,
        progress: bool = False,
        program: Program | None = None,
    ):
        self.name = name
        self.sampler = sampler
        self.noise = noise or Target()
        self.progress = progress
        self.program = program

    def _circuit(self, circuit: cirq.AbstractCircuit) -> cirq.AbstractCircuit:
        return circuit.with_noise(noise_model(self.noise)) if self.noise.noisy else circuit

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
        google_auth.default()
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
        target = options.target
        cirq_noise = noise_model(target) if target.noisy else None
        if program is not None:
            check_program(name, program, target.placement)

        def factory(program: Program) -> SlotExecutor:
            if native is not None and cirq_noise is None and QsimSlotExecutor.supports(program):
                return native(program)
            return SamplerSlotExecutor(lambda seed: sampler(seed, cirq_noise), program)

        return LayeredRunner(
            name,
            factory,
            layered_compile(BACKENDS[name].slots, options),
            program,
            batch_size,
            options.journal,
            options.progress,
            options.target,
        )

    return build


def _dynamic(name: str, sampler: Callable[[int], cirq.Sampler]):
    def build(processor, options: RunOptions, program, engine) -> Runner:
        # The registry's check has refused placement, slots and fold: qubit-wise noise only.
        return DynamicCircuitRunner(name, sampler, options.target, options.progress, program)

    return build


def build_qvm(processor, options: RunOptions, program, engine) -> Runner:
    if processor not in DEVICES:
        raise NatqError(
            f"unknown processor {processor!r} for qvm; choose one of "
            f"{', '.join('qvm:' + d for d in DEVICES)}"
        )
    if program is not None:
        check_program(f"qvm:{processor}", program, processor)
    qvm = virtual_engine(processor, seed=0)
    return _processor_runner(f"qvm:{processor}", processor, lambda: qvm, options, program)


def build_engine(processor, options: RunOptions, program, engine) -> Runner:
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
        layered_compile(BACKENDS[base].slots, options, spec),
        program,
        100,
        options.journal,
        options.progress,
        options.target,
    )


build_cirq = _simulator(
    "cirq", lambda seed, noise: cirq.Simulator(seed=np.random.RandomState(seed), noise=noise), 512
)
build_qsim = _simulator(
    "qsim",
    lambda seed, noise: qsimcirq.QSimSimulator(seed=seed, noise=noise),
    4096,
    QsimSlotExecutor,
)
build_cirq_dynamic = _dynamic(
    "cirq:dynamic", lambda seed: cirq.Simulator(seed=np.random.RandomState(seed))
)
build_natq_dynamic = _dynamic("natq:dynamic", NatqSampler)

__all__ = [
    "DynamicCircuitRunner",
    "build_cirq",
    "build_cirq_dynamic",
    "build_engine",
    "build_natq_dynamic",
    "build_qsim",
    "build_qvm",
]
