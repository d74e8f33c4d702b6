"""Files: atomic writes, ``model.npz`` (docs/commands.md), JSON results, input arrays.

``model.npz`` holds ``W0 ... WL`` (``h = d @ W``), ``a`` and ``g`` as 0-d floats, and an optional
``config``: a 0-d string array holding JSON. A file with only ``W*``, ``a``, ``g`` loads with the
documented defaults: persistent neuron memory, inputs already scaled (``"scaling": "unit"``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from natq_cirq import physics
from natq_cirq.errors import NatqError
from natq_cirq.physics import ClassicalStochasticNeuron, Knobs
from natq_cirq.resources import check_memory

import numpy as np

MODEL_DEFAULTS = {"memory": physics.DEFAULT_MEMORY, "scaling": "unit"}


def atomic_write(
    path: str | os.PathLike, write: Callable[[Any], None], binary: bool = True
) -> Path:
    """Write a file through ``write(handle)`` into a temporary sibling, then rename it into place.

    Readers never see a half-written file, and an interrupted write leaves the old file intact.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise NatqError(f"cannot write {path}: {error.strerror}; choose a writable path") from None
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise NatqError(
                f"cannot write {path}: {error.strerror} (free space or the file-size limit for "
                f"the data; nothing partial was left, {path} is as it was)"
            ) from None
        raise
    return path


@contextlib.contextmanager
def run_lock(target: str | os.PathLike):
    """Hold the lock of a run's output (a training folder, a results file) while the run works.

    The lock is ``.NAME.lock`` beside ``target`` (outside a folder that ``--force`` may empty),
    taken with ``flock``: a second process gets one line naming the holder's PID, and the lock of a
    process that died is released by the kernel, so a stale lock is simply taken over.
    """
    target = Path(target)
    check_writable(target)
    created = make_folders(target.parent)
    path = target.parent / f".{target.name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise NatqError(
                f"{target} is in use by another natq process (PID {holder}); wait for it to "
                "finish or choose another output"
            ) from None
        # The holder before us removes the file as it leaves: lock the file that is there now.
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Nothing of a run is left behind but its output: the lock, and the folders it made for
        # an output that was never written.
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)  # releases the lock
        if not target.exists():
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty


NAME_MAX = 255  # bytes in one file name (Linux, macOS)
JOURNAL_MARKER = ".natq-journal"  # inside every journal folder natq makes: the folder is natq's


def journal_folder(folder: str | os.PathLike) -> Path:
    """Make (or reuse) a journal folder, marked as natq's own so that it may later remove it."""
    folder = Path(folder)
    if folder.exists() and not (folder / JOURNAL_MARKER).is_file():
        if not folder.is_dir() or any(folder.iterdir()):
            raise NatqError(
                f"{folder} exists and is not a natq journal; move it, or choose another output"
            )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / JOURNAL_MARKER).touch()
    return folder


def remove_journal(folder: str | os.PathLike) -> bool:
    """Remove a journal folder natq made (marked); anything else is left alone. Returns if removed."""
    folder = Path(folder)
    if not (folder / JOURNAL_MARKER).is_file():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


