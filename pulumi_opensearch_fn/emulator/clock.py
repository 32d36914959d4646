"""The simulated clock that drives training runs (signature windows use real time, as
the gateway does), and clock steps: "the N-th matching API request from now on is
answered with the clock moved forward by S seconds", so every earlier request sees the
old time and every later one the new, on any machine (a timer could not promise that).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated, Generic, Protocol, TypeVar

from .schema import READONLY, SECONDS, Check


class SimClock:
    """Real time (or a frozen instant) plus a forward-only offset, in epoch ms."""

    def __init__(self, offset_ms: int = 0, frozen_ms: int | None = None) -> None:
        self.offset_ms = 0
        self._frozen_ms = frozen_ms  # frozen: progress is exactly reproducible
        self._lock = threading.Lock()
        self.set_offset(offset_ms)

    def now_ms(self) -> int:
        base = self._frozen_ms if self._frozen_ms is not None else int(time.time() * 1000)
        return base + self.offset_ms

    def advance(self, seconds: float) -> int:
        """Move the clock forward; returns the new simulated time (ms)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self.offset_ms += round(seconds * 1000)
        return self.now_ms()

    def fresh(self) -> SimClock:
        """A clock on the same base (real or frozen) with no offset yet."""
        return SimClock(frozen_ms=self._frozen_ms)

    def set_offset(self, offset_ms: int) -> None:
        if offset_ms < 0:
            raise ValueError("offset_ms must not be negative")
        with self._lock:
            self.offset_ms = offset_ms


class Numbered(Protocol):
    id: int


N = TypeVar("N", bound=Numbered)


class Added(Generic[N]):
    """Records the admin API adds (numbered: ``id`` from 1), lists and clears: clock
    steps, faults."""

    def __init__(self) -> None:
        self.records: list[N] = []
        self.lock, self._next_id = threading.Lock(), 1

    def add(self, record: N) -> int:
        with self.lock:
            record.id, self._next_id = self._next_id, self._next_id + 1
            self.records.append(record)
            return record.id

    def list(self) -> list[N]:
        with self.lock:
            return list(self.records)

    def clear(self) -> None:
        with self.lock:
            self.records.clear()


@dataclass
class ClockStep:
    seconds: Annotated[float, SECONDS]
    at_request: Annotated[int, Check(low=1)]  # 1-based, counted from when it was added
    action: str | None = None  # None: every API request counts
    id: Annotated[int, READONLY] = 0
    seen: Annotated[int, READONLY] = 0


class ClockSteps(Added[ClockStep]):
    def due(self, action: str | None) -> float:
        """Counts one request of ``action``; the seconds to advance before answering it."""
        with self.lock:
            for step in self.records:
                step.seen += step.action in (None, action)
            due = [step for step in self.records if step.seen >= step.at_request]
            self.records = [step for step in self.records if step not in due]
        return sum(step.seconds for step in due)
