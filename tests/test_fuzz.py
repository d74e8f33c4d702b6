"""Malformed model files, input arrays, program documents and option values, thrown at the CLI.

A seeded generator makes the cases (at least 200); each must end with exit status 2, one line
``natq: error: ...`` on stderr, no traceback, and nothing written where the output would go.
"""

import io
import json
import zipfile

from natq_cirq.cli import main
from natq_cirq.compile import compile_layered
from natq_cirq.files import ModelFile, load_model, save_model
from natq_cirq.physics import Knobs

import numpy as np
import pytest

RNG = np.random.default_rng(20261129)


def valid_model() -> ModelFile:
    rng = np.random.default_rng(0)
    shapes = [(784, 4), (4, 4), (4, 10)]
    return ModelFile([rng.normal(0, 0.1, s).astype(np.float32) for s in shapes], Knobs(0.3, 1.0))


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def model_arrays(model: ModelFile) -> dict:
    arrays = {f"W{k}": w for k, w in enumerate(model.kernels)}
    return {**arrays, "a": np.float64(0.3), "g": np.float64(1.0), "config": np.array("{}")}


def bad_models() -> list[tuple[str, bytes]]:
    good = model_arrays(valid_model())
    whole = npz_bytes(**good)
    cases = [("empty", b""), ("text", b"not a zip at all")]
    for cut in RNG.integers(1, len(whole) - 1, 30):
        cases.append((f"truncated at {cut}", whole[:cut]))
    for _ in range(30):
        flipped = bytearray(whole)
        for index in RNG.integers(0, len(whole), 8):
            flipped[index] ^= 0xFF
        cases.append(("bytes flipped", bytes(flipped)))
    cases.append(("random bytes", RNG.bytes(2000)))
    variants = {
        "string weights": {"W1": np.array([["a", "b"], ["c", "d"]])},
        "complex weights": {"W0": good["W0"].astype(np.complex64)},
        "bool weights": {"W1": good["W1"] > 0},
        "3-d weights": {"W1": good["W1"][None]},
        "vector weights": {"W2": good["W2"][0]},
        "nan weights": {"W1": np.full((4, 4), np.nan, np.float32)},
        "inf weights": {"W0": np.full((784, 4), np.inf, np.float32)},
        "wrong chain": {"W1": np.zeros((5, 4), np.float32)},
        "wrong hidden": {"W1": np.zeros((4, 5), np.float32)},
        "string a": {"a": np.array("big")},
        "complex g": {"g": np.complex128(1 + 1j)},
        "two a": {"a": np.array([0.1, 0.2])},
        "negative a": {"a": np.float64(-1.0)},
        "nan g": {"g": np.float64(np.nan)},
        "g too large": {"g": np.float64(7.0)},
        "bad json config": {"config": np.array("{not json")},
        "list config": {"config": np.array("[1, 2]")},
        "bad memory": {"config": np.array('{"memory": "forgetful"}')},
    }
    for name, change in variants.items():
        cases.append((name, npz_bytes(**{**good, **change})))
    for missing in ("W0", "W1", "a", "g"):
        cases.append(
            (f"missing {missing}", npz_bytes(**{k: v for k, v in good.items() if k != missing}))
        )
    cases.append(("only W0", npz_bytes(W0=good["W0"], a=good["a"], g=good["g"])))
    cases.append(("gap in W", npz_bytes(W0=good["W0"], W2=good["W2"], a=good["a"], g=good["g"])))
    cases.append(("a single .npy", npy_bytes(good["W0"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("W0.npy", b"\x93NUMPY garbage")
    cases.append(("zip with a broken member", buffer.getvalue()))
    cases.append(("zip bomb", zip_bomb()))
    return cases


def bad_inputs() -> list[tuple[str, bytes]]:
    cases = [
        ("wide", npy_bytes(np.zeros((2, 785)))),
        ("narrow", npy_bytes(np.zeros((2, 10)))),
        ("nan", npy_bytes(np.full((2, 784), np.nan))),
        ("inf", npy_bytes(np.full((1, 784), -np.inf))),
        ("strings", npy_bytes(np.full((2, 784), "x"))),
        ("complex", npy_bytes(np.zeros((2, 784), np.complex64))),
        ("one-d", npy_bytes(np.zeros(784))),
        ("three-d", npy_bytes(np.zeros((1, 2, 784)))),
        ("empty", npy_bytes(np.zeros((0, 784)))),
        ("empty file", b""),
        ("text", b"1,2,3"),
        (
            "object",
            b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
        ),
    ]
    huge = io.BytesIO()  # a header claiming 10^9 rows, then almost nothing
    np.lib.format.write_array_header_1_0(
        huge, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 784)}
    )
    cases.append(("header claims 10^9 rows", huge.getvalue() + bytes(100)))
    whole = npy_bytes(np.zeros((3, 784), np.float32))
    for cut in RNG.integers(1, len(whole) - 1, 12):
        cases.append((f"truncated at {cut}", whole[:cut]))
    return cases


def nan_compensation(slots: int, value: float = float("nan")) -> dict:
    return {
        "calibration": "0" * 64,
        "coefficients": [[value, 0.0, 0.0]] * slots,
        "ideal": [0.5, -0.5, 0.0],
        "compensate": True,
    }


def bad_calibrations() -> list[tuple[str, str]]:
    from natq_cirq.hardware.calibration import Calibration, SlotFit

    import cirq

    fits = tuple(
        SlotFit((cirq.GridQubit(5, k), None), (0.5, -0.45, 0.0), (0.01, 0.01, 0.01), 3.0, 5, 0.7)
        for k in range(2)
    )
    good = json.loads(
        Calibration(
            "rainbow", "sqrt_iswap", 1.0, True, 0, "qvm:rainbow", (0.5, -0.5, 0.0), fits
        ).to_json()
    )

    def slot_table(values):
        return json.dumps({**good, "slots": [{**good["slots"][0], "coefficients": values}]})

    return [
        ("calibration NaN table", slot_table([float("nan"), 0.0, 0.0])),
        ("calibration probability above 1", slot_table([0.9, 0.5, 0.0])),
        ("calibration probability below 0", slot_table([0.1, 0.0, -0.5])),
        (
            "calibration infinite error",
            json.dumps({**good, "slots": [{**good["slots"][0], "standard_errors": [1e999, 0, 0]}]}),
        ),
        (
            "calibration negative error",
            json.dumps({**good, "slots": [{**good["slots"][0], "standard_errors": [-1, 0, 0]}]}),
        ),
        ("calibration ideal NaN", json.dumps({**good, "ideal": [float("nan"), 0, 0]})),
        ("calibration nested 100000 deep", '{"a": ' * 100_000 + "1" + "}" * 100_000),
        ("calibration no slots", json.dumps({**good, "slots": []})),
        ("calibration two coefficients", slot_table([0.5, -0.5])),
        *[
            (f"calibration truncated at {cut}", json.dumps(good)[:cut])
            for cut in RNG.integers(1, len(json.dumps(good)) - 1, 40)
        ],
    ]


def zip_bomb() -> bytes:
    """A model archive whose central directory declares a member of 4 GiB (it holds 1 byte)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("W0.npy", b"x")
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (0xFFFF_FFF0).to_bytes(4, "little")
    return bytes(data)


def bad_programs(model_path: str) -> list[tuple[str, str]]:
    signed = json.loads(compile_layered(valid_model(), model_path=model_path).to_json())
    # Hand-made (or older) documents carry no content hash: they are checked part by part.
    program = {k: v for k, v in signed.items() if k != "sha256"}
    text = json.dumps(program)
    cases = [
        # Edited after natq compile wrote them: refused by their content hash.
        ("edited fold, hash kept", json.dumps({**signed, "fold": 3})),
        (
            "edited compensation, hash kept",
            json.dumps({**signed, "compensation": nan_compensation(len(signed["slots"]), 0.1)}),
        ),
        (
            "edited knob, hash kept",
            json.dumps({**signed, "network": {**signed["network"], "a": 0.9}}),
        ),
        ("hash a number", json.dumps({**signed, "sha256": 5})),
        ("empty", ""),
        ("not json", "{{{"),
        ("a list", "[1, 2, 3]"),
        ("a number", "42"),
        ("plain cirq circuit", '{"cirq_type": "Circuit", "moments": []}'),
        ("another format", json.dumps({**program, "format": "qiskit"})),
        ("future version", json.dumps({**program, "version": 99})),
        ("bad mode", json.dumps({**program, "mode": "teleport"})),
        ("circuit not cirq", json.dumps({**program, "circuit": {"cirq_type": "Nope"}})),
        ("circuit a string", json.dumps({**program, "circuit": "circuit"})),
        ("slots not pairs", json.dumps({**program, "slots": [1, 2, 3]})),
        ("fold a string", json.dumps({**program, "fold": "many"})),
        ("no model", json.dumps({k: v for k, v in program.items() if k != "model"})),
        (
            "model hash edited",
            json.dumps({**program, "model": {**program["model"], "sha256": "0"}}),
        ),
        ("model missing", json.dumps({**program, "model": {"sha256": "0", "path": "gone.npz"}})),
        ("network a list", json.dumps({**program, "network": [1]})),
        # Documents whose parts disagree (issue 28): each was a raw error.
        ("more slots than keys", json.dumps({**program, "slots": program["slots"] * 2})),
        ("no slots", json.dumps({**program, "slots": []})),
        ("slots strings", json.dumps({**program, "slots": [["a", None]] * 4})),
        ("claims rainbow", json.dumps({**program, "device": "rainbow"})),
        ("symbol not a slot", text.replace('"name": "slot_0"', '"name": "theta"')),
        ("key not a slot", text.replace('"key": "slot_0"', '"key": "theta"')),
        (
            "network inputs zero",
            json.dumps({**program, "network": {**program["network"], "inputs": 0}}),
        ),
        ("nested 100000 deep", "[" * 100_000 + "]" * 100_000),
        (
            "compensation NaN",
            json.dumps({**program, "compensation": nan_compensation(len(program["slots"]))}),
        ),
        ("compensation short", json.dumps({**program, "compensation": nan_compensation(1, 0.1)})),
    ]
    # "keys" only documents the scheme; "compensation" is absent from programs compiled before
    # calibrations existed, which still run.
    for key in sorted(set(program) - {"keys", "compensation"}):
        cases.append((f"without {key}", json.dumps({k: v for k, v in program.items() if k != key})))
    for cut in RNG.integers(1, len(text) - 1, 50):
        cases.append((f"truncated at {cut}", json.dumps(signed)[:cut]))
    return cases


BAD_OPTIONS = [
    ["--shots", "0"],
    ["--shots", "-3"],
    ["--shots", "many"],
    ["--seed", "-1"],
    ["--seed", str(2**40)],
    ["--backend", "warp"],
    ["--backend", "cirq:fast"],
    ["--backend", "qvm:sycamore"],
    ["--backend", "engine:"],
    ["--noise", "thermal:0.1"],
    ["--noise", "readout:2"],
    ["--noise", "readout:x"],
    ["--noise", "device:mars"],
    ["--noise", "fold:x"],
    ["--noise", "pairs:0"],
    ["--noise", "readout:0.1", "--backend", "tfq"],
    ["--noise", "device:rainbow", "--backend", "cirq:dynamic"],
    ["--slots", "0"],
    ["--slots", "99"],
    ["--slots", "x"],
    ["--fold", "-1"],
    ["--fold", "2"],
    ["--fold", "1", "--backend", "tfq"],
    ["--verbose", "7"],
    ["--dataset", "mnist-nowhere"],  # and --inputs: one of the two
    ["--dataset", "mnist-test:-5"],
    # A target option a backend would ignore is refused (issue 27), and the target's text is
    # checked whole.
    ["--slots", "2"],  # analytic: slots mean something only on a processor
    ["--backend", "natq:dynamic", "--noise", "depolarizing:0.01", "--fold", "2"],
    ["--backend", "natq:dynamic", "--slots", "2"],
    ["--backend", "cirq:dynamic", "--gateset", "cz"],
    ["--backend", "tfq", "--gateset", "cz"],
    ["--backend", "qsim", "--noise", "slots:2", "--slots", "3"],
    ["--backend", "qsim", "--noise", "readout:0.1+readout:0.2+pairs:2+slots:2"],
    ["--backend", "qvm:rainbow", "--noise", "device:weber"],
    ["--backend", "qvm:rainbow", "--noise", "readout:0.1"],
    ["--noise", "readout:nan"],
    ["--noise", "readout:inf"],
    ["--noise", "fold:³"],
    ["--noise", "depolarizing:²"],
    ["--backend", "qsim", "--noise", "readout:0.1", "--fold", "5000"],
    ["--noise", "compensate:no"],
    # Resources planned before they are allocated (issue 28): each allocated, or ran until killed.
    ["--shots", "1000000000"],
    ["--shots", "1000000000", "--backend", "cirq"],
    ["--shots", "1000000000", "--backend", "natq:dynamic"],
    ["--shots", "1000000000", "--backend", "analytic", "--no-bits"],
    ["--backend", "qsim", "--noise", "readout:0.1", "--fold", "1000000"],
    ["--backend", "qvm:rainbow", "--slots", "1000000"],
    ["--backend", "analytic", "--noise", "device:rainbow", "--slots", "1000000"],
    ["--noise", "calibration:0123456789abcdef"],
    ["--model-file", "m.npz"],
    ["--labels", "{tmp}/labels-bad.npy"],
    ["--labels", "{tmp}/labels-nan.npy"],
    ["--labels", "{tmp}/labels-short.npy"],
    ["--labels", "{tmp}/no-labels.npy"],
]
# Numbers as a hostile user types them: overflow, division by zero, other scripts' digits.
BAD_TRAIN_OPTIONS = [
    ["--a", "10^1000"],
    ["--a", "1e400"],
    ["--a", "nan"],
    ["--a", "١"],
    ["--g", "pi/0"],
    ["--g", "³"],
    ["--g", "inf"],
    ["--epochs", "³"],
    ["--epochs", "١٢"],
    ["--epochs", "1" * 40],
    ["--lr", "nan"],
    ["--lr", "10^(1/0)"],
    ["--noise", "readout:nan"],
    ["--noise", "device:rainbow+gateset:cz"],  # training applies no gate set: refused
    ["--noise", "processor:rainbow"],
    ["--seed", "-"],
    # Networks this machine cannot hold: refused before anything is built (issue 28).
    ["--hidden", "100000000"],
    ["--layers", "100000"],
]
# Every numeric flag, each with the numbers a hostile user types.
BAD_TRAIN_OPTIONS += [
    [flag, value]
    for flag in ("--a", "--g", "--lr", "--momentum", "--checkpoint-seconds")
    for value in ("10^1000", "nan", "inf", "-inf", "١", "1e400", "0x10", "")
]
BAD_OPTIONS += [
    [flag, value]
    for flag in ("--shots", "--seed", "--workers", "--shard-size")
    for value in ("³", "١٢", "1" * 40, "-", "1e3", "0x10")
]
# Outputs that would destroy an input, or that cannot be a file natq writes.
BAD_OUTPUTS = [
    ["run", "--force", "--out", "{tmp}/m.npz"],
    ["run", "--force", "--out", "{tmp}/x.npy"],
    ["run", "--force", "--out", "{tmp}/./m.npz"],
    ["run", "--force", "--out", "{tmp}"],
    ["run", "--force", "--out", "/dev/null"],
    ["run", "--out", "{tmp}/" + "r" * 242],
    ["run", "--out", "{tmp}/exists.qasm/r.npz"],
    ["compile", "--force", "--out", "{tmp}/m.npz"],
    ["compile", "--force", "--out", "{tmp}"],
    ["compile", "--out", "{out}/p.json", "--qasm", "{out}/p.json"],
    ["compile", "--out", "{out}/p.json", "--qasm", "{tmp}/m.npz", "--force"],
    ["compile", "--out", "{tmp}/" + "p" * 250],
]
BAD_COMPILE_OPTIONS = [
    ["--mode", "teleport"],
    ["--mode", "dynamic", "--index", "3"],
    ["--mode", "dynamic", "--inputs", "{tmp}/x.npy", "--index", "5"],
    ["--mode", "dynamic", "--inputs", "{tmp}/x.npy", "--device", "rainbow"],
    ["--inputs", "{tmp}/x.npy"],
    ["--device", "sycamore9"],
    ["--gateset", "xy"],
    ["--slots", "0"],
    ["--slots", "all"],
    ["--device", "rainbow", "--slots", "500"],
    ["--fold", "-2"],
    ["--qasm", "{tmp}/exists.qasm"],
    ["--mode", "dynamic", "--inputs", "{tmp}/x.npy", "--qasm", "{tmp}/new.qasm"],
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    save_model(tmp / "m.npz", valid_model())
    np.save(tmp / "x.npy", np.zeros((2, 784), np.float32))
    np.save(tmp / "labels-bad.npy", np.array([3, 12]))
    np.save(tmp / "labels-nan.npy", np.array([np.nan, 1.0]))
    np.save(tmp / "labels-short.npy", np.array([1]))
    (tmp / "exists.qasm").write_text("keep me")
    return tmp


def cases():
    out = [("model", name, data) for name, data in bad_models()]
    out += [("inputs", name, data) for name, data in bad_inputs()]
    out += [("program", name, data) for name, data in bad_programs("PLACEHOLDER")]
    out += [("calibration", name, data) for name, data in bad_calibrations()]
    out += [("run option", " ".join(o), o) for o in BAD_OPTIONS]
    out += [("compile option", " ".join(o), o) for o in BAD_COMPILE_OPTIONS]
    out += [("train option", " ".join(o), o) for o in BAD_TRAIN_OPTIONS]
    out += [("output", " ".join(o)[:60], o) for o in BAD_OUTPUTS]
    return out


CASES = cases()


def test_there_are_enough_cases():
    assert len(CASES) >= 400


def exit_status(argv) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own refusals
        return stop.code


@pytest.mark.parametrize("kind, name, data", CASES, ids=[f"{k}: {n}" for k, n, _ in CASES])
def test_malformed_input_is_one_line_and_leaves_nothing(
    workspace, tmp_path, capsys, kind, name, data
):
    tmp = workspace
    out = tmp_path / "out"
    results = out / "r.npz"
    x = ["--inputs", str(tmp / "x.npy")]
    if kind == "model":
        (tmp_path / "bad.npz").write_bytes(data)
        argvs = [
            ["run", str(tmp_path / "bad.npz"), *x, "--out", str(results)],
            ["compile", str(tmp_path / "bad.npz"), "--out", str(out / "p.json")],
        ]
    elif kind == "inputs":
        (tmp_path / "bad.npy").write_bytes(data)
        argvs = [
            [
                "run",
                str(tmp / "m.npz"),
                "--inputs",
                str(tmp_path / "bad.npy"),
                "--out",
                str(results),
            ]
        ]
    elif kind == "program":
        document = data.replace("PLACEHOLDER", str(tmp / "m.npz"))
        (tmp_path / "bad.json").write_text(document)
        argvs = [
            ["run", str(tmp_path / "bad.json"), *x, "--backend", "qsim", "--out", str(results)]
        ]
    elif kind == "calibration":
        (tmp_path / "cal.json").write_text(data)
        argvs = [
            ["run", str(tmp / "m.npz"), *x, "--calibration", str(tmp_path / "cal.json"),
             "--backend", "analytic", "--out", str(results)],
            ["compile", str(tmp / "m.npz"), "--device", "rainbow", "--calibration",
             str(tmp_path / "cal.json"), "--out", str(out / "p.json")],
        ]  # fmt: skip
    elif kind == "run option":
        options = [o.format(tmp=tmp) for o in data]
        argvs = [["run", str(tmp / "m.npz"), *x, *options, "--out", str(results)]]
    elif kind == "output":
        command, *options = [o.format(tmp=tmp, out=out) for o in data]
        given = x if command == "run" else []
        argvs = [[command, str(tmp / "m.npz"), *given, *options]]
    elif kind == "train option":
        argvs = [["train", *data, "--out", str(out / "run")]]
    else:
        options = [o.format(tmp=tmp) for o in data]
        argvs = [["compile", str(tmp / "m.npz"), *options, "--out", str(out / "p.json")]]
    for argv in argvs:
        assert exit_status(argv) == 2, argv
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("natq: error: "), captured.err
        assert "Traceback" not in captured.err + captured.out
        written = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
        assert written == [], written
    assert (tmp / "exists.qasm").read_text() == "keep me"
    assert load_model(tmp / "m.npz").digest() == valid_model().digest()  # inputs intact
    assert np.load(tmp / "x.npy").shape == (2, 784)
