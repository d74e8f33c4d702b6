"""The processor registry: willow_pink's shipped files (provenance, checksums), its native CZ, its
placement, and everything rainbow and weber do, on the same code path."""

import hashlib
import json
import math

from natq_cirq import catalog
from natq_cirq.cli import main
from natq_cirq.compile import compile_layered
from natq_cirq.files import save_model
from natq_cirq.hardware.devices import (
    DEFAULT_GATESET,
    DEVICE_DATA,
    PROCESSORS,
    device,
    device_data,
    device_slots,
    noise_properties,
)
from natq_cirq.physics import Knobs

import cirq
import networkx as nx
import numpy as np
import pytest
from cirq_google.engine import virtual_engine_factory
from test_compile import X, tiny_model


def test_willow_pink_files_are_the_recorded_copies():
    folder = DEVICE_DATA / "willow_pink"
    source = json.loads((folder / "SOURCE.json").read_text())
    assert "1.7.0" in source["source"] and "Apache-2.0" in source["license"]
    assert "Apache License" in (folder / "LICENSE").read_text()
    for name, entry in source["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"], name


def test_one_decision_says_where_each_processors_data_come_from():
    """cirq_google's own files when it ships a processor, natq's packaged copy otherwise."""
    for name in PROCESSORS:
        data = device_data(name)
        ships = name in virtual_engine_factory.MOST_RECENT_TEMPLATES
        assert data.from_cirq_google == ships, name
        assert data.origin.startswith("cirq-google" if ships else "natq-cirq package data")
        # cirq_google 1.6+ makes the noise properties itself (device gate times, Z phases).
        newer = hasattr(virtual_engine_factory, "load_device_noise_properties")
        assert data.noise == ("cirq_google" if ships and newer else "calibration")
        record = data.record()
        assert record["processor"] == name and len(record["files"]) >= 2
        for file, digest in record["files"].items():
            path = {p.name: p for p in (data.specification, data.calibration, data.zphase) if p}
            assert hashlib.sha256(path[file].read_bytes()).hexdigest() == digest
    # willow_pink: cirq_google 1.5 lacks it; from 1.6 it ships it and natq uses that.
    assert device_data("willow_pink").from_cirq_google == (
        "willow_pink" in virtual_engine_factory.MEDIAN_CALIBRATIONS
    )


def test_the_packaged_willow_pink_is_cirq_googles_own_where_it_ships_it():
    if "willow_pink" not in virtual_engine_factory.MOST_RECENT_TEMPLATES:
        pytest.skip("cirq_google < 1.6 does not ship willow_pink (the packaged copy serves it)")
    source = json.loads((DEVICE_DATA / "willow_pink" / "SOURCE.json").read_text())
    theirs = device_data("willow_pink").record()["files"]
    assert {name: entry["sha256"] for name, entry in source["files"].items()} == theirs


def test_the_noise_is_what_cirq_googles_own_virtual_machine_simulates():
    """Same noise properties as cirq_google's default noisy QVM of the installed version."""
    ours = noise_properties("rainbow")
    if hasattr(virtual_engine_factory, "load_device_noise_properties"):
        theirs = virtual_engine_factory.load_device_noise_properties("rainbow")
    else:
        import cirq_google

        calibration = virtual_engine_factory.load_median_device_calibration("rainbow")
        theirs = cirq_google.noise_properties_from_calibration(calibration)
    assert ours.gate_pauli_errors == theirs.gate_pauli_errors
    assert ours.fsim_errors == theirs.fsim_errors


def test_a_calibration_records_its_device_data(tmp_path):
    from natq_cirq.hardware.calibration import read_calibration
    from natq_cirq.runners import RunOptions
    from natq_cirq.runners.calibrate import calibrate, plan_calibration

    options = RunOptions.make(noise="device:rainbow")
    calibration = calibrate(plan_calibration("analytic", options, 1.1), options)
    assert calibration.device_data == device_data("rainbow").record()
    again = read_calibration(calibration.write(tmp_path / "c.json"))
    assert again.device_data == calibration.device_data and again.digest() == calibration.digest()


