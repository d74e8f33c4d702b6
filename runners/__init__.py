"""natq_cirq.runners: execute a naturally quantized network on simulators and Google hardware.

``make_runner(backend, program=...).run(model, x, shots, seed)`` returns predictions, per-shot
predictions and the hidden bits, whatever the backend (:mod:`natq_cirq.runners.backends` lists
them; layered backends execute a :class:`natq_cirq.compile.Program`).
"""

from natq_cirq.runners.backends import (
    BACKENDS,
    AnalyticRunner,
    DynamicCircuitRunner,
    RunOptions,
    make_runner,
)
from natq_cirq.runners.base import Runner, RunResult, read_out
from natq_cirq.runners.executors import SamplerSlotExecutor, SlotExecutor
from natq_cirq.runners.layered import LayeredRunner
from natq_cirq.runners.sampler import NatqSampler

__all__ = [
    "BACKENDS",
    "AnalyticRunner",
    "DynamicCircuitRunner",
    "LayeredRunner",
    "NatqSampler",
    "RunOptions",
    "RunResult",
    "Runner",
    "SamplerSlotExecutor",
    "SlotExecutor",
    "make_runner",
    "read_out",
]
