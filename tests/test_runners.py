"""Runners: every noiseless backend samples the exact distribution; qvm, engine, resume, errors."""

from natq_cirq import physics
from natq_cirq.compile import compile_layered
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.physics import Knobs
from natq_cirq.runners import LayeredRunner, SamplerSlotExecutor, make_runner
from natq_cirq.runners.executors import with_retries
from natq_cirq.target import Target

import numpy as np
import pytest
from helpers import TFQ, assert_records_match, total_variation

X = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)


def tiny_model(knobs):
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (3, 3), (3, 2)]
    return ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], knobs)


@pytest.fixture(scope="module")
def virtual_engine():
    from cirq_google.engine import virtual_engine_factory

    return virtual_engine_factory.create_noiseless_virtual_engine_from_latest_templates()


KNOBS = [Knobs(0.4, 1.1), Knobs(0.6), Knobs(0.5, 0.9, "reprepared")]


@pytest.mark.parametrize("knobs", KNOBS, ids=str)
@pytest.mark.parametrize("backend", ["analytic", "cirq", "qsim", TFQ, "engine:rainbow"])
def test_noiseless_backends_sample_the_exact_distribution(backend, knobs, virtual_engine):
    model = tiny_model(knobs)
    shots = 2000
    runner = make_runner(backend, engine=virtual_engine if backend.startswith("engine") else None)
    result = runner.run(model, X, shots=shots, seed=5)
    assert result.bits.shape == (1, shots, 2, 3)
    assert_records_match(
        result.bits.reshape(shots, -1),
        physics.exact_record_distribution(X[0], model.kernels, knobs),
    )


@pytest.mark.parametrize("knobs", KNOBS[:2], ids=str)
def test_cirq_backend_runs_the_dynamic_circuit(knobs):
    model = tiny_model(knobs)
    shots = 1500
    result = make_runner("cirq:dynamic").run(model, X, shots=shots, seed=5)
    assert_records_match(
        result.bits.reshape(shots, -1),
        physics.exact_record_distribution(X[0], model.kernels, knobs),
    )


def test_backends_share_the_read_out():
    model = tiny_model(Knobs(0.4, 1.1))
    result = make_runner("qsim").run(model, np.repeat(X, 3, axis=0), shots=7, seed=1)
    logits = result.bits[:, :, -1].astype(np.float32) @ model.kernels[-1]
    np.testing.assert_array_equal(result.shot_predictions, logits.argmax(-1))
    assert result.predictions.shape == (3,) and result.stats["executions"] > 0


def test_qvm_runs_with_device_noise():
    """The noisy virtual rainbow runs a small network; report how far it is from noiseless."""
    model = tiny_model(Knobs(0.4, 1.1))
    shots = 1000
    exact = physics.exact_record_distribution(X[0], model.kernels, model.knobs)
    noisy = make_runner("qvm:rainbow").run(model, X, shots=shots, seed=2).bits[0]
    clean = make_runner("qsim").run(model, X, shots=shots, seed=2).bits[0]
    tv_noisy, tv_clean = total_variation(noisy, exact), total_variation(clean, exact)
    print(
        f"\ntotal variation from the exact distribution, {shots} shots: "
        f"qvm:rainbow {tv_noisy:.3f}, noiseless qsim {tv_clean:.3f}"
    )
    assert noisy.shape == (shots, 2, 3) and tv_noisy < 0.5


class FlakySampler:
    """Seeded qsim samplers that fail on some calls (interruption or a transient error)."""

    def __init__(self, fail_on=(), error=KeyboardInterrupt):
        self.fail_on, self.error, self.calls = set(fail_on), error, 0

    def __call__(self, seed):
        import qsimcirq

        simulator = qsimcirq.QSimSimulator(seed=seed)
        flaky = self

        class Sampler:
            def run_sweep(self, *args, **kwargs):
                flaky.calls += 1
                if flaky.calls in flaky.fail_on:
                    raise flaky.error()
                return simulator.run_sweep(*args, **kwargs)

        return Sampler()


def qsim_runner(journal, fail_on=(), error=KeyboardInterrupt):
    samplers = []

    def factory(program):
        samplers.append(FlakySampler(fail_on, error))
        return SamplerSlotExecutor(samplers[-1], program)

    compile = lambda model, x=None: compile_layered(model, slots=2)  # noqa: E731
    # batch_size 2: many small jobs
    return LayeredRunner("qsim", factory, compile, batch_size=2, journal=journal), samplers


