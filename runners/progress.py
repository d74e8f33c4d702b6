"""Progress bars of the runners, without TensorFlow: tqdm (which Cirq itself depends on).

Keras' ``Progbar`` would load TensorFlow, which the circuit backends (``cirq``, ``qsim``,
``qvm:``, ``engine:``) do not otherwise need; a run on them starts in a fraction of the time.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """A bar of ``total`` items counted in ``unit`` (on stderr), or nothing when not ``enabled``."""

    def __init__(self, total: int, unit: str, enabled: bool = True):
        self._bar = (
            tqdm(total=int(total), unit=f" {unit}", unit_scale=True, file=sys.stderr, leave=True)
            if enabled
            else None
        )

    def add(self, count: int) -> None:
        """``count`` more items are done."""
        if self._bar is not None:
            self._bar.update(int(count))

    def to(self, done: int) -> None:
        """``done`` items are done in all (never moves back)."""
        if self._bar is not None and done > self._bar.n:
            self._bar.update(int(done) - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
