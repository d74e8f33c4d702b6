"""What every backend shares: the run options, the registry entry, the in-memory compilation.

No simulator or TensorFlow here: :mod:`natq_cirq.runners.backends` (the registry) and the
backends that load TensorFlow (:mod:`~natq_cirq.runners.analytic`, :mod:`~natq_cirq.runners.tfq`)
both build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from natq_cirq.compile import Program, compile_layered
from natq_cirq.config import NoiseSpec
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.runners.base import Runner


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
        tensorflow: whether it runs on TensorFlow (the exact engines, TFQ); the others never
            load it.
    """

    name: str
    build: Callable[..., Runner]
    slots: int | None = None
    noise: bool = False
    simulated: bool = True
    tensorflow: bool = False


def layered_compile(
    default_slots: int | None, options: RunOptions, device_name: str | None, device_spec=None
) -> Callable[[ModelFile], Program]:
    """The backend's in-memory compilation: its default slots, the device, the fold."""
    noise = options.noise
    slots = options.slots if options.slots is not None else (noise.pairs if noise else None)
    slots = default_slots if slots is None else slots
    return lambda model: compile_layered(
        model, device_name, slots=slots, fold=options.total_fold, device_spec=device_spec
    )


def check_program(backend: str, program: Program, processor: str | None) -> None:
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
