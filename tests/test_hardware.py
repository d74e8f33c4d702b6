"""One pipeline: compiled programs (placement, gate sets, folding, formats) are what backends run."""

from natq_cirq import physics
from natq_cirq.cli import main
from natq_cirq.compile import compile_dynamic, compile_layered, read_program
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, save_model
from natq_cirq.hardware.devices import device, device_slots, placed_slot_circuit
from natq_cirq.hardware.readout import bits_from_records, slot_key, slot_symbol
from natq_cirq.physics import Knobs
from natq_cirq.runners import make_runner

import cirq
import numpy as np
import pytest
from helpers import TFQ, assert_records_match

X = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)
# Persistent weak, projective a > 0, re-prepared: the three kinds of read-out and memory.
KNOBS = [Knobs(0.4, 1.1), Knobs(0.6), Knobs(0.5, 0.9, "reprepared")]


def model(hidden, knobs, layers=2, inputs=4, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(inputs, hidden)] + [(hidden, hidden)] * (layers - 1) + [(hidden, 10)]
    return ModelFile([rng.normal(0, 0.3, s).astype(np.float32) for s in shapes], knobs)


def tiny_model(knobs):
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (3, 3), (3, 2)]
    return ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], knobs)


@pytest.mark.parametrize("device_name", ["rainbow", "weber"])
@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
@pytest.mark.parametrize("knobs", [Knobs(0.3, 1.0), Knobs(0.3)], ids=str)
def test_placed_programs_validate_on_the_device(device_name, gateset, knobs):
    program = compile_layered(model(3, knobs), device_name, gateset=gateset, slots=5)
    device(device_name).validate_circuit(program.circuit)
    assert program.slots == tuple(device_slots(device(device_name), knobs.strength < 1)[:5])
    whole = compile_layered(model(3, knobs), device_name, gateset=gateset, slots=0)
    assert whole.slot_count == len(device_slots(device(device_name), knobs.strength < 1))


@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
def test_placed_program_samples_the_physics(gateset):
    """Every slot of a rewritten program reads out with P(d=+1) of physics.py."""
    knobs = Knobs(0.3, 1.0)
    program = compile_layered(model(3, knobs), "rainbow", gateset=gateset, slots=3)
    rng = np.random.default_rng(4)
    angles = rng.uniform(-np.pi, np.pi, 3)
    shots = 3000
    resolver = {slot_symbol(s): angles[s] for s in range(3)}
    result = cirq.Simulator(seed=1).run(program.circuit, resolver, shots)
    bits = bits_from_records(result.measurements, [slot_key(s) for s in range(3)])
    expected = physics.probability_plus(np.cos(angles / 2), np.sin(angles / 2), knobs.g)
    observed = np.mean(bits == 1, axis=0)
    bound = 5 * np.sqrt(expected * (1 - expected) / shots) + 1 / shots
    assert np.all(np.abs(observed - expected) <= bound)
    # Power: slots read out at one another's angles would be rejected.
    assert np.any(np.abs(observed - np.roll(expected, 1)) > bound)


def test_program_round_trips_and_formats(tmp_path):
    m = model(3, Knobs(0.3, 1.0))
    save_model(tmp_path / "m.npz", m)
    layered = compile_layered(m, "weber", gateset="cz", model_path=str(tmp_path / "m.npz"))
    layered.write(tmp_path / "sub" / "p.json")
    again = read_program(tmp_path / "sub" / "p.json")
    assert again.circuit == layered.circuit and again.slots == layered.slots
    assert (again.device, again.gateset, again.model_sha256) == ("weber", "cz", m.digest())
    assert cirq.Circuit(again.circuit) == layered.circuit
    qasm = layered.to_qasm()
    assert "OPENQASM 3.0" in qasm and "input float[64] slot_3;" in qasm
    dynamic = compile_dynamic(m, np.ones(4))
    assert "ZY(-1)" in dynamic.draw()
    with pytest.raises(NatqError, match="layered programs"):
        dynamic.to_qasm()
    assert layered.summary()["two_qubit_gates"] > 0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(target="sycamore-2"), "unknown device"),
        (dict(gateset="xy"), "unknown gate set"),
        (dict(target="rainbow", slots=60), "do not fit"),
        (dict(slots=0), "needs a device"),
        (dict(fold=-1), "fold must be in"),
    ],
)
def test_bad_compile_requests(kwargs, fragment):
    with pytest.raises(NatqError, match=fragment):
        compile_layered(model(3, Knobs(0.3, 1.0)), **kwargs)


