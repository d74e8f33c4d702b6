"""Every backend x every target option: applied (observable in the result) or refused, never ignored.

Also: the target's text form round-trips, one identity changes with every field of every option
class, and the fold/slots spellings of ``--noise`` are read as their flags.
"""

import dataclasses
import math

from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile
from natq_cirq.identity import canonical_json, strong_id
from natq_cirq.physics import Knobs
from natq_cirq.runners import RunOptions, make_runner
from natq_cirq.runners.calibrate import calibrate, plan_calibration
from natq_cirq.runners.registry import BACKEND_NAMES as REGISTERED
from natq_cirq.runners.registry import BACKENDS
from natq_cirq.target import FEATURES, Target

import numpy as np
import pytest
from helpers import TFQ

X = np.array([[0.3, -0.2, 0.5, 0.1]], dtype=np.float32)
KNOBS = Knobs(0.4, 1.1)
SHOTS = 30
# Every registered backend (qvm: and engine: on rainbow): a backend added later is covered too.
BACKEND_NAMES = [
    TFQ if name == "tfq" else name.replace("PROCESSOR", "rainbow") for name in REGISTERED
]


def tiny_model():
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (3, 3), (3, 2)]
    return ModelFile([rng.normal(0, 0.6, s).astype(np.float32) for s in shapes], KNOBS)


@pytest.fixture(scope="module")
def virtual_engine():
    from cirq_google.engine import virtual_engine_factory

    return virtual_engine_factory.create_noiseless_virtual_engine_from_latest_templates()


@pytest.fixture(scope="module")
def calibration():
    options = RunOptions.make(noise="device:rainbow")
    return calibrate(plan_calibration("analytic", options, KNOBS.g), options)


# One entry per target feature (Target.features() names them); the test below checks it covers
# FEATURES, so a feature added to the target without a row here fails.
OPTIONS = {
    "channels": lambda cal: {"noise": "readout:0.3"},
    "device_noise": lambda cal: {"noise": "device:rainbow"},
    "processor": lambda cal: {"processor": "weber"},
    "gateset": lambda cal: {"gateset": "cz"},
    "slots": lambda cal: {"slots": 2},
    "fold": lambda cal: {"fold": 3},
    "calibration": lambda cal: {"calibration": cal},
}


def outcome(backend, fields, engine):
    """``refused``, ``applied`` (bits or what ran differ from the plain run) or ``ignored``."""
    model = tiny_model()
    kwargs = {"engine": engine} if backend.startswith("engine") else {}
    plain = make_runner(backend, **kwargs).run(model, X, shots=SHOTS, seed=7)
    try:
        runner = make_runner(backend, **fields, **kwargs)
    except NatqError:
        return "refused"
    result = runner.run(model, X, shots=SHOTS, seed=7)
    same = np.array_equal(result.bits, plain.bits) and result.stats == plain.stats
    return "ignored" if same else "applied"


def test_every_feature_has_a_row():
    assert set(OPTIONS) == set(FEATURES)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_every_option_is_applied_or_refused(backend, option, virtual_engine, calibration):
    fields = OPTIONS[option](calibration)
    assert outcome(backend, fields, virtual_engine) in ("applied", "refused")


def test_the_issue_case_is_refused(tmp_path):
    """natq:dynamic with --fold (and --slots) ran and ignored them."""
    for fields in ({"noise": "depolarizing:0.01", "fold": 2}, {"slots": 2}):
        with pytest.raises(NatqError, match="natq:dynamic does not apply"):
            make_runner("natq:dynamic", **fields)


def test_the_matrix_has_power(monkeypatch, virtual_engine):
    """A backend that declared what it ignores is caught: the check is what refuses."""
    entry = BACKENDS["natq:dynamic"]
    lax = dataclasses.replace(entry, accepts=entry.accepts | {"slots", "fold", "gateset"})
    monkeypatch.setitem(BACKENDS, "natq:dynamic", lax)
    assert outcome("natq:dynamic", {"slots": 2}, virtual_engine) == "ignored"
    assert outcome("natq:dynamic", {"gateset": "cz"}, virtual_engine) == "ignored"


@pytest.mark.parametrize(
    "text",
    [
        "depolarizing:0.001+readout:0.02",
        "amplitude_damping:0.5+device:weber+slots:3+fold:2",
        "processor:willow_pink+gateset:cz+slots:0",
        "readout:0.0031622776601683794",
        "",
    ],
)
def test_target_text_round_trips(text):
    target = Target.parse(text) if text else Target()
    assert str(target) == text
    assert Target.coerce(str(target)) == (target if text else None)


def test_a_calibrated_target_round_trips_with_its_calibration(calibration):
    target = Target(processor="rainbow", slots=3, calibration=calibration, compensate=False)
    text = str(target)
    assert f"calibration:{calibration.digest()[:16]}" in text and "compensate:no" in text
    assert Target.parse(text, calibration) == target
    with pytest.raises(NatqError, match="give that calibration"):
        Target.parse(text)


