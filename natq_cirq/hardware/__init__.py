"""The Cirq side: natq's physics as gates and circuits on Google processors, with their noise.

:mod:`~natq_cirq.hardware.gates` (the entangler and the feed-forward rotation),
:mod:`~natq_cirq.hardware.readout` (the one read-out block, keys and symbols),
:mod:`~natq_cirq.hardware.devices` (gate sets, devices, placement, folding),
:mod:`~natq_cirq.hardware.noise` (Cirq noise models of a target),
:mod:`~natq_cirq.hardware.noisy` (the exact noisy engines' tables) and
:mod:`~natq_cirq.hardware.calibration` (read-out calibrations). Nothing here loads TensorFlow
(tests/test_architecture.py checks).
"""