def test_interrupted_run_resumes_without_resubmitting(tmp_path):
    model = tiny_model(Knobs(0.4, 1.1))
    straight, _ = qsim_runner(None)
    expected = straight.run(model, X, shots=50, seed=9).bits
    total = straight.stats()["batches"]
    interrupted, _ = qsim_runner(tmp_path / "journal", fail_on={4})
    with pytest.raises(KeyboardInterrupt):
        interrupted.run(model, X, shots=50, seed=9)
    resumed, samplers = qsim_runner(tmp_path / "journal")
    result = resumed.run(model, X, shots=50, seed=9)
    # The three finished jobs are reused verbatim and only the rest is submitted; every batch
    # draws from its own keyed stream, so the resumed run is the uninterrupted one, bit for bit.
    assert resumed.stats()["reused_batches"] == 3 and samplers[0].calls == total - 3
    np.testing.assert_array_equal(result.bits, expected)


def interrupt_on(runner, calls):
    """Make the runner's executor raise KeyboardInterrupt on its ``calls``-th batch."""
    factory, count = runner.executor_factory, [0]

    def flaky(program):
        executor = factory(program)
        execute = executor.execute

        def once(*args):
            count[0] += 1
            if count[0] == calls:
                raise KeyboardInterrupt
            return execute(*args)

        executor.execute = once
        return executor

    runner.executor_factory = flaky
    return runner


