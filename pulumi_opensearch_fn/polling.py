"""What a wait does when a read fails: the same for `check --wait` and a program's `Wait`.

A transient failure (`api.errors.transient`) is shown and read again at the next
interval, until the wait's deadline; anything else ends the wait at once.
"""

from __future__ import annotations

from datetime import timedelta

from .api.errors import OpenSearchFnError, transient
from .durations import format_duration
from .printable import printable


def pause_after(
    error: OpenSearchFnError, *, interval: float, remaining: float, timeout: timedelta
) -> float:
    """Seconds to pause before reading again after `error`.

    Raises when waiting cannot help: `error` itself when it is a final answer, or, when
    the wait's time is up (`remaining` <= 0), the same error saying it was still failing.
    A pause the service asked for (`Retry-After`) is kept, within what is left.
    """
    if not transient(error):
        raise error
    if remaining <= 0:
        raise error.about(
            f"still failing when the {format_duration(timeout)} wait ended", type(error)
        ) from error
    asked = getattr(error, "retry_after", None) or 0.0
    return min(max(interval, asked), remaining)


def read_failed_line(subject: str, error: OpenSearchFnError, elapsed: float) -> str:
    """`ctr_test: read failed (ServerError: ... HTTP 503 ...), retrying, 3s elapsed`."""
    took = format_duration(timedelta(seconds=elapsed))
    return printable(
        f"{subject}: read failed ({type(error).__name__}: {error}), retrying, {took} elapsed"
    )
