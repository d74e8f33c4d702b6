"""Executors: run a layered program's slot circuit at many angle settings, return the outcomes.

Every executor takes the :class:`~natq_cirq.compile.Program` and executes its circuit, the one
``natq compile`` writes:

* :class:`SamplerSlotExecutor` sends it through any ``cirq.Sampler`` (``cirq.Simulator``, qsim with
  noise, the quantum virtual machine) or a cirq_google processor (one Engine job per batch);
* :class:`QsimSlotExecutor` writes the program's circuit in qsim's C++ form once per point without
  Cirq's per-point translation -- only for the canonical unplaced circuit, which it checks
  (:meth:`QsimSlotExecutor.supports`); any other program goes through qsimcirq's sampler;
* :class:`TfqSlotExecutor` simulates the program's circuit with TensorFlow Quantum's state op.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from natq_cirq.compile import LayeredProgram, Program
from natq_cirq.errors import NatqError
from natq_cirq.hardware.devices import placed_slot_circuit
from natq_cirq.hardware.gates import WeakMeasurementEntangler
from natq_cirq.hardware.readout import line_slots, slot_key, slot_symbol

import cirq
import numpy as np
import qsimcirq
from qsimcirq import qsim

if TYPE_CHECKING:  # annotations only: cirq_google loads for processors (natq_cirq.hardware.devices)
    import cirq_google

# Exceptions worth retrying: the network or the service, not our request.
TRANSIENT_NAMES = {
    "ServiceUnavailable",
    "DeadlineExceeded",
    "InternalServerError",
    "TooManyRequests",
    "ResourceExhausted",
    "Aborted",
    "Unavailable",
}


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a transient service or network failure."""
    return (
        isinstance(error, ConnectionError | TimeoutError) or type(error).__name__ in TRANSIENT_NAMES
    )


# Engine: every call has a deadline, and the retries of one request a total budget.
CALL_DEADLINE = 300.0
RETRY_BUDGET = 900.0


def with_deadline(call: Callable, seconds: float, what: str):
    """``call()`` in a daemon thread; ``TimeoutError`` if it has not answered in ``seconds``.

    A call stuck in a network library cannot be cancelled; the daemon thread is abandoned (it
    never keeps the process alive) and the caller gets its answer in time.
    """
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True, name=f"natq: {what}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"{what} did not answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def engine_call(call: Callable, what: str):
    """An Engine request: each attempt within :data:`CALL_DEADLINE`, all within :data:`RETRY_BUDGET`."""
    return with_retries(lambda: with_deadline(call, CALL_DEADLINE, what), budget=RETRY_BUDGET)


def with_retries(
    call: Callable,
    retries: int = 5,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    budget: float | None = None,
    clock: Callable[[], float] = time.monotonic,
):
    """``call()``, retried with exponential backoff on transient errors, within ``budget`` s.

    Raises:
        NatqError: the transient failures outlasted the retries or the budget (the message says
            how many attempts and how long).
    """
    start = clock()
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as error:
            if not is_transient(error):
                raise
            wait = backoff * 2**attempt
            spent = clock() - start
            if attempt == retries or (budget is not None and spent + wait > budget):
                raise NatqError(
                    f"gave up after {attempt + 1} attempt(s) in {spent:.0f} s: "
                    f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                ) from None
            sleep(wait)
    raise AssertionError("unreachable")