@pytest.mark.parametrize("backend", ["cirq", "qsim", TFQ, "qsim-noisy"])
def test_resumed_runs_are_bit_identical_wherever_they_were_killed(tmp_path, backend):
    model = tiny_model(Knobs(0.4, 1.1))
    name, noise = ("qsim", "readout:0.1") if backend == "qsim-noisy" else (backend, None)

    def runner(journal=None):
        made = make_runner(name, noise=noise, journal=journal, slots=2)
        made.batch_size = 2  # many batches to be killed between
        return made

    straight = runner()
    expected = straight.run(model, X, shots=40, seed=3).bits
    batches = straight.stats()["batches"]
    assert batches >= 6
    for kill in (1, batches // 2, batches):
        journal = tmp_path / f"kill{kill}"
        with pytest.raises(KeyboardInterrupt):
            interrupt_on(runner(journal), kill).run(model, X, shots=40, seed=3)
        resumed = runner(journal)
        np.testing.assert_array_equal(resumed.run(model, X, shots=40, seed=3).bits, expected)
        assert resumed.stats()["reused_batches"] == kill - 1
    # Power: another seed draws other bits.
    assert not np.array_equal(runner().run(model, X, shots=40, seed=4).bits, expected)


def test_a_journal_is_never_reused_by_another_run(tmp_path):
    """A killed cirq run (seed 3), rerun into the same journal as qsim with noise, seed 4."""
    model = tiny_model(Knobs(0.4, 1.1))
    first = make_runner("cirq", journal=tmp_path / "j", slots=2)
    first.batch_size = 2
    with pytest.raises(KeyboardInterrupt):
        interrupt_on(first, 5).run(model, X, shots=40, seed=3)
    assert len(list((tmp_path / "j").glob("*.npz"))) == 4
    for backend, noise, seed in (("qsim", "readout:0.5", 4), ("cirq", None, 4), ("qsim", None, 3)):
        other = make_runner(backend, noise=noise, journal=tmp_path / "j", slots=2)
        other.run(model, X, shots=40, seed=seed)
        assert other.stats()["reused_batches"] == 0


def test_a_noiseless_rerun_never_reuses_a_noisy_runs_batches(tmp_path):
    """Issue 28's reproducer: a killed noisy qsim run, rerun into the same journal without noise."""
    model = tiny_model(Knobs(0.4, 1.1))

    def runner(noise, journal=tmp_path / "j"):
        made = make_runner("qsim", noise=noise, journal=journal, slots=2)
        made.batch_size = 2
        return made

    with pytest.raises(KeyboardInterrupt):
        interrupt_on(runner("depolarizing:0.3"), 4).run(model, X, shots=40, seed=3)
    assert len(list((tmp_path / "j").glob("*.npz"))) == 3
    rerun = runner(None)
    bits = rerun.run(model, X, shots=40, seed=3).bits
    assert rerun.stats()["reused_batches"] == 0
    np.testing.assert_array_equal(bits, runner(None, journal=None).run(model, X, 40, 3).bits)
    # Power: the noisy run's own rerun does reuse its batches.
    again = runner("depolarizing:0.3")
    again.run(model, X, shots=40, seed=3)
    assert again.stats()["reused_batches"] == 3


def test_a_damaged_journal_batch_is_set_aside_and_recomputed(tmp_path, capsys):
    """Issue 28: a corrupted batch was a traceback; now it is kept aside and recomputed, exactly."""
    model = tiny_model(Knobs(0.4, 1.1))

    def runner(journal=None):
        made = make_runner("qsim", journal=journal, slots=2)
        made.batch_size = 2
        return made

    expected = runner().run(model, X, shots=40, seed=3).bits
    with pytest.raises(KeyboardInterrupt):
        interrupt_on(runner(tmp_path / "j"), 4).run(model, X, shots=40, seed=3)
    first, second, third = sorted((tmp_path / "j").glob("*.npz"))
    first.write_bytes(b"PK\x03\x04 not a zip")  # truncated by a crash
    np.savez(second, outcomes=np.ones((1, 1, 1), np.int8))  # not the batch the run expects
    resumed = runner(tmp_path / "j")
    np.testing.assert_array_equal(resumed.run(model, X, shots=40, seed=3).bits, expected)
    assert resumed.stats()["reused_batches"] == 1  # the third, intact
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 2 and all("is damaged" in w for w in warnings), warnings
    assert {p.name for p in (tmp_path / "j").glob("*.damaged")} == {
        first.name + ".damaged",
        second.name + ".damaged",
    }


def test_transient_errors_are_retried():
    class Unavailable(Exception):
        pass

    Unavailable.__name__ = "ServiceUnavailable"
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise Unavailable("try later")
        return "ok"

    assert with_retries(flaky, backoff=0, sleep=lambda s: None) == "ok" and len(calls) == 3
    with pytest.raises(ValueError):
        with_retries(lambda: (_ for _ in ()).throw(ValueError("bad request")), sleep=lambda s: 0)


def test_dry_run_plan(virtual_engine):
    runner = make_runner("engine:rainbow", engine=virtual_engine)
    plan = runner.plan(tiny_model(Knobs(0.4, 1.1)), np.repeat(X, 5, axis=0), shots=15)
    assert plan["layer1_circuit_executions"] >= 1 and plan["neuron_measurements"] == 5 * 15 * 6


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(backend="warp"), "unknown backend"),
        (dict(backend="qvm:sycamore"), "unknown processor"),
        (dict(backend="engine:"), "needs a processor"),
        (dict(backend="tfq", noise="depolarizing:0.1"), "tfq does not apply qubit-wise noise"),
        (dict(backend="qsim", noise="thermal:0.1"), "bad target part"),
        (dict(backend="qsim", noise="readout:2"), "must lie in"),
    ],
)
def test_bad_backends(kwargs, fragment):
    with pytest.raises(NatqError, match=fragment):
        make_runner(**kwargs)


