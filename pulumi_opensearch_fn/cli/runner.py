"""Checks many instances at once: one thread per instance (so waiting on one never
delays another), and a semaphore so that at most N reads are in flight.

Threads are daemons and every pause watches a stop event, so Ctrl-C ends the run
at once instead of waiting for reads or sleeps to finish.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..api.errors import OpenSearchFnError
from ..expectations import Expect, Observation, Result, Wait, evaluate, hopeless, unmet, wait_for
from . import exit_codes
from .targets import Target

# How often the collecting (main) thread wakes up; it must stay responsive to Ctrl-C.
_POLL = 0.2


class Stopped(BaseException):
    """Raised inside a worker when the run was interrupted; never escapes the worker."""


@dataclass
class Outcome:
    target: Target
    seen: Observation | None = None
    results: list[Result] = field(default_factory=list)
    error: OpenSearchFnError | None = None
    reason: str | None = None  # why waiting stopped before the timeout: a failed task
    timed_out: bool = False
    elapsed: float = 0.0

    @property
    def ready(self) -> bool:
        return self.error is None and self.seen is not None and not unmet(self.results)

    @property
    def state(self) -> str:
        if self.error is not None:
            return "error"
        if self.ready:
            return "ready"
        if self.reason:
            return "failed"
        return "timed out" if self.timed_out else "not met"

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return exit_codes.for_error(self.error)
        return exit_codes.OK if self.ready else exit_codes.NOT_MET


class Reporter(Protocol):
    """Told about each read and each finished instance; called from worker threads."""

    def update(
        self, target: Target, seen: Observation, results: list[Result], elapsed: float
    ) -> None: ...

    def retrying(self, target: Target, error: OpenSearchFnError, elapsed: float) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


def run_checks(
    targets: Sequence[Target],
    observe: Callable[[Target], Observation],
    expect: Expect,
    wait: Wait | None,
    *,
    concurrency: int,
    reporter: Reporter,
    stop: threading.Event,
) -> list[Outcome]:
    """One Outcome per target, in the order given. Raises KeyboardInterrupt through to
    the caller after setting `stop`; re-raises a worker's unexpected exception."""
    gate = threading.BoundedSemaphore(concurrency)
    done: queue.Queue[Outcome | BaseException] = queue.Queue()

    def read(target: Target) -> Observation:
        with gate:
            if stop.is_set():
                raise Stopped
            return observe(target)

    def pause(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    def work(target: Target) -> None:
        started = time.monotonic()
        outcome = Outcome(target)
        try:
            if wait is None:
                outcome.seen = read(target)
                outcome.results = evaluate(expect, outcome.seen)
                reporter.update(target, outcome.seen, outcome.results, time.monotonic() - started)
            else:
                outcome.seen, outcome.results = wait_for(
                    lambda: read(target), expect, wait,
                    report=lambda seen, results, elapsed: reporter.update(
                        target, seen, results, elapsed
                    ),
                    retrying=lambda error, elapsed: reporter.retrying(target, error, elapsed),
                    sleep=pause,
                )  # fmt: skip
                if unmet(outcome.results):
                    outcome.reason = hopeless(expect, outcome.seen)
                    outcome.timed_out = outcome.reason is None
        except OpenSearchFnError as exc:
            outcome.error = exc
        except Stopped:
            return
        except Exception as exc:  # a bug: surface it in the main thread
            done.put(exc)
            return
        outcome.elapsed = time.monotonic() - started
        reporter.finished(outcome)
        done.put(outcome)

    for index, target in enumerate(targets):
        threading.Thread(target=work, args=(target,), name=f"check-{index}", daemon=True).start()
    found: dict[Target, Outcome] = {}
    try:
        while len(found) < len(targets):
            try:
                item = done.get(timeout=_POLL)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            found[item.target] = item
    finally:
        stop.set()  # ends any worker still sleeping or queued, whatever happened
    return [found[t] for t in targets]
