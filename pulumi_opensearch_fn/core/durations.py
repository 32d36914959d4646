"""Durations as people write them: `90s`, `15m`, `36h`, `2d`, `1h30m`, or seconds."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal

from ..api.errors import InvalidInputError
from .printable import brief

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.ASCII)
# Far beyond any sensible max_age or timeout, and far inside what timedelta holds.
MAX_DURATION = timedelta(days=36500)
_MAX_SECONDS = Decimal(int(MAX_DURATION.total_seconds()))
# Longer text is not a duration anyone writes; the bound keeps parsing cheap.
_MAX_TEXT = 100
_EXAMPLES = "write e.g. '90s', '15m', '36h', '2d', '1h30m'"


def parse_duration(kind: str, value: object) -> timedelta:
    """A positive duration of at most MAX_DURATION from a timedelta, a number of seconds
    or text like `1h30m`; InvalidInputError for anything else (NaN, infinities, overflow)."""
    seconds = _seconds(kind, value)
    if seconds <= 0:
        raise InvalidInputError(f"{kind} must be longer than zero, got {brief(value)}")
    if seconds > _MAX_SECONDS:
        raise InvalidInputError(
            f"{kind} must be at most {format_duration(MAX_DURATION)}, got {brief(value)}"
        )
    # To the nearest microsecond (timedelta's resolution, rounded as timedelta rounds).
    delta = timedelta(microseconds=int((seconds * 1_000_000).to_integral_value()))
    if not delta:
        raise InvalidInputError(f"{kind} must be at least a microsecond, got {brief(value)}")
    return delta


def _seconds(kind: str, value: object) -> Decimal:
    if isinstance(value, timedelta):
        return Decimal(value // timedelta(microseconds=1)) / 1_000_000
    if isinstance(value, bool):
        raise InvalidInputError(f"{kind} must be a duration such as '30m', got {brief(value)}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{kind} must be a finite duration, got {brief(value)}")
        return Decimal(repr(value))  # the shortest decimal: what was written
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if not text or len(text) > _MAX_TEXT or _PART.sub("", text):
            raise InvalidInputError(f"{kind} {brief(value)} is not a duration; {_EXAMPLES}")
        return sum(
            (Decimal(number) * _UNITS[unit] for number, unit in _PART.findall(text)),
            Decimal(0),
        )
    raise InvalidInputError(f"{kind} must be a duration such as '30m', got {brief(value)}")


def format_duration(delta: timedelta) -> str:
    """Compact text for messages, to the second: `1h30m`, `2d4h`, `45s`, `-5s`."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")


def exact_duration(delta: timedelta) -> str:
    """Text that parses back to exactly `delta`: `format_duration` when whole seconds,
    else seconds with their fraction (`1.5s`)."""
    if delta.microseconds == 0 and delta >= timedelta(0):
        return format_duration(delta)
    seconds = Decimal(delta // timedelta(microseconds=1)) / 1_000_000
    return f"{seconds.normalize():f}s"
