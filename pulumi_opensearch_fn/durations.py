"""Durations as people write them: `90s`, `15m`, `36h`, `2d`, `1h30m`, or seconds."""

from __future__ import annotations

import re
from datetime import timedelta

from .api.errors import InvalidInputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(kind: str, value: object) -> timedelta:
    """A positive duration from a timedelta, a number of seconds or text like `1h30m`."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise InvalidInputError(f"{kind} must be a duration such as '30m', got {value!r}")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if not text or _PART.sub("", text):
            raise InvalidInputError(
                f"{kind} {value!r} is not a duration; write e.g. '90s', '15m', '36h', '2d', '1h30m'"
            )
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    else:
        raise InvalidInputError(f"{kind} must be a duration such as '30m', got {value!r}")
    if seconds <= 0:
        raise InvalidInputError(f"{kind} must be longer than zero, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Compact text for messages: `1h30m`, `2d4h`, `45s`."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
