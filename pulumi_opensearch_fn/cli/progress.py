"""Progress while `check --wait` runs, on stderr: a display redrawn in place on a
terminal, plain log lines otherwise (CI logs, files), nothing without --wait."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TextIO

from ..api.errors import OpenSearchFnError
from ..durations import format_duration
from ..expectations import Observation, Result, describe_unmet, progress_line, unmet
from ..polling import read_failed_line
from . import render, streams
from .logs import redact
from .runner import Outcome
from .targets import Target

REFRESH = 0.25  # seconds between redraws
_UP_AND_CLEAR = "\x1b[{n}F\x1b[J"  # to the start of the line n lines up, clear below
_HIDE_CURSOR, _SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def _elapsed(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))


class Silent:
    def update(
        self, target: Target, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        pass

    def retrying(self, target: Target, error: OpenSearchFnError, elapsed: float) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass

    def close(self) -> None:
        pass


class LogLines(Silent):
    """One line per read and one per finished instance."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        with self._lock:  # best effort: a broken stderr never changes the verdict
            streams.put(self._stream, redact(render.clean(line)) + "\n")

    def update(
        self, target: Target, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        self._write(progress_line(target.label, seen, elapsed))

    def retrying(self, target: Target, error: OpenSearchFnError, elapsed: float) -> None:
        self._write(read_failed_line(target.label, error, elapsed))

    def finished(self, outcome: Outcome) -> None:
        label, took = outcome.target.label, _elapsed(outcome.elapsed)
        if outcome.error is not None:
            self._write(f"{label}: error: {outcome.error}")
        elif outcome.ready:
            self._write(f"{label}: ready after {took}")
        else:
            why = outcome.reason or ("timed out" if outcome.timed_out else "not met")
            self._write(f"{why} after {took}; " + describe_unmet(label, unmet(outcome.results)))


class _Row:
    __slots__ = ("failing", "outcome", "seen", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.seen: Observation | None = None
        self.outcome: Outcome | None = None
        self.failing = False  # the last read failed and will be made again


class LiveDisplay(Silent):
    """A table of every instance (state, instance status, task progress, elapsed),
    redrawn in place; erased at the end, when the final table takes its place."""

    def __init__(self, stream: TextIO, targets: Sequence[Target], timeout: float) -> None:
        self._stream = stream
        self._timeout = timeout
        now = time.monotonic()
        self._started = now
        self._rows = {t: _Row(now) for t in targets}
        self._lock = threading.Lock()
        self._drawn = 0
        self._stop = threading.Event()
        self._write(_HIDE_CURSOR)
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._thread.start()

    def update(
        self, target: Target, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        with self._lock:
            self._rows[target].seen = seen
            self._rows[target].failing = False

    def retrying(self, target: Target, error: OpenSearchFnError, elapsed: float) -> None:
        with self._lock:
            self._rows[target].failing = True

    def finished(self, outcome: Outcome) -> None:
        with self._lock:
            self._rows[outcome.target].outcome = outcome

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        with self._lock:
            self._write(self._erase() + _SHOW_CURSOR)

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH):
            with self._lock:
                self._write(self._erase() + self.frame())

    def _erase(self) -> str:
        text = _UP_AND_CLEAR.format(n=self._drawn) if self._drawn else ""
        self._drawn = 0
        return text

    def _write(self, text: str) -> None:
        if not streams.put(self._stream, text):
            self._stop.set()

    def frame(self) -> str:
        """The current picture (call with the lock held); sets how many lines it takes."""
        size = shutil.get_terminal_size((render.DEFAULT_WIDTH, 24))
        now = time.monotonic()
        states = [row.outcome.state if row.outcome else "waiting" for row in self._rows.values()]
        counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
        header = (
            f"checking {len(states)} instance{'s' * (len(states) != 1)}: {counts}"
            f"  ({_elapsed(now - self._started)} of {_elapsed(self._timeout)})"
        )
        # Unfinished instances first: they are what the reader is waiting for.
        order = sorted(self._rows.items(), key=lambda item: item[1].outcome is not None)
        room = max(1, size.lines - 3)
        shown = order[:room] if len(order) > room else order
        rows = [self._cells(target, row, now) for target, row in shown]
        body = render.table(("INSTANCE", "STATE", "STATUS", "TASK", "ELAPSED"), rows,
                            width=size.columns - 1)  # fmt: skip
        lines = [render.clip(header, size.columns - 1), *body.splitlines()]
        if len(order) > len(shown):
            lines.append(f"… and {len(order) - len(shown)} more")
        self._drawn = len(lines)
        return redact("\n".join(lines)) + "\n"

    @staticmethod
    def _cells(target: Target, row: _Row, now: float) -> tuple[str, ...]:
        seen = row.outcome.seen if row.outcome and row.outcome.seen else row.seen
        instance = seen.instance.status if seen and seen.instance else None
        task = seen.task if seen else None
        task_text = None
        if task is not None:
            progress = f" {task.progress}%" if task.progress is not None else ""
            task_text = f"gen {task.generation} {task.status}{progress}"
        elif seen is not None:
            task_text = "no task"
        elapsed = row.outcome.elapsed if row.outcome else now - row.started
        if row.outcome:
            state = row.outcome.state
        else:
            state = "retrying" if row.failing else ("waiting" if seen else "reading")
        return (target.label, state, instance or "-", task_text or "-", _elapsed(elapsed))
