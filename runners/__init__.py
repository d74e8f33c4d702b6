"""natq_cirq.runners: execute a naturally quantized network on simulators and Google hardware.

``make_runner(backend, program=...).run(model, x, shots, seed)`` returns predictions, per-shot
predictions and the hidden bits, whatever the backend (:mod:`natq_cirq.runners.registry` lists
them; layered backends execute a :class:`natq_cirq.compile.Program`).

Importing this package loads neither Cirq nor TensorFlow: each backend's module (and the classes
below that live there) is imported when first used (PEP 562), so a run loads only what its
backend needs.
"""

import importlib

from natq_cirq.runners.base import Runner, RunResult, read_out
from natq_cirq.runners.options import RunOptions
from natq_cirq.runners.registry import BACKENDS, make_runner

_LAZY = {
    "AnalyticRunner": "natq_cirq.runners.analytic",
    "NoisyAnalyticRunner": "natq_cirq.runners.noisy_analytic",
    "NoisyLayeredRunner": "natq_cirq.runners.noisy_analytic",
    "CalibratedLayeredRunner": "natq_cirq.runners.noisy_analytic",
    "calibrate": "natq_cirq.runners.calibrate",
    "plan_calibration": "natq_cirq.runners.calibrate",
    "DynamicCircuitRunner": "natq_cirq.runners.backends",
    "LayeredRunner": "natq_cirq.runners.layered",
    "NatqSampler": "natq_cirq.runners.sampler",
    "SamplerSlotExecutor": "natq_cirq.runners.executors",
    "SlotExecutor": "natq_cirq.runners.executors",
    "TfqSlotExecutor": "natq_cirq.runners.tfq",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "AnalyticRunner",
    "CalibratedLayeredRunner",
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
    "calibrate",
    "make_runner",
    "plan_calibration",
    "read_out",
]
