"""``natq calibrate``: measure every slot's read-out response on a processor, or compute it exactly.

The calibration circuits are the circuits a run sends: the slot circuit placed on the device's
slots (:func:`natq_cirq.hardware.devices.device_slots`), rewritten into the device's gate set, folded,
validated (:func:`natq_cirq.hardware.devices.placed_slot_circuit`), run by the backend's own executor
(:class:`~natq_cirq.runners.executors.SlotExecutor`) -- ``K`` slots per circuit as a run packs
them, every slot at the same angle. Each slot's frequencies of ``-1`` at ``angles`` evenly spread
angles are fitted by :func:`natq_cirq.hardware.calibration.fit_slot`. ``analytic`` (with ``--noise
device:D``) gives the exact tables of the same circuits under the noise model instead
(:class:`natq_cirq.hardware.noisy.SlotReadout`), with zero standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from natq_cirq.compile import LayeredProgram
from natq_cirq.errors import NatqError
from natq_cirq.hardware.calibration import Calibration, SlotFit, fit_slot
from natq_cirq.hardware.devices import (
    DEFAULT_GATESET,
    data_record,
    device,
    device_slots,
    placed_slot_circuit,
)
from natq_cirq.hardware.noisy import SlotReadout
from natq_cirq.hardware.readout import Slot, line_slots, uses_ancillas
from natq_cirq.physics import Knobs
from natq_cirq.resources import check_memory
from natq_cirq.runners.layered import LayeredRunner
from natq_cirq.runners.options import RunOptions
from natq_cirq.runners.progress import Progress
from natq_cirq.runners.registry import CALIBRATED, lookup, make_runner

import numpy as np

DEFAULT_ANGLES = 8
DEFAULT_SHOTS = 2000
MAX_ANGLES = 10_000  # a response of three coefficients needs a handful
MAX_SHOTS = 10_000_000


@dataclass(frozen=True)
class CalibrationPlan:
    """What a calibration runs: circuits of ``K`` slots, each at every angle.

    Attributes:
        backend: as given (``qvm:rainbow``, ``engine:rainbow``, ``analytic``).
        device: the processor.
        gateset: its native gate set.
        g: the read-out strength.
        fold: rounds of identity-equivalent gate pairs.
        groups: the slots of each calibration circuit.
        angles: the calibration angles.
        shots: repetitions per circuit and angle.
        exact: whether the tables are computed (``analytic``) rather than measured.
        seconds_per_repetition: by the device specification's gate durations.
    """

    backend: str
    device: str
    gateset: str
    g: float
    fold: int
    groups: tuple[tuple[Slot, ...], ...]
    angles: tuple[float, ...]
    shots: int
    exact: bool
    seconds_per_repetition: float | None

    @property
    def ancillas(self) -> bool:
        return self.groups[0][0][1] is not None

    @property
    def circuits(self) -> int:
        return 0 if self.exact else len(self.groups) * len(self.angles)

    def program(self, group: tuple[Slot, ...]) -> LayeredProgram:
        """The calibration circuit of one group, as the program a run of these slots sends."""
        circuit = placed_slot_circuit(self.g, group, self.gateset, self.fold, device(self.device))
        network = {"g": self.g}
        return LayeredProgram(
            circuit,
            "",
            network,
            slots=group,
            device=self.device,
            gateset=self.gateset,
            fold=self.fold,
        )

    def describe(self) -> list[str]:
        slots = sum(len(group) for group in self.groups)
        what = "pairs" if self.ancillas else "qubits"
        lines = [
            f"calibration of {slots} slots ({what}) of {self.device}, gate set {self.gateset}, "
            f"g = {self.g:.6g}, fold {self.fold}, on {self.backend}"
        ]
        if self.exact:
            lines.append("exact tables of the noise model (no sampling)")
            return lines
        repetitions = self.circuits * self.shots
        lines.append(
            f"{self.circuits} circuit executions ({len(self.groups)} circuits of "
            f"{len(self.groups[0])} slots x {len(self.angles)} angles), {self.shots} repetitions "
            f"each: {repetitions:,} repetitions"
        )
        if self.seconds_per_repetition is not None:
            lines.append(
                f"device time {repetitions * self.seconds_per_repetition:.3g} s "
                f"({self.seconds_per_repetition * 1e6:.3g} us per repetition by the device "
                "specification's gate durations; queueing and per-job overhead excluded)"
            )
        return lines


def plan_calibration(
    backend: str,
    options: RunOptions,
    g: float = math.pi / 2,
    angles: int = DEFAULT_ANGLES,
    shots: int = DEFAULT_SHOTS,
) -> CalibrationPlan:
    """The calibration ``backend`` would run (refused in one line when impossible)."""
    entry, processor = lookup(backend)
    if entry.name not in CALIBRATED:
        raise NatqError(
            "natq calibrate runs on qvm:PROCESSOR, engine:PROCESSOR, analytic, cirq, qsim"
        )
    if not 4 <= angles <= MAX_ANGLES:
        raise NatqError(
            f"a calibration takes 4..{MAX_ANGLES} angles (4 to test its fit; got {angles})"
        )
    if not 1 <= shots <= MAX_SHOTS:
        raise NatqError(f"shots must be in 1..{MAX_SHOTS:,} (got {shots})")
    target = options.target.on(processor)
    if target.calibration is not None:
        raise NatqError("a calibration is measured without one")
    entry.check(target, None, backend)
    name = target.placement
    if name is None:
        raise NatqError(
            f"{backend} calibrates a simulated processor: give --noise device:PROCESSOR"
        )
    if entry.exact_tables and target.channels:
        raise NatqError("analytic calibrates a device's own noise model: --noise device:D only")
    if entry.exact_tables and target.slots is not None:
        raise NatqError("analytic computes each slot's table alone: slots do not apply")
    dev = device(name)
    ancillas = uses_ancillas(Knobs(g=g))
    slots = device_slots(dev, ancillas)
    exact = entry.exact_tables
    size = target.slots if target.slots is not None else entry.slots
    size = 1 if exact else (size or len(slots))
    groups = tuple(tuple(slots[i : i + size]) for i in range(0, len(slots), size))
    # One group's outcomes (angles x shots x slots, int8) are held at once.
    check_memory(
        0 if exact else float(angles) * shots * size,
        f"a calibration of {angles} angles x {shots} shots",
        "fewer angles or shots",
    )
    gateset = target.gateset or DEFAULT_GATESET[name]
    plan = CalibrationPlan(
        backend,
        name,
        gateset,
        float(g),
        target.fold,
        groups,
        tuple(2 * np.pi * np.arange(angles) / angles),
        0 if exact else int(shots),
        exact,
        None,
    )
    return replace(
        plan, seconds_per_repetition=LayeredRunner.device_duration(plan.program(groups[0]))
    )


def calibrate(
    plan: CalibrationPlan, options: RunOptions, seed: int = 0, engine: object | None = None
) -> Calibration:
    """Run (or compute) the plan's calibration; the fits are not judged here (see ``check_fit``).

    Args:
        plan: from :func:`plan_calibration` with the same ``options``.
        options: the backend's options (noise of a simulator, Engine project, progress).
        seed: seeds every circuit's sampling by group on the simulators (``cirq``, ``qsim``);
            ``qvm:`` samples with its virtual machine's own seed (0), hardware with none.
        engine: an engine object for ``engine:`` (tests pass cirq_google's virtual engine).
    """
    ideal = SlotReadout.from_circuit(
        placed_slot_circuit(plan.g, line_slots(1, plan.ancillas)), None
    ).coefficients[0]
    bar = Progress(len(plan.groups), "slot group", options.progress)
    fits: list[SlotFit] = []
    runner = None
    if not plan.exact:
        runner = make_runner(plan.backend, options, engine=engine)
    try:
        for index, group in enumerate(plan.groups):
            program = plan.program(group)
            if plan.exact:
                table = SlotReadout.from_circuit(program.circuit, options.target).coefficients
                fits += [
                    SlotFit(slot, tuple(map(float, row)), (0.0, 0.0, 0.0))
                    for slot, row in zip(group, table, strict=True)
                ]
            else:
                angles = np.repeat(np.array(plan.angles)[:, None], len(group), axis=1)
                rng = np.random.default_rng([seed, index])
                outcomes = runner.read_out(program, angles, plan.shots, rng)  # (angles, shots, K)
                minus = np.sum(outcomes == -1, axis=1)
                fits += [
                    fit_slot(slot, np.array(plan.angles), minus[:, k], plan.shots)
                    for k, slot in enumerate(group)
                ]
            bar.add(1)
    finally:
        bar.close()
    return Calibration(
        device=plan.device,
        gateset=plan.gateset,
        g=plan.g,
        ancillas=plan.ancillas,
        fold=plan.fold,
        backend=plan.backend,
        ideal=tuple(float(v) for v in ideal),
        slots=tuple(fits),
        angles=() if plan.exact else plan.angles,
        shots=plan.shots,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        noise=str(options.target) or None,
        device_data=data_record(plan.device),
    )


__all__ = [
    "DEFAULT_ANGLES",
    "DEFAULT_SHOTS",
    "CalibrationPlan",
    "calibrate",
    "plan_calibration",
]
