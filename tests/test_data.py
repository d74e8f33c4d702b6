"""MNIST IDX reading: shapes, checksums, the shared copy, clear failures."""

import gzip
import shutil

from natq_cirq import data
from natq_cirq.data import DataSpec
from natq_cirq.errors import NatqError

import numpy as np
import pytest


def test_shared_mnist_is_found_and_checked():
    arrays, source = data.load_raw()
    assert "mnist" in source
    assert arrays["train_images"].shape == (60000, 28, 28)
    assert arrays["test_images"].shape == (10000, 28, 28)
    # Facts from shared/data/mnist/README.md.
    np.testing.assert_array_equal(arrays["train_labels"][:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(
        np.bincount(arrays["test_labels"]), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    assert arrays["train_images"].mean() == pytest.approx(33.318421, abs=1e-5)


def test_default_spec_is_the_papers_protocol():
    ds = data.load_mnist()
    assert ds.x_train.shape == (5000, 784) and ds.x_val.shape == (10000, 784)
    assert ds.x_train.dtype == np.float32 and 0.0 <= ds.x_train.min() and ds.x_train.max() == 1.0
    assert ds.spec.to_dict() == {
        "dataset": "mnist",
        "train_size": 5000,
        "train_offset": 0,
        "val_size": 10000,
        "scaling": "unit",
    }


def test_offset_and_signed_scaling():
    ds = data.load_mnist(DataSpec(train_size=10, train_offset=5, val_size=3, scaling="signed"))
    full = data.load_mnist(DataSpec(train_size=15, val_size=3))
    np.testing.assert_allclose(ds.x_train, 2 * full.x_train[5:] - 1)
    np.testing.assert_array_equal(ds.y_train, full.y_train[5:])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(train_size=0),
        dict(train_size=59999, train_offset=2),
        dict(val_size=10001),
        dict(scaling="zscore"),
    ],
)
def test_bad_specs(kwargs):
    with pytest.raises(NatqError):
        DataSpec(**kwargs)


def copy_mnist(target):
    source = data.find_mnist_dir()
    for name in data.FILES.values():
        shutil.copy(source / f"{name}.gz", target / f"{name}.gz")


def test_env_var_folder_and_raw_files(tmp_path, monkeypatch):
    copy_mnist(tmp_path)
    # Raw (decompressed) files are accepted as well, and checked against the raw checksums.
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    arrays, source = data.load_raw()
    assert source == str(tmp_path) and arrays["test_labels"].shape == (10000,)


def test_damaged_file_is_detected(tmp_path, monkeypatch):
    copy_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(path.read_bytes())
    content[-20] ^= 0xFF
    path.write_bytes(bytes(content))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(NatqError, match="damaged"):
        data.load_raw()


def test_missing_folder_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(NatqError, match=data.ENV_VAR) as error:
        data.load_raw()
    assert "\n" not in str(error.value)


def test_synthetic_idx_roundtrip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in images.shape)
    path = tmp_path / "custom-images-idx3-ubyte"
    path.write_bytes(header + images.tobytes())
    np.testing.assert_array_equal(data.read_idx(path), images)
    path.write_bytes(header + images.tobytes()[:-1])
    with pytest.raises(NatqError, match="truncated"):
        data.read_idx(path)


def test_named_splits():
    x, y = data.load_split("mnist-test:7")
    assert x.shape == (7, 784) and y.shape == (7,)
    for bad in ("mnist-test:0", "mnist-test:x", "cifar"):
        with pytest.raises(NatqError):
            data.load_split(bad)


def test_a_split_reads_only_its_own_files(monkeypatch):
    read = []
    original = data.read_idx
    monkeypatch.setattr(data, "read_idx", lambda path: read.append(path.name) or original(path))
    x, _ = data.load_split("mnist-test:3")
    assert sorted(read) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(x, data.load_split("mnist-test")[0][:3])
    read.clear()
    data.load_split("mnist-train:3")
    assert sorted(read) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    arrays, _ = data.load_raw(splits=("test",))
    assert sorted(arrays) == ["test_images", "test_labels"]


def _fake_keras_npz(path, label=1):
    import io

    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=np.zeros((60000, 28, 28), np.uint8),
        y_train=np.zeros(60000, np.uint8),
        x_test=np.zeros((10000, 28, 28), np.uint8),
        y_test=np.full(10000, label, np.uint8),
    )
    return buffer.getvalue()


def test_keras_cache_then_a_checked_download(tmp_path, monkeypatch):
    import hashlib
    import urllib.request

    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "_beside_checkout", lambda: [tmp_path / "nowhere"])
    payload = _fake_keras_npz(tmp_path)
    monkeypatch.setattr(data, "KERAS_SHA256", hashlib.sha256(payload).hexdigest())

    class Response:
        def __init__(self, body):
            self.body = body

        def read(self):
            return self.body

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    served = []
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: served.append(url) or Response(payload)
    )
    arrays, source = data.load_raw()  # downloaded into the cache, checked, then read
    assert served == [data.KERAS_ORIGIN] and source == str(data.keras_cache())
    assert arrays["test_labels"][0] == 1 and data.keras_cache().read_bytes() == payload
    arrays, _ = data.load_raw(splits=("test",))  # from the cache: no second download
    assert len(served) == 1 and sorted(arrays) == ["test_images", "test_labels"]
    # A damaged cache file is refused, and the message says how to fix it.
    data.keras_cache().write_bytes(payload[:-1] + b"x")
    with pytest.raises(NatqError, match="damaged.*python -m natq_cirq.data"):
        data.load_raw()
    data.keras_cache().unlink()
    # A download that does not match the checksum leaves nothing behind.
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(b"junk"))
    with pytest.raises(NatqError, match="SHA-256"):
        data.load_raw()
    assert not list(data.keras_cache().parent.iterdir())


def test_offline_error_lists_what_was_tried_and_the_fix(tmp_path, monkeypatch):
    import urllib.request

    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "_beside_checkout", lambda: [tmp_path / "nowhere"])

    def offline(url, timeout):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(NatqError) as error:
        data.load_raw()
    message = str(error.value)
    assert "\n" not in message and "NATQ_MNIST_DIR (not set)" in message
    assert str(tmp_path / "keras" / "datasets" / "mnist.npz") in message
    assert "failed: OSError" in message and "python -m natq_cirq.data" in message
    assert "shared" not in message  # the checkout's convenience folder is never named
