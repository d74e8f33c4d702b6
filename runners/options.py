"""What every backend shares: the run options and the registry entry (plain data, no Cirq)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from natq_cirq.config import NoiseSpec
from natq_cirq.errors import NatqError
from natq_cirq.runners.base import Runner

if TYPE_CHECKING:  # a calibration (and Cirq) loads only when one is given
    from natq_cirq.calibration import Calibration


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
        calibration: a calibration of the processor (``natq calibrate``): read-outs go to its best
            slots, and with ``compensate`` each angle is replaced by the one whose calibrated
            probability is the ideal one. With ``analytic``: the prediction of such a run.
        compensate: whether a calibration also compensates the angles (else: slots only).
    """

    noise: NoiseSpec | None = None
    slots: int | None = None
    fold: int = 0
    journal: Path | None = None
    progress: bool = False
    project_id: str | None = None
    dry_run: bool = False
    calibration: Calibration | None = None
    compensate: bool = True

    def __post_init__(self) -> None:
        if self.fold < 0:
            raise NatqError(f"fold must be >= 0 (got {self.fold})")
        if self.slots is not None and self.slots < 0:
            raise NatqError(f"slots must be >= 1, or 0 for a whole device (got {self.slots})")

    @property
    def total_fold(self) -> int:
        return self.fold + (self.noise.fold if self.noise else 0)

    @property
    def requested_slots(self) -> int | None:
        """Read-outs per execution asked for: ``slots``, else the noise's ``pairs:K``, else None."""
        if self.slots is not None:
            return self.slots
        return self.noise.pairs if self.noise else None


@dataclass(frozen=True)
class Backend:
    """One entry of :data:`BACKENDS`.

    Attributes:
        name: as written after ``--backend`` (``qvm`` and ``engine`` take ``:PROCESSOR``).
        build: ``(processor, options, program, engine) -> Runner``.
        slots: default read-outs per execution of an in-memory program (``0``: the device).
        noise: whether ``options.noise`` applies.
        simulated: whether the backend simulates (slots bounded by memory).
        tensorflow: whether it runs on TensorFlow (the exact engines, TFQ); the others never
            load it.
    """

    name: str
    build: Callable[..., Runner]
    slots: int | None = None
    noise: bool = False
    simulated: bool = True
    tensorflow: bool = False
