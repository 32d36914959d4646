"""The simulated clock that drives training-task progress.

It is real time plus a forward-only offset, so tests can jump ahead by hours
without sleeping. Signature time windows deliberately ignore it: they use real
time, as the real gateway does.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Real time (or a frozen instant) plus a forward-only offset, in epoch ms."""

    def __init__(self, offset_ms: int = 0, frozen_ms: int | None = None) -> None:
        if offset_ms < 0:
            raise ValueError("offset_ms must not be negative")
        self._offset_ms = offset_ms
        # A frozen clock makes progress exactly reproducible in tests.
        self._frozen_ms = frozen_ms
        self._lock = threading.Lock()

    @property
    def offset_ms(self) -> int:
        with self._lock:
            return self._offset_ms

    @property
    def frozen(self) -> bool:
        return self._frozen_ms is not None

    def now_ms(self) -> int:
        with self._lock:
            base = self._frozen_ms if self._frozen_ms is not None else int(time.time() * 1000)
            return base + self._offset_ms

    def advance(self, seconds: float) -> int:
        """Move the clock forward and return the new simulated time (ms)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset_ms += round(seconds * 1000)
        return self.now_ms()

    def fresh(self) -> SimClock:
        """A clock on the same base (real or frozen) with no offset yet."""
        return SimClock(frozen_ms=self._frozen_ms)

    def set_offset(self, offset_ms: int) -> None:
        """Used when a whole saved state (with its offset) is loaded."""
        if offset_ms < 0:
            raise ValueError("offset_ms must not be negative")
        with self._lock:
            self._offset_ms = offset_ms