class SlotExecutor(abc.ABC):
    """Samples the ``K`` slots of a program's circuit at given angles."""

    slots: int
    job_log: Callable[[str], None] | None = None  # called with each submitted job's id

    @abc.abstractmethod
    def execute(self, angles: np.ndarray, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        """Outcomes ``(B, repetitions, K)`` int8 ``+-1`` for ``angles (B, K)``.

        ``rng`` is the batch's own random stream (keyed by the batch, not by the batches run
        before it), so a resumed run draws exactly what an uninterrupted one draws.
        """

    def describe(self) -> str:
        return f"{type(self).__name__}({self.slots} slots)"


class SamplerSlotExecutor(SlotExecutor):
    """The program's circuit on any ``cirq.Sampler`` through ``run_sweep``.

    Args:
        sampler: the ``cirq.Sampler``, or a function of a seed that makes one (simulators: a
            fresh one seeded from each batch's stream).
        program: a layered program.
        processor: a cirq_google processor (virtual or real): each batch becomes one Engine job
            whose id is logged before its results are awaited.
        device_config_name: the processor's device configuration (hardware runs may need one).
    """

    def __init__(
        self,
        sampler: cirq.Sampler | Callable[[int], cirq.Sampler] | None,
        program: Program,
        processor: cirq_google.engine.AbstractProcessor | None = None,
        device_config_name: str = "",
    ):
        self.sampler = sampler
        self.processor = processor
        self.device_config_name = device_config_name
        self.circuit = program.circuit
        self.slots = program.slot_count
        self.symbols = [slot_symbol(s) for s in range(self.slots)]
        self.keys = [slot_key(s) for s in range(self.slots)]

    def _run_job(self, params, repetitions):
        """One Engine job (virtual or real): its id is logged before waiting for results.

        Submission and results each have a deadline (:data:`CALL_DEADLINE`).
        """
        job = with_deadline(
            lambda: self.processor.run_sweep(
                self.circuit,
                params=params,
                repetitions=repetitions,
                device_config_name=self.device_config_name,
            ),
            CALL_DEADLINE,
            "Engine job submission",
        )
        if self.job_log is not None:
            self.job_log(job.id())
        return with_deadline(job.results, CALL_DEADLINE, f"Engine job {job.id()}")

    def execute(self, angles: np.ndarray, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        params = [
            cirq.ParamResolver(dict(zip(self.symbols, map(float, row), strict=True)))
            for row in angles
        ]
        if self.processor is not None:
            results = with_retries(lambda: self._run_job(params, repetitions), budget=RETRY_BUDGET)
        else:
            sampler = self.sampler
            if not isinstance(sampler, cirq.Sampler):
                sampler = sampler(int(rng.integers(2**31 - 1)))
            results = with_retries(
                lambda: sampler.run_sweep(self.circuit, params, repetitions=repetitions)
            )
        outcomes = np.stack(
            [np.stack([r.measurements[k][:, 0] for k in self.keys], axis=1) for r in results]
        )
        return (1 - 2 * outcomes).astype(np.int8)

    def describe(self) -> str:
        return f"{type(self.sampler or self.processor).__name__}, {self.slots} slot(s) per circuit"


class QsimSlotExecutor(SlotExecutor):
    """The canonical slot circuit on qsim's C++ state-vector simulator, without per-point translation.

    ``qsimcirq.QSimSimulator.run_sweep`` resolves the parameters of the Cirq circuit and
    translates it to qsim's form at every sweep point (~0.5 ms in Python, far more than the
    simulation). The slot circuit's structure never changes, so this executor writes each
    execution's qsim circuit directly with qsimcirq's bindings -- the same gate kinds and
    matrices qsimcirq's translator emits for the program's circuit -- and samples it with
    ``qsim_sample_final``. It takes only a program whose circuit is the canonical unplaced one
    (:meth:`supports`). Layout: slot ``s`` is qsim qubit ``s`` (projective) or neuron ``2s + 1``
    with ancilla ``2s``.
    """

    def __init__(self, program: Program, qsim_options: dict | None = None):
        if not self.supports(program):
            raise ValueError("QsimSlotExecutor runs only the canonical unplaced slot circuit")
        g = float(program.network["g"])
        self.slots = k = program.slot_count
        self.projective = program.slots[0][1] is None
        self.options = {**qsimcirq.QSimOptions().as_dict(), **(qsim_options or {})}
        self.num_qubits = k if self.projective else 2 * k
        self.neurons = list(range(k)) if self.projective else [2 * s + 1 for s in range(k)]
        self.measured = self.neurons if self.projective else [2 * s for s in range(k)]
        unitary = cirq.unitary(WeakMeasurementEntangler(g))
        self.entangler = [part for z in unitary.flat for part in (z.real, z.imag)]

    @staticmethod
    def supports(program: Program) -> bool:
        """Whether ``program``'s circuit is the canonical slot circuit on line qubits."""
        if not isinstance(program, LayeredProgram) or not program.slots:
            return False
        with_ancillas = program.slots[0][1] is not None
        canonical = placed_slot_circuit(
            float(program.network["g"]), line_slots(program.slot_count, with_ancillas)
        )
        return program.circuit == canonical

    def _circuit(self, exponents: list[float]):
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

    def execute(self, angles: np.ndarray, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        options = dict(self.options)
        seeds = rng.integers(2**31 - 1, size=len(angles))
        raw = np.empty((len(angles), repetitions), dtype=np.int64)
        for i, row in enumerate((np.asarray(angles) / np.pi).tolist()):
            options["c"] = self._circuit(row)
            options["s"] = int(seeds[i])
            raw[i] = qsim.qsim_sample_final(options, repetitions)
        # Bit q of a qsim sample is qsim qubit q; |1> is the outcome -1.
        bits = (raw[:, :, None] >> np.array(self.measured)) & 1
        return (1 - 2 * bits).astype(np.int8)

    def describe(self) -> str:
        return f"qsim (direct circuits), {self.slots} slot(s) per circuit"


__all__ = [
    "QsimSlotExecutor",
    "SamplerSlotExecutor",
    "SlotExecutor",
    "is_transient",
    "with_retries",
]
