"""Argument types: each turns one command-line value into what the API takes, or
raises ArgumentTypeError with a message saying what is wrong and what would do.

Validation reuses the package's own checks (imported lazily: they pull in httpx).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.thresholds import MetricThreshold, RegressionLimit

from ..core.printable import brief

MAX_CONCURRENCY = 32
# Requests in flight at once, at most: fewer while the service throttles (api.limiter).
DEFAULT_CONCURRENCY = MAX_CONCURRENCY
_EPOCH_MS = re.compile(r"^\d{1,16}$", re.ASCII)
# ASCII digits only (int() takes '٣'), and few enough that int() is cheap.
_WHOLE = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 30
# A host name (RFC 1035 lengths) or an IPv4 / IPv6 literal; checked before binding.
_HOST = re.compile(r"[A-Za-z0-9.:%\-]{1,253}", re.ASCII)


def _convert(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wraps a check that raises InvalidInputError into an argparse type."""

    def convert(text: str) -> Any:
        from ..api.errors import InvalidInputError

        try:
            return check(text)
        except InvalidInputError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    convert.__name__ = check.__name__  # argparse names the type in some messages
    return convert


def name_of(key: str) -> Callable[[str], str]:
    """An app group, function or instance name (`key`, an identity key), checked as
    every identity's names are."""

    def name(text: str) -> str:
        from ..api.identity import check_segment

        return check_segment(key, text)

    return _convert(name)


def count(kind: str, minimum: int = 1, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number within bounds."""

    def whole(text: str) -> int:
        text = text.strip()
        if not _WHOLE.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{kind} must be a whole number, got {brief(text)}")
        if len(text) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(f"{kind} {brief(text)} is too large")
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise argparse.ArgumentTypeError(f"{kind} must be {bounds}, got {value}")
        return value

    return whole


def duration(kind: str) -> Callable[[str], str]:
    """A duration such as 90s, 15m, 36h, 2d, 1h30m; kept as text for Expect / Wait."""

    def check(text: str) -> str:
        from ..core.durations import parse_duration

        parse_duration(kind, text)
        return text

    return _convert(check)


@_convert
def metric(text: str) -> MetricThreshold:
    """`recall>=90`: parsed now, the only parse (Expect keeps a parsed threshold)."""
    from ..core.thresholds import MetricThreshold

    return MetricThreshold.parse(text)


@_convert
def regression(text: str) -> RegressionLimit:
    """`auc 0.01`, `recall 2%`, `loss 5% lower`: parsed now, the only parse."""
    from ..core.thresholds import RegressionLimit

    return RegressionLimit.parse(text)


@_convert
def generation(text: str) -> int | str:
    """A generation number or `latest`."""
    from ..api.validation import check_generation

    text = text.strip()
    if text.lower() == "latest":
        return "latest"
    return check_generation(text)


def timestamp(kind: str) -> Callable[[str], int]:
    """ISO 8601 (naive means UTC) or epoch milliseconds, as epoch milliseconds."""

    def parse(text: str) -> int:
        text = text.strip()
        if _EPOCH_MS.match(text):
            return int(text)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{kind} {brief(text)} is neither ISO 8601 (e.g. 2024-05-01T08:00:00Z)"
                " nor epoch milliseconds"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        millis = int(when.timestamp() * 1000)
        if millis < 0:
            raise argparse.ArgumentTypeError(f"{kind} {brief(text)} is before 1970")
        return millis

    return parse


def host(text: str) -> str:
    """An address to bind: a host name or an IP literal."""
    if not _HOST.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(
            f"host {brief(text)} is not a host name or IP address, e.g. 127.0.0.1"
        )
    return text.strip()