def test_engine_without_project_is_one_line(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(NatqError, match="--project-id"):
        make_runner("engine:rainbow")


def test_noise_moves_qsim_away_from_noiseless():
    model = tiny_model(Knobs(0.6))
    clean = make_runner("qsim").run(model, X, shots=2000, seed=1).bits
    noisy = make_runner("qsim", noise="readout:0.2").run(model, X, shots=2000, seed=1).bits
    p_clean, p_noisy = (clean[0, :, 0] == 1).mean(0), (noisy[0, :, 0] == 1).mean(0)
    # A bit flip of 0.2 pulls P(+1) towards 1/2: p -> 0.2 + 0.6 p.
    np.testing.assert_allclose(p_noisy, 0.2 + 0.6 * p_clean, atol=0.05)
    spec = Target.parse("depolarizing:0.01+amplitude_damping:0.02+readout:0.01")
    assert Target.parse(str(spec)) == spec  # the text form round-trips


def test_engine_jobs_are_logged(tmp_path, virtual_engine):
    runner = make_runner("engine:rainbow", engine=virtual_engine, journal=tmp_path / "j")
    runner.run(tiny_model(Knobs(0.6)), X, shots=20, seed=1)
    jobs = (tmp_path / "j" / "jobs.txt").read_text().split()
    assert len(jobs) == runner.stats()["batches"] > 0


def test_too_many_slots_for_a_simulator():
    with pytest.raises(NatqError, match="2\\^\\(2K\\)"):
        make_runner("qsim", slots=40)


def test_qsim_with_a_device_noise_model():
    model = tiny_model(Knobs(0.4, 1.1))
    result = make_runner("qsim", noise="device:rainbow").run(model, X, shots=200, seed=3)
    assert result.bits.shape == (1, 200, 2, 3)
    with pytest.raises(NatqError, match="does not apply a device.s noise model"):
        make_runner("cirq:dynamic", noise="device:rainbow")


def test_run_command_on_qsim_and_dry_run(tmp_path, capsys):
    from natq_cirq.cli import main
    from natq_cirq.files import save_model

    rng = np.random.default_rng(0)
    kernels = [rng.normal(0, 0.1, s).astype(np.float32) for s in [(784, 4), (4, 4), (4, 10)]]
    save_model(tmp_path / "m.npz", ModelFile(kernels, Knobs(0.3, 1.0)))
    out = tmp_path / "r.npz"
    assert (
        main(
            [
                "run",
                str(tmp_path / "m.npz"),
                "--dataset",
                "mnist-test:4",
                "--backend",
                "qsim",
                "--shots",
                "3",
                "--verbose",
                "0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with np.load(out) as results:
        assert results["bits"].shape == (4, 3, 2, 4) and str(results["backend"]) == "qsim"
    assert not (tmp_path / "r.npz.journal").exists()  # removed once the results are safe
    assert (
        main(
            [
                "run",
                str(tmp_path / "m.npz"),
                "--dataset",
                "mnist-test:4",
                "--backend",
                "qvm:rainbow",
                "--dry-run",
                "--out",
                str(tmp_path / "d.npz"),
            ]
        )
        == 0
    )
    assert "layer1 circuit executions" in capsys.readouterr().out
    assert not (tmp_path / "d.npz").exists()


def test_an_unreachable_engine_ends_in_bounded_time(monkeypatch):
    """Credentials that look valid, no service: one line within the budget, never a hang."""
    import time

    from natq_cirq.runners import executors

    monkeypatch.setattr(executors, "CALL_DEADLINE", 0.2)
    monkeypatch.setattr(executors, "RETRY_BUDGET", 1.0)

    class Hanging:
        def get_processor(self, name):
            time.sleep(60)

    start = time.monotonic()
    with pytest.raises(NatqError, match=r"gave up after \d+ attempt\(s\) in \d+ s: TimeoutError"):
        make_runner("engine:rainbow", engine=Hanging())
    assert time.monotonic() - start < 5


def test_engine_jobs_have_deadlines(monkeypatch, virtual_engine):
    import time

    from natq_cirq.runners import executors

    monkeypatch.setattr(executors, "CALL_DEADLINE", 0.2)
    monkeypatch.setattr(executors, "RETRY_BUDGET", 1.0)
    from cirq_google.engine.simulated_local_job import SimulatedLocalJob

    runner = make_runner("engine:rainbow", engine=virtual_engine)
    # Jobs are accepted, and their results never come.
    monkeypatch.setattr(SimulatedLocalJob, "results", lambda self: time.sleep(60))
    start = time.monotonic()
    with pytest.raises(NatqError, match="TimeoutError"):
        runner.run(tiny_model(Knobs(0.6)), X, shots=5, seed=1)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("backend", ["analytic", "qsim"])
def test_without_bits_the_same_predictions(backend):
    """Without record_bits the exact engine never makes the bits; the votes are the same."""
    model = tiny_model(Knobs(0.4, 1.1))
    x = np.random.default_rng(2).normal(size=(50, 4))
    runner = make_runner(backend)
    with_bits = runner.run(model, x, shots=9, seed=6)
    without = runner.run(model, x, shots=9, seed=6, record_bits=False)
    assert without.bits is None and with_bits.bits.shape == (50, 9, 2, 3)
    np.testing.assert_array_equal(without.shot_predictions, with_bits.shot_predictions)
    np.testing.assert_array_equal(without.predictions, with_bits.predictions)
