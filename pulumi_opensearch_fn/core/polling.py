"""The one wait loop, for `check --wait` and a program's `Wait`.

It reads until every expectation holds, a task fails, or the timeout passes. A
transient failure (`api.errors.transient`) is shown and read again at the next
interval, until the wait's deadline; anything else ends the wait at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from ..api.errors import OpenSearchFnError, transient
from .durations import format_duration
from .expectations import Observation, ParsedExpect, Result, Wait, all_met, evaluate, hopeless
from .printable import printable


async def wait_until(
    read: Callable[[], Awaitable[Observation]],
    expect: ParsedExpect,
    wait: Wait,
    *,
    first: Awaitable[Observation] | None = None,
    report: Callable[[Observation, list[Result], float], None] | None = None,
    retrying: Callable[[OpenSearchFnError, float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Observation:
    """The last observation: the first with every expectation met, one whose task
    failed (`hopeless`), or the one read when the timeout passed. The caller judges it.

    `first` is a read already under way. `report` is called after every read with its
    results and the elapsed seconds, `retrying` after every read that failed and will
    be made again (`pause_after`); any other error ends the wait at once.
    """
    started = clock()
    deadline = started + wait.timeout_delta.total_seconds()
    interval = wait.interval_delta.total_seconds()
    pending = first if first is not None else read()
    while True:
        try:
            seen = await pending
        except OpenSearchFnError as error:
            remaining = deadline - clock()
            pause = pause_after(
                error, interval=interval, remaining=remaining, timeout=wait.timeout_delta
            )
            if retrying:
                retrying(error, clock() - started)
            await sleep(pause)
            pending = read()
            continue
        results = evaluate(expect, seen)
        if report:
            report(seen, results, clock() - started)
        remaining = deadline - clock()
        if all_met(results) or hopeless(expect, seen) or remaining <= 0:
            return seen
        await sleep(min(interval, remaining))
        pending = read()


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