def read_journal_entry(path: str | os.PathLike, key: str, shape: tuple) -> np.ndarray | None:
    """A journaled array of ``shape``, or ``None`` when there is none or it is damaged.

    A damaged entry (unreadable, or not the array the run expects) is set aside beside itself as
    ``NAME.damaged`` (kept for inspection, never reused) with one warning, and recomputed.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            array = saved[key]
        if array.shape == tuple(shape):
            return array
        problem = f"shape {array.shape}, expected {tuple(shape)}"
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        problem = type(error).__name__
    aside = path.with_name(path.name + ".damaged")
    os.replace(path, aside)
    print(
        f"natq: warning: journal entry {path.name} is damaged ({problem}); set aside as "
        f"{aside.name}, recomputing it",
        file=sys.stderr,
    )
    return None


def check_output(out: str | os.PathLike, inputs: Sequence[str | os.PathLike | None]) -> None:
    """Refuse an output path that is a directory, a non-regular file, or one of the inputs."""
    out = Path(out)
    # Beside OUT natq makes .OUT.lock, .OUT.XXXXXXXX.tmp (atomic writes) and OUT.journal.
    longest = len(out.name.encode()) + len("..XXXXXXXX.tmp")
    if longest > NAME_MAX:
        raise NatqError(
            f"the output name {out.name[:24]}… is {len(out.name.encode())} bytes; with the files "
            f"natq writes beside it, names stay under {NAME_MAX} bytes: at most "
            f"{NAME_MAX - len('..XXXXXXXX.tmp')}"
        )
    if out.is_dir():
        raise NatqError(f"{out} is a directory; name a file")
    if out.exists() and not out.is_file():
        raise NatqError(f"{out} is not a regular file; name a file")
    for given in inputs:
        if given is None:
            continue
        same = out.resolve() == Path(given).resolve()
        if not same and out.exists() and Path(given).exists():
            same = os.path.samefile(out, given)
        if same:
            raise NatqError(f"the output {out} is an input of this command ({given}); name another")


def write_texts(texts: dict[str | os.PathLike, str]) -> list[Path]:
    """Write several text files as a set: all of them, or (on an error) none of them new.

    Every file is first written and synced beside its final name; only then are they renamed into
    place, so a full disk while writing leaves every old file as it was and no new one. Before the
    renames the old versions of all but the first file are removed: a kill between two renames
    leaves the first file new and the others absent, never a new file beside an old one of
    another set.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in texts.items():
            path = Path(path)
            staging = path.with_name(f".{path.name}.set")
            atomic_write(staging, lambda handle, text=text: handle.write(text), binary=False)
            staged.append((str(staging), path))
        for _, path in staged[1:]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for staging, path in staged:
            os.replace(staging, path)
    finally:
        for staging, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(staging)
    return [path for _, path in staged]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Atomically write ``data`` as indented JSON."""
    text = json.dumps(data, indent=1, default=_json_default) + "\n"
    return atomic_write(path, lambda handle: handle.write(text), binary=False)


def write_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """Atomically write a NumPy ``.npz`` archive."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


MAX_DOCUMENT_BYTES = 256 * 2**20  # a whole processor's program or calibration is a few MiB
# What a model archive may unpack to: the paper's 3 x 512 network is 4 MiB; this is 250 times it.
MAX_MODEL_BYTES = 2**30


