"""What every backend shares: how a run executes and what a backend accepts (plain data, no Cirq).

*Where* a run's read-outs happen is its :class:`~natq_cirq.target.Target`; :class:`RunOptions`
holds the target and only how the run is executed. :class:`Backend` declares what a backend
applies, and :meth:`Backend.check` is the one place that refuses the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from natq_cirq.errors import NatqError
from natq_cirq.flags import EXECUTION, SCALE, flag
from natq_cirq.identity import strong_id
from natq_cirq.imports import require
from natq_cirq.runners.base import Runner, check_shots_and_seed
from natq_cirq.target import Target

if TYPE_CHECKING:  # annotations only: the registry never loads Cirq for its checks
    from natq_cirq.compile import Program

# Read-outs per execution a simulator may hold: a circuit of K pairs has 2^(2K) amplitudes.
MAX_SIMULATED_SLOTS = 10
# A compiled program a simulator runs: 2^26 complex amplitudes are 512 MiB.
MAX_SIMULATED_QUBITS = 26


@dataclass(frozen=True)
class RunOptions:
    """How a run executes, parsed once (``natq run``'s flags), and its :class:`Target`.

    Attributes:
        target: where and how the read-outs happen (noise, placement, slots, fold, calibration).
        journal: folder keeping finished batches (resume).
        progress: progress bars.
        project_id: Google Cloud project of ``engine:``.
        dry_run: plan only: nothing is submitted and no credentials are needed.
    """

    target: Target = field(default_factory=Target)
    journal: Path | None = None
    progress: bool = False
    project_id: str | None = field(
        default=None,
        metadata=flag(
            "Google Cloud project of engine: (or GOOGLE_CLOUD_PROJECT)",
            kind="text",
            group=EXECUTION,
        ),
    )
    dry_run: bool = field(
        default=False,
        metadata=flag(
            "plan only: build and validate the program, report jobs, circuit executions and "
            "repetitions; submit nothing, need no credentials",
            group=EXECUTION,
        ),
    )

    @classmethod
    def make(cls, **fields) -> RunOptions:
        """Options from keywords: :class:`RunOptions` fields and :class:`Target` fields.

        ``noise`` (a target or its text) is merged with the other target fields (``slots``,
        ``fold``, ``calibration``, ``compensate``, ...); a field given twice is refused.
        """
        own = {name: fields.pop(name) for name in list(fields) if name in _OWN}
        noise = Target.coerce(fields.pop("noise", None)) or Target()
        if own.get("journal") is not None:
            own["journal"] = Path(own["journal"])
        return cls(target=noise.merged(Target(**fields)), **own)

    def identity(self, **run) -> str:
        """The run identity of this target with ``run``'s other fields (journals key by it)."""
        return strong_id({"target": self.target, **run})


@dataclass(frozen=True)
class Sampling:
    """What a run samples, checked once: shots per input and the seed (both in its identity)."""

    shots: int = field(default=15, metadata=flag("shots per input", group=EXECUTION))
    seed: int = field(
        default=0, metadata=flag("sampling seed, in [0, 2^32)", group=EXECUTION)
    )

    def __post_init__(self):
        check_shots_and_seed(self.shots, self.seed)


@dataclass(frozen=True)
class ScaleOut:
    """Shards of a run's inputs on Ray workers (:class:`~natq_cirq.runners.distributed.ShardedRunner`).

    The bits do not depend on the number of workers or on where they run.
    """

    workers: int | None = field(
        default=None,
        metadata=flag(
            "split the inputs into shards run by N Ray workers in parallel; the bits do not "
            "depend on N (a local Ray with N CPUs unless --address)",
            kind="int",
            group=SCALE,
        ),
    )
    address: str | None = field(
        default=None,
        metadata=flag("join this Ray cluster (e.g. HEAD:6379, ray start)", kind="text", group=SCALE),
    )
    shard_size: int = field(default=16, metadata=flag("inputs per shard", group=SCALE))
    max_jobs: int | None = field(
        default=None, metadata=flag("engine: shards submitting at once", kind="int", group=SCALE)
    )

    def __post_init__(self):
        counts = (self.workers, self.shard_size, self.max_jobs)
        if any(n is not None and int(n) < 1 for n in counts):
            raise NatqError("workers, shard size and max jobs must be >= 1")
        if self.workers is None and (self.address or self.max_jobs):
            raise NatqError("a Ray address or a job limit needs a number of workers")


def _check_calibration(target: Target, exact_tables: bool) -> None:
    """A calibration applies to runs on its own processor (or to the prediction of one)."""
    calibration = target.calibration
    if exact_tables and target.channels:
        raise NatqError(
            "analytic with a calibration predicts from the calibration alone (no noise), or "
            f"runs it on the device's noise model (device:{calibration.device} only)"
        )
    device = target.placement or (calibration.device if exact_tables else None)
    if device != calibration.device:
        where = f"on {device}" if device else "not placed on a device (give device:D noise)"
        raise NatqError(f"the calibration is of {calibration.device}; this run is {where}")


_OWN = ("target", "journal", "progress", "project_id", "dry_run")

# Program kinds and execution abilities a backend may declare, besides Target.features().
KINDS = {
    "model": "models (compiled in memory)",
    "layered": "layered programs",
    "dynamic": "dynamic programs",
}
# Execution abilities: "shards" (Ray's --workers).


@dataclass(frozen=True)
class Backend:
    """One entry of :data:`natq_cirq.runners.registry.BACKENDS`: what it is and what it accepts.

    Attributes:
        name: as written after ``--backend`` (``qvm`` and ``engine`` take ``:PROCESSOR``).
        build: ``(processor, options, program, engine) -> Runner``.
        accepts: the :data:`KINDS` it runs and the :data:`natq_cirq.target.FEATURES` it applies.
        slots: default read-outs per execution of an in-memory program (``0``: the device).
        own_noise: whether the backend brings its own noise (a processor, real or virtual).
        simulated: whether the backend simulates amplitudes (slots bounded by memory).
        exact_tables: whether it computes read-out tables instead of circuits (``analytic``):
            slots then mean something only on a processor.
        tensorflow: whether it runs on TensorFlow; the others never load it.
        needs: the optional packages it runs on (:data:`natq_cirq.imports.EXTRAS`).
        about: what it executes, in a sentence (the docs' table of backends).
    """

    name: str
    build: Callable[..., Runner]
    accepts: frozenset[str]
    slots: int | None = None
    own_noise: bool = False
    simulated: bool = True
    exact_tables: bool = False
    tensorflow: bool = False
    needs: tuple[str, ...] = ()
    about: str = ""

    def check(
        self, target: Target, program: Program | None = None, backend: str | None = None
    ) -> None:
        """Refuse in one line anything this backend would ignore (the only such check).

        Args:
            target: the run's target (a ``qvm:``/``engine:`` processor already on it).
            program: a compiled program (:mod:`natq_cirq.compile`), or ``None`` for a model.
            backend: the name as the user wrote it, for messages.
        """
        who = backend or self.name
        kind = "model" if program is None else program.mode
        if kind not in self.accepts:
            runs = " and ".join(KINDS[k] for k in KINDS if k in self.accepts)
            raise NatqError(f"{who} runs {runs}, not {KINDS[kind]}")
        if program is not None:
            # A program fixes its placement, slots, fold, gate set and calibration: a run adds
            # only simulated noise.
            target.require(
                ("channels", "device_noise", "processor"),
                f"a compiled program on {who}",
                " (the program fixes them: recompile to change them)",
            )
        target.require(self.accepts, who)
        if program is not None and program.mode == "layered" and self.simulated:
            qubits = len(program.circuit.all_qubits())
            if program.slot_count < 1 or qubits > MAX_SIMULATED_QUBITS:
                raise NatqError(
                    f"the program has {program.slot_count} slots on {qubits} qubits; {who} "
                    f"simulates at most {MAX_SIMULATED_QUBITS} qubits (2^{MAX_SIMULATED_QUBITS} "
                    "amplitudes): recompile with fewer slots"
                )
        predicted = target.calibration is not None and self.exact_tables
        if target.fold and not (target.noisy or self.own_noise or predicted):
            raise NatqError(
                "fold amplifies noise: give noise (or use qvm:/engine:); without noise the "
                "folded gates are the identity"
            )
        if target.calibration is not None:
            _check_calibration(target, self.exact_tables)
        placed = target.placement is not None or target.calibration is not None
        if target.slots is not None and self.exact_tables and not placed:
            raise NatqError(
                f"{who} places slots only on a processor: add device:D noise or a calibration "
                "(without one, every slot reads out alike)"
            )
        if target.slots is not None and self.simulated and not predicted:
            if not 1 <= target.slots <= MAX_SIMULATED_SLOTS:
                raise NatqError(
                    f"slots must be in 1..{MAX_SIMULATED_SLOTS} for simulated backends (a "
                    f"circuit of K pairs holds 2^(2K) amplitudes); got {target.slots}"
                )
        # Last: what the run asks of the backend is refused alike whether or not it is installed.
        for module in self.needs:
            require(module, f"the {who} backend")


__all__ = [
    "KINDS",
    "MAX_SIMULATED_QUBITS",
    "MAX_SIMULATED_SLOTS",
    "Backend",
    "RunOptions",
    "Sampling",
    "ScaleOut",
]
