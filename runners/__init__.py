"""natq_cirq.runners: execute a naturally quantized network on simulators and Google hardware.

``make_runner(backend).run(model, x, shots, seed)`` returns predictions, per-shot predictions and
the hidden bits, whatever the backend (:mod:`natq_cirq.runners.backends` lists them).
"""

from natq_cirq.runners.backends import BACKENDS, AnalyticRunner, CirqRunner, make_runner
from natq_cirq.runners.base import Runner, RunResult, read_out
from natq_cirq.runners.layered import LayeredRunner, SamplerSlotExecutor, SlotExecutor

__all__ = [
    "BACKENDS",
    "AnalyticRunner",
    "CirqRunner",
    "LayeredRunner",
    "RunResult",
    "Runner",
    "SamplerSlotExecutor",
    "SlotExecutor",
    "make_runner",
    "read_out",
]
