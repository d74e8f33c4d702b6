"""The registry of ``natq run --backend`` (:data:`BACKENDS`): names, defaults, and what loads.

Each entry says what the backend executes (``about``), what it runs and applies
(``accepts``, checked by :meth:`~natq_cirq.runners.options.Backend.check`) and its defaults; the
docs' tables of backends are generated from these entries (docs/generate.py).

This module is plain data and checks: each backend's code lives in a module of its own, imported
when the backend is used (:mod:`~natq_cirq.runners.backends` the circuit backends,
:mod:`~natq_cirq.runners.analytic` and :mod:`~natq_cirq.runners.noisy_analytic` the exact
engines, :mod:`~natq_cirq.runners.tfq` TFQ). A run loads only what its backend needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace

from natq_cirq.errors import NatqError
from natq_cirq.imports import collector_paused
from natq_cirq.runners.base import Runner
from natq_cirq.runners.options import MAX_SIMULATED_SLOTS, Backend, RunOptions

CIRCUITS = "natq_cirq.runners.backends"


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
    # Noise (or a calibration) needs Cirq and the devices; the noiseless engine needs neither.
    target = options.target
    noisy = target.noisy or target.calibration is not None
    module = "natq_cirq.runners.noisy_analytic" if noisy else "natq_cirq.runners.analytic"
    return _load(module)(processor, options, program, engine)


NOISE = frozenset({"channels", "device_noise"})
LAYERED = frozenset(
    {"model", "layered", "processor", "slots", "fold", "gateset", "calibration", "shards"}
)
DYNAMIC = frozenset({"model", "dynamic", "channels", "shards"})
BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend(
            "analytic",
            _build_analytic,
            NOISE | {"model", "slots", "fold", "calibration"},
            exact_tables=True,
            tensorflow=True,
            about="the exact vectorized engine (TensorFlow); with qubit-wise noise, the exact "
            "noisy engine of the dynamic circuit; with a device's noise (or a fold), the exact "
            "noisy engine of the layered program placed on that device; with a calibration, the "
            "prediction of a calibrated run",
        ),
        Backend(
            "cirq",
            _load(CIRCUITS, "build_cirq"),
            NOISE | LAYERED,
            slots=4,
            about="`cirq.Simulator` on the layered program",
        ),
        Backend(
            "cirq:dynamic",
            _load(CIRCUITS, "build_cirq_dynamic"),
            DYNAMIC,
            about="`cirq.Simulator` on the dynamic circuit (feed-forward inside; one simulation "
            "per input: the reference, and slow)",
        ),
        Backend(
            "natq:dynamic",
            _load(CIRCUITS, "build_natq_dynamic"),
            DYNAMIC,
            about="`NatqSampler` on the dynamic circuit: exact, every shot of an input at once",
        ),
        Backend(
            "qsim",
            _load(CIRCUITS, "build_qsim"),
            NOISE | LAYERED,
            slots=4,
            about="qsim on the layered program: noiseless and canonical in qsim's C++ form "
            "directly, else qsimcirq's sampler (with noise: trajectories)",
        ),
        Backend(
            "tfq",
            _load("natq_cirq.runners.tfq"),
            {"model", "layered", "slots", "shards"},
            1,
            tensorflow=True,
            needs=("tensorflow_quantum",),
            about="TensorFlow Quantum's batched state op on the layered program",
        ),
        Backend(
            "qvm",
            _load(CIRCUITS, "build_qvm"),
            LAYERED,
            4,
            own_noise=True,
            about="cirq_google's noisy quantum virtual machine of the processor (rainbow, "
            "weber, willow_pink) on the layered program placed on it",
        ),
        Backend(
            "engine",
            _load(CIRCUITS, "build_engine"),
            LAYERED,
            0,
            own_noise=True,
            simulated=False,
            about="Google hardware through cirq_google's Engine (a Google Cloud project and "
            "application-default credentials; a dry run plans without them)",
        ),
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
        if not processor:
            raise NatqError(f"{base} needs a processor: --backend {base}:PROCESSOR")
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
    """The runner of a backend (see the module docstring), after :meth:`Backend.check`.

    Args:
        backend: ``analytic``, ``cirq``, ``cirq:dynamic``, ``qsim``, ``tfq``, ``qvm:PROCESSOR`` or
            ``engine:PROCESSOR``.
        options: :class:`RunOptions`; or give its fields as keywords.
        program: a compiled program to run instead of compiling the model in memory.
        engine: an engine object for ``engine:`` (tests pass cirq_google's virtual engine).
        **fields: :class:`RunOptions` and :class:`~natq_cirq.target.Target` fields
            (:meth:`RunOptions.make`: ``noise`` may be text).
    """
    if options is None:
        options = RunOptions.make(**fields)
    elif fields:
        raise NatqError("give either options or their fields, not both")
    entry, processor = lookup(backend)
    target = options.target.on(processor)
    entry.check(target, program, backend)
    return entry.build(processor, replace(options, target=target), program, engine)


# The backends that run (or, analytic, predict) layered read-outs on a processor's slots.
CALIBRATED = tuple(name for name, entry in BACKENDS.items() if "calibration" in entry.accepts)


__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "CALIBRATED",
    "MAX_SIMULATED_SLOTS",
    "lookup",
    "make_runner",
]
