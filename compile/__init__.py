"""natq_cirq.compile: trained weights and inputs lowered into Cirq circuits.

See :mod:`natq_cirq.compile.circuits` for the two modes (dynamic, layered) and the measurement-key
scheme, and :mod:`natq_cirq.compile.gates` for the gates.
"""

from natq_cirq.compile.circuits import (
    LayeredRule,
    LayerState,
    ancilla_qubit,
    dynamic_circuit,
    layer_circuit,
    measurement_key,
    neuron_qubit,
    sample_dynamic,
    sample_layered,
    theta_symbol,
)
from natq_cirq.compile.gates import FeedForwardRotation, WeakMeasurementEntangler, json_resolver

__all__ = [
    "FeedForwardRotation",
    "LayerState",
    "LayeredRule",
    "WeakMeasurementEntangler",
    "ancilla_qubit",
    "dynamic_circuit",
    "json_resolver",
    "layer_circuit",
    "measurement_key",
    "neuron_qubit",
    "sample_dynamic",
    "sample_layered",
    "theta_symbol",
]
