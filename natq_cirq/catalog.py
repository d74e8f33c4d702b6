"""The processors and gate sets natq-cirq knows, by name: what the command line checks at once.

Plain data (no Cirq import), so ``natq`` refuses an unknown ``--device`` before loading anything
heavy. :mod:`natq_cirq.hardware.devices` builds its processor registry from :data:`PROCESSORS`.
"""

GATESETS = ("cz", "sqrt_iswap", "sycamore")

# processor -> (its native two-qubit gate set, the one its calibration characterizes;
#               natq-cirq's data folder of its files, or None when cirq_google ships them)
PROCESSORS: dict[str, tuple[str, str | None]] = {
    "rainbow": ("sqrt_iswap", None),
    "weber": ("sqrt_iswap", None),
    "willow_pink": ("cz", "willow_pink"),
}

__all__ = ["GATESETS", "PROCESSORS"]
