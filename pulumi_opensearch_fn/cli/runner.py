"""Checks many instances at once: one thread per instance (so waiting on one never
delays another); how many requests are in flight is the client's to bound (the run's
limiter, `api.limiter`, whose slots every request takes).

Each thread runs the one wait loop (`polling.wait_until`) on an event loop of its own,
and `verdict.judge` says what its last read means, as for every other door.
Threads are daemons and every pause watches a stop event, so Ctrl-C ends the run
at once instead of waiting for reads or sleeps to finish.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from ..api.errors import OpenSearchFnError
from ..api.identity import Identity
from ..core.expectations import Observation, ParsedExpect, Result, Wait
from ..core.polling import wait_until
from ..core.verdict import Verdict, failed, judge
from . import exit_codes

# How often the collecting (main) thread wakes up; it must stay responsive to Ctrl-C.
_POLL = 0.2


class Stopped(BaseException):
    """Raised inside a worker when the run was interrupted; never escapes the worker."""


def state(verdict: Verdict) -> str:
    """The word the table and the JSON document show for an instance."""
    if verdict.error is not None:
        return "error"
    if verdict.ready:
        return "ready"
    if verdict.stopped:
        return "failed"
    return "timed out" if verdict.timed_out else "not met"


def exit_code(verdict: Verdict) -> int:
    if verdict.error is not None:
        return exit_codes.for_error(verdict.error)
    return exit_codes.OK if verdict.ready else exit_codes.NOT_MET


class Reporter(Protocol):
    """Told about each read and each finished instance; called from worker threads."""

    def update(
        self, target: Identity, seen: Observation, results: list[Result], elapsed: float
    ) -> None: ...

    def retrying(self, target: Identity, error: OpenSearchFnError, elapsed: float) -> None: ...

    def finished(self, target: Identity, verdict: Verdict) -> None: ...


def run_checks(
    targets: Sequence[Identity],
    observe: Callable[[Identity], Observation],
    expect: ParsedExpect,
    wait: Wait | None,
    *,
    reporter: Reporter,
    stop: threading.Event,
) -> list[Verdict]:
    """One Verdict per target, in the order given. Raises KeyboardInterrupt through to
    the caller after setting `stop`; re-raises a worker's unexpected exception."""
    done: queue.Queue[tuple[Identity, Verdict] | BaseException] = queue.Queue()

    def read(target: Identity) -> Observation:
        if stop.is_set():
            raise Stopped
        return observe(target)

    # Each worker's loop runs only its own wait: blocking it in a read or a pause
    # delays nothing else, and a pause still ends at once on `stop`.
    async def pause(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    def verdict_for(target: Identity, started: float) -> Verdict:
        if wait is None:
            seen = read(target)
            verdict = judge(target.path, expect, seen)
            reporter.update(target, seen, list(verdict.results), time.monotonic() - started)
            return verdict

        async def read_async() -> Observation:
            return read(target)

        seen = asyncio.run(
            wait_until(
                read_async, expect, wait, sleep=pause,
                report=lambda seen, results, elapsed: reporter.update(
                    target, seen, results, elapsed
                ),
                retrying=lambda error, elapsed: reporter.retrying(target, error, elapsed),
            )
        )  # fmt: skip
        return judge(target.path, expect, seen, wait=wait, waited=True)

    def work(target: Identity) -> None:
        started = time.monotonic()
        try:
            verdict = verdict_for(target, started)
        except OpenSearchFnError as exc:
            if stop.is_set():  # the run ended (Ctrl-C closed the client): nothing to tell
                return
            verdict = failed(target.path, exc)
        except Stopped:
            return
        except Exception as exc:  # a bug: surface it in the main thread
            done.put(exc)
            return
        verdict = replace(verdict, elapsed=time.monotonic() - started)
        reporter.finished(target, verdict)
        done.put((target, verdict))

    for index, target in enumerate(targets):
        threading.Thread(target=work, args=(target,), name=f"check-{index}", daemon=True).start()
    found: dict[Identity, Verdict] = {}
    try:
        while len(found) < len(targets):
            try:
                item = done.get(timeout=_POLL)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            found[item[0]] = item[1]
    finally:
        stop.set()  # ends any worker still sleeping or queued, whatever happened
    return [found[t] for t in targets]
