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

from .schema import DURATION, Check, InvalidInput, parse, short

MAX_REQUESTS = 1_000_000
_RATE = re.compile(r"\s*([0-9]{1,20})\s*/\s*([0-9]{1,20}(?:\.[0-9]{1,20})?)?\s*([smhd])\s*")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class RateLimit:
    requests: Annotated[int, Check(low=1, high=MAX_REQUESTS)]
    period_s: Annotated[float, DURATION]


def parse_rate(text: str) -> RateLimit:
    """``20/1s``, ``5/3600s``, ``100/m`` (units s, m, h, d); InvalidInput otherwise."""
    match = _RATE.fullmatch(text)
    if match is None:
        problem = f"expected N/PERIOD such as 20/1s or 5/1h (s, m, h, d), got {short(text)}"
        raise InvalidInput("rate limit", [problem])
    count, amount, unit = match.groups()
    seconds = float(amount or 1) * _UNIT_S[unit]
    return parse(RateLimit, {"requests": int(count), "periodS": seconds}, 0, "rate limit")


class TokenBucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.capacity, self.per_s = limit.requests, limit.requests / limit.period_s
        self.tokens, self.stamp = float(limit.requests), now

    def take(self, now: float) -> bool:
        """Refills for the time since the last call, then takes a token if there is one."""
        elapsed, self.stamp = max(0.0, now - self.stamp), max(now, self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_s)
        taken = self.tokens >= 1
        self.tokens -= taken
        return taken


class RateLimiter:
    """One limit (or none) for every (access key id, action); setting it refills all."""

    def __init__(
        self, limit: RateLimit | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._now, self._lock = now, threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.set(limit)

    @property
    def limit(self) -> RateLimit | None:
        return self._limit

    def set(self, limit: RateLimit | None) -> None:
        with self._lock:
            self._limit, self._buckets = limit, {}

    def clear(self) -> None:
        self.set(None)

    def allow(self, access_key_id: str, action: str) -> bool:
        """Whether this request is within the quota (it takes a token)."""
        with self._lock:
            if self._limit is None:
                return True
            now, key = self._now(), (access_key_id, action)
            bucket = self._buckets.setdefault(key, TokenBucket(self._limit, now))
            return bucket.take(now)
