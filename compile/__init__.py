"""natq_cirq.compile: trained networks lowered into executable Cirq programs.

:mod:`natq_cirq.compile.program` makes a :class:`Program` of one of two kinds
(:class:`LayeredProgram`: one placed, rewritten, validated slot circuit and the classical rule;
:class:`DynamicProgram`: one circuit with feed-forward, for one input or any);
:mod:`natq_cirq.compile.circuits` holds the dynamic circuit and :class:`LayeredRule`, the one
layer loop of layered execution. The gates are in :mod:`natq_cirq.hardware.gates`, the read-out
block and the key scheme in :mod:`natq_cirq.hardware.readout`, placement in
:mod:`natq_cirq.hardware.devices`.
"""

from natq_cirq.compile.circuits import LayeredRule, LayerState, dynamic_circuit, input_resolvers
from natq_cirq.compile.program import (
    DynamicProgram,
    LayeredProgram,
    Program,
    compile_dynamic,
    compile_layered,
    read_program,
)

__all__ = [
    "DynamicProgram",
    "LayerState",
    "LayeredProgram",
    "LayeredRule",
    "Program",
    "compile_dynamic",
    "compile_layered",
    "dynamic_circuit",
    "input_resolvers",
    "read_program",
]
