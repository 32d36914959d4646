"""Fault injection and the request log.

A fault is one of:

* ``throttle``: a gateway throttling error (``Throttling.User`` by default,
  status 400 or 429, optional ``x-acs-retry-after`` in ms);
* ``error``: a 5xx gateway error (500 InternalError, 502 BadGateway,
  503 ServiceUnavailable, 504 GatewayTimeout);
* ``latency``: extra delay before the request is handled (stacks with others);
* ``drop``: the connection is closed without any response;
* ``malformed``: the real response's body is replaced by invalid JSON;
* ``truncated``: the real response is sent with a Content-Length larger than
  the bytes that follow, then the connection is closed;
* ``cut``: the real JSON body is cut in half, with a matching Content-Length.

Each fault applies to the next ``count`` matching requests, or to each
matching request with probability ``rate`` (from an RNG seeded with ``seed``;
with ``count`` too, at most ``count`` times), or, with neither, to every
matching request until cleared. ``action`` restricts it to one API action.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .redaction import REDACTED

FAULT_KINDS = ("throttle", "error", "latency", "drop", "malformed", "truncated", "cut")
ERROR_CODES = {
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
# Faults that alter the response of a request that was really handled.
POST_KINDS = ("malformed", "truncated", "cut")
MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    count: int | None = None
    rate: float | None = None
    status: int | None = None
    code: str | None = None
    latency_ms: int | None = None
    retry_after_ms: int | None = None
    action: str | None = None
    seed: int = 0

    def validated(self) -> FaultSpec:
        """The spec with defaults filled in; ValueError names the bad field."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.latency_ms is not None and not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if self.retry_after_ms is not None and self.retry_after_ms < 0:
            raise ValueError("retry_after_ms must not be negative")
        status, code = self.status, self.code
        if self.kind == "throttle":
            status = 400 if status is None else status
            if status not in (400, 429):
                raise ValueError("a throttle answers 400 or 429")
            code = code or "Throttling.User"
            if not code.startswith("Throttling"):
                raise ValueError("a throttle code starts with 'Throttling'")
        elif self.kind == "error":
            status = 500 if status is None else status
            if not 500 <= status <= 599:
                raise ValueError("an error fault answers a 5xx status")
            code = code or ERROR_CODES.get(status, "InternalError")
        elif self.kind == "latency":
            if self.latency_ms is None:
                raise ValueError("a latency fault needs latency_ms")
        elif self.kind == "malformed":
            status = 200 if status is None else status
            if not 100 <= status <= 599:
                raise ValueError("status must be an HTTP status")
        elif status is not None or code is not None:
            raise ValueError(f"a {self.kind} fault takes no status or code")
        return dataclasses.replace(self, status=status, code=code)


@dataclass
class Fault:
    id: int
    spec: FaultSpec
    remaining: int | None
    applied: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self.spec).items() if v is not None}
        out.update(id=self.id, remaining=self.remaining, applied=self.applied)
        return out


@dataclass(frozen=True)
class Decision:
    """What to do to one request: extra delay, and at most one fault."""

    latency_ms: int = 0
    fault: FaultSpec | None = None
    names: tuple[str, ...] = ()


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> int:
        spec = spec.validated()
        with self._lock:
            fault = Fault(self._next_id, spec, spec.count, rng=random.Random(spec.seed))
            self._next_id += 1
            self._faults.append(fault)
            return fault.id

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def decide(self, action: str | None) -> Decision:
        """Pick the faults for one request, consuming counts. Latency faults stack;
        the first other fault that fires (in the order added) wins."""
        latency = 0
        chosen: FaultSpec | None = None
        names: list[str] = []
        with self._lock:
            for fault in list(self._faults):
                spec = fault.spec
                if spec.action is not None and spec.action != action:
                    continue
                if spec.kind != "latency" and chosen is not None:
                    continue
                if spec.rate is not None and fault.rng.random() >= spec.rate:
                    continue
                fault.applied += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                latency += spec.latency_ms or 0
                names.append(spec.kind)
                if spec.kind != "latency":
                    chosen = spec
        return Decision(min(latency, MAX_LATENCY_MS), chosen, tuple(names))


