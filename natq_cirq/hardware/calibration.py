"""Calibrations of a processor's read-out slots, and the angle compensation they allow.

In layered execution every read-out starts from fresh qubits and one rotation ``R_Y(psi)``, so on
any processor slot ``s`` reads ``-1`` with probability ``p_s(psi) = A_s + B_s cos psi + C_s sin psi``
(:class:`natq_cirq.hardware.noisy.SlotReadout` derives this; the noiseless slot circuit has its own
``(A0, B0, C0)``, e.g. ``(1/2, -1/2, 0)`` for projective read-out). A :class:`Calibration` holds
each slot's fitted ``(A, B, C)`` with standard errors, measured by ``natq calibrate``
(:func:`natq_cirq.runners.calibrate.calibrate`) on the very circuits a run sends.

Two uses (:func:`select_slots`, :class:`Compensation`):

* **selection**: place read-outs on the slots with the smallest expected bias of ``P(-1)`` over
  the network's read-out angles;
* **compensation**: send ``psi'`` with ``p_s(psi') = p_ideal(psi)``. Writing
  ``B cos psi' + C sin psi' = R cos(psi' - phi)`` with ``R = hypot(B, C)``, ``phi = atan2(C, B)``:
  ``psi' = phi +- arccos((p_ideal - A) / R)``, the branch nearer ``psi``. A slot reaches only
  ``[A - R, A + R]``; a read-out may also be *inverted* (sent for ``1 - p_ideal``, its bit
  flipped), which serves probabilities near 1 from the slot's better end when ``|1>`` reads worse
  than ``|0>``. A target out of reach either way is clipped to the nearest end, and the run
  reports how many read-outs were clipped and by how much probability.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from natq_cirq.catalog import PROCESSORS
from natq_cirq.errors import NatqError
from natq_cirq.files import read_document, write_texts
from natq_cirq.hardware.readout import Slot
from natq_cirq.target import Target

import cirq
import numpy as np

FORMAT = "natq-calibration"
VERSION = 1
# A calibration is refused when some slot's fit is this unlikely under the model, after a
# Bonferroni correction over the slots (a fit that is merely unlucky passes).
FIT_P_VALUE = 1e-3
# A slot whose cosine/sine response is this small cannot steer its probability: never chosen.
MIN_RESPONSE = 0.05


def trig_features(psi: np.ndarray) -> np.ndarray:
    """``(..., 3)``: ``(1, cos psi, sin psi)``."""
    psi = np.asarray(psi, dtype=np.float64)
    return np.stack([np.ones_like(psi), np.cos(psi), np.sin(psi)], axis=-1)


def probability_minus(coefficients: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """``P(d = -1) = A + B cos psi + C sin psi`` (clipped to [0, 1]); coefficients ``(..., 3)``."""
    return np.clip(np.sum(np.asarray(coefficients) * trig_features(psi), axis=-1), 0.0, 1.0)


@dataclass(frozen=True)
class SlotFit:
    """One slot's fitted response.

    Attributes:
        slot: its ``(neuron, ancilla)`` qubits (ancilla ``None`` for projective read-out).
        coefficients: ``(A, B, C)``.
        standard_errors: their standard errors (0 for an exact calibration).
        chi2: the weighted residual sum of squares of the fit (0 when exact).
        dof: its degrees of freedom (angles - 3).
        p_value: ``P(chi2_dof >= chi2)`` (1 when exact).
    """

    slot: Slot
    coefficients: tuple[float, float, float]
    standard_errors: tuple[float, float, float]
    chi2: float = 0.0
    dof: int = 0
    p_value: float = 1.0

    @property
    def reach(self) -> tuple[float, float]:
        """The interval of ``P(-1)`` this slot can reach, ``[A - R, A + R]`` within ``[0, 1]``."""
        a, b, c = self.coefficients
        r = math.hypot(b, c)
        return max(a - r, 0.0), min(a + r, 1.0)


def chi2_survival(x: float, dof: int) -> float:
    """``P(chi2_dof >= x)`` for a whole number of degrees of freedom (closed form, no SciPy).

    Even ``dof``: ``exp(-x/2) sum_{i < dof/2} (x/2)^i / i!``; odd: ``erfc(sqrt(x/2))`` plus the
    half-integer terms. SciPy is left out so that loading a calibration stays light.
    """
    half = x / 2.0
    if dof % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, dof // 2):
            term *= half / i
            total += term
        return float(min(1.0, math.exp(-half) * total))
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) * math.exp(-half) * 2.0 / math.sqrt(math.pi)
    for i in range(1, (dof + 1) // 2):
        total += term
        term *= half / (i + 0.5)
    return float(min(1.0, total))


def fit_slot(slot: Slot, angles: np.ndarray, minus_counts: np.ndarray, shots: int) -> SlotFit:
    """Weighted least squares of measured ``P(-1)`` at ``angles`` on ``(1, cos, sin)``.

    Each angle's frequency gets the weight of its binomial variance (floored at one count, so a
    frequency of 0 or 1 does not get infinite weight); the standard errors are the square roots
    of ``(X^T W X)^-1``'s diagonal and ``chi2`` is the weighted residual sum of squares.
    """
    angles = np.asarray(angles, dtype=np.float64)
    frequency = np.asarray(minus_counts, dtype=np.float64) / shots
    floor = 1.0 / shots
    variance = np.clip(frequency, floor, 1 - floor) * (1 - np.clip(frequency, floor, 1 - floor))
    weight = shots / variance
    x = trig_features(angles)
    xtw = x.T * weight
    covariance = np.linalg.inv(xtw @ x)
    coefficients = covariance @ (xtw @ frequency)
    residual = frequency - x @ coefficients
    chi2 = float(np.sum(weight * residual**2))
    dof = len(angles) - 3
    return SlotFit(
        slot,
        tuple(float(v) for v in coefficients),
        tuple(float(v) for v in np.sqrt(np.diag(covariance))),
        chi2,
        dof,
        chi2_survival(chi2, dof) if dof > 0 else 1.0,
    )


@dataclass(frozen=True)
class Calibration:
    """Every slot's read-out response on one processor, for one read-out circuit.

    Attributes:
        device: the processor.
        gateset: the gate set the calibration circuits were rewritten into.
        g: the read-out strength of the slot circuit (``pi/2`` projective).
        ancillas: whether slots are (neuron, ancilla) pairs.
        fold: rounds of identity-equivalent gate pairs in the circuits.
        backend: what measured it (``qvm:rainbow``, ``engine:rainbow``, ``analytic``).
        ideal: the noiseless slot circuit's ``(A0, B0, C0)``.
        slots: the fits, one per slot.
        angles: the calibration angles (empty when exact).
        shots: repetitions per angle and slot (0 when exact).
        created: UTC time of the measurement.
        noise: the simulated noise spec when the backend is a simulator, else ``None``.
        device_data: the device data it was measured on
            (:meth:`natq_cirq.hardware.devices.DeviceData.record`: cirq-google's version and
            configuration or natq-cirq's package data, with checksums); ``None`` in files
            written before it was recorded.
    """

    device: str
    gateset: str
    g: float
    ancillas: bool
    fold: int
    backend: str
    ideal: tuple[float, float, float]
    slots: tuple[SlotFit, ...]
    angles: tuple[float, ...] = ()
    shots: int = 0
    created: str = ""
    noise: str | None = None
    device_data: dict | None = field(default=None, hash=False)
    source: str | None = field(default=None, compare=False)

    def coefficients(self, slots: Sequence[Slot] | None = None) -> np.ndarray:
        """``(K, 3)`` coefficients of ``slots`` (default: every calibrated slot, in order)."""
        by_slot = {fit.slot: fit for fit in self.slots}
        chosen = [fit.slot for fit in self.slots] if slots is None else slots
        missing = [s for s in chosen if s not in by_slot]
        if missing:
            raise NatqError(f"the calibration has no fit for slot(s) {_names(missing)}")
        return np.array([by_slot[s].coefficients for s in chosen], dtype=np.float64)

    def digest(self) -> str:
        """Content hash of the calibration (its JSON without the creation time)."""
        document = self._document()
        document.pop("created")
        text = json.dumps(document, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def check(self, target: Target, g: float) -> None:
        """Refuse to use this calibration on another target (processor, gate set, fold) or ``g``.

        ``target``'s gate set defaults to its processor's own.
        """
        where = f"calibration {self.source}" if self.source else "the calibration"
        device, fold = target.placement, target.fold
        gateset = target.gateset or PROCESSORS.get(device, (None,))[0]
        if device != self.device:
            raise NatqError(
                f"{where} is of {self.device}; this run is "
                + (f"on {device}" if device else "not placed on a device")
            )
        if gateset != self.gateset:
            raise NatqError(f"{where} used gate set {self.gateset}; this run uses {gateset}")
        if not math.isclose(g, self.g, abs_tol=1e-9):
            raise NatqError(
                f"{where} measured the read-out with g = {self.g:.6g}; the model has g = {g:.6g} "
                "(calibrate with the model's g)"
            )
        if fold != self.fold:
            raise NatqError(f"{where} was measured at fold {self.fold}; this run folds {fold}")

    def check_fit(self) -> None:
        """Refuse a calibration that the response model does not describe, or has no live slot."""
        bad = [f for f in self.slots if f.p_value < FIT_P_VALUE / max(len(self.slots), 1)]
        if bad:
            worst = min(bad, key=lambda f: f.p_value)
            raise NatqError(
                f"the read-out of {len(bad)} slot(s) does not fit A + B cos psi + C sin psi "
                f"(worst {_names([worst.slot])}: chi2 {worst.chi2:.1f} on {worst.dof} dof, "
                f"p = {worst.p_value:.2g}); the processor drifted or the circuits differ: "
                "calibrate again"
            )
        if not self.usable():
            raise NatqError(
                f"no slot responds to its angle (every |(B, C)| < {MIN_RESPONSE}): the read-out "
                "is pure noise"
            )

    def usable(self) -> tuple[SlotFit, ...]:
        """The slots that respond to their angle (``|(B, C)| >= MIN_RESPONSE``).

        The others are never chosen: neither placement nor compensation makes them read a neuron.
        """
        return tuple(f for f in self.slots if math.hypot(*f.coefficients[1:]) >= MIN_RESPONSE)

    def _document(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "device": self.device,
            "gateset": self.gateset,
            "g": self.g,
            "ancillas": self.ancillas,
            "fold": self.fold,
            "backend": self.backend,
            "noise": self.noise,
            "created": self.created,
            "angles": list(self.angles),
            "shots": self.shots,
            "ideal": list(self.ideal),
            "slots": [
                {
                    "qubits": json.loads(cirq.to_json(list(fit.slot))),
                    **{k: v for k, v in asdict(fit).items() if k != "slot"},
                }
                for fit in self.slots
            ],
            # Only when recorded: older files keep their content hash.
            **({"device_data": self.device_data} if self.device_data is not None else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self._document(), indent=1) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write atomically."""
        return write_texts({path: self.to_json()})[0]


def _record(value: object) -> dict | None:
    if value is not None and not isinstance(value, dict):
        raise TypeError("device_data is not a record")
    return value


def read_calibration(path: str | Path) -> Calibration:
    """A calibration written by :meth:`Calibration.write`; anything else is one clear error."""
    path = Path(path)
    document = read_document(path, "calibration", FORMAT, VERSION, "write one with natq calibrate")
    try:
        fits = tuple(
            SlotFit(
                tuple(cirq.read_json(json_text=json.dumps(entry["qubits"]))),
                tuple(float(v) for v in entry["coefficients"]),
                tuple(float(v) for v in entry["standard_errors"]),
                float(entry["chi2"]),
                int(entry["dof"]),
                float(entry["p_value"]),
            )
            for entry in document["slots"]
        )
        calibration = Calibration(
            device=str(document["device"]),
            gateset=str(document["gateset"]),
            g=float(document["g"]),
            ancillas=bool(document["ancillas"]),
            fold=int(document["fold"]),
            backend=str(document["backend"]),
            ideal=tuple(float(v) for v in document["ideal"]),
            slots=fits,
            angles=tuple(float(v) for v in document["angles"]),
            shots=int(document["shots"]),
            created=str(document["created"]),
            noise=document["noise"],
            device_data=_record(document.get("device_data")),
            source=str(path),
        )
    except Exception as error:
        raise NatqError(f"{path} is a damaged natq calibration ({type(error).__name__})") from None
    if not fits or any(len(f.coefficients) != 3 for f in fits) or len(calibration.ideal) != 3:
        raise NatqError(f"{path} is a damaged natq calibration (coefficients)")
    check_tables(calibration, str(path))
    return calibration


def check_tables(calibration: Calibration, where: str) -> None:
    """Refuse tables that are not finite or whose probabilities leave [0, 1] beyond their errors.

    A slot's ``P(-1) = A + B cos(psi) + C sin(psi)`` ranges over ``A -+ sqrt(B^2 + C^2)``; a fit
    from finite shots may overshoot [0, 1] by a few standard errors, no more.
    """
    for fit in calibration.slots:
        values = (*fit.coefficients, *fit.standard_errors)
        if not all(math.isfinite(v) for v in values) or min(fit.standard_errors) < 0:
            raise NatqError(
                f"{where}: slot {_names([fit.slot])}'s table or errors are not finite numbers "
                "(errors >= 0)"
            )
        a, b, c = fit.coefficients
        reach, slack = math.hypot(b, c), 1e-6 + 5 * max(fit.standard_errors)
        if a - reach < -slack or a + reach > 1 + slack:
            raise NatqError(
                f"{where}: slot {_names([fit.slot])} reads -1 with probability "
                f"{a - reach:.3g}..{a + reach:.3g}, outside [0, 1]"
            )
    ideal = calibration.ideal
    if not all(math.isfinite(v) for v in ideal):
        raise NatqError(f"{where}: its ideal read-out is not finite")


def _solve(target, a, b, c, cos_psi, sin_psi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cos psi', sin psi')`` with ``a + b cos psi' + c sin psi' = target``, and the shortfalls.

    ``psi' = phi +- turn`` with ``phi = atan2(c, b)``, ``cos turn = (target - a) / R`` (clipped to
    [-1, 1]); of the two, the one nearer the ideal angle ``psi`` (the identity when the slot is
    ideal): ``+`` iff ``sin(psi - phi) >= 0``. All in products and one square root.
    """
    response = np.hypot(b, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = (target - a) / response
        cos_phi, sin_phi = b / response, c / response
    reached = np.clip(cosine, -1.0, 1.0)
    sign = np.where(sin_psi * cos_phi - cos_psi * sin_phi >= 0, 1.0, -1.0)
    sin_turn = sign * np.sqrt(1.0 - reached * reached)
    return (
        cos_phi * reached - sin_phi * sin_turn,
        sin_phi * reached + cos_phi * sin_turn,
        np.abs(response * (cosine - reached)),
    )


def _compensated(
    psi: np.ndarray, coefficients: np.ndarray, ideal: Sequence[float], invert: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(cos psi', sin psi', inverted, shortfall)``: see :func:`compensated_angles`."""
    psi = np.asarray(psi, dtype=np.float64)
    table = np.asarray(coefficients, dtype=np.float64)
    a, b, c = table[..., 0], table[..., 1], table[..., 2]
    cos_psi, sin_psi = np.cos(psi), np.sin(psi)
    target = np.clip(ideal[0] + ideal[1] * cos_psi + ideal[2] * sin_psi, 0.0, 1.0)
    cos_d, sin_d, short = _solve(target, a, b, c, cos_psi, sin_psi)
    if not invert:
        return cos_d, sin_d, np.zeros(cos_d.shape, dtype=bool), short
    cos_f, sin_f, short_f = _solve(1.0 - target, a, b, c, cos_psi, sin_psi)
    inverted = short_f < short - 1e-12
    return (
        np.where(inverted, cos_f, cos_d),
        np.where(inverted, sin_f, sin_d),
        inverted,
        np.where(inverted, short_f, short),
    )


