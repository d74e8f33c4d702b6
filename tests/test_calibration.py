"""Calibrated execution: fits with honest errors, QVM vs exact tables, compensation, refusals."""

import json
import math

from natq_cirq import physics
from natq_cirq.cli import main
from natq_cirq.compile import compile_layered, read_program
from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, save_model
from natq_cirq.hardware.calibration import (
    Calibration,
    Compensation,
    SlotFit,
    compensated_angles,
    fit_slot,
    probability_minus,
    read_calibration,
    select_slots,
)
from natq_cirq.physics import Knobs
from natq_cirq.runners import make_runner
from natq_cirq.runners.calibrate import calibrate, plan_calibration
from natq_cirq.runners.options import RunOptions

import cirq
import numpy as np
import pytest
from helpers import total_variation

X = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)
ANGLES = 2 * np.pi * np.arange(8) / 8


def tiny_model(knobs):
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (3, 3), (3, 2)]
    return ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], knobs)


def exact_calibration(device="rainbow", fold=0, g=math.pi / 2) -> Calibration:
    options = RunOptions.make(noise=f"device:{device}", fold=fold)
    return calibrate(plan_calibration("analytic", options, g), options)


def test_fit_recovers_the_response_with_calibrated_errors():
    rng = np.random.default_rng(0)
    true = np.array([0.48, -0.44, 0.03])
    shots, z = 2000, []
    for _ in range(200):
        counts = rng.binomial(shots, probability_minus(true, ANGLES))
        fit = fit_slot((cirq.LineQubit(0), None), ANGLES, counts, shots)
        z.append((np.array(fit.coefficients) - true) / np.array(fit.standard_errors))
    z = np.array(z)
    # Standard errors that mean something: the z-scores have unit spread and no bias.
    assert np.all(np.abs(z.mean(axis=0)) < 0.25), z.mean(axis=0)
    assert np.all((0.8 < z.std(axis=0)) & (z.std(axis=0) < 1.2)), z.std(axis=0)


def test_a_response_the_model_does_not_describe_is_refused():
    shots = 2000
    rng = np.random.default_rng(1)
    good = fit_slot(
        (cirq.LineQubit(0), None), ANGLES, rng.binomial(shots, 0.5 - 0.45 * np.cos(ANGLES)), shots
    )
    # Power: a response in 2 psi (not a rotation's) is caught.
    bad = fit_slot(
        (cirq.LineQubit(1), None),
        ANGLES,
        rng.binomial(shots, 0.5 - 0.45 * np.cos(ANGLES) + 0.05 * np.cos(2 * ANGLES)),
        shots,
    )
    assert good.p_value > 1e-3 and bad.p_value < 1e-6
    base = exact_calibration()
    accepted = Calibration(**{**base.__dict__, "slots": (good,)})
    accepted.check_fit()
    with pytest.raises(NatqError, match="does not fit"):
        Calibration(**{**base.__dict__, "slots": (good, bad)}).check_fit()
    # A slot that hardly responds is kept but never chosen; none responding is refused.
    dead = SlotFit((cirq.LineQubit(2), None), (0.5, 0.01, 0.0), (0.0, 0.0, 0.0))
    mixed = Calibration(**{**base.__dict__, "slots": (dead, good)})
    mixed.check_fit()
    assert select_slots(mixed, 1) == [good.slot]
    with pytest.raises(NatqError, match="respond to their angle"):
        select_slots(mixed, 2)
    with pytest.raises(NatqError, match="no slot responds"):
        Calibration(**{**base.__dict__, "slots": (dead,)}).check_fit()


