"""Runs that outgrow one machine: a layered run split into shards of inputs, one Ray task each.

``natq run … --workers N [--address ADDR]`` uses :class:`ShardedRunner`:

* **Same answer whatever the layout.** Inputs are cut into shards of a fixed size
  (``--shard-size``, default :data:`SHARD_SIZE`), and shard ``[i, j)`` samples with its own seed
  derived from the run's seed and ``i`` (:func:`shard_seed`): which worker runs a shard, and how many
  workers there are, never enters. ``--workers 1`` and ``--workers 4`` give identical bits on every
  seeded backend. Not on ``qvm:``: cirq_google's virtual machine draws from one generator per
  process, so its samples depend on what that process ran before (documented; its counts are still
  correct samples).
* **Nothing lost.** Every finished shard is written atomically into a journal folder named by a
  hash of the run's identity (backend, options, program, model, inputs, shots, seed, shard size);
  rerunning the same command after the driver or a worker was killed reuses finished shards and
  computes only the rest. A worker that dies is retried by Ray (``max_retries``); an exception in
  a shard ends the run with one line naming the shard.
* **Bounded concurrency.** At most ``workers`` shards are in flight, and at most ``max_jobs`` for
  ``engine:`` (each shard submits its own Engine jobs).
* **One progress bar** for the whole run: shards and inputs done, with an ETA.

Without ``--address`` a local Ray instance with ``N`` CPUs is started (and stopped); with it, the
run joins an existing cluster (``ray start --head`` on one machine, ``ray start --address=HEAD:6379``
on the others).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import replace
from pathlib import Path

from natq_cirq.compile import Program
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, journal_folder, read_journal_entry, write_npz
from natq_cirq.hardware.devices import data_record
from natq_cirq.runners.base import Runner, results_bytes
from natq_cirq.runners.options import RunOptions, ScaleOut
from natq_cirq.runners.progress import Progress
from natq_cirq.runners.registry import lookup, make_runner

import numpy as np
import ray

SHARD_SIZE = 16


def shard_seed(seed: int, start: int) -> int:
    """The seed of the shard whose first input is ``start``: keyed by input index, not worker."""
    return int(np.random.SeedSequence([int(seed), int(start)]).generate_state(1)[0])


CONNECT_SECONDS = 10.0  # how long a cluster's head may take to accept a connection


def check_address(address: str | None) -> str | None:
    """``HOST:PORT`` of a Ray head (or ``auto``: the cluster this machine belongs to), checked."""
    if address is None or address == "auto":
        return address
    host, port = _host_port(address)
    if not host or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise NatqError(f"a Ray address is HOST:PORT, e.g. 10.0.0.2:6379 (got {address!r})")
    return address


def _host_port(address: str) -> tuple[str, str]:
    host, _, port = str(address).removeprefix("ray://").rpartition(":")
    return host, port


def reach(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """Refuse, within ``seconds``, a cluster address where nothing accepts a connection."""
    if address == "auto":
        return
    host, port = _host_port(address)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else error.strerror or "refused"
        raise NatqError(
            f"no Ray cluster answers at {address} ({reason}); start one there with ray start "
            "--head, or drop the address to run on this machine"
        ) from None


def run_shard(
    backend: str,
    options: RunOptions,
    program: Program | None,
    model: ModelFile,
    x: np.ndarray,
    shots: int,
    seed: int,
) -> dict:
    """One shard in a worker: the same runner as an unsharded run, on these inputs."""
    runner = make_runner(backend, replace(options, journal=None, progress=False), program=program)
    result = runner.run(model, x, shots=shots, seed=seed)
    return {"bits": result.bits, "seconds": result.seconds, "stats": result.stats}


class ShardedRunner(Runner):
    """A backend's runner, its inputs split into shards that Ray runs in parallel.

    Args:
        backend: any backend but ``analytic`` (``natq run --backend``).
        options: the run's options (its ``journal`` is the parent of the shard journal).
        program: a compiled program, or ``None`` to compile in memory as the backend does.
        workers: shards in flight at once (local Ray: its CPUs).
        address: a Ray cluster to join (``None``: start a local one).
        shard_size: inputs per shard.
        max_jobs: with ``engine:``, at most this many shards submitting at once.
    """

    def __init__(
        self,
        backend: str,
        options: RunOptions,
        program: Program | None = None,
        workers: int = 1,
        address: str | None = None,
        shard_size: int = SHARD_SIZE,
        max_jobs: int | None = None,
    ):
        base, _ = lookup(backend)
        if "shards" not in base.accepts:
            raise NatqError(
                f"--workers shards simulator and hardware runs; {backend} runs in-process"
            )
        if options.target.calibration is not None:
            # Each shard would rank the slots by its own inputs: compile once, then shard.
            raise NatqError(
                "--workers with --calibration: compile first (natq compile MODEL.npz --device D "
                "--calibration CAL.json --out P.json), then run P.json with --workers"
            )
        ScaleOut(workers, address, shard_size, max_jobs)  # the one check of these numbers
        self.name = backend
        self.backend, self.options, self.program = backend, options, program
        self.address = check_address(address)
        # A local Ray gets no more workers than the machine has CPUs (more only thrash; the bits
        # do not depend on the count).
        self.workers = int(workers) if address else min(int(workers), os.cpu_count() or 1)
        self.shard_size = int(shard_size)
        self.in_flight = (
            self.workers
            if base.name != "engine" or max_jobs is None
            else min(self.workers, int(max_jobs))
        )
        self._stats: dict = {}

    def stats(self) -> dict:
        return dict(self._stats)

    def memory_needed(self, model: ModelFile, n: int, shots: int, record_bits: bool) -> float:
        """The driver holds the shards' bits; each worker plans its own shard."""
        return results_bytes(model, float(n) * shots, bits=True)

    def plan(self, model: ModelFile, x: np.ndarray, shots: int, seed: int = 0) -> dict:
        """The unsharded run's plan, and how it is cut into shards."""
        runner = make_runner(self.backend, self.options, program=self.program)
        plan = runner.plan(model, x, shots, seed)
        shards = -(-len(x) // self.shard_size)
        plan["shards"] = f"{shards} of {self.shard_size} inputs, {self.in_flight} at a time"
        return plan

    def journal(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> Path | None:
        """The folder of this run's finished shards (``None`` without a journal)."""
        if self.options.journal is None:
            return None
        identity = self.options.identity(
            backend=self.backend,
            program=self.program.to_json() if self.program is not None else None,
            device_data=data_record(
                self.program.device
                if self.program is not None
                else self.options.target.on(lookup(self.backend)[1]).placement
            ),
            model=model.digest(),
            inputs=np.asarray(x, dtype=np.float64),
            shots=shots,
            seed=seed,
            shard_size=self.shard_size,
        )
        return self.options.journal / f"shards-{identity[:16]}"

    def sample_bits(self, model: ModelFile, x: np.ndarray, shots: int, seed: int) -> np.ndarray:
        starts = list(range(0, len(x), self.shard_size))
        folder = self.journal(model, x, shots, seed)
        if folder is not None:
            journal_folder(self.options.journal)  # marked as natq's: only natq's are removed
        done: dict[int, np.ndarray] = {}
        if folder is not None and folder.is_dir():
            for start in starts:
                rows = min(self.shard_size, len(x) - start)
                shape = (rows, shots, model.layers, model.hidden)
                bits = read_journal_entry(folder / f"shard_{start}.npz", "bits", shape)
                if bits is not None:
                    done[start] = bits
        todo = [s for s in starts if s not in done]
        self._stats = {"shards": len(starts), "reused_shards": len(done), "workers": self.workers}
        bar = Progress(len(x), "input", self.options.progress)
        images_done = sum(len(b) for b in done.values())
        bar.to(images_done)
        try:
            if todo:
                self._run_remote(todo, done, folder, model, x, shots, seed, bar, images_done)
        finally:
            bar.close()
        return np.concatenate([done[s] for s in starts], axis=0)

    def _run_remote(self, todo, done, folder, model, x, shots, seed, bar, images_done) -> None:
        started = not ray.is_initialized()
        if started:
            if self.address is not None:
                reach(self.address)
            ray.init(
                address=self.address,
                num_cpus=None if self.address else self.workers,
                include_dashboard=False,
                log_to_driver=False,
            )
        task = ray.remote(num_cpus=1, max_retries=2, retry_exceptions=False)(run_shard)
        # Uploaded once; Ray hands each task the values of these references.
        shared = [ray.put(v) for v in (self.backend, self.options, self.program, model)]
        pending: dict = {}
        queue = list(todo)
        start_time = time.perf_counter()
        try:
            while queue or pending:
                while queue and len(pending) < self.in_flight:
                    start = queue.pop(0)
                    chunk = x[start : start + self.shard_size]
                    ref = task.remote(*shared, chunk, shots, shard_seed(seed, start))
                    pending[ref] = start
                ready, _ = ray.wait(list(pending), num_returns=1)
                start = pending.pop(ready[0])
                try:
                    shard = ray.get(ready[0])
                except ray.exceptions.RayError as error:
                    cause = getattr(error, "cause", None) or error
                    message = str(cause).strip().splitlines()[-1] if str(cause).strip() else ""
                    raise NatqError(
                        f"shard of inputs {start}..{min(start + self.shard_size, len(x)) - 1} "
                        f"failed: "
                        f"{type(cause).__name__}: {message}"
                    ) from None
                done[start] = shard["bits"]
                for key, value in shard["stats"].items():  # the shards' counters, summed
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        self._stats[key] = self._stats.get(key, 0) + value
                if folder is not None:  # journaled before anything else: a kill loses nothing
                    write_npz(folder / f"shard_{start}.npz", bits=shard["bits"])
                images_done += len(shard["bits"])
                bar.to(images_done)
        finally:
            if started:
                ray.shutdown()
        self._stats["seconds_in_workers"] = time.perf_counter() - start_time


__all__ = ["SHARD_SIZE", "ShardedRunner", "run_shard", "shard_seed"]
