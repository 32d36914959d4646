"""Progress while `check --wait` runs, on stderr: a display redrawn in place on a
terminal, plain log lines otherwise (CI logs, files), nothing without --wait (but
the debug log, --debug). A note (the request limiter backing off or recovering) is
one line, above the display on a terminal."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TextIO

from ..api.errors import OpenSearchFnError
from ..api.identity import Identity
from ..core.durations import format_duration
from ..core.expectations import Observation, Result, describe_unmet, progress_line, unmet
from ..core.polling import read_failed_line
from ..core.verdict import Verdict
from . import render, streams
from .logs import redact
from .runner import state

log = logging.getLogger("pulumi_opensearch_fn.cli")

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
        self, target: Identity, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        pass

    def retrying(self, target: Identity, error: OpenSearchFnError, elapsed: float) -> None:
        pass

    def finished(self, target: Identity, verdict: Verdict) -> None:
        pass

    def note(self, line: str) -> None:
        """A line about the whole run (no instance's); without progress, --debug shows it."""
        log.debug(line)

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
        self, target: Identity, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        self._write(progress_line(target.path, seen, elapsed))

    def retrying(self, target: Identity, error: OpenSearchFnError, elapsed: float) -> None:
        self._write(read_failed_line(target.path, error, elapsed))

    def note(self, line: str) -> None:
        self._write(line)

    def finished(self, target: Identity, verdict: Verdict) -> None:
        label, took = target.path, _elapsed(verdict.elapsed)
        if verdict.error is not None:
            self._write(f"{label}: error: {verdict.error}")
        elif verdict.ready:
            self._write(f"{label}: ready after {took}")
        else:
            why = verdict.stopped or ("timed out" if verdict.timed_out else "not met")
            self._write(f"{why} after {took}; " + describe_unmet(label, unmet(verdict.results)))


class _Row:
    __slots__ = ("failing", "seen", "started", "verdict")

    def __init__(self, started: float) -> None:
        self.started = started
        self.seen: Observation | None = None
        self.verdict: Verdict | None = None
        self.failing = False  # the last read failed and will be made again


class LiveDisplay(Silent):
    """A table of every instance (state, instance status, task progress, elapsed),
    redrawn in place; erased at the end, when the final table takes its place."""

    def __init__(self, stream: TextIO, targets: Sequence[Identity], timeout: float) -> None:
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
        self, target: Identity, seen: Observation, results: list[Result], elapsed: float
    ) -> None:
        with self._lock:
            self._rows[target].seen = seen
            self._rows[target].failing = False

    def retrying(self, target: Identity, error: OpenSearchFnError, elapsed: float) -> None:
        with self._lock:
            self._rows[target].failing = True

    def finished(self, target: Identity, verdict: Verdict) -> None:
        with self._lock:
            self._rows[target].verdict = verdict

    def note(self, line: str) -> None:
        """Printed above the display, which the next frame redraws below it."""
        with self._lock:
            self._write(self._erase() + redact(render.clean(line)) + "\n")

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
        states = [state(row.verdict) if row.verdict else "waiting" for row in self._rows.values()]
        counts = ", ".join(f"{states.count(s)} {s}" for s in dict.fromkeys(states))
        header = (
            f"checking {len(states)} instance{'s' * (len(states) != 1)}: {counts}"
            f"  ({_elapsed(now - self._started)} of {_elapsed(self._timeout)})"
        )
        # Unfinished instances first: they are what the reader is waiting for.
        order = sorted(self._rows.items(), key=lambda item: item[1].verdict is not None)
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
    def _cells(target: Identity, row: _Row, now: float) -> tuple[str, ...]:
        seen = row.verdict.seen if row.verdict and row.verdict.seen else row.seen
        instance = seen.instance.status if seen and seen.instance else None
        task = seen.task if seen else None
        task_text = None
        if task is not None:
            progress = f" {task.progress}%" if task.progress is not None else ""
            task_text = f"gen {task.generation} {task.status}{progress}"
        elif seen is not None:
            task_text = "no task"
        elapsed = row.verdict.elapsed if row.verdict else now - row.started
        if row.verdict:
            shown = state(row.verdict)
        else:
            shown = "retrying" if row.failing else ("waiting" if seen else "reading")
        return (target.path, shown, instance or "-", task_text or "-", _elapsed(elapsed))
