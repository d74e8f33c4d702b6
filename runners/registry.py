"""The registry of ``natq run --backend`` (:data:`BACKENDS`): names, defaults, and what loads.

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
``qvm:PROCESSOR``         cirq_google's noisy quantum virtual machine (``rainbow``, ``weber``,
                          ``willow_pink``) on the layered program placed on that processor
``engine:PROCESSOR``      Google hardware through cirq_google's Engine (``project_id`` or
                          ``GOOGLE_CLOUD_PROJECT``, application-default credentials)
========================  ==============================================================

This module is plain data and checks: each backend's code lives in a module of its own, imported
when the backend is used (:mod:`~natq_cirq.runners.backends` the circuit backends,
:mod:`~natq_cirq.runners.analytic` and :mod:`~natq_cirq.runners.noisy_analytic` the exact
engines, :mod:`~natq_cirq.runners.tfq` TFQ). A run loads only what its backend needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from natq_cirq.config import NoiseSpec
from natq_cirq.errors import NatqError
from natq_cirq.imports import collector_paused
from natq_cirq.runners.base import Runner
from natq_cirq.runners.options import Backend, RunOptions

CIRCUITS = "natq_cirq.runners.backends"
MAX_SIMULATED_SLOTS = 10


def _load(module: str, name: str = "build") -> Callable[..., Runner]:
    """The function ``name`` of a backend module, imported when the backend is first used.

    A run loads only its own backend's libraries: the circuit backends never load TensorFlow, the
    exact engine without noise never loads Cirq.
    """

    def build(*args) -> Runner:
        with collector_paused():
            loaded = importlib.import_module(module)
        return getattr(loaded, name)(*args)

    return build


def _build_analytic(processor, options: RunOptions, program, engine) -> Runner:
    if program is not None:
        raise NatqError(
            "analytic runs models, not circuits: pass MODEL.npz, or run the program on cirq, "
            "qsim, tfq, qvm:PROCESSOR or engine:PROCESSOR"
        )
    # Noise (or a calibration) needs Cirq and the devices; the noiseless engine needs neither.
    noisy = options.noise or options.calibration
    module = "natq_cirq.runners.noisy_analytic" if noisy else "natq_cirq.runners.analytic"
    return _load(module)(processor, options, program, engine)


BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("analytic", _build_analytic, noise=True, tensorflow=True),
        Backend("cirq", _load(CIRCUITS, "build_cirq"), slots=4, noise=True),
        Backend("cirq:dynamic", _load(CIRCUITS, "build_cirq_dynamic"), noise=True),
        Backend("natq:dynamic", _load(CIRCUITS, "build_natq_dynamic"), noise=True),
        Backend("qsim", _load(CIRCUITS, "build_qsim"), slots=4, noise=True),
        Backend("tfq", _load("natq_cirq.runners.tfq"), slots=1, tensorflow=True),
        Backend("qvm", _load(CIRCUITS, "build_qvm"), slots=4),
        Backend("engine", _load(CIRCUITS, "build_engine"), slots=0, simulated=False),
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
    program: object | None = None,  # a natq_cirq.compile.Program
    engine: object | None = None,
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
    # A calibrated analytic run is a prediction: no amplitudes (any slots), no circuit noise.
    predicted = options.calibration is not None and entry.name == "analytic"
    if (
        options.slots is not None
        and entry.simulated
        and not predicted
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
    if (
        options.fold
        and options.noise is None
        and entry.name not in ("qvm", "engine")
        and not predicted
    ):
        raise NatqError(
            "--fold amplifies noise: give --noise (or use qvm:/engine:); without noise the "
            "folded gates are the identity"
        )
    if options.calibration is not None:
        _check_calibration(entry, processor, options, program)
    return entry.build(processor, options, program, engine)


# The backends that run (or, analytic, predict) layered read-outs on a processor's slots.
CALIBRATED = ("analytic", "cirq", "qsim", "qvm", "engine")


def run_processor(processor: str | None, options: RunOptions) -> str | None:
    """The processor a run is on: ``qvm:``/``engine:``'s own, else ``--noise device:D``'s."""
    if processor is not None:
        return processor
    return options.noise.device if options.noise is not None else None


def _check_calibration(entry: Backend, processor, options: RunOptions, program) -> None:
    """A calibration applies to layered runs on its own processor (or to their prediction)."""
    calibration = options.calibration
    if entry.name not in CALIBRATED:
        raise NatqError(
            "a calibration applies to analytic (its prediction), cirq, qsim, qvm: and engine:"
        )
    if program is not None:
        raise NatqError(
            "a compiled program carries its calibration: compile with --calibration instead"
        )
    noise = options.noise
    if entry.name == "analytic" and noise is not None and (noise.channels or noise.device is None):
        raise NatqError(
            "analytic with a calibration predicts from the calibration alone (no --noise), or "
            f"runs it on the device's noise model (--noise device:{calibration.device} only)"
        )
    device = run_processor(processor, options)
    if entry.name == "analytic":
        device = device or calibration.device
    if device != calibration.device:
        where = f"on {device}" if device else "not placed on a device (give --noise device:D)"
        raise NatqError(f"the calibration is of {calibration.device}; this run is {where}")


__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "CALIBRATED",
    "MAX_SIMULATED_SLOTS",
    "lookup",
    "make_runner",
    "run_processor",
]
