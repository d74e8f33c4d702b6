"""Inference on the exact engine: S shots per input, voted (:mod:`natq_cirq.votes`), hidden bits kept."""

from __future__ import annotations

import time

from natq_cirq.engine import device_scope
from natq_cirq.engine.layers import NaturallyQuantizedNetwork
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, check_inputs
from natq_cirq.physics import Knobs
from natq_cirq.target import Target
from natq_cirq.votes import Predictions, majority_vote

import numpy as np


def predict(
    network: ModelFile | NaturallyQuantizedNetwork,
    x: np.ndarray,
    shots: int = 15,
    seed: int = 0,
    knobs: Knobs | None = None,
    record_bits: bool = True,
) -> Predictions:
    """Run ``shots`` shots of every input through the exact engine.

    Args:
        network: a :class:`natq_cirq.files.ModelFile` or a built
            :class:`natq_cirq.engine.layers.NaturallyQuantizedNetwork`.
        x: inputs ``(n, M)``, scaled as the model expects.
        shots: shots per input (``>= 1``).
        seed: seed of the sampling; the same seed gives the same bits.
        knobs: override the model's knobs (``Knobs()`` is deterministic inference).
        record_bits: keep the hidden outcomes (``n * S * L * N`` bytes).

    Returns:
        :class:`Predictions`.
    """
    if int(shots) < 1:
        raise NatqError(f"shots must be >= 1 (got {shots})")
    if isinstance(network, ModelFile):
        network = build_network(network)
    x = check_inputs(x, network.input_dim)
    start = time.perf_counter()
    with device_scope():
        logits, bits = network.sample(
            x, int(shots), knobs=knobs, seed=seed, record_bits=record_bits
        )
    seconds = time.perf_counter() - start
    shot_predictions = logits.argmax(axis=-1)
    return Predictions(
        predictions=majority_vote(shot_predictions, network.outputs),
        shot_predictions=shot_predictions,
        bits=bits,
        seconds=seconds,
    )


def build_network(model: ModelFile, noise: Target | None = None) -> NaturallyQuantizedNetwork:
    """A :class:`natq_cirq.engine.layers.NaturallyQuantizedNetwork` holding ``model``'s weights.

    ``noise``: simulated exactly in every pass (see :class:`natq_cirq.engine.layers.QuantumNeuronLayer`).
    """
    network = NaturallyQuantizedNetwork(
        input_dim=model.input_dim,
        hidden=model.hidden,
        layers=model.layers,
        outputs=model.outputs,
        a=model.knobs.a,
        g=model.knobs.g,
        memory=model.knobs.memory,
        gradient_estimator=model.config.get("gradient_estimator", "ste"),
        noise=noise,
        stochastic_neuron=model.stochastic_neuron,
    )
    network.set_kernels(model.kernels)
    return network