def test_compensated_angles_reach_the_ideal_probability_or_clip():
    rng = np.random.default_rng(2)
    table = np.column_stack(
        [rng.uniform(0.4, 0.6, 5), rng.uniform(-0.5, -0.3, 5), rng.uniform(-0.1, 0.1, 5)]
    )
    ideal = (0.5, -0.5, 0.0)
    psi = rng.uniform(0, np.pi, (200, 5))
    target = probability_minus(np.array(ideal), psi)
    radius = np.hypot(table[:, 1], table[:, 2])
    low, high = table[:, 0] - radius, table[:, 0] + radius
    for invert in (False, True):
        sent, inverted, shortfall = compensated_angles(psi, table, ideal, invert)
        p = np.sum(table * np.stack([np.ones_like(sent), np.cos(sent), np.sin(sent)], -1), -1)
        p = np.where(inverted, 1 - p, p)
        # Either way reachable: exact; else the shortfall is the distance to the nearer end.
        direct = np.maximum(np.maximum(low - target, target - high), 0)
        flipped = np.maximum(np.maximum(low - (1 - target), (1 - target) - high), 0)
        best = np.minimum(direct, flipped) if invert else direct
        assert 0 < np.mean(best == 0) < 1  # both cases occur
        np.testing.assert_allclose(shortfall, best, atol=1e-12)
        np.testing.assert_allclose(np.abs(p - target), best, atol=1e-12)
        assert invert or not inverted.any()
    assert inverted.any()  # and it is used
    # The prediction's closed form is what these angles give.
    compensation = Compensation("x", tuple(map(tuple, table)), ideal)
    slot = np.broadcast_to(np.arange(5), psi.shape)
    closed, closed_short = compensation.probability_minus(psi, slot)
    via_angles, _ = compensation.probability_minus(psi, slot, truth=table)
    np.testing.assert_allclose(closed, via_angles, atol=1e-12)
    np.testing.assert_allclose(closed_short, shortfall, atol=1e-12)
    # An ideal slot is left alone.
    same, flips, none = compensated_angles(psi, np.tile(ideal, (5, 1)), ideal)
    np.testing.assert_allclose(np.cos(same), np.cos(psi), atol=1e-9)
    assert np.all(none < 1e-12) and not flips.any()


@pytest.mark.parametrize("g", [math.pi / 2, 1.1], ids=["projective", "weak"])
def test_qvm_calibration_agrees_with_the_exact_tables_slot_by_slot(g):
    """``qvm:rainbow`` measured vs the exact engine's ``device:rainbow``, within standard errors."""
    options = RunOptions()
    plan = plan_calibration("qvm:rainbow", options, g, shots=1500)
    plan = type(plan)(**{**plan.__dict__, "groups": plan.groups[:2]})  # 8 slots: seconds
    measured = calibrate(plan, options, seed=3)
    measured.check_fit()
    slots = [fit.slot for fit in measured.slots]
    exact = exact_calibration(g=g).coefficients(slots)
    errors = np.array([fit.standard_errors for fit in measured.slots])
    z = np.abs(measured.coefficients() - exact) / errors
    assert z.max() < 4.5, z
    # Power: the same comparison tells fold 4's tables apart from these.
    folded = exact_calibration(g=g, fold=4).coefficients(slots)
    assert (np.abs(measured.coefficients() - folded) / errors).max() > 4.5
    np.testing.assert_allclose(measured.ideal, exact_calibration(g=g).ideal, atol=1e-12)


@pytest.mark.parametrize("backend", ["analytic", "qsim"])
def test_compensation_brings_the_records_back_to_the_noiseless_distribution(backend):
    """Folded rainbow noise: compensated runs sample the noiseless records more closely."""
    model = tiny_model(Knobs(0.4))
    exact = physics.exact_record_distribution(X[0], model.kernels, model.knobs)
    calibration = exact_calibration(fold=4)
    shots = 20000 if backend == "analytic" else 10000
    noise = {"noise": "device:rainbow"}  # analytic: the calibrated run on the noise model
    tv = {}
    for compensate in (None, True):
        if compensate is None:
            runner = make_runner(backend, noise="device:rainbow", fold=4)
        else:
            runner = make_runner(backend, fold=4, calibration=calibration, **noise)
        result = runner.run(model, X, shots=shots, seed=4)
        tv[compensate] = total_variation(result.bits[0], exact)
    # Sampling alone puts ~sqrt(records / shots) / 2 of distance; the bias removed is larger.
    floor = 0.5 * math.sqrt(2**6 / shots)
    print(f"\n{backend}: TV uncompensated {tv[None]:.4f}, compensated {tv[True]:.4f}")
    assert tv[None] > tv[True] + 0.5 * floor, tv


def test_selection_prefers_the_slots_closest_to_ideal():
    calibration = exact_calibration(fold=4)
    chosen = select_slots(calibration, 4, compensate=False)
    bias = {
        fit.slot: np.abs(
            probability_minus(np.array(fit.coefficients), np.linspace(0, np.pi, 33))
            - probability_minus(np.array(calibration.ideal), np.linspace(0, np.pi, 33))
        ).mean()
        for fit in calibration.slots
    }
    worst_chosen = max(bias[s] for s in chosen)
    best_left = min(b for s, b in bias.items() if s not in chosen)
    assert worst_chosen <= best_left


