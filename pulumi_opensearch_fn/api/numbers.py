"""Exact decimal numbers, from thresholds people write and from metrics the service sends.

Gates compare these with `decimal.Decimal`: a float would round `0.12345649` or
`12345678901234567` and let a model through that should be stopped.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# A plain decimal number, optionally with an exponent: 90, -0.5, .5, 1e-9, 1E6.
NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(NUMBER_PATTERN, re.ASCII)
# Longer texts are not thresholds anyone writes; bounding them bounds the work.
MAX_NUMBER_LENGTH = 400
# The largest whole number a double (what the Pulumi engine, JSON readers and float carry)
# holds unambiguously: 2**53 + 1 already reads back as 2**53.
MAX_SAFE_INTEGER = 2**53 - 1


def decimal_of(text: str) -> Decimal:
    """The exact value of `text`, or ValueError saying why it is not a finite number."""
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(f"a number of {len(text)} characters; at most {MAX_NUMBER_LENGTH}")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{text!r} is not a finite decimal number")
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal holds (about 10**18)
        raise ValueError(f"{text[:40]!r} has an exponent out of range") from None


def json_float(text: str) -> Decimal:
    """`parse_float` for json.loads: the number exactly as sent."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"number {text[:40]!r} is out of range") from None


def json_constant(name: str) -> Decimal:
    """`parse_constant` for json.loads: NaN and ±Infinity are kept, marked as not finite,
    so a gate on them fails with a reason instead of comparing."""
    return Decimal(name)


def is_safe_float(value: float) -> bool:
    """Whether a whole double can be trusted as the integer it shows: beyond
    MAX_SAFE_INTEGER it may be a neighbour rounded."""
    return abs(value) <= MAX_SAFE_INTEGER


def to_float(value: Decimal | int) -> float | None:
    """A number for outputs (Pulumi and JSON carry doubles); None when no finite double
    can carry it (NaN, infinities, beyond about 1.8e308)."""
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    try:
        result = float(value)
    except OverflowError:  # an int beyond the double range
        return None
    return result if result not in (float("inf"), float("-inf")) else None
