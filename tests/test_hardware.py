"""Hardware targeting: gate sets, device placement, tiles, packing, formats, the compile command."""

from natq_cirq import physics
from natq_cirq.cli import main
from natq_cirq.compile.hardware import device, device_slots, target_layer
from natq_cirq.compile.program import compile_model
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, save_model
from natq_cirq.physics import Knobs

import cirq
import numpy as np
import pytest


def model(hidden, knobs, layers=2, inputs=4, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(inputs, hidden)] + [(hidden, hidden)] * (layers - 1) + [(hidden, 10)]
    return ModelFile([rng.normal(0, 0.3, s).astype(np.float32) for s in shapes], knobs)


@pytest.mark.parametrize("device_name", ["rainbow", "weber"])
@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
@pytest.mark.parametrize("knobs", [Knobs(0.3, 1.0), Knobs(0.3)], ids=str)
def test_targeted_circuits_validate_on_the_device(device_name, gateset, knobs):
    layer = target_layer(model(3, knobs), 2, device_name, gateset)
    for circuit in layer.circuits:
        device(device_name).validate_circuit(circuit)
    slots = device_slots(device(device_name), with_ancillas=knobs.strength < 1)
    assert layer.replicas == len(slots) // 3  # packed as many instances as fit


def test_a_layer_larger_than_the_chip_is_tiled():
    layer = target_layer(model(40, Knobs(0.3, 1.0)), 1, "rainbow", "cz")
    pairs = len(device_slots(device("rainbow"), with_ancillas=True))
    assert len(layer.circuits) == -(-40 // pairs) and layer.replicas == 1
    assert sorted(i for tile in layer.tiles for i in tile) == list(range(40))
    for circuit in layer.circuits:
        device("rainbow").validate_circuit(circuit)


@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
def test_targeted_packed_circuit_samples_the_physics(gateset):
    """Every replica of every neuron reads out with P(d=+1) of physics.py after rewriting."""
    knobs = Knobs(0.3, 1.0)
    layer = target_layer(model(3, knobs), 1, "rainbow", gateset)
    rng = np.random.default_rng(4)
    angles = rng.uniform(-np.pi, np.pi, (layer.replicas, 3))
    shots = 3000
    result = cirq.Simulator(seed=1).run(layer.circuits[0], layer.resolver(0, angles), shots)
    bits = layer.bits(0, result.measurements)  # (shots, replicas, 3)
    expected = physics.probability_plus(np.cos(angles / 2), np.sin(angles / 2), knobs.g)
    observed = np.mean(bits == 1, axis=0)
    bound = 5 * np.sqrt(expected * (1 - expected) / shots) + 1 / shots
    assert np.all(np.abs(observed - expected) <= bound)


def test_program_formats_round_trip(tmp_path):
    m = model(3, Knobs(0.3, 1.0))
    layered = compile_model(m, "layered", gateset="cz")
    assert cirq.read_json(json_text=layered.to_json()) == layered.circuits
    qasm = layered.to_qasm()
    assert "OPENQASM 3.0" in qasm and "input float[64] theta_2_1;" in qasm
    dynamic = compile_model(m, "dynamic", x=np.ones(4))
    assert cirq.read_json(json_text=dynamic.to_json()) == dynamic.circuits[0]
    assert "ZY(-1)" in dynamic.draw()
    summary = layered.summary()
    assert summary["circuits_per_layer"] == [1, 1] and summary["two_qubit_gates"] > 0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(mode="dynamic", x=np.ones(4), device="rainbow"), "use --mode layered"),
        (dict(mode="dynamic", x=np.ones(4), gateset="cz"), "use --mode layered"),
        (dict(mode="dynamic"), "give --inputs"),
        (dict(mode="dynamic", x=np.ones(5)), "expects one row of 4"),
        (dict(mode="layered", device="sycamore-2"), "unknown device"),
        (dict(mode="layered", gateset="xy"), "unknown gate set"),
        (dict(mode="layered", device="rainbow", replicas=50), "do not fit"),
        (dict(mode="teleport"), "unknown mode"),
    ],
)
def test_bad_requests(kwargs, fragment):
    with pytest.raises(NatqError, match=fragment):
        compile_model(model(3, Knobs(0.3, 1.0)), **kwargs)


def test_compile_command(tmp_path, capsys):
    save_model(tmp_path / "m.npz", model(3, Knobs(0.3, 1.0)))
    np.save(tmp_path / "x.npy", np.ones((2, 4)))
    assert (
        main(
            [
                "compile",
                str(tmp_path / "m.npz"),
                "--inputs",
                str(tmp_path / "x.npy"),
                "--index",
                "1",
                "--draw",
                "--out",
                str(tmp_path / "c.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "qubits 6" in out and "two-qubit gates 6" in out and "neuron0" in out
    # The compiled dynamic circuit runs on cirq (interfaces.md: natq run CIRCUIT.json).
    assert (
        main(
            [
                "run",
                str(tmp_path / "c.json"),
                "--backend",
                "cirq",
                "--shots",
                "40",
                "--readout",
                str(tmp_path / "m.npz"),
                "--out",
                str(tmp_path / "r.npz"),
            ]
        )
        == 0
    )
    with np.load(tmp_path / "r.npz") as results:
        assert results["bits"].shape == (1, 40, 2, 3) and results["predictions"].shape == (1,)
    assert (
        main(
            [
                "compile",
                str(tmp_path / "m.npz"),
                "--mode",
                "layered",
                "--device",
                "weber",
                "--gateset",
                "sqrt_iswap",
                "--qasm",
                str(tmp_path / "c.qasm"),
                "--out",
                str(tmp_path / "l.json"),
            ]
        )
        == 0
    )
    assert "circuits per layer: layer 1: 1, layer 2: 1" in capsys.readouterr().out
    assert (tmp_path / "c.qasm").read_text().count("OPENQASM 3.0") == 2
    for argv, fragment in [
        (["--index", "2", "--out", str(tmp_path / "z.json")], "out of range"),
        (["--out", str(tmp_path / "c.json")], "exists"),
    ]:
        assert (
            main(["compile", str(tmp_path / "m.npz"), "--inputs", str(tmp_path / "x.npy"), *argv])
            == 2
        )
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1


def test_folding_is_the_identity_on_device_and_counts_its_pairs():
    from natq_cirq.compile.hardware import device, device_slots, slot_circuit, slot_symbol

    import cirq
    import numpy as np

    rainbow = device("rainbow")
    slots = device_slots(rainbow, True)[:2]
    plain = slot_circuit(0.9, slots, "cz")
    folded = slot_circuit(0.9, slots, "cz", fold=3)
    rainbow.validate_circuit(folded)
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
