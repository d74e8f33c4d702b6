"""MNIST from the standard IDX files.

Where MNIST is looked for, in order:

1. the folder named by the environment variable ``NATQ_MNIST_DIR``, holding the four IDX files
   (gzipped ``*-ubyte.gz`` or raw ``*-ubyte``);
2. Keras' cache, ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras``), as
   ``keras.datasets.mnist.load_data()`` leaves it;
3. a download of that file into Keras' cache (machines with internet access only):
   ``python -m natq_cirq.data`` does it ahead of time.

Every file's SHA-256 is checked against the published one. When none works, the error lists what
was tried and the command that fixes it.
Defaults follow the paper's protocol: the first 5,000 training images for training, the 10,000 test
images as validation, pixels divided by 255. :class:`DataSpec` records these choices in every result.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from natq_cirq.errors import NatqError
from natq_cirq.flags import PROTOCOL, flag

import numpy as np

ENV_VAR = "NATQ_MNIST_DIR"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the original distribution files (gzipped and raw), as published with MNIST.
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Keras' copy of MNIST (keras.datasets.mnist.load_data): its origin and published SHA-256.
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FIX = (
    "python -m natq_cirq.data  (downloads MNIST into Keras' cache; or set NATQ_MNIST_DIR to a "
    "folder holding the four *-ubyte[.gz] IDX files)"
)
SCALINGS = ("unit", "signed")
_EXPECTED_COUNTS = {"train": 60000, "test": 10000}
_IDX_MAGIC = {3: 2051, 1: 2049}


@dataclass(frozen=True)
class DataSpec:
    """Which images a run trains and validates on, and how pixels are scaled.

    Attributes:
        train_size: number of training images, taken from ``train_offset`` on.
        train_offset: index of the first training image (default: the first 5,000 images).
        val_size: number of test images used as validation, from the start of the test set.
        scaling: ``"unit"`` (pixels / 255, default) or ``"signed"`` (2 * pixels / 255 - 1).
    """

    train_size: int = field(default=5000, metadata=flag("training images", group=PROTOCOL))
    train_offset: int = field(
        default=0,
        metadata=flag("first training image used (0: the first train-size images)", group=PROTOCOL),
    )
    val_size: int = field(
        default=10000, metadata=flag("test images used as validation", group=PROTOCOL)
    )
    scaling: str = field(
        default="unit",
        metadata=flag(
            "pixels/255 (unit) or 2*pixels/255-1 (signed)", choices=SCALINGS, group=PROTOCOL
        ),
    )

    def __post_init__(self) -> None:
        if self.scaling not in SCALINGS:
            raise NatqError(
                f"unknown scaling {self.scaling!r}; choose one of {', '.join(SCALINGS)}"
            )
        if self.train_size < 1 or self.train_offset < 0:
            raise NatqError("train size must be >= 1 and the offset >= 0")
        if self.train_offset + self.train_size > _EXPECTED_COUNTS["train"]:
            raise NatqError(
                f"train offset + size = {self.train_offset + self.train_size} exceeds the "
                f"{_EXPECTED_COUNTS['train']} MNIST training images"
            )
        if not 1 <= self.val_size <= _EXPECTED_COUNTS["test"]:
            raise NatqError(f"validation size must be in 1..10000 (got {self.val_size})")

    def to_dict(self) -> dict:
        """The spec as a JSON-ready dict (recorded in results)."""
        return {"dataset": "mnist", **asdict(self)}


@dataclass
class Dataset:
    """Scaled images and labels: ``x_* (n, 784) float32``, ``y_* (n,) int64``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    spec: DataSpec
    source: str


def scale(pixels: np.ndarray, scaling: str = "unit") -> np.ndarray:
    """Scale raw 0..255 pixels, flattened to ``(n, 784)`` float32."""
    x = pixels.reshape(len(pixels), -1).astype(np.float32) / np.float32(255.0)
    return 2.0 * x - 1.0 if scaling == "signed" else x


