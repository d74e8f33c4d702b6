"""The fused CPU kernel of ``fused_read_out.cc``, built with the machine's C++ compiler on first use.

A neuron that carries a state (weak read-out, persistent memory, ``a > 0``) costs about twenty-five
elementwise TensorFlow ops per layer, each a pass over memory; the kernel does the rotation angle,
the rotation, the sampled read-out and eq. 9's collapse in one pass, with TensorFlow's thread
pool. It is built once per TensorFlow version into ``$NATQ_CACHE`` (default
``~/.cache/natq_cirq``) with TensorFlow's own compile flags (``tf.sysconfig``) and loaded with
``tf.load_op_library``. Where it cannot be built, or a GPU is visible (the kernel is CPU-only), or
``NATQ_FUSE=0``, the engine runs the same formulas of :mod:`natq_cirq.physics` as separate
TensorFlow ops; tests hold the two equal.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import natq_cirq  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from natq_cirq.physics import Knobs

import tensorflow as tf

# AutoGraph must not convert these: it would read the generated op module's source wrongly.
_plain = tf.autograph.experimental.do_not_convert

SOURCE = Path(__file__).with_name("fused_read_out.cc")
FUSION_ENV = "NATQ_FUSE"
CACHE_ENV = "NATQ_CACHE"
# -fno-trapping-math lets the compiler vectorize the kernel's comparisons (no FP traps are used).
BUILD_FLAGS = ["-O3", "-fno-trapping-math", "-shared", "-fPIC"]

_library = None
_unavailable = False


@_plain
def enabled() -> bool:
    """Whether the engine should use the kernel: ``NATQ_FUSE`` is not ``0`` and no GPU is visible."""
    if os.environ.get(FUSION_ENV, "1").strip() == "0":
        return False
    return not tf.config.list_logical_devices("GPU") and load() is not None


def cache_dir() -> Path:
    """Where the built kernel is kept."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "natq_cirq"


def library_path() -> Path:
    """The cached library's name: a hash of the source, TensorFlow's version and the flags."""
    compile_flags, link_flags = tf.sysconfig.get_compile_flags(), tf.sysconfig.get_link_flags()
    key = hashlib.sha256(
        SOURCE.read_bytes()
        + repr((tf.__version__, BUILD_FLAGS, compile_flags, link_flags)).encode()
    ).hexdigest()[:16]
    return cache_dir() / f"fused_read_out-{key}.so"


def _private_dir(path: Path) -> Path:
    """``path`` created ``0700``; refused unless owned by this user and not writable by others."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(
            f"{path} is not a private cache (owner {info.st_uid}, mode {oct(info.st_mode & 0o777)})"
        )
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _trusted(library: Path) -> bool:
    """Whether a cached library is ours.

    Owned by this user, not group/world-writable, and with the content hash recorded when it
    was built (``NAME.sha256`` beside it).
    """
    record = library.with_name(library.name + ".sha256")
    try:
        info = library.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return False
        return record.read_text().strip() == _sha256(library)
    except OSError:
        return False


def _build(library: Path, compile_flags: list[str], link_flags: list[str]) -> None:
    """Compile the kernel beside its final name, record its hash, rename both into place."""
    print(f"natq: building the fused read-out kernel into {library} (once)", file=sys.stderr)
    # Built beside its final name and renamed: concurrent processes never see half a file.
    with tempfile.TemporaryDirectory(dir=library.parent) as scratch:
        built = Path(scratch) / library.name
        command = [os.environ.get("CXX", "g++"), *BUILD_FLAGS, str(SOURCE)]
        command += ["-o", str(built), *compile_flags, *link_flags]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=900)
        os.chmod(built, 0o700)
        record = Path(scratch) / (library.name + ".sha256")
        record.write_text(_sha256(built) + "\n")
        os.replace(built, library)
        os.replace(record, library.with_name(record.name))


@_plain
def load():
    """The loaded op library, building it if needed; ``None`` (one warning) if it cannot be had.

    The cache is a private directory (``0700``, this user's); a cached library is loaded only if
    it passes :func:`_trusted`, else it is rebuilt (one warning). A library that fails to load
    never crashes the run: the engine falls back to separate TensorFlow ops.
    """
    global _library, _unavailable
    if _library is not None or _unavailable:
        return _library
    compile_flags, link_flags = tf.sysconfig.get_compile_flags(), tf.sysconfig.get_link_flags()
    try:
        library = library_path()
        _private_dir(library.parent)
        if library.exists() and not _trusted(library):
            warnings.warn(
                f"natq_cirq: {library} is not the kernel this user built (owner, permissions "
                "or content hash); rebuilding it",
                stacklevel=2,
            )
            library.unlink()
        if not library.exists():
            _build(library, compile_flags, link_flags)
        _library = tf.load_op_library(str(library))
        tf.no_gradient("NatqCarriedReadOut")
    except (OSError, subprocess.SubprocessError, tf.errors.OpError) as error:
        _unavailable = True
        detail = getattr(error, "stderr", None) or str(error)
        warnings.warn(
            "natq_cirq: the fused read-out kernel is unavailable "
            f"({detail.strip().splitlines()[-1] if detail.strip() else error}); "
            "the engine uses separate TensorFlow ops (same results, slower)",
            stacklevel=2,
        )
    return _library


@_plain
def carried_read_out(h, d_prev, z, x, u, knobs: Knobs):
    """:func:`natq_cirq.physics.neuron_step` for ``a > 0`` and a carried state, fused.

    Arguments as in :func:`natq_cirq.physics.neuron_step`, every one of the same shape; ``z`` and
    ``x`` ``None`` for the basis state ``|d_prev>`` (layer 1). Returns ``(d, z, x)``.
    """
    from_basis = z is None
    return load().natq_carried_read_out(
        h,
        d_prev,
        d_prev if from_basis else z,  # not read when from_basis
        d_prev if from_basis else x,
        u,
        a=knobs.a,
        strength=knobs.strength,
        cos_g=math.cos(knobs.g),
        from_basis=from_basis,
    )