def compensated_angles(
    psi: np.ndarray, coefficients: np.ndarray, ideal: Sequence[float], invert: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles ``psi'`` whose calibrated probability is the ideal one at ``psi``.

    A slot reads ``-1`` with ``p_s(psi') = A + B cos psi' + C sin psi'``, so it reaches only
    ``[A - R, A + R]``. With ``invert``, a read-out may instead be sent at ``psi'`` with
    ``p_s(psi') = 1 - p_ideal`` and its bit flipped afterwards (``1 - p_s`` reaches
    ``[1 - A - R, 1 - A + R]``): a processor that reads ``|1>`` worse than ``|0>`` then serves
    ideal probabilities near 1 from its good end. Each read-out takes the way with the smaller
    shortfall (direct on ties).

    Args:
        psi: ideal angles.
        coefficients: ``(..., 3)`` calibrated ``(A, B, C)``, broadcast against ``psi``: ``(K, 3)``
            for ``psi (B, K)`` with slot ``s`` in column ``s``, or one row per read-out.
        ideal: the noiseless ``(A0, B0, C0)``.
        invert: allow the inverted read-out.

    Returns:
        ``psi'``, whether each read-out is inverted, and ``|P(-1) - p_ideal(psi)|`` of the
        read-out as sent (non-zero only where the target was out of reach and clipped).
    """
    cos_new, sin_new, inverted, shortfall = _compensated(psi, coefficients, ideal, invert)
    return np.arctan2(sin_new, cos_new), inverted, shortfall


@dataclass(frozen=True)
class Compensation:
    """What a compiled program carries from a calibration: its slots' tables and their use.

    Attributes:
        calibration: the calibration's content hash (:meth:`Calibration.digest`).
        coefficients: ``(A, B, C)`` of each of the program's slots, in slot order.
        ideal: the noiseless ``(A0, B0, C0)``.
        compensate: whether angles are replaced (``False``: the calibration chose the slots only).
    """

    calibration: str
    coefficients: tuple[tuple[float, float, float], ...]
    ideal: tuple[float, float, float]
    compensate: bool = True

    def apply(self, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Angles to send for ideal angles ``(B, K)``, which to invert, and their shortfalls.

        Slot ``s`` is column ``s``; an inverted read-out's measured bit is to be flipped.
        Without ``compensate`` the angles go as they are (nothing inverted, shortfall zero).
        """
        if not self.compensate:
            return angles, np.zeros(np.shape(angles), dtype=bool), np.zeros(np.shape(angles))
        return compensated_angles(angles, np.array(self.coefficients), self.ideal)

    def probability_minus(
        self, psi: np.ndarray, slot: np.ndarray, truth: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``P(d = -1)`` of read-outs at ideal angles ``psi`` sent to slots ``slot``, and shortfalls.

        Args:
            psi: ideal angles.
            slot: each read-out's slot (same shape).
            truth: ``(K, 3)`` tables the slots really have (a noise model's); default: the
                calibration's own, which makes this its prediction.

        Returns:
            ``P(-1)`` and the clipping shortfall of each read-out (zero without compensation).
        """
        psi = np.asarray(psi, dtype=np.float64)
        table = np.array(self.coefficients)[slot]
        real = table if truth is None else np.asarray(truth)[slot]
        if not self.compensate:
            return probability_minus(real, psi), np.zeros(psi.shape)
        if truth is None:
            # By the calibration's own tables every read-out gets the reachable probability
            # nearest the ideal one, directly or inverted: no angles needed.
            target = probability_minus(np.array(self.ideal), psi)
            radius = np.hypot(table[..., 1], table[..., 2])
            low, high = table[..., 0] - radius, table[..., 0] + radius
            direct = np.clip(target, low, high)
            inverted = 1.0 - np.clip(1.0 - target, low, high)
            use = np.abs(inverted - target) < np.abs(direct - target) - 1e-12
            p = np.where(use, inverted, direct)
            return p, np.abs(p - target)
        cos_sent, sin_sent, inverted, shortfall = _compensated(psi, table, self.ideal)
        p = np.clip(real[..., 0] + real[..., 1] * cos_sent + real[..., 2] * sin_sent, 0.0, 1.0)
        return np.where(inverted, 1.0 - p, p), shortfall

    def to_dict(self) -> dict:
        return {
            "calibration": self.calibration,
            "coefficients": [list(c) for c in self.coefficients],
            "ideal": list(self.ideal),
            "compensate": self.compensate,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Compensation:
        return cls(
            str(data["calibration"]),
            tuple(tuple(float(v) for v in row) for row in data["coefficients"]),
            tuple(float(v) for v in data["ideal"]),
            bool(data["compensate"]),
        )


@dataclass
class ReadoutCounts:
    """Running counts of a compensated run's read-outs, for its ``stats``.

    ``clipped``: read-outs whose ideal probability was out of reach, and ``shortfall`` the sum of
    their shortfalls; ``inverted``: inverted read-outs (``None`` when the run does not track them).
    """

    clipped: int = 0
    shortfall: float = 0.0
    inverted: int | None = None

    def add(
        self, shortfall: np.ndarray, inverted: np.ndarray | None = None, weight: int = 1
    ) -> None:
        """Count read-outs by their shortfalls (and inversions); each stands for ``weight``."""
        self.clipped += int(np.count_nonzero(shortfall > 1e-12)) * weight
        self.shortfall += float(shortfall.sum()) * weight
        if inverted is not None:
            self.inverted = (self.inverted or 0) + int(np.count_nonzero(inverted)) * weight

    def stats(self) -> dict:
        out = {} if self.inverted is None else {"readouts_inverted": self.inverted}
        return {
            **out,
            "readouts_clipped": self.clipped,
            "clipped_probability_mean": self.shortfall / self.clipped if self.clipped else 0.0,
        }


def expected_bias(calibration: Calibration, angles: np.ndarray, compensate: bool) -> np.ndarray:
    """Each slot's mean ``|P(-1) - P_ideal(-1)|`` over read-out angles ``angles`` (one value each).

    This is the expected excess bit-flip probability of a read-out on the slot: with compensation
    only the clipping shortfall is left.
    """
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    table = calibration.coefficients()
    ideal = probability_minus(np.asarray(calibration.ideal), angles)
    if compensate:
        _, _, shortfall = compensated_angles(
            np.broadcast_to(angles[:, None], (len(angles), len(table))), table, calibration.ideal
        )
        return shortfall.mean(axis=0)
    actual = probability_minus(table[None, :, :], angles[:, None])
    return np.abs(actual - ideal[:, None]).mean(axis=0)


# Without reference angles, slots are ranked over a uniform grid of read-out angles.
UNIFORM_ANGLES = np.linspace(0.0, np.pi, 33)


def select_slots(
    calibration: Calibration,
    count: int,
    angles: np.ndarray | None = None,
    compensate: bool = True,
) -> list[Slot]:
    """The ``count`` usable slots with the smallest :func:`expected_bias` over ``angles``.

    ``angles`` are the network's read-out angles on reference inputs (default
    :data:`UNIFORM_ANGLES`); ties keep the calibration's order; slots that hardly respond
    (:meth:`Calibration.usable`) are never chosen.
    """
    usable = {fit.slot for fit in calibration.usable()}
    if count > len(usable):
        raise NatqError(
            f"{count} slots asked for; the calibration has {len(usable)} that respond to their "
            f"angle (of {len(calibration.slots)})"
        )
    bias = expected_bias(calibration, UNIFORM_ANGLES if angles is None else angles, compensate)
    bias = np.where([fit.slot in usable for fit in calibration.slots], bias, np.inf)
    order = np.argsort(bias, kind="stable")[:count]
    return [calibration.slots[i].slot for i in sorted(order)]


def _names(slots: Sequence[Slot]) -> str:
    return ", ".join("-".join(str(q) for q in slot if q is not None) for slot in slots)


__all__ = [
    "Calibration",
    "Compensation",
    "ReadoutCounts",
    "SlotFit",
    "compensated_angles",
    "expected_bias",
    "fit_slot",
    "probability_minus",
    "read_calibration",
    "select_slots",
]