def keras_cache() -> Path:
    """Where Keras keeps its copy of MNIST."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "datasets" / "mnist.npz"


def _beside_checkout() -> list[Path]:
    # A convenience of the project's own checkout (its tests and CI keep MNIST in a shared folder
    # beside it); not documented, never named in messages.
    checkout = Path(__file__).resolve().parent.parent
    return [base.parent / "shared" / "data" / "mnist" for base in (checkout, Path.cwd())]


def find_mnist_dir() -> Path | None:
    """The folder of IDX files to read: ``NATQ_MNIST_DIR``, else one beside the checkout, or None."""
    if os.environ.get(ENV_VAR):
        path = Path(os.environ[ENV_VAR])
        if _missing_files(path):
            raise NatqError(
                f"{ENV_VAR}={path} lacks MNIST files ({', '.join(_missing_files(path))}); "
                "point it at a folder holding the four *-ubyte[.gz] IDX files"
            )
        return path
    if keras_cache().is_file():
        return None
    return next((path for path in _beside_checkout() if not _missing_files(path)), None)


def _missing_files(folder: Path) -> list[str]:
    return [
        name
        for name in FILES.values()
        if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
    ]


def read_idx(path: Path, verify: bool = True) -> np.ndarray:
    """Read one IDX file (gzipped or raw), checking its magic, shape and known checksum."""
    raw = path.read_bytes()
    if verify and path.name in SHA256 and hashlib.sha256(raw).hexdigest() != SHA256[path.name]:
        raise NatqError(
            f"{path} does not match the published SHA-256 of MNIST; the file is damaged"
        )
    data = gzip.decompress(raw) if path.suffix == ".gz" else raw
    if len(data) < 8:
        raise NatqError(f"{path} is too short to be an IDX file")
    ndim = data[3]
    magic = int.from_bytes(data[:4], "big")
    if ndim not in _IDX_MAGIC or magic != _IDX_MAGIC[ndim]:
        raise NatqError(f"{path} is not an MNIST IDX file (magic {magic})")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise NatqError(f"{path} is truncated: header says {dims}, found {body.size} bytes")
    return body.reshape(dims)


def load_raw(
    folder: Path | None = None, splits: tuple[str, ...] = ("train", "test")
) -> tuple[dict[str, np.ndarray], str]:
    """The images and labels of ``splits`` as uint8 arrays, and where they came from.

    Only the files of ``splits`` are read and checked: a test-set run never decompresses the
    60,000 training images.
    """
    folder = folder or find_mnist_dir()
    keys = [key for key in FILES if key.split("_")[0] in splits]
    if folder is not None:
        arrays = {}
        for key in keys:
            path = folder / f"{FILES[key]}.gz"
            arrays[key] = read_idx(path if path.is_file() else folder / FILES[key])
        source = str(folder)
    else:
        arrays, source = _read_keras_file(fetch(), keys)
    for split in splits:
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        expected = _EXPECTED_COUNTS[split]
        if images.shape != (expected, 28, 28) or labels.shape != (expected,):
            raise NatqError(
                f"MNIST {split} split has shape {images.shape}/{labels.shape}, expected "
                f"({expected}, 28, 28)/({expected},)"
            )
    return arrays, source


def fetch() -> Path:
    """Keras' cached ``mnist.npz``, downloaded (and checked) if absent; one line if impossible."""
    path = keras_cache()
    if path.is_file():
        return path
    tried = [f"{ENV_VAR} (not set)", f"Keras' cache {path} (absent)"]
    try:
        import urllib.request

        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with urllib.request.urlopen(KERAS_ORIGIN, timeout=60) as response:
            partial.write_bytes(response.read())
        if hashlib.sha256(partial.read_bytes()).hexdigest() != KERAS_SHA256:
            partial.unlink()
            raise NatqError(f"the download from {KERAS_ORIGIN} does not match its SHA-256")
        partial.replace(path)  # atomic: a cache file is whole or absent
    except NatqError:
        raise
    except Exception as error:  # no internet, unwritable cache
        tried.append(f"a download from {KERAS_ORIGIN} (failed: {type(error).__name__})")
        raise NatqError(f"MNIST not found: tried {'; '.join(tried)}. Fix: {FIX}") from None
    return path


# Keras' mnist.npz names its arrays differently.
_KERAS_NAMES = {
    "train_images": "x_train",
    "train_labels": "y_train",
    "test_images": "x_test",
    "test_labels": "y_test",
}


def _read_keras_file(path: Path, keys: list[str]) -> tuple[dict[str, np.ndarray], str]:
    if hashlib.sha256(path.read_bytes()).hexdigest() != KERAS_SHA256:
        raise NatqError(
            f"{path} does not match the published SHA-256 of Keras' MNIST; the file is damaged: "
            f"delete it, then {FIX}"
        )
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[_KERAS_NAMES[key]] for key in keys}
    return arrays, str(path)


def load_mnist(spec: DataSpec | None = None, folder: Path | None = None) -> Dataset:
    """Load the training subset and the validation set described by ``spec``."""
    spec = spec or DataSpec()
    arrays, source = load_raw(folder)
    train = slice(spec.train_offset, spec.train_offset + spec.train_size)
    return Dataset(
        x_train=scale(arrays["train_images"][train], spec.scaling),
        y_train=arrays["train_labels"][train].astype(np.int64),
        x_val=scale(arrays["test_images"][: spec.val_size], spec.scaling),
        y_val=arrays["test_labels"][: spec.val_size].astype(np.int64),
        spec=spec,
        source=source,
    )


def load_split(name: str, scaling: str = "unit") -> tuple[np.ndarray, np.ndarray]:
    """A dataset named on the command line: ``mnist-test[:N]`` or ``mnist-train[:N]``, scaled."""
    base, _, count = name.partition(":")
    if base not in ("mnist-test", "mnist-train"):
        raise NatqError(f"unknown dataset {name!r}; use mnist-test[:N] or mnist-train[:N]")
    split = "test" if base == "mnist-test" else "train"
    arrays, _ = load_raw(splits=(split,))
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if count:
        if not count.isdigit() or not 1 <= int(count) <= len(images):
            raise NatqError(f"{name!r}: N must be an integer in 1..{len(images)}")
        images, labels = images[: int(count)], labels[: int(count)]
    return scale(images, scaling), labels.astype(np.int64)


if __name__ == "__main__":  # python -m natq_cirq.data: put MNIST in Keras' cache now
    try:
        print(f"MNIST ready: {fetch()}")
    except NatqError as error:
        raise SystemExit(f"natq: error: {error}") from None
