"""How the command line reads numbers: the paper's notations (``10^-1/2``, ``5pi/19``), slots."""

from __future__ import annotations

import argparse
import math
import re


def _finite(value: float, text: str, what: str) -> float:
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite {what}: {text!r}")
    return value


def angle(text: str) -> float:
    """A number, or a multiple of pi such as ``pi/2``, ``5pi/19``, ``5*pi/19``, ``0.25pi``."""
    cleaned = text.strip().lower().replace(" ", "").replace("*", "").replace("π", "pi")
    match = re.fullmatch(r"([0-9.eE+-]*)pi(?:/([0-9.]+))?", cleaned)
    try:
        if not cleaned.replace("pi", "").isascii():
            raise ValueError(text)
        if match:
            numerator = (
                float(match.group(1))
                if match.group(1) not in ("", "+", "-")
                else (-1.0 if match.group(1) == "-" else 1.0)
            )
            value = numerator * math.pi / (float(match.group(2)) if match.group(2) else 1.0)
        else:
            value = float(cleaned)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a number or multiple of pi: {text!r}") from None
    return _finite(value, text, "angle")


def _fraction(text: str) -> float:
    """``-0.5``, ``-1/3`` or ``(-1/2)``."""
    text = text.strip("()")
    numerator, _, denominator = text.partition("/")
    return float(numerator) / (float(denominator) if denominator else 1.0)


def number(text: str) -> float:
    """A float, or a power of ten as the paper writes it: ``10^-0.5``, ``10^-1/3``, ``10^(-1/2)``."""
    cleaned = text.strip().replace(" ", "")
    try:
        if not cleaned.isascii():  # float() reads other scripts' digits: not on purpose here
            raise ValueError(text)
        value = 10.0 ** _fraction(cleaned[3:]) if cleaned.startswith("10^") else float(cleaned)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return _finite(value, text, "number")


def whole(text: str) -> int:
    """A whole number in ASCII digits (``int()`` would read other scripts' digits too)."""
    cleaned = text.strip()
    digits = cleaned[1:] if cleaned[:1] in "+-" else cleaned
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(cleaned)


def slot_count(text: str) -> int:
    """A number of slots, or ``all`` (0: every slot of the device)."""
    if text.strip().lower() == "all":
        return 0
    try:
        value = whole(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a whole number or 'all': {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 or 'all' (got {value})")
    return value


PARSERS = {"int": whole, "float": number, "number": number, "angle": angle, "slots": slot_count}


__all__ = ["PARSERS", "angle", "number", "slot_count", "whole"]
