"""Layer-by-layer execution of a layered program on backends without real-time feed-forward.

:class:`LayeredRunner` runs a :class:`~natq_cirq.compile.Program` -- the one ``natq compile``
writes, or one compiled in memory from a model with the backend's defaults -- through the one
layer loop :meth:`natq_cirq.compile.LayeredRule.sample`: for each hidden layer the rule computes
every neuron's angle for every (input, shot) row, a :class:`SlotExecutor` samples the program's
slot circuit at those angles, and the bits feed the next layer.

What is amortized:

* the circuit is built, rewritten and validated once (by the compiler); only parameter values
  change;
* items with the same angle share one execution: it runs with as many repetitions as items
  (all shots of an input share layer 1; saturated neurons share the angles 0 and pi);
* ``K`` items fill the ``K`` slots of one execution (packing), and executions go to the backend
  in batches (one ``run_sweep``, Engine job or TFQ op call per batch).

Repetitions of one execution are treated as exchangeable and shuffled per slot with a seeded
generator before they are dealt to items: qsim returns repetitions sorted by bitstring, which
would otherwise correlate the items that share a row.

Every batch's bits can be journaled to a folder, under a name that includes the run's identity
(:func:`natq_cirq.identity.strong_id` of backend, target -- noise included --, program, model and
seed): an interrupted run, rerun with the same arguments, reuses finished batches instead of
resubmitting them, and a different run never does.

Under noise, layered execution differs from the dynamic circuit: a layer's errors reach the next
layer only through the recorded bits, and every layer starts from fresh qubits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from natq_cirq.compile import LayeredRule, Program, compile_layered
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, journal_folder, read_journal_entry, write_npz
from natq_cirq.hardware.calibration import ReadoutCounts
from natq_cirq.hardware.devices import data_record, device
from natq_cirq.identity import strong_id
from natq_cirq.runners.base import Runner
from natq_cirq.runners.executors import SlotExecutor
from natq_cirq.runners.options import RunOptions
from natq_cirq.runners.progress import Progress
from natq_cirq.target import Target

import cirq
import numpy as np


class LayeredRunner(Runner):
    """Runs a layered program through a :class:`SlotExecutor`.

    Args:
        name: backend name for results.
        executor_factory: builds the executor of a program.
        compile: the backend's in-memory compilation ``compile(model, x)`` of a model (its
            defaults; ``x`` the run's inputs), used when no ``program`` is given.
        program: a compiled program to run (checked against the model's content hash).
        batch_size: executions per backend call.
        journal: folder for per-batch results (resume); ``None`` keeps nothing.
        progress: show a progress bar with an ETA.
        target: the run's whole target (its noise included), part of the journal's identity.
    """

    def __init__(
        self,
        name: str,
        executor_factory: Callable[[Program], SlotExecutor],
        compile: Callable[[ModelFile], Program],
        program: Program | None = None,
        batch_size: int = 256,
        journal: str | Path | None = None,
        progress: bool = False,
        target: Target | None = None,
    ):
        self.name = name
        self.target = target or Target()
        self.executor_factory = executor_factory
        self.compile = compile
        self.program = program
        self.batch_size = batch_size
        self.journal = Path(journal) if journal else None
        self.progress = progress
        self._stats: dict = {}
        self._compensation = None
        self._counts = ReadoutCounts(inverted=0)

    def program_for(self, model: ModelFile, x: np.ndarray | None = None) -> Program:
        """The program this runner executes for ``model``: the given one, or compiled now.

        ``x``: the run's inputs (a calibrated compile ranks the slots by their read-out angles).
        """
        if self.program is None:
            if self.progress:  # placing and rewriting a large network takes a while
                print(f"compiling the model for {self.name} …", flush=True)
            return self.compile(model, x)
        self.program.check_model(model)
        return self.program

    def read_out(
        self, program: Program, angles: np.ndarray, shots: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Read every slot of ``program`` at given angles: outcomes ``(angles, shots, K)`` of +-1.

        ``angles`` is ``(points, K)``: one angle per point and slot, each point executed ``shots``
        times (what a calibration measures; a run's layers go through :meth:`run`).
        """
        return self.executor_factory(program).execute(angles, shots, rng)

    def stats(self) -> dict:
        if self._compensation is None:
            return dict(self._stats)
        return {
            **self._stats,
            "calibration": self._compensation.calibration,
            "compensated": self._compensation.compensate,
            **self._counts.stats(),
        }

    def plan(self, model: ModelFile, x: np.ndarray, shots: int, seed: int = 0) -> dict:
        """What a run would submit, without running: exact for layer 1, bounds for later layers.

        Later layers' angles depend on measured bits, so their distinct angles (and so their
        executions) are only bounded by the number of items.
        """
        program = self.program_for(model, x)
        rule = LayeredRule(model)
        angles, _ = rule.angles(1, np.asarray(x, dtype=np.float64), None)
        k, batch = program.slot_count, self.batch_size
        _, counts = np.unique(angles.reshape(-1), return_counts=True)
        groups = [(int(c), int(np.sum(counts == c))) for c in np.unique(counts)]
        first = sum(-(-n // k) for _, n in groups)
        first_repetitions = sum(-(-n // k) * c for c, n in groups)
        later_items = len(x) * shots * model.hidden
        later = -(-later_items // k)
        plan = {
            "program": program.describe().replace("\n", "; "),
            "slots_per_circuit": k,
            "neuron_measurements": len(x) * shots * model.hidden * model.layers,
            "layer1_circuit_executions": first,
            "layer1_jobs": -(-first // batch),
            "layer1_repetitions": first_repetitions,
            "later_layers_circuit_executions_at_most": later * (model.layers - 1),
            "later_layers_jobs_at_most": -(-later // batch) * (model.layers - 1),
            # An execution's repetitions serve K slots' items, so items bound the repetitions.
            "later_layers_repetitions_at_most": later_items * (model.layers - 1),
        }
        duration = self.device_duration(program)
        if duration is not None:
            low = first_repetitions * duration
            high = low + plan["later_layers_repetitions_at_most"] * duration
            plan["device_time_seconds"] = (
                f"{low:.3g} .. {high:.3g} ({duration * 1e6:.3g} us per repetition by the gate "
                "durations of the device specification; queueing and per-job overhead excluded)"
            )
        return plan

    @staticmethod
    def device_duration(program: Program) -> float | None:
        """Seconds of one repetition of the program's circuit by its device's gate durations."""
        if program.device is None:
            return None
        durations = getattr(device(program.device).metadata, "gate_durations", None) or {}

        def seconds(op: cirq.Operation) -> float:
            for family, duration in durations.items():
                if op in family:
                    return duration.total_nanos() * 1e-9
            return 0.0

        return sum(max(map(seconds, moment), default=0.0) for moment in program.circuit)

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        program = self.program_for(model, x)
        executor = self.executor_factory(program)
        self._compensation = program.compensation
        if self.journal is not None:
            journal_folder(self.journal)  # marked as natq's: only natq's folders are removed
            executor.job_log = self._log_job
        self._identity = strong_id(
            {
                "backend": self.name,
                "target": self.target,
                "program": program.to_json(),
                "device_data": data_record(program.device or self.target.device),
                "model": model.digest(),
                "seed": seed,
            },
            16,
        )
        self._seed = int(seed)
        self._stats = {
            "program": program.summary(),  # what ran: placement, gate set, slots, fold, gates
            "executor": executor.describe(),
            "executions": 0,
            "batches": 0,
            "reused_batches": 0,
            "items": 0,
            "distinct_angles": 0,
        }
        self._counts = ReadoutCounts(inverted=0)
        total = len(x) * shots * model.hidden * model.layers
        self._bar = Progress(total, "neuron read-out", self.progress)
        try:
            return LayeredRule(model).sample(
                x, shots, lambda layer, angles: self._measure(executor, layer, angles)
            )
        finally:
            self._bar.close()

    def _log_job(self, job_id: str) -> None:
        self.journal.mkdir(parents=True, exist_ok=True)
        with open(self.journal / "jobs.txt", "a") as log:
            log.write(f"{job_id}\n")

    def _measure(self, executor: SlotExecutor, layer: int, angles: np.ndarray) -> np.ndarray:
        """One independent read-out per item (row, neuron), sharing executions of equal angles."""
        flat = angles.reshape(-1)
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
        self._stats["items"] += flat.size
        self._stats["distinct_angles"] += values.size
        outcomes = np.empty(flat.size, dtype=np.int8)
        order = np.argsort(inverse, kind="stable")  # items grouped by distinct angle
        starts = np.concatenate([[0], np.cumsum(counts)])
        for repetitions in np.unique(counts):
            group = np.flatnonzero(counts == repetitions)  # distinct angles run this many times
            samples = self._run_group(executor, layer, int(repetitions), values[group])
            # Row j of ``members``: the items of distinct angle group[j] (contiguous in order).
            members = order[starts[group][:, None] + np.arange(repetitions)]
            outcomes[members] = samples
            self._bar.add(len(group) * int(repetitions))
        return outcomes.reshape(angles.shape)

    def _run_group(
        self, executor: SlotExecutor, layer: int, repetitions: int, values: np.ndarray
    ) -> np.ndarray:
        """``(len(values), repetitions)`` outcomes: values packed K per execution, batched."""
        k = executor.slots
        padded = np.zeros(-(-len(values) // k) * k)
        padded[: len(values)] = values
        executions = padded.reshape(-1, k)
        inverted = None
        if self._compensation is not None:
            executions, inverted = self._compensate(executions, len(values), repetitions)
        out = []
        for start in range(0, len(executions), self.batch_size):
            batch = executions[start : start + self.batch_size]
            out.append(self._journaled(executor, layer, repetitions, start, batch))
        samples = np.concatenate(out)  # (executions, repetitions, K)
        if inverted is not None:  # an inverted read-out's bit is flipped back
            samples = np.where(inverted[:, None, :], -samples, samples)
        return samples.transpose(0, 2, 1).reshape(-1, repetitions)[: len(values)]

    def _compensate(
        self, executions: np.ndarray, used: int, repetitions: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The angles to send (column ``s`` to slot ``s``) and which to invert; counts them."""
        sent, inverted, shortfall = self._compensation.apply(executions)
        # Padding is never read; each distinct angle stands for ``repetitions`` read-outs.
        self._counts.add(
            shortfall.reshape(-1)[:used], inverted.reshape(-1)[:used], weight=repetitions
        )
        return sent, inverted

    def _journaled(
        self, executor: SlotExecutor, layer: int, repetitions: int, start: int, batch: np.ndarray
    ) -> np.ndarray:
        digest = hashlib.sha256(batch.tobytes() + repr(repetitions).encode()).hexdigest()[:16]
        path = None
        if self.journal is not None:
            name = f"{self._identity}_layer{layer}_reps{repetitions}_{start}_{digest}.npz"
            path = self.journal / name
            saved = read_journal_entry(path, "outcomes", (len(batch), repetitions, batch.shape[1]))
            if saved is not None:
                self._stats["reused_batches"] += 1
                return saved
        # The batch's own random stream, keyed by the run's seed and the batch itself: a resumed
        # run draws for each batch exactly what an uninterrupted run draws.
        key = [self._seed, layer, repetitions, start, int(digest, 16)]
        rng = np.random.default_rng(key)
        outcomes = executor.execute(batch, repetitions, rng)
        if repetitions > 1:
            # Repetitions are exchangeable, but samplers may return them in any order (qsim
            # returns them sorted); permute each slot's column so that row r of one item is
            # independent of row r of another item sharing no execution with it.
            outcomes = rng.permuted(outcomes, axis=1)
        self._stats["executions"] += len(batch)
        self._stats["batches"] += 1
        if path is not None:
            write_npz(path, outcomes=outcomes, angles=batch)
        return outcomes


def layered_compile(
    default_slots: int | None, options: RunOptions, device_spec=None
) -> Callable[[ModelFile], Program]:
    """The backend's in-memory compilation of its target (the backend's default slots)."""
    target = options.target
    if target.slots is None:
        target = replace(target, slots=default_slots)
    return lambda model, x=None: compile_layered(
        model, target, device_spec=device_spec, reference_inputs=x
    )


def check_program(backend: str, program: Program, processor: str | None) -> None:
    """A program placed on one processor runs there (and on simulators), never on another."""
    if processor is not None and program.device != processor:
        placed = f"placed on {program.device}" if program.device else "not placed on a device"
        raise NatqError(
            f"the program is {placed}; {backend} runs programs placed on {processor} "
            f"(natq compile --device {processor})"
        )
