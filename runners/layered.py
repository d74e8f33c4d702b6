"""Layer-by-layer execution on backends without real-time feed-forward.

:class:`LayeredRunner` drives :class:`natq_cirq.compile.LayeredRule`: for each hidden layer it
computes every neuron's angle for every (input, shot) row classically, has a
:class:`SlotExecutor` sample the read-outs, and feeds the bits to the next layer. The executor
runs :func:`natq_cirq.compile.hardware.slot_circuit` (``K`` independent read-outs side by side)
through any ``cirq.Sampler`` (qsim, the quantum virtual machine, Engine) or TensorFlow Quantum.

What is amortized:

* the circuit is built, rewritten and validated once; only parameter values change;
* items with the same angle share one execution: it runs with as many repetitions as items
  (all shots of an input share layer 1; saturated neurons share the angles 0 and pi);
* ``K`` items fill the ``K`` slots of one execution (packing), and executions go to the backend
  in batches (one ``run_sweep`` or one TFQ op call per batch).

Repetitions of one execution are treated as exchangeable and shuffled per slot with a seeded
generator before they are dealt to items: qsim returns repetitions sorted by bitstring, which
would otherwise correlate the items that share a row.

Every batch's bits can be journaled to a folder: an interrupted run, rerun with the same
arguments, reuses finished batches instead of resubmitting them.

Under noise, layered execution differs from the dynamic circuit: a layer's errors reach the next
layer only through the recorded bits, and every layer starts from fresh qubits.
"""

from __future__ import annotations

import abc
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from natq_cirq.compile import LayeredRule
from natq_cirq.compile.hardware import slot_circuit, slot_key, slot_symbol
from natq_cirq.files import ModelFile, write_npz
from natq_cirq.runners.base import Runner

import cirq
import numpy as np

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


def with_retries(
    call: Callable,
    retries: int = 5,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
):
    """``call()``, retried with exponential backoff on transient errors."""
    for attempt in range(retries + 1):
        try:
            return call()
        except Exception as error:
            if attempt == retries or not is_transient(error):
                raise
            sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


class SlotExecutor(abc.ABC):
    """Samples ``K`` independent read-outs at given angles, in batches."""

    slots: int
    batch_size: int = 256
    job_log: Callable[[str], None] | None = None  # called with each submitted job's id

    @abc.abstractmethod
    def execute(self, angles: np.ndarray, repetitions: int) -> np.ndarray:
        """Outcomes ``(B, repetitions, K)`` int8 ``+-1`` for ``angles (B, K)``."""

    def describe(self) -> str:
        return f"{type(self).__name__}({self.slots} slots)"


class SamplerSlotExecutor(SlotExecutor):
    """A :func:`slot_circuit` on any ``cirq.Sampler`` through ``run_sweep``.

    Args:
        sampler: the ``cirq.Sampler`` (``qsimcirq.QSimSimulator``, a processor's sampler ...).
        g: the model's entangling angle.
        slots: ``(neuron, ancilla)`` qubits per slot (ancilla ``None`` for projective read-out).
        gateset_name: rewrite the circuit into this gate set first.
        device: validate the circuit with this device.
        batch_size: sweep points per ``run_sweep`` call.
        processor: a cirq_google processor (virtual or real): each batch becomes one Engine job
            whose id is logged before its results are awaited.
        device_config_name: the processor's device configuration (hardware runs may need one).
        fold: rounds of identity-equivalent gate pairs before the measurements (noise studies).
    """

    def __init__(
        self,
        sampler: cirq.Sampler,
        g: float,
        slots: Sequence[tuple[cirq.Qid, cirq.Qid | None]],
        gateset_name: str | None = None,
        device: cirq.Device | None = None,
        batch_size: int = 256,
        processor=None,
        device_config_name: str = "",
        fold: int = 0,
    ):
        self.sampler = sampler
        self.processor = processor
        self.device_config_name = device_config_name
        self.slots = len(slots)
        self.batch_size = batch_size
        self.circuit = slot_circuit(g, slots, gateset_name, fold)
        if device is not None:
            device.validate_circuit(self.circuit)
        self.symbols = [slot_symbol(s) for s in range(self.slots)]
        self.keys = [slot_key(s) for s in range(self.slots)]

    def _run_job(self, params, repetitions):
        """One Engine job (virtual or real): its id is logged before waiting for results."""
        job = self.processor.run_sweep(
            self.circuit,
            params=params,
            repetitions=repetitions,
            device_config_name=self.device_config_name,
        )
        if self.job_log is not None:
            self.job_log(job.id())
        return job.results()

    def execute(self, angles: np.ndarray, repetitions: int) -> np.ndarray:
        params = [
            cirq.ParamResolver(dict(zip(self.symbols, map(float, row), strict=True)))
            for row in angles
        ]
        if self.processor is not None:
            results = with_retries(lambda: self._run_job(params, repetitions))
        else:
            results = with_retries(
                lambda: self.sampler.run_sweep(self.circuit, params, repetitions=repetitions)
            )
        return (
            np.stack(
                [np.stack([r.measurements[k][:, 0] for k in self.keys], axis=1) for r in results]
            ).astype(np.int8)
            * -2
            + 1
        )