@pytest.mark.parametrize("knobs", KNOBS, ids=str)
@pytest.mark.parametrize("backend", ["cirq", "qsim", TFQ, "qvm:rainbow"])
def test_compiled_program_file_samples_the_exact_distribution(tmp_path, backend, knobs):
    """natq compile -> PROGRAM.json -> the backend runs exactly that program."""
    m = tiny_model(knobs)
    save_model(tmp_path / "m.npz", m)
    device_args = ["--device", "rainbow"] if backend.startswith("qvm") else []
    argv = ["compile", str(tmp_path / "m.npz"), "--slots", "2", *device_args]
    assert main([*argv, "--out", str(tmp_path / "p.json")]) == 0
    program = read_program(tmp_path / "p.json")
    shots = 2000
    if backend.startswith("qvm"):
        # The noisy virtual machine does not sample the noiseless distribution; its noiseless
        # twin (cirq_google's virtual engine) runs the identical code path and program.
        from cirq_google.engine import virtual_engine_factory

        engine = virtual_engine_factory.create_noiseless_virtual_engine_from_latest_templates()
        runner = make_runner("engine:rainbow", program=program, engine=engine)
    else:
        runner = make_runner(backend, program=program)
    bits = runner.run(m, X, shots=shots, seed=5).bits
    assert_records_match(
        bits.reshape(shots, -1), physics.exact_record_distribution(X[0], m.kernels, knobs)
    )


class RecordingSampler:
    """Passes everything to a processor, and keeps the circuits it is sent."""

    def __init__(self, processor):
        self.processor, self.circuits = processor, []

    def __getattr__(self, name):
        return getattr(self.processor, name)

    def run_sweep(self, program, *args, **kwargs):
        self.circuits.append(program)
        return self.processor.run_sweep(program, *args, **kwargs)


def test_qvm_sends_exactly_the_compiled_circuit(monkeypatch):
    from natq_cirq.runners import executors

    m = tiny_model(Knobs(0.4, 1.1))
    program = compile_layered(m, "rainbow", slots=2)
    sent = []
    original = executors.SamplerSlotExecutor.__init__

    def recording(self, sampler, program, processor=None, device_config_name=""):
        original(self, sampler, program, processor, device_config_name)
        self.processor = RecordingSampler(processor)
        sent.append(self.processor)

    monkeypatch.setattr(executors.SamplerSlotExecutor, "__init__", recording)
    make_runner("qvm:rainbow", program=program).run(m, X, shots=20, seed=0)
    circuits = [c for recorder in sent for c in recorder.circuits]
    assert circuits and all(c == program.circuit for c in circuits)


def test_programs_run_only_where_they_are_placed():
    m = tiny_model(Knobs(0.4, 1.1))
    weber = compile_layered(m, "weber", slots=2)
    with pytest.raises(NatqError, match="placed on weber; qvm:rainbow runs programs placed on"):
        make_runner("qvm:rainbow", program=weber)
    with pytest.raises(NatqError, match="not placed on a device"):
        make_runner("qvm:rainbow", program=compile_layered(m))
    with pytest.raises(NatqError, match="qsim runs models .* not dynamic programs"):
        make_runner("qsim", program=compile_dynamic(m, X[0]))
    with pytest.raises(NatqError, match="the program fixes them"):
        make_runner("qsim", program=weber, slots=3)
    # A program placed on a device runs on the simulators too.
    assert make_runner("qsim", program=weber).run(m, X, shots=5).bits.shape == (1, 5, 2, 3)
    edited = ModelFile([w + 1 for w in m.kernels], m.knobs)
    with pytest.raises(NatqError, match="not the model this program was compiled from"):
        make_runner("qsim", program=weber).run(edited, X, shots=5)


