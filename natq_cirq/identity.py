"""One run identity: canonical JSON of what defines a run, hashed with SHA-256 (:func:`strong_id`).

Every journal and resumable result keys its files by this one scheme, as sinter's
``Task.strong_id`` does: the training run folder (:meth:`natq_cirq.config.TrainConfig.identity`),
the batch journal of a layered run (:mod:`natq_cirq.runners.layered`) and the shard journal of a
sharded run (:mod:`natq_cirq.runners.distributed`). Whatever changes the samples goes into the
description, whole: frozen dataclasses enter with *every* field, so a field added to an option
class changes the identity by itself and no hand-picked list of fields can go stale.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from pathlib import PurePath
from typing import Any

import numpy as np


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses (every field), mappings, sequences, numbers.

    Objects that describe themselves for identities (``_identity_()``, e.g. a calibration by its
    content hash) enter as that description; arrays by shape, type and the SHA-256 of their bytes.

    Raises:
        TypeError: a value with no canonical form (an identity must never fall back to ``repr``,
            which can differ between runs of the same thing).
    """
    if hasattr(value, "_identity_"):
        return canonical(value._identity_())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__type__": type(value).__name__}
        out.update({f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)})
        return out
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {
            "__array__": str(array.dtype),
            "shape": list(array.shape),
            "sha256": hashlib.sha256(array.tobytes()).hexdigest(),
        }
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return repr(value)  # JSON has no NaN or infinity
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__} in a run identity")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no spaces, ASCII."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def strong_id(value: Any, length: int | None = None) -> str:
    """SHA-256 (hex) of :func:`canonical_json`; its first ``length`` digits if given."""
    digest = hashlib.sha256(canonical_json(value).encode()).hexdigest()
    return digest if length is None else digest[:length]


__all__ = ["canonical", "canonical_json", "strong_id"]
