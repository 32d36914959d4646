"""Fault injection, the request log, and the redaction of secrets from both.

Faults: ``throttle`` (gateway ``Throttling.User``, 400 or 429), ``error`` (gateway 5xx),
``latency`` (stacks with others), ``drop`` (no answer), ``malformed`` (invalid JSON),
``truncated`` (Content-Length beyond the bytes sent), ``cut`` (JSON cut in half). One hits
the next ``count`` matching requests, or each with probability ``rate`` (seeded by
``seed``), or with neither all until cleared; ``action`` limits it to one API action.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from typing import Annotated, Any

from ..api.safe_text import encodings
from .clock import Added
from .schema import HIDDEN, READONLY, Check, dump, inputs, parse

FAULT_KINDS = ("throttle", "error", "latency", "drop", "malformed", "truncated", "cut")
ERROR_CODES = {502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
POST_KINDS = ("malformed", "truncated", "cut")  # faults that alter a handled request's answer
MAX_LATENCY_MS = 60_000


@dataclass
class FaultSpec:
    kind: Annotated[str, Check(choices=FAULT_KINDS)]
    count: Annotated[int | None, Check(low=1)] = None
    rate: Annotated[float | None, Check(low=0, high=1)] = None
    status: Annotated[int | None, Check(low=100, high=599)] = None
    code: str | None = None
    latency_ms: Annotated[int | None, Check(low=0, high=MAX_LATENCY_MS)] = None
    retry_after_ms: Annotated[int | None, Check(low=0)] = None
    action: str | None = None
    seed: int = 0
    id: Annotated[int, READONLY] = 0  # these three: set once it is added
    applied: Annotated[int, READONLY] = 0
    remaining: Annotated[int | None, READONLY] = None  # of its count
    rng: Annotated[random.Random, HIDDEN] = field(default_factory=random.Random, compare=False)

    def problems(self) -> Iterator[tuple[str, str]]:
        status, code = self.status, self.code
        if self.kind == "throttle":
            if status not in (None, 400, 429):
                yield "status", "a throttle answers 400 or 429"
            if code is not None and not code.startswith("Throttling"):
                yield "code", "a throttle code starts with 'Throttling'"
        elif self.kind == "error" and status is not None and status < 500:
            yield "status", "an error fault answers a 5xx status"
        elif self.kind == "latency" and self.latency_ms is None:
            yield "latencyMs", "a latency fault needs latencyMs"
        elif self.kind not in ("error", "malformed") and (status, code) != (None, None):
            yield "", f"a {self.kind} fault takes no status or code"

    def completed(self) -> FaultSpec:
        """With the status and code it answers filled in."""
        status = self.status or {"throttle": 400, "error": 500, "malformed": 200}.get(self.kind)
        code = self.code or ("Throttling.User" if self.kind == "throttle" else None)
        if self.kind == "error":
            code = code or ERROR_CODES.get(status or 500, "InternalError")
        return dataclasses.replace(self, status=status, code=code)


class FaultInjector(Added[FaultSpec]):
    def add(self, record: FaultSpec) -> int:
        """Adds a copy of ``record`` once the validator took it (InvalidInput otherwise)."""
        sent = {f.key: getattr(record, f.name) for f in inputs(FaultSpec)}
        spec = parse(FaultSpec, sent, 0, "fault").completed()
        spec.remaining, spec.rng = spec.count, random.Random(spec.seed)
        return super().add(spec)

    def decide(self, action: str | None) -> tuple[int, FaultSpec | None, str | None]:
        """(delay in ms, the fault to apply, its kind or "latency" for the log), counts
        consumed: latency faults stack; the first other one that fires wins."""
        latency, chosen, hit = 0, None, False
        with self.lock:
            for fault in list(self.records):
                if fault.action not in (None, action) or (fault.kind != "latency" and chosen):
                    continue
                if fault.rate is not None and fault.rng.random() >= fault.rate:
                    continue
                fault.applied, hit = fault.applied + 1, True
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.records.remove(fault)
                latency += fault.latency_ms or 0
                chosen = fault if fault.kind != "latency" else chosen
        label = chosen.kind if chosen is not None else "latency" if hit else None
        return min(latency, MAX_LATENCY_MS), chosen, label


REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


@lru_cache(maxsize=4)  # one per set of credentials: built again only when they change
def redactor(secrets: tuple[str, ...]) -> Callable[[str], str]:
    """Replaces every secret in every form the client's own masking knows
    (``safe_text.encodings``); longest first, so none is left half-shown."""
    found = {form for s in secrets if len(s) >= MIN_SECRET_LENGTH for form in encodings(s)}
    forms = sorted(found, key=len, reverse=True)
    return lambda text: reduce(lambda done, form: done.replace(form, REDACTED), forms, text)


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
    status: int  # 0: the connection was dropped
    code: str
    fault: str | None
    latency_ms: float
    headers: tuple[tuple[str, str], ...] = ()

    def to_json(self, *, headers: bool = False) -> dict[str, Any]:
        return {k: v for k, v in dump(self).items() if headers or k != "headers"}


# Values are cut and the log capped in (estimated) bytes as well as entries, so a
# client sending huge headers cannot grow it; the security token is kept as a mark only.
MAX_LOGGED_VALUE = 2048
MAX_LOGGED_HEADERS = 64
DEFAULT_LOG_BYTES = 16 * 1024 * 1024
_ENTRY_OVERHEAD = 512  # the object, its numbers and short fields
SECRET_HEADER = "x-acs-security-token"  # noqa: S105 (a header's name)


class RequestLog:
    """Every API request (not admin ones), oldest first: at most ``maxlen`` entries and
    about ``max_bytes``, headers included; the oldest go first. Counts see them all."""

    def __init__(self, maxlen: int = 20_000, max_bytes: int = DEFAULT_LOG_BYTES) -> None:
        self._entries: deque[tuple[LogEntry, int]] = deque()
        self._maxlen, self._max_bytes, self._bytes = maxlen, max_bytes, 0
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, entry: LogEntry, redact: Callable[[str], str] = str) -> None:
        """Keeps ``entry`` with its texts passed through ``redact`` and cut."""

        def cut(text: str) -> str:
            text = redact(text)
            return text if len(text) <= MAX_LOGGED_VALUE else text[:MAX_LOGGED_VALUE] + "...(cut)"

        shown = entry.headers[:MAX_LOGGED_HEADERS]
        headers = tuple(
            (cut(n), REDACTED if n.lower() == SECRET_HEADER else cut(v)) for n, v in shown
        )
        path, query = cut(entry.path), cut(entry.query)
        entry = dataclasses.replace(entry, path=path, query=query, headers=headers)
        texts = [entry.method, path, query, entry.action or "", entry.code]
        size = _ENTRY_OVERHEAD + sum(map(len, texts)) + sum(len(n) + len(v) for n, v in headers)
        marks = {"action": entry.action, "code": entry.code, "fault": entry.fault}
        outcome = "throttled" if entry.code.startswith("Throttling") else "answered"
        marks[outcome] = entry.action if entry.status else None  # of answers, per action
        with self._lock:
            self._entries.append((entry, size))
            self._bytes += size
            while len(self._entries) > self._maxlen or self._bytes > self._max_bytes:
                self._bytes -= self._entries.popleft()[1]
            self._counts.update(["total", f"status:{entry.status}", f"scheme:{entry.scheme}"])
            self._counts.update(f"{k}:{v}" for k, v in marks.items() if v)

    @property
    def size_bytes(self) -> int:
        """The estimated bytes the kept entries hold."""
        return self._bytes

    def entries(self, limit: int | None = None) -> list[LogEntry]:
        with self._lock:
            items = [entry for entry, _ in self._entries]
        return items if limit is None else items[-limit:] if limit > 0 else []

    def counts(self) -> dict[str, int]:
        """Since the last clear: ``total``, ``status:200``, ``code:...``, ``action:A``...; of
        the answers (not dropped), ``throttled:A`` (by the quota or a fault), ``answered:A``."""
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._counts.clear()
