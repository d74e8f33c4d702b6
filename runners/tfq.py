"""TensorFlow Quantum as a backend (``--backend tfq``), loaded only when asked for."""

from __future__ import annotations

from natq_cirq.compile import Program
from natq_cirq.engine.tfq_layers import tfq_ready
from natq_cirq.hardware.readout import slot_key, slot_symbol
from natq_cirq.runners.base import Runner
from natq_cirq.runners.executors import SlotExecutor
from natq_cirq.runners.layered import LayeredRunner, check_program, layered_compile
from natq_cirq.runners.options import RunOptions

import cirq
import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq
from tensorflow_quantum.core.ops import tfq_simulate_ops

SLOTS = 1  # read-outs per execution of an in-memory program


class TfqSlotExecutor(SlotExecutor):
    """The program's circuit simulated in batches by TensorFlow Quantum's state op.

    The circuit is serialized once and tiled; TFQ computes every execution's final state in one
    op call, and the read-outs are drawn from those states' exact probabilities with a seeded
    NumPy generator (TFQ's own sampling op cannot be seeded).
    """

    def __init__(self, program: Program):
        self.slots = program.slot_count
        body, measured = tfq_ready(program.circuit)
        self.qubits = sorted(body.all_qubits() | set(measured.values()))
        body.append(cirq.I.on_each(q for q in self.qubits if q not in body.all_qubits()))
        self.program = tfq.convert_to_tensor([body])
        self.names = tf.constant([slot_symbol(s).name for s in range(self.slots)])
        # TFQ's C++ state simulation op itself: tfq.get_state_op() wraps it in a conversion to a
        # ragged tensor that warns (a cast of complex to float, retracing) at every call and
        # pads nothing here: every execution has the same qubits.
        self.state_op = tfq_simulate_ops.tfq_simulate_state
        self.positions = [self.qubits.index(measured[slot_key(s)]) for s in range(self.slots)]

    def execute(self, angles: np.ndarray, repetitions: int, rng: np.random.Generator) -> np.ndarray:
        values = tf.constant(angles, dtype=tf.float32)
        programs = tf.tile(self.program, [len(angles)])
        states = self.state_op(programs, self.names, values).numpy()
        n = len(self.qubits)
        probabilities = np.abs(states[:, : 2**n].reshape((len(angles),) + (2,) * n)) ** 2
        out = np.empty((len(angles), repetitions, self.slots), dtype=np.int8)
        for s, position in enumerate(self.positions):
            axes = tuple(i + 1 for i in range(n) if i != position)
            p_one = probabilities.sum(axis=axes)[:, 1] / probabilities.sum(
                axis=tuple(range(1, n + 1))
            )
            draws = rng.random((len(angles), repetitions)) < p_one[:, None]
            out[:, :, s] = np.where(draws, -1, 1)
        return out

    def describe(self) -> str:
        return f"TFQ state op, {self.slots} slot(s) per circuit"


def build(processor, options: RunOptions, program, engine) -> Runner:
    if program is not None:
        check_program("tfq", program, None)
    return LayeredRunner(
        "tfq",
        TfqSlotExecutor,
        layered_compile(SLOTS, options),
        program,
        8192,
        options.journal,
        options.progress,
        options.target,
    )