def read_document(path: Path, kind: str, format: str, version: int, hint: str) -> dict:
    """The JSON document of a natq file of ``kind`` (``program``, ``calibration``), checked.

    A missing file, a file that is not JSON, another format (``hint`` says how to write the right
    one) or another version is one :class:`NatqError` line.
    """
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise NatqError(
                f"{path} is {size / 2**20:.0f} MiB; a natq {kind} is at most "
                f"{MAX_DOCUMENT_BYTES // 2**20} MiB"
            )
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise NatqError(f"{kind} file {path} not found") from None
    except RecursionError:
        raise NatqError(f"{path} is not a natq {kind} (JSON nested too deep)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NatqError(f"{path} is not a JSON {kind} ({type(error).__name__})") from None
    if not isinstance(document, dict) or document.get("format") != format:
        raise NatqError(f"{path} is not a natq {kind} ({hint})")
    if document.get("version") != version:
        raise NatqError(f"{path} is a version {document.get('version')} {kind}; expected {version}")
    return document


def check_writable(path: str | os.PathLike) -> None:
    """Fail early, in one line, if ``path``'s folder cannot be created or written.

    Nothing is created here: a command refused later leaves no new folder behind.
    """
    folder = Path(path).parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NatqError(
            f"cannot create {folder}: {existing} is not a folder; choose a writable path"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise NatqError(f"{existing} is not writable; choose a writable path")


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    missing.reverse()
    for made in missing:
        try:
            made.mkdir()
        except FileExistsError:
            pass
        except OSError as error:
            raise NatqError(
                f"cannot create {made}: {error.strerror}; choose a writable path"
            ) from None
    return missing


@dataclass
class ModelFile:
    """A trained network as stored in ``model.npz``.

    Attributes:
        kernels: ``[W0, ..., WL]`` float32, ``W0 (M, N)``, hidden ``(N, N)``, last ``(N, P)``.
        knobs: ``a``, ``g`` and the neuron memory mode.
        config: everything else (scaling, training data, seed, versions ...).
    """

    kernels: list[np.ndarray]
    knobs: Knobs
    config: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_kernels(self.kernels)

    @property
    def input_dim(self) -> int:
        return self.kernels[0].shape[0]

    @property
    def hidden(self) -> int:
        return self.kernels[0].shape[1]

    @property
    def layers(self) -> int:
        return len(self.kernels) - 1

    @property
    def outputs(self) -> int:
        return self.kernels[-1].shape[1]

    @property
    def scaling(self) -> str:
        return self.config.get("scaling", MODEL_DEFAULTS["scaling"])

    @property
    def stochastic_neuron(self) -> ClassicalStochasticNeuron | None:
        """The classical stochastic neuron of a baseline model (``None``: the quantum network)."""
        return ClassicalStochasticNeuron.coerce(self.config.get("stochastic_neuron"))

    def deterministic(self) -> ModelFile:
        """The same weights as the deterministic ``sgn`` network (``a = 0, g = pi/2``, no noise)."""
        config = {k: v for k, v in self.config.items() if k != "stochastic_neuron"}
        return ModelFile(self.kernels, Knobs(memory=self.knobs.memory), config)

    def digest(self) -> str:
        """SHA-256 of what the network computes: the weights (float32), the knobs and the neuron."""
        what = (self.knobs.a, self.knobs.g, self.knobs.memory)
        if self.stochastic_neuron is not None:  # quantum models keep their earlier digests
            what += (str(self.stochastic_neuron),)
        digest = hashlib.sha256(repr(what).encode())
        for w in self.kernels:
            w = np.ascontiguousarray(w, dtype=np.float32)
            digest.update(repr(w.shape).encode() + w.tobytes())
        return digest.hexdigest()

    def describe(self) -> str:
        """``784 -> 3 x 512 -> 10, a=..., g=..., persistent`` (or the baseline's neuron)."""
        shape = f"{self.input_dim} -> {self.layers} x {self.hidden} -> {self.outputs}"
        if self.stochastic_neuron is not None:
            return f"{shape}, classical stochastic neuron {self.stochastic_neuron}"
        return f"{shape}, a={self.knobs.a:.4g}, g={self.knobs.g:.4g}, {self.knobs.memory} memory"


def check_kernels(kernels: Sequence[np.ndarray]) -> None:
    """Shapes chain ``(M, N), (N, N) ..., (N, P)``, at least one hidden layer, all finite."""
    if len(kernels) < 2:
        raise NatqError("a model needs at least W0 and W1 (one hidden layer and the read-out)")
    for k, kernel in enumerate(kernels):
        if np.ndim(kernel) != 2:
            raise NatqError(f"W{k} must be a matrix, got shape {np.shape(kernel)}")
        if not np.all(np.isfinite(kernel)):
            raise NatqError(f"W{k} contains NaN or inf; the model file is damaged")
    hidden = kernels[0].shape[1]
    for k, kernel in enumerate(kernels[1:], start=1):
        expected_rows = hidden
        if kernel.shape[0] != expected_rows or (k < len(kernels) - 1 and kernel.shape[1] != hidden):
            raise NatqError(
                f"W{k} has shape {kernel.shape}; hidden layers need ({hidden}, {hidden}) and the "
                f"read-out ({hidden}, P)"
            )


def save_model(path: str | os.PathLike, model: ModelFile) -> Path:
    """Atomically write ``model.npz``."""
    arrays = {f"W{k}": np.asarray(w, np.float32) for k, w in enumerate(model.kernels)}
    config = {**model.config, "memory": model.knobs.memory}
    return write_npz(
        path,
        **arrays,
        a=np.float64(model.knobs.a),
        g=np.float64(model.knobs.g),
        config=np.array(json.dumps(config, default=_json_default)),
    )


def load_model(path: str | os.PathLike) -> ModelFile:
    """Read and validate ``model.npz``; every problem is one :class:`NatqError` line."""
    path = Path(path)
    if not path.is_file():
        raise NatqError(f"model file {path} not found")
    try:
        if zipfile.is_zipfile(path):  # declared sizes, checked before anything is decompressed
            with zipfile.ZipFile(path) as members:
                declared = sum(member.file_size for member in members.infolist())
            if declared > MAX_MODEL_BYTES:
                raise NatqError(
                    f"{path} unpacks to {declared / 2**30:.1f} GiB; a model is at most "
                    f"{MAX_MODEL_BYTES / 2**30:.0f} GiB (refused before decompressing)"
                )
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with archive:
            contents = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise NatqError(f"{path} is not a readable .npz model file ({reason})") from None
    indices = sorted(
        int(match.group(1)) for key in contents if (match := re.fullmatch(r"W(\d+)", key))
    )
    if not indices:
        raise NatqError(f"{path} has no weight matrices W0 ... WL")
    if indices != list(range(len(indices))):
        missing = sorted(set(range(max(indices) + 1)) - set(indices))
        raise NatqError(f"{path} is missing {', '.join(f'W{k}' for k in missing)}")
    for key in ("a", "g"):
        if key not in contents:
            raise NatqError(f"{path} is missing the key {key!r} (a 0-d float)")
    config: dict = {}
    if "config" in contents:
        try:
            config = json.loads(str(contents["config"]))
        except json.JSONDecodeError:
            raise NatqError(f"{path}: 'config' is not valid JSON") from None
        if not isinstance(config, dict):
            raise NatqError(f"{path}: 'config' must hold a JSON object")
    for k in indices:
        dtype = contents[f"W{k}"].dtype
        if not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating):
            raise NatqError(f"{path}: W{k} must hold real numbers, not {dtype}")
    kernels = [np.asarray(contents[f"W{k}"], dtype=np.float32) for k in indices]
    memory = config.get("memory", MODEL_DEFAULTS["memory"])
    knobs = Knobs(_scalar(contents["a"], "a", path), _scalar(contents["g"], "g", path), memory)
    try:  # the neuron's text and its knobs, by the check every network makes
        physics.check_stochastic_neuron(config.get("stochastic_neuron"), knobs, noisy=False)
    except NatqError as error:
        raise NatqError(f"{path}: {error}") from None
    return ModelFile(kernels, knobs, config)


def _scalar(value: np.ndarray, name: str, path: Path) -> float:
    dtype = np.asarray(value).dtype
    if (
        np.size(value) != 1
        or not np.issubdtype(dtype, np.number)
        or np.issubdtype(dtype, np.complexfloating)
    ):
        raise NatqError(f"{path}: {name!r} must be a single number")
    return float(np.asarray(value).reshape(()))


def _load_npy(path: Path, what: str) -> np.ndarray:
    """An array file, or one :class:`NatqError` line saying why not."""
    if not path.is_file():
        raise NatqError(f"{what} file {path} not found")
    try:
        # The header first (mapped, nothing read): its size is planned before its values load.
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        if not isinstance(mapped, np.ndarray):
            raise ValueError("an archive, not one array")
        check_memory(2.0 * mapped.size * max(mapped.itemsize, 4), f"{path}", "give fewer rows")
        return np.array(mapped)
    except (OSError, ValueError, EOFError) as error:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise NatqError(f"{path} is not a readable .npy array ({reason})") from None


def load_inputs(path: str | os.PathLike, width: int | None = None) -> np.ndarray:
    """Read ``X.npy`` ``(n, M)`` and check it: 2-D, numeric, finite, ``M == width``."""
    return check_inputs(_load_npy(Path(path), "inputs"), width, str(path))


def check_inputs(x: Any, width: int | None = None, name: str = "inputs") -> np.ndarray:
    """Validate an input batch and return it as float32 ``(n, M)``."""
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise NatqError(f"{name} must be a numeric array of shape (n, M), got {x.shape} {x.dtype}")
    if len(x) == 0:
        raise NatqError(f"{name} is empty")
    if width is not None and x.shape[1] != width:
        raise NatqError(f"{name} has {x.shape[1]} features per row but the model expects {width}")
    if not np.all(np.isfinite(x)):
        raise NatqError(f"{name} contains NaN or inf")
    return x.astype(np.float32, copy=False)


def load_labels(path: str | os.PathLike, count: int, classes: int) -> np.ndarray:
    """Read ``Y.npy``: ``count`` whole numbers in ``[0, classes)``, else one :class:`NatqError`."""
    path = Path(path)
    labels = np.asarray(_load_npy(path, "labels")).reshape(-1)
    if not np.issubdtype(labels.dtype, np.number) or np.iscomplexobj(labels):
        raise NatqError(f"{path}: labels must be real numbers, got {labels.dtype}")
    if len(labels) != count:
        raise NatqError(f"{path} has {len(labels)} labels for {count} inputs")
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
        raise NatqError(f"{path}: labels must be whole numbers")
    if np.any(labels < 0) or np.any(labels >= classes):
        raise NatqError(f"{path}: labels must lie in [0, {classes})")
    return labels.astype(np.int64)