def pair_slots(count: int, projective: bool) -> list[tuple[cirq.Qid, cirq.Qid | None]]:
    """``count`` slots on line qubits, for simulators without a device."""
    if projective:
        return [(cirq.LineQubit(s), None) for s in range(count)]
    return [(cirq.LineQubit(2 * s), cirq.LineQubit(2 * s + 1)) for s in range(count)]


class LayeredRunner(Runner):
    """Runs a network layer by layer through a :class:`SlotExecutor`.

    Args:
        name: backend name for results.
        executor_factory: builds the executor for a model and a seed.
        journal: folder for per-batch results (resume); ``None`` keeps nothing.
        progress: show a progress bar with an ETA.
    """

    def __init__(
        self,
        name: str,
        executor_factory: Callable[[ModelFile, int], SlotExecutor],
        journal: str | Path | None = None,
        progress: bool = False,
    ):
        self.name = name
        self.executor_factory = executor_factory
        self.journal = Path(journal) if journal else None
        self.progress = progress
        self._stats: dict = {}

    def stats(self) -> dict:
        return dict(self._stats)

    def plan(self, model: ModelFile, x: np.ndarray, shots: int, seed: int = 0) -> dict:
        """What a run would submit, without running: exact for layer 1, bounds for later layers.

        Later layers' angles depend on measured bits, so their distinct angles (and so their
        executions) are only bounded by the number of items.
        """
        executor = self.executor_factory(model, seed)
        rule = LayeredRule(model)
        angles, _ = rule.angles(1, np.asarray(x, dtype=np.float64), None)
        k, batch = executor.slots, executor.batch_size
        _, counts = np.unique(angles.reshape(-1), return_counts=True)
        first = sum(-(-int(np.sum(counts == c)) // k) for c in np.unique(counts))
        later_items = len(x) * shots * model.hidden
        later = -(-later_items // k)
        return {
            "slots_per_circuit": k,
            "neuron_measurements": len(x) * shots * model.hidden * model.layers,
            "layer1_circuit_executions": first,
            "layer1_jobs": -(-first // batch),
            "later_layers_circuit_executions_at_most": later * (model.layers - 1),
            "later_layers_jobs_at_most": -(-later // batch) * (model.layers - 1),
            "repetitions_total": len(x) * shots * model.hidden * model.layers,
        }

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        executor = self.executor_factory(model, seed)
        if self.journal is not None:
            executor.job_log = self._log_job
        # A stream of its own: executors may seed NumPy generators with the same seed.
        self._rng = np.random.default_rng([seed, 0x5EED])
        rule = LayeredRule(model)
        rows = np.repeat(np.asarray(x, dtype=np.float64), shots, axis=0)
        self._stats = {
            "executor": executor.describe(),
            "executions": 0,
            "batches": 0,
            "reused_batches": 0,
            "items": 0,
            "distinct_angles": 0,
        }
        state, layers = None, []
        self._bar = _progress(len(rows) * model.hidden * model.layers) if self.progress else None
        for layer in range(1, model.layers + 1):
            angles, pre = rule.angles(layer, rows, state)
            d = self._measure(executor, layer, angles)
            state = rule.record(pre, d)
            layers.append(d.astype(np.int8))
        return np.stack(layers, axis=1).reshape(len(x), shots, model.layers, model.hidden)

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
            if self._bar is not None:
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
        out = []
        for start in range(0, len(executions), executor.batch_size):
            batch = executions[start : start + executor.batch_size]
            out.append(self._journaled(executor, layer, repetitions, start, batch))
        samples = np.concatenate(out)  # (executions, repetitions, K)
        if repetitions > 1:
            # Repetitions are exchangeable, but samplers may return them in any order (qsim
            # returns them sorted); permute each slot's column so that row r of one item is
            # independent of row r of another item sharing no execution with it.
            samples = self._rng.permuted(samples, axis=1)
        return samples.transpose(0, 2, 1).reshape(-1, repetitions)[: len(values)]

    def _journaled(
        self, executor: SlotExecutor, layer: int, repetitions: int, start: int, batch: np.ndarray
    ) -> np.ndarray:
        digest = hashlib.sha256(batch.tobytes() + repr(repetitions).encode()).hexdigest()[:16]
        path = None
        if self.journal is not None:
            path = self.journal / f"layer{layer}_reps{repetitions}_{start}_{digest}.npz"
            if path.is_file():
                self._stats["reused_batches"] += 1
                with np.load(path) as saved:
                    return saved["outcomes"]
        outcomes = executor.execute(batch, repetitions)
        self._stats["executions"] += len(batch)
        self._stats["batches"] += 1
        if path is not None:
            write_npz(path, outcomes=outcomes, angles=batch)
        return outcomes


def _progress(total: int):
    import natq_cirq  # noqa: F401

    import tensorflow as tf

    return tf.keras.utils.Progbar(total, unit_name="layer")
