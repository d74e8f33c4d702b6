"""Where and how a read-out runs: one frozen value, :class:`Target`, with one canonical text form.

A target says everything about a run's read-outs that changes what is sampled, and nothing about
how the run is executed (journal, progress, credentials: :class:`natq_cirq.runners.RunOptions`,
as ``qsimcirq.QSimOptions`` holds simulator settings only). Plain data, no Cirq import: the
command line parses it once and refuses bad values before anything heavy loads.

Text form (``natq run --noise``, ``natq train --noise``, Keras configs), parts joined by ``+``,
written by ``str(target)`` in this order and read back by :meth:`Target.parse`:

* ``depolarizing:P`` / ``amplitude_damping:GAMMA`` / ``readout:P`` -- qubit-wise noise channels
  (``cirq.depolarize``, ``cirq.amplitude_damp`` after every moment; a bit flip before every
  measurement), in the order they apply;
* ``device:D`` -- simulate processor ``D``'s calibrated noise model (cirq_google's, median
  calibration); read-outs are placed on ``D``;
* ``processor:D`` -- read-outs placed on ``D`` with no simulated device noise (``qvm:D`` and
  ``engine:D`` set it: the processor brings its own noise);
* ``gateset:G`` -- the gate set the slot circuit is rewritten into (default: the processor's);
* ``slots:K`` -- read-outs per circuit execution (``0``: every slot of the processor);
* ``fold:K`` -- ``K`` rounds of identity-equivalent gate pairs before every read-out, amplifying
  gate noise (:func:`natq_cirq.hardware.devices.fold_identities`);
* ``calibration:SHA`` -- read-outs on the best slots of that calibration (its content hash;
  the calibration itself travels with the target), ``compensate:no`` -- slots only, angles as is.

``pairs:K`` is read as ``slots:K`` (its earlier name). Every consumer declares the
:data:`FEATURES` it applies and refuses the rest through :meth:`Target.require`: an option is
either applied or refused in one line, never silently ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Protocol

from natq_cirq.catalog import GATESETS, PROCESSORS
from natq_cirq.errors import NatqError
from natq_cirq.flags import TARGET, flag


class Calibration(Protocol):
    """What a target needs of a calibration (:class:`natq_cirq.hardware.calibration.Calibration`).

    Checked by protocol, so that the core never imports the Cirq side.
    """

    device: str

    def digest(self) -> str: ...

CHANNELS = ("depolarizing", "amplitude_damping", "readout")
KINDS = (*CHANNELS, "device", "processor", "gateset", "slots", "fold", "calibration", "compensate")
ALIASES = {"pairs": "slots"}
DEVICES = tuple(PROCESSORS)
# Upper bounds: a fold of K adds 2K gates per qubit to every read-out, and no processor natq
# knows has more slots than this.
MAX_FOLD = 1000
MAX_SLOTS = 1000

# What a target can ask of whatever runs it (the names backends and training declare).
FEATURES = {
    "channels": "qubit-wise noise channels",
    "device_noise": "a device's noise model (device:D)",
    "processor": "placement on a processor",
    "gateset": "a gate set",
    "slots": "a number of slots",
    "fold": "folding",
    "calibration": "a calibration",
}


def _whole(kind: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise NatqError(f"{kind}:K needs a whole number (got {value!r})")
    return int(value)


@dataclass(frozen=True)
class Target:
    """Where and how a run's read-outs happen (see the module docstring for each field's text).

    Attributes:
        channels: qubit-wise channels ``(kind, strength)`` in the order they apply.
        device: a processor whose calibrated noise model is simulated.
        processor: the processor read-outs are placed on without simulated noise (``qvm:``,
            ``engine:``); :attr:`placement` is the one a run uses.
        gateset: the gate set of the slot circuit (``None``: the processor's own).
        slots: read-outs per execution (``None``: the backend's default; ``0``: every slot).
        fold: rounds of identity-equivalent gate pairs.
        calibration: a calibration of the placement's processor.
        compensate: with a calibration, whether angles are compensated (else slots only).
    """

    channels: tuple[tuple[str, float], ...] = ()
    device: str | None = None
    processor: str | None = None
    gateset: str | None = field(
        default=None,
        metadata=flag(
            "rewrite the read-out circuit into this gate set (default: the processor's own)",
            choices=GATESETS,
            group=TARGET,
        ),
    )
    slots: int | None = field(
        default=None,
        metadata=flag(
            f"read-outs per circuit execution, 1..{MAX_SLOTS} (default: the backend's; all: every "
            "slot of the processor)",
            kind="slots",
            group=TARGET,
            show_default=False,
        ),
    )
    fold: int = field(
        default=0,
        metadata=flag(
            f"K rounds (0..{MAX_FOLD}) of identity-equivalent gate pairs (sqrt(X) sqrt(X)^dag, "
            "CZ CZ^dag) before every read-out: noise amplification",
            group=TARGET,
        ),
    )
    calibration: Calibration | None = None
    compensate: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple((str(k), float(p)) for k, p in self.channels))
        for kind, p in self.channels:
            if kind not in CHANNELS:
                raise NatqError(f"unknown noise channel {kind!r}; use one of {', '.join(CHANNELS)}")
            if not 0 <= p <= 1:
                raise NatqError(f"noise strength must lie in [0, 1] (got {p})")
        if self.device is not None and self.device not in DEVICES:
            raise NatqError(
                f"no noise model for device {self.device!r}; choose one of {', '.join(DEVICES)}"
            )
        if self.device is not None and self.processor not in (None, self.device):
            raise NatqError(
                f"the noise model of {self.device} acts on {self.device}'s qubits; this run is on "
                f"{self.processor}"
            )
        if self.gateset is not None and self.gateset not in GATESETS:
            raise NatqError(
                f"unknown gate set {self.gateset!r}; choose one of {', '.join(GATESETS)}"
            )
        if not 0 <= int(self.fold) <= MAX_FOLD:
            raise NatqError(f"fold must be in 0..{MAX_FOLD} (got {self.fold})")
        if self.slots is not None and not 0 <= int(self.slots) <= MAX_SLOTS:
            raise NatqError(
                f"slots must be in 1..{MAX_SLOTS}, or 0 for a whole device (got {self.slots})"
            )
        if self.calibration is None and not self.compensate:
            raise NatqError("compensation is a calibration's: give a calibration")

    # -- text -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, calibration: Calibration | None = None) -> Target:
        """A target from its text (module docstring); ``calibration`` is the one it names."""
        channels, values = [], {}
        for part in str(text).split("+"):
            kind, _, value = part.strip().partition(":")
            kind = ALIASES.get(kind, kind)
            if kind not in KINDS or not value:
                raise NatqError(
                    f"bad target part {part!r}; use KIND:VALUE with KIND one of "
                    f"{', '.join(KINDS)}, joined by '+'"
                )
            if kind in values:
                raise NatqError(f"{kind} is given twice in {text!r}")
            if kind in CHANNELS:
                channels.append((kind, _strength(value)))
            elif kind in ("slots", "fold"):
                values[kind] = _whole(kind, value)
            elif kind == "compensate":
                if value not in ("yes", "no"):
                    raise NatqError(f"compensate:yes or compensate:no (got {value!r})")
                values[kind] = value == "yes"
            else:
                values[kind] = value
        named = values.pop("calibration", None)
        if named is not None and (calibration is None or calibration.digest()[:16] != named):
            raise NatqError(f"the target names calibration {named}; give that calibration")
        return cls(tuple(channels), calibration=calibration if named else None, **values)

    @classmethod
    def coerce(cls, value: Target | str | None) -> Target | None:
        """``value`` as a target: a target as it is, text parsed (Keras configs keep text)."""
        if value is None or isinstance(value, Target):
            return value
        return cls.parse(value) if str(value) else None

    def __str__(self) -> str:
        parts = [f"{kind}:{_short(p)}" for kind, p in self.channels]
        for kind in ("device", "processor", "gateset", "slots"):
            value = getattr(self, kind)
            parts += [f"{kind}:{value}"] * (value is not None)
        parts += [f"fold:{self.fold}"] * bool(self.fold)
        if self.calibration is not None:
            parts.append(f"calibration:{self.calibration.digest()[:16]}")
            parts += ["compensate:no"] * (not self.compensate)
        return "+".join(parts)

    def _identity_(self) -> dict:
        """What :func:`natq_cirq.identity.strong_id` hashes: every field, a calibration by hash."""
        return {
            "channels": self.channels,
            "device": self.device,
            "processor": self.processor,
            "gateset": self.gateset,
            "slots": self.slots,
            "fold": self.fold,
            "calibration": None if self.calibration is None else self.calibration.digest(),
            "compensate": self.compensate,
        }

    # -- what it asks for -------------------------------------------------------------------

    @property
    def placement(self) -> str | None:
        """The processor the read-outs are placed on (``processor``, else ``device``), or None."""
        return self.processor or self.device

    @property
    def noisy(self) -> bool:
        """Whether any noise is simulated (channels or a device's model)."""
        return bool(self.channels) or self.device is not None

    @property
    def qubitwise(self) -> bool:
        """Only qubit-wise channels, unplaced and unfolded: the dynamic circuit's exact engine."""
        return self.placement is None and not self.fold and self.slots is None

    def features(self) -> tuple[str, ...]:
        """The :data:`FEATURES` this target asks for."""
        asked = {
            "channels": bool(self.channels),
            "device_noise": self.device is not None,
            "processor": self.processor is not None,
            "gateset": self.gateset is not None,
            "slots": self.slots is not None,
            "fold": bool(self.fold),
            "calibration": self.calibration is not None,
        }
        return tuple(name for name, used in asked.items() if used)

    def require(self, accepted, who: str, why: str = "") -> None:
        """Refuse, in one line, any feature that ``who`` (accepting ``accepted``) would ignore."""
        refused = [FEATURES[f] for f in self.features() if f not in accepted]
        if refused:
            raise NatqError(f"{who} does not apply {', '.join(refused)}{why}")

    def on(self, processor: str | None) -> Target:
        """This target on ``processor`` (a ``qvm:``/``engine:`` backend's own), checked."""
        if processor is None or processor == self.processor:
            return self
        if self.placement is not None:
            raise NatqError(f"this run is on {processor}; its target places it on {self.placement}")
        return replace(self, processor=processor)

    def merged(self, other: Target) -> Target:
        """The union of two targets (``--noise`` text and flags); a field set by both is refused."""
        values = {}
        for name, default in _DEFAULTS.items():
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != default and theirs != default and mine != theirs:
                raise NatqError(f"{name} is given twice ({mine} and {theirs}); give it once")
            values[name] = theirs if mine == default else mine
        return Target(**values)


_DEFAULTS = {f.name: f.default for f in fields(Target)}  # what "not given" is, per field


def _strength(value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        raise NatqError(f"noise strength {value!r} is not a number") from None
    if not value.isascii() or not math.isfinite(p):
        raise NatqError(f"noise strength {value!r} is not a finite number")
    return p


def _short(p: float) -> str:
    """The shortest text that reads back as exactly ``p``."""
    return repr(p).removesuffix(".0") if p.is_integer() else repr(p)


__all__ = ["CHANNELS", "DEVICES", "FEATURES", "KINDS", "MAX_FOLD", "MAX_SLOTS", "Target"]