@dataclass(frozen=True)
class LogEntry:
    time: float  # epoch seconds, real time
    method: str
    path: str
    query: str
    action: str | None
    scheme: str  # v3 | roa | none
    access_key_id: str | None
    token: bool
    status: int  # 0 when the connection was dropped
    code: str
    fault: str | None
    latency_ms: float
    headers: tuple[tuple[str, str], ...] = ()

    def to_json(self, *, headers: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "action": self.action,
            "scheme": self.scheme,
            "accessKeyId": self.access_key_id,
            "token": self.token,
            "status": self.status,
            "code": self.code,
            "fault": self.fault,
            "latencyMs": self.latency_ms,
        }
        if headers:
            out["headers"] = [list(h) for h in self.headers]
        return out


# What one entry may keep, so a client sending huge headers cannot grow the log:
# values are cut, and the whole log is capped in (estimated) bytes as well as entries.
MAX_LOGGED_VALUE = 2048
MAX_LOGGED_HEADERS = 64
DEFAULT_LOG_BYTES = 16 * 1024 * 1024
_ENTRY_OVERHEAD = 512  # the object, its numbers and short fields
# Headers that carry a credential, kept only as a mark.
_SECRET_HEADERS = frozenset({"x-acs-security-token"})


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LOGGED_VALUE else text[:MAX_LOGGED_VALUE] + "...(cut)"


def loggable_headers(
    headers: Iterable[tuple[str, str]], redact: Callable[[str], str] = str
) -> tuple[tuple[str, str], ...]:
    """Headers as the log keeps them: secrets redacted, values cut, at most 64."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if len(kept) == MAX_LOGGED_HEADERS:
            break
        shown = REDACTED if name.lower() in _SECRET_HEADERS else redact(value)
        kept.append((_cut(redact(name)), _cut(shown)))
    return tuple(kept)


def entry_size(entry: LogEntry) -> int:
    """An estimate of the memory one entry holds."""
    texts = [entry.method, entry.path, entry.query, entry.action or "", entry.code]
    texts += [part for header in entry.headers for part in header]
    return _ENTRY_OVERHEAD + sum(len(t) for t in texts)


class RequestLog:
    """Every API request (not admin ones), newest last, bounded in memory: at most
    ``maxlen`` entries and about ``max_bytes``, headers included; oldest go first."""

    def __init__(self, maxlen: int = 20_000, max_bytes: int = DEFAULT_LOG_BYTES) -> None:
        self._entries: deque[tuple[LogEntry, int]] = deque()
        self._maxlen = maxlen
        self._max_bytes = max_bytes
        self._bytes = 0
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, entry: LogEntry, redact: Callable[[str], str] = str) -> None:
        """Keeps ``entry`` with its texts passed through ``redact`` (known secrets out)."""
        entry = dataclasses.replace(
            entry,
            path=_cut(redact(entry.path)),
            query=_cut(redact(entry.query)),
            headers=loggable_headers(entry.headers, redact),
        )
        size = entry_size(entry)
        with self._lock:
            self._entries.append((entry, size))
            self._bytes += size
            while self._entries and (
                len(self._entries) > self._maxlen or self._bytes > self._max_bytes
            ):
                _, dropped = self._entries.popleft()
                self._bytes -= dropped
            self._counts["total"] += 1
            self._counts[f"status:{entry.status}"] += 1
            self._counts[f"scheme:{entry.scheme}"] += 1
            if entry.action:
                self._counts[f"action:{entry.action}"] += 1
            if entry.code:
                self._counts[f"code:{entry.code}"] += 1
            if entry.fault:
                self._counts[f"fault:{entry.fault}"] += 1

    @property
    def size_bytes(self) -> int:
        """The estimated bytes the kept entries hold."""
        with self._lock:
            return self._bytes

    def entries(self, limit: int | None = None) -> list[LogEntry]:
        with self._lock:
            items = [entry for entry, _ in self._entries]
        return items if limit is None else items[-limit:] if limit > 0 else []

    def counts(self) -> dict[str, int]:
        """Totals since the last clear, keyed ``total``, ``status:200``,
        ``code:Throttling.User``, ``action:...``, ``scheme:v3``, ``fault:drop``."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._counts.clear()