def test_registry_and_catalog_agree():
    assert tuple(PROCESSORS) == tuple(catalog.PROCESSORS)
    assert DEFAULT_GATESET == {"rainbow": "sqrt_iswap", "weber": "sqrt_iswap", "willow_pink": "cz"}


def test_willow_pink_device_and_its_calibrated_cz():
    dev = device("willow_pink")
    assert len(dev.metadata.qubit_set) == 105 and len(dev.metadata.qubit_pairs) == 182
    assert cirq.CZ in dev.metadata.gateset and cirq.SQRT_ISWAP not in dev.metadata.gateset
    properties = noise_properties("willow_pink")
    cz = [e for op, e in properties.gate_pauli_errors.items() if op.gate_type == cirq.CZPowGate]
    assert len(cz) >= 182 and 0 < np.median(cz) < 0.02  # every coupler's CZ has its error
    # rainbow's calibration, by contrast, characterizes sqrt(iSWAP) and leaves CZ error-free.
    rainbow = noise_properties("rainbow").gate_pauli_errors
    assert not [e for op, e in rainbow.items() if op.gate_type == cirq.CZPowGate and e > 0]


def test_placement_is_a_maximum_matching_of_the_couplers():
    dev = device("willow_pink")
    slots = device_slots(dev, with_ancillas=True)
    graph = nx.Graph(tuple(pair) for pair in dev.metadata.qubit_pairs)
    assert len(slots) == len(nx.max_weight_matching(graph, maxcardinality=True)) == 49
    assert len({q for slot in slots for q in slot}) == 2 * len(slots)
    assert all(
        frozenset(slot) in {frozenset(p) for p in dev.metadata.qubit_pairs} for slot in slots
    )
    # The paper's 3 x 512 network: executions per layer of one (input, shot).
    assert math.ceil(512 / len(slots)) == 11
    assert len(device_slots(dev, with_ancillas=False)) == 105


def test_compile_run_and_plan_on_willow_pink(tmp_path, capsys):
    model = tiny_model(Knobs(0.4, 1.1))
    program = compile_layered(model, "willow_pink")
    assert program.gateset == "cz" and program.device == "willow_pink"
    two_qubit = {type(op.gate) for op in program.circuit.all_operations() if len(op.qubits) == 2}
    assert two_qubit == {cirq.CZPowGate}
    save_model(tmp_path / "m.npz", model)
    np.save(tmp_path / "x.npy", X[None])
    out = tmp_path / "p.json"
    assert (
        main(["compile", str(tmp_path / "m.npz"), "--device", "willow_pink", "--out", str(out)])
        == 0
    )
    assert "on willow_pink, gate set cz" in capsys.readouterr().out
    run = ["run", str(out), "--inputs", str(tmp_path / "x.npy"), "--shots", "5"]
    assert main([*run, "--backend", "qvm:willow_pink", "--out", str(tmp_path / "q.npz")]) == 0
    with np.load(tmp_path / "q.npz") as results:
        assert results["bits"].shape == (1, 5, 2, 3)
    capsys.readouterr()
    dry = [*run, "--backend", "engine:willow_pink", "--dry-run", "--out", str(tmp_path / "e.npz")]
    assert main(dry) == 0
    assert "device time seconds" in capsys.readouterr().out
    # Placed on willow_pink: never on another processor.
    assert main([*run, "--backend", "qvm:rainbow", "--out", str(tmp_path / "r.npz")]) == 2
    assert "willow_pink" in capsys.readouterr().err


def test_unknown_device_is_one_line_before_anything_heavy(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:  # argparse's choices: checked before any import
        main(["compile", "m.npz", "--device", "willow_blue", "--out", str(tmp_path / "p.json")])
    assert exit.value.code == 2 and "willow_pink" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown device"):
        device("willow_blue")


def test_guide_processor_table_is_the_registry():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "docs" / "guide.md").read_text()
    for name in PROCESSORS:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` |"))
        qubits, couplers, native = [c.strip(" `") for c in row.split("|")[2:5]]
        dev = device(name)
        assert int(qubits) == len(dev.metadata.qubit_set), name
        assert int(couplers) == len(dev.metadata.qubit_pairs), name
        assert native == DEFAULT_GATESET[name], name
