"""Clock steps tied to API traffic instead of wall time.

A test that must see a training run *while* it is running, and then finished,
cannot move the clock from a timer: how long a client takes to send its first
request depends on the machine. A step says "the N-th matching request from now
on is answered with the clock already moved forward by S seconds", so every
earlier request sees the old time and every later one the new, on any machine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class ClockStep:
    id: int
    seconds: float
    at_request: int  # 1-based, counted from when the step was added
    action: str | None  # None: every API request counts
    seen: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seconds": self.seconds,
            "atRequest": self.at_request,
            "action": self.action,
            "seen": self.seen,
        }


class ClockSteps:
    def __init__(self) -> None:
        self._steps: list[ClockStep] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, seconds: float, at_request: int, action: str | None = None) -> int:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if at_request < 1:
            raise ValueError("atRequest counts from 1")
        with self._lock:
            step = ClockStep(self._next_id, seconds, at_request, action)
            self._next_id += 1
            self._steps.append(step)
            return step.id

    def due(self, action: str | None) -> float:
        """Counts one request of ``action``; the seconds to advance before answering it."""
        total = 0.0
        with self._lock:
            for step in list(self._steps):
                if step.action is not None and step.action != action:
                    continue
                step.seen += 1
                if step.seen >= step.at_request:
                    total += step.seconds
                    self._steps.remove(step)
        return total

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [step.to_json() for step in self._steps]

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()
