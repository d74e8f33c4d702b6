"""The ``natq`` command (also ``python -m natq_cirq``): one module per command.

``train`` (:mod:`~natq_cirq.cli.train`), ``run`` (:mod:`~natq_cirq.cli.run`), ``compile``
(:mod:`~natq_cirq.cli.compile`), ``calibrate`` (:mod:`~natq_cirq.cli.calibrate`), ``demo``
(:mod:`~natq_cirq.cli.demo`); the parser and entry point are :mod:`~natq_cirq.cli.main`. Flags of
option dataclasses are generated from their fields (:mod:`~natq_cirq.cli.flags`).
"""

from natq_cirq.cli.main import main, make_parser
from natq_cirq.cli.numbers import angle, number, slot_count

__all__ = ["angle", "main", "make_parser", "number", "slot_count"]
