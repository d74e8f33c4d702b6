"""Scale-out on Ray: the same bits whatever the layout, finished shards survive a killed driver,
a failing shard is named."""

import json
import os
import signal
import subprocess
import sys
import time

from natq_cirq.errors import NatqError
from natq_cirq.files import save_model
from natq_cirq.physics import Knobs
from natq_cirq.runners import RunOptions
from natq_cirq.runners.distributed import ShardedRunner, shard_seed

import numpy as np
import pytest
import ray
from test_compile import tiny_model

X = np.random.default_rng(0).normal(size=(7, 4))


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("backend", ["qsim", "cirq"])
def test_bits_do_not_depend_on_the_number_of_workers(backend, local_ray):
    model = tiny_model(Knobs(0.4, 1.1))
    runs = [
        ShardedRunner(backend, RunOptions(), workers=w, shard_size=3).run(model, X, 5, seed=4)
        for w in (1, 2)
    ]
    assert runs[0].bits.shape == (7, 5, 2, 3)
    np.testing.assert_array_equal(runs[0].bits, runs[1].bits)
    assert runs[1].stats["shards"] == 3
    # Keyed by input index: another seed, or another shard size, draws other bits.
    other = ShardedRunner(backend, RunOptions(), workers=2, shard_size=2).run(model, X, 5, seed=4)
    assert not np.array_equal(other.bits, runs[0].bits)
    assert shard_seed(4, 0) != shard_seed(4, 3) and shard_seed(4, 3) == shard_seed(4, 3)


def test_a_failing_shard_is_named(local_ray, monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    runner = ShardedRunner("engine:rainbow", RunOptions(), workers=2, shard_size=4)
    # Both shards fail; whichever Ray reports first is named.
    with pytest.raises(NatqError, match=r"shard of inputs (0\.\.3|4\.\.6) failed: NatqError"):
        runner.run(tiny_model(Knobs(0.4, 1.1)), X, 2, seed=0)
    with pytest.raises(NatqError, match="analytic runs in-process"):
        ShardedRunner("analytic", RunOptions())


def test_a_killed_driver_resumes_with_the_finished_shards(tmp_path):
    """kill -9 of the whole run after its first shard; the rerun reuses it and ends identical.

    cirq:dynamic, one input per shard: slow enough (a second a shard) to be caught mid-run.
    """
    model = tiny_model(Knobs(0.4, 1.1))
    save_model(tmp_path / "m.npz", model)
    x = np.random.default_rng(1).normal(size=(8, 4))
    np.save(tmp_path / "x.npy", x)

    def command(out):
        return [
            sys.executable, "-m", "natq_cirq", "run", str(tmp_path / "m.npz"),
            "--inputs", str(tmp_path / "x.npy"), "--backend", "cirq:dynamic", "--shots", "800",
            "--seed", "9", "--workers", "1", "--shard-size", "1", "--verbose", "0",
            "--out", str(out),
        ]  # fmt: skip

    out = tmp_path / "r.npz"
    journal = tmp_path / "r.npz.journal"
    process = subprocess.Popen(command(out), start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not list(journal.glob("shards-*/shard_*.npz")) and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its local Ray, at once
    process.wait()
    finished = len(list(journal.glob("shards-*/shard_*.npz")))
    assert 1 <= finished < 8 and not out.exists()
    done = subprocess.run(command(out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with np.load(out) as results:
        stats = json.loads(str(results["stats"]))
        resumed = results["bits"]
    assert stats["reused_shards"] == finished and stats["shards"] == 8
    fresh = subprocess.run(command(tmp_path / "f.npz"), capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    with np.load(tmp_path / "f.npz") as results:
        np.testing.assert_array_equal(results["bits"], resumed)


@pytest.mark.parametrize(
    "address, fragment",
    [("nowhere", "HOST:PORT"), ("host:99999", "HOST:PORT"), ("host:６３７９", "HOST:PORT")],
)
def test_a_malformed_ray_address_is_one_line(address, fragment):
    with pytest.raises(NatqError, match=fragment):
        ShardedRunner("qsim", RunOptions(), workers=2, address=address)


def test_a_cluster_that_does_not_answer_is_refused_within_its_deadline():
    """Issue 28: a closed port hung for 300 s printing Ray's log; now one line, at once."""
    import socket

    from natq_cirq.runners.distributed import reach

    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(NatqError, match="no Ray cluster answers"):
            reach(f"127.0.0.1:{port}", seconds=5)
        assert time.monotonic() - start < 6
    with socket.socket() as server:  # power: a port that accepts is reached
        server.bind(("127.0.0.1", 0))
        server.listen()
        reach(f"127.0.0.1:{server.getsockname()[1]}", seconds=5)


def test_local_workers_are_capped_at_the_machines_cpus():
    runner = ShardedRunner("qsim", RunOptions(), workers=64)
    assert runner.workers == min(64, os.cpu_count())
