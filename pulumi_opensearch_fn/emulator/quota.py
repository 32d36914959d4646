"""Flow control as the gateway applies it ("Request Rate: N/1 s" quotas): a token bucket
per (access key id, action), holding at most N tokens and refilled continuously at N per
period, on real time (``now``: any monotonic seconds, so tests can step it). A request
finding its bucket empty is answered ``Throttling.User`` (400, no retry hint)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from .schema import AMOUNT, DURATION, UNIT_MS, Check, InvalidInput, parse, short

_RATE = re.compile(rf"\s*(\d{{1,20}})\s*/\s*{AMOUNT}\s*")


@dataclass(frozen=True)
class RateLimit:
    requests: Annotated[int, Check(low=1, high=1_000_000)]
    period_s: Annotated[float, DURATION]


def parse_rate(text: str) -> RateLimit:
    """``20/1s``, ``5/3600s``, ``100/1.5h`` (units s, m, h, d); InvalidInput otherwise."""
    match = _RATE.fullmatch(text)
    if match is None:
        problem = f"expected N/PERIOD such as 20/1s or 5/1h (s, m, h, d), got {short(text)}"
        raise InvalidInput("rate limit", [problem])
    count, amount, unit = match.groups()
    period = {"requests": int(count), "periodS": float(amount) * UNIT_MS[unit] / 1000}
    return parse(RateLimit, period, 0, "rate limit")


class RateLimiter:
    """One limit (or none) for every (access key id, action); a new one starts full."""

    def __init__(self, limit: RateLimit | None, now: Callable[[], float] = time.monotonic) -> None:
        self._now, self._lock = now, threading.Lock()
        self.set(limit)

    def set(self, limit: RateLimit | None) -> None:
        with self._lock:  # buckets: (tokens, when last filled)
            self.limit, self._buckets = limit, dict[tuple[str, str], tuple[float, float]]()

    def clear(self) -> None:
        self.set(None)

    def allow(self, access_key_id: str, action: str) -> bool:
        """Whether this request is within the quota: its bucket, refilled for the time since
        it was last (none if the clock went back), holds a whole token, which it takes."""
        with self._lock:
            if self.limit is None:
                return True
            now, size, key = self._now(), self.limit.requests, (access_key_id, action)
            tokens, then = self._buckets.get(key, (size, now))
            tokens = min(size, tokens + max(0.0, now - then) * size / self.limit.period_s)
            self._buckets[key] = (tokens - (tokens >= 1), max(now, then))
            return tokens >= 1