def test_folding_is_the_identity_on_device_and_counts_its_pairs():
    rainbow = device("rainbow")
    slots = device_slots(rainbow, True)[:2]
    plain = placed_slot_circuit(0.9, slots, "cz")
    folded = placed_slot_circuit(0.9, slots, "cz", fold=3, dev=rainbow)
    cz = lambda c: sum(isinstance(op.gate, cirq.CZPowGate) for op in c.all_operations())  # noqa: E731
    assert cz(folded) - cz(plain) == 3 * 2 * len(slots)
    resolver = {slot_symbol(s): 0.7 + s for s in range(len(slots))}
    states = [
        cirq.final_state_vector(
            cirq.resolve_parameters(c[:-1], resolver), qubit_order=sorted(c.all_qubits())
        )
        for c in (plain, folded)
    ]
    np.testing.assert_allclose(abs(np.vdot(*states)), 1.0, atol=1e-6)


def test_compile_and_run_commands(tmp_path, capsys):
    m = model(3, Knobs(0.3, 1.0))
    save_model(tmp_path / "m.npz", m)
    np.save(tmp_path / "x.npy", np.ones((2, 4)))
    np.save(tmp_path / "y.npy", np.array([1, 7]))
    argv = ["compile", str(tmp_path / "m.npz"), "--mode", "dynamic", "--inputs"]
    argv += [str(tmp_path / "x.npy"), "--index", "1", "--draw", "--out", str(tmp_path / "d.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "qubits 6" in out and "two-qubit gates 6" in out and "neuron0" in out
    run = ["run", str(tmp_path / "d.json"), "--backend", "cirq:dynamic", "--shots", "40"]
    assert main([*run, "--out", str(tmp_path / "r.npz")]) == 0
    with np.load(tmp_path / "r.npz") as results:
        assert results["bits"].shape == (1, 40, 2, 3) and results["predictions"].shape == (1,)
    # For any input (layer-1 angles as symbols): inputs are given at run time.
    argv = [
        "compile",
        str(tmp_path / "m.npz"),
        "--mode",
        "dynamic",
        "--out",
        str(tmp_path / "a.json"),
    ]
    assert main(argv) == 0
    assert "one circuit for every input" in capsys.readouterr().out
    for backend in ("natq:dynamic", "cirq:dynamic"):
        run = ["run", str(tmp_path / "a.json"), "--backend", backend, "--shots", "20"]
        assert (
            main([*run, "--inputs", str(tmp_path / "x.npy"), "--out", str(tmp_path / "a.npz")]) == 0
        )
        with np.load(tmp_path / "a.npz") as results:
            assert results["bits"].shape == (2, 20, 2, 3)
        (tmp_path / "a.npz").unlink()
        assert main([*run, "--out", str(tmp_path / "a.npz")]) == 2
        assert "give the inputs" in capsys.readouterr().err
    argv = ["compile", str(tmp_path / "m.npz"), "--device", "weber", "--gateset", "sqrt_iswap"]
    argv += ["--qasm", str(tmp_path / "c.qasm"), "--out", str(tmp_path / "l.json")]
    assert main(argv) == 0
    assert "4 slot(s) per execution" in capsys.readouterr().out
    assert (tmp_path / "c.qasm").read_text().count("OPENQASM 3.0") == 1
    run = ["run", str(tmp_path / "l.json"), "--inputs", str(tmp_path / "x.npy"), "--verbose", "0"]
    run += ["--labels", str(tmp_path / "y.npy"), "--shots", "3", "--backend", "qsim"]
    assert main([*run, "--out", str(tmp_path / "q.npz")]) == 0
    with np.load(tmp_path / "q.npz") as results:
        assert results["bits"].shape == (2, 3, 2, 3) and str(results["model_sha256"]) == m.digest()
    # The model moved: found with --model-file; edited: refused.
    (tmp_path / "m.npz").rename(tmp_path / "moved.npz")
    assert main([*run, "--out", str(tmp_path / "q2.npz")]) == 2
    assert "not found" in capsys.readouterr().err
    moved = [*run, "--model-file", str(tmp_path / "moved.npz"), "--out", str(tmp_path / "q2.npz")]
    assert main(moved) == 0
    save_model(tmp_path / "moved.npz", ModelFile([w * 2 for w in m.kernels], m.knobs))
    assert main([*moved[:-1], str(tmp_path / "q3.npz")]) == 2
    err = capsys.readouterr().err
    assert "not the model this program was compiled from" in err and err.count("\n") == 1
    assert not (tmp_path / "q3.npz").exists()
    for argv, fragment in [
        (["--mode", "dynamic", "--index", "2", "--out", str(tmp_path / "z.json")], "out of range"),
        (["--mode", "dynamic", "--out", str(tmp_path / "d.json")], "exists"),
        (
            ["--mode", "dynamic", "--device", "rainbow", "--out", str(tmp_path / "z.json")],
            "layered",
        ),
    ]:
        base = ["compile", str(tmp_path / "moved.npz"), "--inputs", str(tmp_path / "x.npy")]
        assert main([*base, *argv]) == 2
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1
    (tmp_path / "junk.json").write_text('{"cirq_type": "Circuit", "moments": []}')
    assert main(["run", str(tmp_path / "junk.json"), "--out", str(tmp_path / "j.npz")]) == 2
    assert "not a natq program" in capsys.readouterr().err


def test_engine_dry_run_needs_no_credentials(tmp_path, capsys, monkeypatch):
    """Planning builds and validates the program and touches neither credentials nor network."""
    import google.auth

    def no_credentials(*args, **kwargs):
        raise AssertionError("credentials were asked for")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    save_model(tmp_path / "m.npz", model(3, Knobs(0.3, 1.0), inputs=784))
    argv = ["run", str(tmp_path / "m.npz"), "--dataset", "mnist-test:4", "--dry-run"]
    argv += ["--backend", "engine:rainbow", "--project-id", "P", "--out", str(tmp_path / "d.npz")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "on rainbow" in out and "neuron measurements: 360" in out and "device time" in out
    assert not (tmp_path / "d.npz").exists()


def test_an_edited_program_is_refused_but_its_model_path_may_be_fixed(tmp_path, capsys):
    """A program's content hash covers everything natq compile wrote but the model's path."""
    import json

    m = model(3, Knobs(0.3, 1.0))
    save_model(tmp_path / "m.npz", m)
    compile_layered(m, "rainbow", slots=2, model_path=str(tmp_path / "m.npz")).write(
        tmp_path / "p.json"
    )
    document = json.loads((tmp_path / "p.json").read_text())
    (tmp_path / "moved").mkdir()
    (tmp_path / "m.npz").rename(tmp_path / "moved" / "m.npz")
    (tmp_path / "p.json").write_text(
        json.dumps({**document, "model": {**document["model"], "path": "moved/m.npz"}})
    )
    assert read_program(tmp_path / "p.json").model_path == str(tmp_path / "moved" / "m.npz")
    (tmp_path / "p.json").write_text(json.dumps({**document, "fold": 2}))
    with pytest.raises(NatqError, match="edited after natq compile wrote it"):
        read_program(tmp_path / "p.json")
    # Power: the same edit without the hash (a hand-made document) is read, part by part.
    bare = {k: v for k, v in document.items() if k != "sha256"}
    (tmp_path / "p.json").write_text(json.dumps({**bare, "fold": 2}))
    assert read_program(tmp_path / "p.json").fold == 2
