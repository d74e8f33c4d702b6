"""natq_cirq.runners: execute a naturally quantized network on simulators and Google hardware.

``make_runner(backend, program=...).run(model, x, shots, seed)`` returns predictions, per-shot
predictions and the hidden bits, whatever the backend (:mod:`natq_cirq.runners.backends` lists
them; layered backends execute a :class:`natq_cirq.compile.Program`).

Importing this package does not load TensorFlow: the exact engines (``analytic``) and TFQ load it
when they are used, and their runner classes are imported on first access.
"""

import importlib

from natq_cirq.runners.backends import (
    BACKENDS,
    DynamicCircuitRunner,
    make_runner,
)
from natq_cirq.runners.base import Runner, RunResult, read_out
from natq_cirq.runners.executors import SamplerSlotExecutor, SlotExecutor
from natq_cirq.runners.layered import LayeredRunner
from natq_cirq.runners.options import RunOptions
from natq_cirq.runners.sampler import NatqSampler

# Names whose modules load TensorFlow: imported when first used (PEP 562).
_LAZY = {
    "AnalyticRunner": "natq_cirq.runners.analytic",
    "NoisyAnalyticRunner": "natq_cirq.runners.analytic",
    "NoisyLayeredRunner": "natq_cirq.runners.analytic",
    "TfqSlotExecutor": "natq_cirq.runners.tfq",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "AnalyticRunner",
    "DynamicCircuitRunner",
    "LayeredRunner",
    "NatqSampler",
    "NoisyAnalyticRunner",
    "NoisyLayeredRunner",
    "RunOptions",
    "RunResult",
    "Runner",
    "SamplerSlotExecutor",
    "SlotExecutor",
    "TfqSlotExecutor",
    "make_runner",
    "read_out",
]
