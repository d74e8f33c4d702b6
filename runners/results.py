"""``RESULTS.npz``, the file ``natq run`` writes: its format, :func:`write_results`, :func:`read_results`.

:data:`FIELDS` is the one description of what the file holds (the docs' table is generated from
it, tests/test_docs.py checks). Like programs and calibrations, the file names its format and
version; files written before it had them (version 0) are still read.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from natq_cirq.errors import NatqError
from natq_cirq.files import ModelFile, write_npz
from natq_cirq.runners.base import RunResult
from natq_cirq.runners.options import RunOptions

import numpy as np

FORMAT = "natq-results"
VERSION = 1

# name -> what it holds (n inputs, S shots, L layers, N neurons per layer).
FIELDS = {
    "format": f"`{FORMAT}`",
    "version": f"`{VERSION}`",
    "predictions": "`(n,)` majority vote of the shots (ties to the smallest class)",
    "shot_predictions": "`(n, S)` each shot's class",
    "bits": "`(n, S, L, N)` int8 ±1 hidden records (absent with `--no-bits`; a dropout "
    "baseline's dropped neurons are 0)",
    "labels": "`(n,)` the inputs' labels, when given",
    "error_rate": "error of the vote against the labels, when given",
    "backend": "the backend as given",
    "target": "the run's whole target in its text form (noise, placement, slots, fold, "
    "calibration hash)",
    "noise": "the target's noise alone (`depolarizing:…+device:D`)",
    "identity": "SHA-256 of the run's identity (backend, target, model, program, inputs, shots, "
    "seed)",
    "shots": "shots per input",
    "seed": "the sampling seed",
    "seconds": "wall time of the run",
    "seconds_simulation": "time spent sampling",
    "neuron_measurements_per_second": "n S L N over the sampling time",
    "a": "the model's knob a",
    "g": "the model's knob g",
    "memory": "the model's memory mode",
    "stochastic_neuron": "a classical stochastic baseline's neuron (`sigmoid:8`; empty for "
    "quantum networks)",
    "model": "the model file's path",
    "model_sha256": "content hash of the model",
    "program": "the program file's path (empty for a model compiled in memory)",
    "device_data": "JSON: the processor's device data the run used (origin -- cirq-google's "
    "version or natq-cirq's package data --, configuration, files with their SHA-256, how the "
    "noise was made); `null` off a processor",
    "calibration": "the calibration file's path, if any",
    "calibration_sha256": "its content hash",
    "compensated": "whether angles were compensated by the calibration",
    "stats": "JSON: the backend's counters (executions, batches, reused batches, the program "
    "that ran; with a calibration: read-outs clipped and inverted)",
}


def write_results(
    path: str | Path,
    result: RunResult,
    model: ModelFile,
    *,
    backend: str,
    options: RunOptions,
    shots: int,
    seed: int,
    seconds: float,
    identity: str,
    device_data: dict | None = None,
    labels: np.ndarray | None = None,
    model_path: str = "",
    program_path: str = "",
    calibration_path: str = "",
) -> dict:
    """Write ``RESULTS.npz`` atomically; returns what was written (without the bits)."""
    target = options.target
    calibration = target.calibration
    n = len(result.predictions)
    measurements = n * shots * model.layers * model.hidden
    noise = type(target)(target.channels, target.device)
    arrays = {
        "format": np.array(FORMAT),
        "version": np.int64(VERSION),
        "predictions": result.predictions.astype(np.int64),
        "shot_predictions": result.shot_predictions.astype(np.int64),
        "backend": np.array(backend),
        "target": np.array(str(target)),
        "noise": np.array(str(noise)),
        "identity": np.array(identity),
        "shots": np.int64(shots),
        "seed": np.int64(seed),
        "seconds": np.float64(seconds),
        "seconds_simulation": np.float64(result.seconds),
        "neuron_measurements_per_second": np.float64(measurements / max(result.seconds, 1e-12)),
        "a": np.float64(model.knobs.a),
        "g": np.float64(model.knobs.g),
        "memory": np.array(model.knobs.memory),
        "stochastic_neuron": np.array(str(model.stochastic_neuron or "")),
        "model": np.array(model_path),
        "model_sha256": np.array(model.digest()),
        "program": np.array(program_path),
        "device_data": np.array(json.dumps(device_data)),
        "calibration": np.array(calibration_path),
        "calibration_sha256": np.array(calibration.digest() if calibration else ""),
        "compensated": np.bool_(calibration is not None and target.compensate),
        "stats": np.array(json.dumps(result.stats)),
    }
    if labels is not None:
        arrays["labels"] = np.asarray(labels)
        arrays["error_rate"] = np.float64(result.error_rate(labels))
    written = dict(arrays)
    if result.bits is not None:
        arrays["bits"] = result.bits
    assert set(arrays) <= set(FIELDS), set(arrays) - set(FIELDS)
    write_npz(path, **arrays)
    return written


def read_results(path: str | Path) -> dict[str, np.ndarray]:
    """A ``RESULTS.npz`` as a dict of arrays; anything else is one line."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise NatqError(f"results file {path} not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise NatqError(f"{path} is not a natq results file ({type(error).__name__})") from None
    if "format" not in arrays:  # version 0: before the file named its format
        if "predictions" not in arrays or "backend" not in arrays:
            raise NatqError(f"{path} is not a natq results file")
        arrays["format"], arrays["version"] = np.array(FORMAT), np.int64(0)
    if str(arrays["format"]) != FORMAT:
        raise NatqError(f"{path} is not a natq results file (format {arrays['format']})")
    if int(arrays["version"]) > VERSION:
        raise NatqError(
            f"{path} is a version {int(arrays['version'])} results file; this natq reads up to "
            f"{VERSION}"
        )
    return arrays


__all__ = ["FIELDS", "FORMAT", "VERSION", "read_results", "write_results"]