def test_a_calibration_is_refused_elsewhere():
    model = tiny_model(Knobs(0.4))
    calibration = exact_calibration()
    with pytest.raises(NatqError, match="calibration is of rainbow"):
        make_runner("qvm:weber", calibration=calibration)
    with pytest.raises(NatqError, match="not placed on a device"):
        make_runner("cirq", calibration=calibration)
    with pytest.raises(NatqError, match="fold"):
        compile_layered(model, "rainbow", fold=2, calibration=calibration)
    with pytest.raises(NatqError, match="gate set"):
        compile_layered(model, "rainbow", gateset="cz", calibration=calibration)
    with pytest.raises(NatqError, match="g = "):
        compile_layered(tiny_model(Knobs(0.4, 1.1)), "rainbow", calibration=calibration)
    with pytest.raises(NatqError, match="tfq does not apply a calibration"):
        make_runner("tfq", calibration=calibration)
    with pytest.raises(NatqError, match="predicts from the calibration alone"):
        make_runner("analytic", noise="depolarizing:0.01", calibration=calibration)
    from natq_cirq.runners.distributed import ShardedRunner

    with pytest.raises(NatqError, match="compile first"):
        ShardedRunner("qvm:rainbow", RunOptions.make(calibration=calibration), workers=2)
    program = compile_layered(model, "rainbow")
    with pytest.raises(NatqError, match="program fixes them"):
        make_runner("qvm:rainbow", program=program, calibration=calibration)


def test_cli_calibrates_compiles_and_runs_with_a_calibration(tmp_path, capsys):
    model_path = tmp_path / "model.npz"
    save_model(model_path, tiny_model(Knobs(0.4)))
    x_path = tmp_path / "x.npy"
    np.save(x_path, np.repeat(X, 20, axis=0))
    cal = tmp_path / "cal.json"
    base = ["calibrate", "--backend", "qvm:rainbow", "--model", str(model_path), "--out", str(cal)]
    assert main([*base, "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert "circuit executions" in plan and "device time" in plan and not cal.exists()
    assert main([*base, "--shots", "500", "--verbose", "0"]) == 0
    calibration = read_calibration(cal)
    assert calibration.backend == "qvm:rainbow" and len(calibration.slots) == 23
    assert calibration.shots == 500 and all(f.standard_errors[0] > 0 for f in calibration.slots)
    out = tmp_path / "R.npz"
    run = ["run", str(model_path), "--inputs", str(x_path), "--shots", "5", "--verbose", "0"]
    assert (
        main([*run, "--backend", "qvm:rainbow", "--calibration", str(cal), "--out", str(out)]) == 0
    )
    with np.load(out) as results:
        assert str(results["calibration_sha256"]) == calibration.digest()
        assert bool(results["compensated"])
        stats = json.loads(str(results["stats"]))
    assert stats["calibration"] == calibration.digest() and stats["compensated"]
    assert stats["readouts_clipped"] >= 0
    program = tmp_path / "p.json"
    compiled = ["compile", str(model_path), "--device", "rainbow", "--out", str(program)]
    assert main([*compiled, "--calibration", str(cal), "--inputs", str(x_path)]) == 0
    assert read_program(program).compensation.calibration == calibration.digest()
    assert "slots chosen by calibration" in capsys.readouterr().out
    # A calibration of another fold, a damaged file: one line, exit 2, nothing written.
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for extra, message in (
        (["--calibration", str(bad)], "not a natq calibration"),
        (["--calibration", str(cal), "--fold", "2"], "fold"),
        (["--no-compensation"], "goes with --calibration"),
    ):
        target = tmp_path / "R2.npz"
        code = main([*run, "--backend", "qvm:rainbow", *extra, "--out", str(target)])
        assert code == 2 and not target.exists()
        assert message in capsys.readouterr().err


def test_the_fit_test_is_scipys_chi2():
    from natq_cirq.hardware.calibration import chi2_survival

    from scipy import stats

    for dof in range(1, 12):
        for x in np.linspace(0, 60, 61):
            assert chi2_survival(x, dof) == pytest.approx(stats.chi2.sf(x, dof), abs=1e-12)


def test_engine_calibration_runs_one_job_per_circuit_on_a_virtual_engine():
    """``engine:`` goes through cirq_google's processor interface (a noiseless virtual engine)."""
    from cirq_google.engine import virtual_engine_factory

    engine = virtual_engine_factory.create_noiseless_virtual_engine_from_latest_templates()
    options = RunOptions.make(slots=4)
    plan = plan_calibration("engine:rainbow", options, shots=400)
    plan = type(plan)(**{**plan.__dict__, "groups": plan.groups[:1]})
    measured = calibrate(plan, options, seed=1, engine=engine)
    measured.check_fit()
    # Noiseless: every slot is the ideal one.
    z = np.abs(measured.coefficients() - np.array(measured.ideal)) / np.array(
        [f.standard_errors for f in measured.slots]
    )
    assert len(measured.slots) == 4 and z.max() < 4.5
