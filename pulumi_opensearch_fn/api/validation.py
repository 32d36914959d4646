"""Checks on arguments, done before any request is sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from .errors import InvalidInputError
from .numbers import MAX_SAFE_INTEGER

MAX_NAME_LENGTH = 256
MAX_PAGE_SIZE = 100
MAX_REGION_LENGTH = 63
OUTPUT_LEVELS = ("simple", "normal", "detail")
TASK_STATUSES = ("success", "failed", "running")
INSTANCE_STATUSES = ("available", "unavailable")
DAG_STATUSES = ("success", "failed", "untrained", "pending", "running")

# Generations are 64-bit integers at the service.
MAX_GENERATION = 2**63 - 1
_MAX_GENERATION_DIGITS = len(str(MAX_GENERATION))
_INTEGER = re.compile(r"[+-]?[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")


def check_name(kind: str, value: object) -> str:
    """Returns value when it is a usable path segment, else raises InvalidInputError."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{kind} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{kind} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{kind} is {len(value)} characters long; at most {MAX_NAME_LENGTH}"
        )
    if _CONTROL.search(value):
        raise InvalidInputError(f"{kind} {value!r} contains a control character")
    if not _is_text(value):
        # Python reads a non-UTF-8 byte of argv or the environment as a lone surrogate.
        raise InvalidInputError(
            f"{kind} {value!r} is not UTF-8 text (a byte that is not UTF-8, or a lone surrogate)"
        )
    if value in (".", ".."):
        raise InvalidInputError(f"{kind} must not be {value!r}")
    return value


def _is_text(value: str) -> bool:
    """Whether `value` can be sent: UTF-8 has no encoding for a lone surrogate."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_choice(kind: str, value: object, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        raise InvalidInputError(f"{kind} must be one of {', '.join(options)}; got {value!r}")
    return str(value)


def _whole(value: object) -> object:
    """Whole-number floats as ints: numbers cross the Pulumi engine as floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_generation(value: object) -> int:
    """A generation as an int >= 0; accepts ints, whole floats up to 2**53 - 1 and ASCII
    decimal strings ('3'). Other digits ('²', '٣'), values beyond a 64-bit integer and
    floats beyond 2**53 - 1 (which may be a neighbour rounded) are refused."""
    if isinstance(value, bool):
        raise InvalidInputError(f"generation must be a whole number, got {value!r}")
    # Beyond MAX_GENERATION it is out of range, and said so below.
    if isinstance(value, float) and MAX_SAFE_INTEGER < value <= MAX_GENERATION:
        raise InvalidInputError(
            f"generation {value!r} is a float beyond 2**53 - 1, so it may be rounded;"
            " give it as an int or as text"
        )
    value = _whole(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_GENERATION_DIGITS + 1 and _INTEGER.fullmatch(text):
            value = int(text)
        elif _INTEGER.fullmatch(text):
            raise InvalidInputError(
                f"generation must be at most {MAX_GENERATION}, got {len(text)} digits"
            )
    if not isinstance(value, int):
        raise InvalidInputError(f"generation must be a whole number, got {_shown(value)}")
    if value < 0:
        raise InvalidInputError(f"generation must not be negative, got {value}")
    if value > MAX_GENERATION:
        raise InvalidInputError(f"generation must be at most {MAX_GENERATION}, got {_shown(value)}")
    return value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_positive(kind: str, value: object, maximum: int | None = None) -> int:
    value = _whole(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{kind} must be a positive whole number, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidInputError(f"{kind} must be at most {maximum}, got {value}")
    return value


def to_epoch_ms(kind: str, value: datetime | float | None) -> int | None:
    """Accepts epoch milliseconds or an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError(f"{kind} must be timezone-aware (e.g. datetime.now(UTC))")
        return int(value.timestamp() * 1000)
    number = _whole(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise InvalidInputError(f"{kind} must be epoch milliseconds or a datetime, got {value!r}")
    return number


def check_time_range(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInputError(f"end time {end} is before start time {start}")


def check_region(value: object) -> str:
    """A region id: one DNS label of the endpoint's host name, so at most 63 characters."""
    if isinstance(value, str) and len(value) > MAX_REGION_LENGTH:
        raise InvalidInputError(
            f"region is {len(value)} characters long; at most {MAX_REGION_LENGTH}"
            " (regions look like 'cn-hangzhou')"
        )
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidInputError(f"region must look like 'cn-hangzhou', got {value!r}")
    return value


def encode_segment(value: str) -> str:
    """RFC 3986 percent-encoding of one path segment; '/' is encoded too."""
    return quote(value, safe="-_.~")
