"""How natq loads its heavy libraries: some at first use, all with the garbage collector paused.

:class:`DeferredModule`: ``cirq_google`` (with ``google.api_core``, gRPC and ``google.auth``) is
slow to import, yet only placed, virtual-machine, Engine and device-noise paths use it. The
modules that need it bind it at their top, as with any import, and the library loads when an
attribute is first read.

:func:`collector_paused`: importing TensorFlow or Cirq creates a few hundred thousand objects, and
the cyclic garbage collector scans them again and again while they appear; nothing an import
creates is garbage worth those scans. Frozen afterwards, they also stay out of every later full
collection, the interpreter's last one at exit included.

What each costs and saves on this project's machine: ``python -m experiments.benchmarks.startup``
(``experiments/benchmarks/results/startup.json``).

:func:`require`: the optional packages (:data:`EXTRAS`, one place) are checked before anything
uses them, and a missing one is one line that says what to install.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from natq_cirq.errors import NatqError

# Optional packages: module -> (what it is, the natq-cirq extra that installs it). TensorFlow
# Quantum 0.7.6 pins TensorFlow 2.18 and Cirq 1.5, so the core does not depend on it.
EXTRAS = {"tensorflow_quantum": ("TensorFlow Quantum", "tfq")}


class MissingExtra(NatqError, ModuleNotFoundError):
    """An optional package is not installed (a :class:`NatqError`, and an ``ImportError``)."""


def installed(module: str) -> bool:
    """Whether a package can be imported (found without importing it).

    ``sys.modules[module] = None`` blocks an import, as Python's import system reads it.
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    return importlib.util.find_spec(module) is not None


def require(module: str, user: str) -> None:
    """Refuse in one line when ``user`` needs an optional package of :data:`EXTRAS` that is missing.

    Args:
        module: the package's import name (``tensorflow_quantum``).
        user: what needs it, for the message (``the tfq backend``).

    Raises:
        MissingExtra: it is not installed; the message names the extra to install.
    """
    if not installed(module):
        name, extra = EXTRAS[module]
        raise MissingExtra(
            f"{user} needs {name}, which is not installed: pip install 'natq-cirq[{extra}]'",
            name=module,
        )


class DeferredModule:
    """Stands for a module until one of its attributes is read, then imports it (once).

    Unlike ``importlib.util.LazyLoader`` it puts nothing in ``sys.modules``: a module imported
    lazily there and a submodule imported normally later (``from cirq_google.engine import
    ...``) would execute the package twice.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported at first use>"


@contextmanager
def collector_paused(freeze: bool = False) -> Iterator[None]:
    """Run the block (large imports) with Python's cyclic garbage collector off, then on again.

    Args:
        freeze: then move every object alive into the collector's permanent generation
            (``gc.freeze``), so that no later full collection scans the libraries again, the
            one at interpreter exit included (after TensorFlow, most of the exit's time). For a
            process that owns its heap, the ``natq`` command; a library called from a user's
            session leaves it off.

    Nested or already paused: the outermost block turns the collector back on.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        gc.enable()


__all__ = ["EXTRAS", "DeferredModule", "MissingExtra", "collector_paused", "installed", "require"]