def test_old_spellings_are_read():
    assert Target.parse("device:rainbow+pairs:4") == Target(device="rainbow", slots=4)
    with pytest.raises(NatqError, match="given twice"):
        Target.parse("slots:2+pairs:3")
    with pytest.raises(NatqError, match="given twice"):
        RunOptions.make(noise="readout:0.1+fold:2", fold=3)
    merged = RunOptions.make(noise="readout:0.1+fold:2", slots=3).target
    assert merged == Target((("readout", 0.1),), slots=3, fold=2)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("readout:nan", "finite"),
        ("readout:1e999", "finite"),
        ("depolarizing:²", "not a number"),
        ("fold:³", "whole number"),
        ("fold:1001", "fold must be in"),
        ("slots:100000", "slots must be in"),
        ("device:sycamore", "no noise model"),
        ("gateset:xy", "unknown gate set"),
        ("device:rainbow+processor:weber", "acts on rainbow"),
        ("compensate:no", "a calibration"),
    ],
)
def test_bad_targets_are_one_line(text, fragment):
    with pytest.raises(NatqError, match=fragment):
        Target.parse(text)


ALTERED = {
    "channels": (("depolarizing", 0.01),),
    "device": "rainbow",
    "processor": "rainbow",
    "gateset": "cz",
    "slots": 2,
    "fold": 1,
    "compensate": False,
}


def test_every_target_field_changes_the_run_identity(calibration):
    base = RunOptions().identity(backend="qsim", seed=0)
    seen = {base}
    for name in (f.name for f in dataclasses.fields(Target)):
        if name == "compensate":
            target = Target(calibration=calibration, compensate=False, processor="rainbow")
            other = Target(calibration=calibration, processor="rainbow")
            assert strong_id(target) != strong_id(other)
            continue
        value = calibration if name == "calibration" else ALTERED[name]
        target = Target(**{name: value})
        identity = RunOptions(target=target).identity(backend="qsim", seed=0)
        assert identity not in seen, name
        seen.add(identity)
    assert len(seen) == len(dataclasses.fields(Target))  # every field but compensate, + base


def test_adding_a_field_to_an_option_class_changes_the_identity():
    """Dataclasses enter whole: no hand-picked list of fields can go stale."""

    @dataclasses.dataclass(frozen=True)
    class Options:
        shots: int = 15

    @dataclasses.dataclass(frozen=True)
    class Grown:
        shots: int = 15
        fold: int = 0

    Grown.__name__ = "Options"
    assert strong_id(Options()) != strong_id(Grown())
    assert strong_id(Options()) == strong_id(Options())
    # Canonical: key order, int/float spelling and tuples do not matter; NaN has a form.
    assert canonical_json({"b": 1.0, "a": (1, 2)}) == canonical_json({"a": [1, 2], "b": 1})
    assert strong_id({"x": math.nan}) == strong_id({"x": float("nan")})
    with pytest.raises(TypeError, match="no canonical form"):
        strong_id(object())


@pytest.mark.parametrize("backend", ["qsim", "cirq", TFQ, "qvm:rainbow"])
def test_a_program_wider_than_a_simulator_is_refused(backend):
    """Issue 28: a 40-slot program on qsim was a segmentation fault; now one line."""
    from natq_cirq.compile import compile_layered

    wide = compile_layered(tiny_model(), slots=40)  # 80 line qubits
    with pytest.raises(NatqError, match="the program has 40 slots on 80 qubits"):
        make_runner(backend, program=wide)
    # Power: a whole processor's program of simulator size still runs there.
    model = ModelFile(tiny_model().kernels, Knobs(0.4))  # projective: one qubit per slot
    whole = compile_layered(model, "rainbow", slots=0)
    assert whole.slot_count == len(whole.circuit.all_qubits()) == 23
    make_runner(backend, program=whole)


def test_every_part_of_a_run_changes_its_identity():
    """The identity that keys journals and results: backend, model, program, inputs, shots, seed."""
    base = dict(backend="qsim", model="a" * 64, program=None, inputs=np.zeros((2, 4)), shots=15,
                seed=0, device_data=None)  # fmt: skip
    other = dict(backend="cirq", model="b" * 64, program="{}", inputs=np.ones((2, 4)), shots=16,
                 seed=1, device_data={"origin": "cirq-google 1.7.0"})  # fmt: skip
    identity = RunOptions().identity(**base)
    assert RunOptions().identity(**base) == identity  # the same run, the same identity
    for key in base:
        assert RunOptions().identity(**{**base, key: other[key]}) != identity, key
    # Execution settings (journal, progress, project, dry run) are not part of it.
    assert RunOptions(progress=True, dry_run=True).identity(**base) == identity


def test_a_layered_journal_is_keyed_by_the_device_data(tmp_path, monkeypatch):
    """A run on cirq-google 1.5's rainbow noise and one on 1.7's never share batches."""
    import natq_cirq.runners.layered as layered

    model = tiny_model()
    runs = []
    for origin in ("cirq-google 1.5.0", "cirq-google 1.7.0"):
        monkeypatch.setattr(layered, "data_record", lambda name, o=origin: {"origin": o, "p": name})
        runner = make_runner("qsim", noise="device:rainbow", journal=tmp_path / "j")
        runner.run(model, X, shots=3, seed=7)
        runs.append(runner.stats()["reused_batches"])
    assert runs == [0, 0]
    runner = make_runner("qsim", noise="device:rainbow", journal=tmp_path / "j")
    runner.run(model, X, shots=3, seed=7)
    assert runner.stats()["reused_batches"] > 0  # power: the same device data reuses them
