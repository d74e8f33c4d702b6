"""Resources planned before they are allocated: memory a run needs against what the machine has.

:func:`check_memory` refuses, in one line, a request whose estimate exceeds the memory available
now (``MemAvailable``), before anything large is allocated. The estimates live with what they
estimate (:meth:`natq_cirq.runners.base.Runner.memory_needed`).
"""

from __future__ import annotations

import os

from natq_cirq.errors import NatqError

HEADROOM = 0.9  # of the available memory a run may plan to use


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (Linux ``MemAvailable``, else total)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def human(size: float) -> str:
    """``size`` bytes as ``12.3 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} EiB"


def check_memory(needed: float, what: str, remedy: str) -> None:
    """Refuse ``what`` when it needs more than the machine has available (one line)."""
    available = available_memory()
    if needed > HEADROOM * available:
        raise NatqError(
            f"{what} needs ~{human(needed)} of memory; this machine has {human(available)} "
            f"available: {remedy}"
        )


__all__ = ["available_memory", "check_memory", "human"]
