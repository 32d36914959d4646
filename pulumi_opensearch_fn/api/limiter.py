"""Request slots: how many requests are in flight at once, learned from throttling.

Alibaba Cloud limits calls per account and action, and answers beyond the limit with
`Throttling*` (400/429) or 503 `ServiceUnavailable`. As botocore's adaptive retry mode
does (and TCP before it), the number allowed in flight starts at its ceiling, is halved
on throttling (floor 1) and grows back by one after each full window of successes; it
never exceeds the ceiling. A cut halves what was really in flight, when that is less
than allowed. Requests already in flight when it is cut were sent at the old number:
their throttling answers say nothing new, so one round makes one cut.

`Window` is the arithmetic, with no threads or time; `AdaptiveLimiter` the slots that
threads take, one per request while it talks to the service. `FixedSlots` gives a
plain semaphore (or no bound at all) the same shape, for clients given one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from .errors import InvalidInputError, OpenSearchFnError, ServerError, ThrottledError


def throttling(error: OpenSearchFnError | None) -> bool:
    """Whether an answer says "too many requests": `Throttling*` (any status), 429,
    or 503 `ServiceUnavailable`."""
    if isinstance(error, ThrottledError):
        return True
    return (
        isinstance(error, ServerError)
        and error.http_status == 503
        and error.code == "ServiceUnavailable"
    )


class Window:
    """How many requests may be in flight: multiplicative decrease, additive increase.

    A request is admitted in the current `round`; a cut starts a new round, so the
    throttling answers of requests admitted before it are not cut for again, and
    their successes do not count towards growing back. At 1 there is nothing to cut:
    the round goes on. Each method returns the line to show a person, if the change
    is one to show: a cut to a new low since the window was last at its ceiling, or
    the return to the ceiling."""

    def __init__(self, ceiling: int) -> None:
        if isinstance(ceiling, bool) or not isinstance(ceiling, int) or ceiling < 1:
            raise InvalidInputError(
                f"requests in flight must be a whole number >= 1, got {ceiling!r}"
            )
        self.ceiling = ceiling
        self.allowed = ceiling
        self.round = 0
        self._credit = 0  # successes towards the next step up
        self._lowest_shown = ceiling

    def throttled(self, admitted_in: int, in_flight: int) -> str | None:
        """A throttling answer to a request admitted in `admitted_in`, sent with
        `in_flight` requests in flight (itself included)."""
        if admitted_in != self.round:
            return None  # sent before the last cut: that cut already answered it
        self._credit = 0
        if self.allowed == 1:
            return None
        self.round += 1
        self.allowed = max(1, min(self.allowed, in_flight) // 2)
        if self.allowed >= self._lowest_shown:
            return None
        self._lowest_shown = self.allowed
        return (
            f"OpenSearch API throttling: at most {self.allowed} request"
            f"{'s' * (self.allowed != 1)} in flight now (of {self.ceiling});"
            " throttled requests are retried"
        )

    def succeeded(self, admitted_in: int) -> str | None:
        if admitted_in != self.round or self.allowed >= self.ceiling:
            return None
        self._credit += 1
        if self._credit < self.allowed:
            return None
        self._credit = 0
        self.allowed += 1
        if self.allowed < self.ceiling:
            return None
        self._lowest_shown = self.ceiling
        return f"OpenSearch API no longer throttling: back to {self.ceiling} requests in flight"


class Slots(Protocol):
    """What a client takes a slot from for each try, and tells how the try went."""

    def take(self) -> int | None:
        """Blocks until a slot is free; the round it was taken in, or None when the
        slots are closed (nothing may be sent any more)."""
        ...

    def give_back(self) -> None: ...

    def answered(self, admitted_in: int, error: OpenSearchFnError | None) -> bool:
        """How the try admitted in `admitted_in` ended: no error, or `error`. True when
        it was throttled and the slots answered that already: fewer are allowed in
        flight now than when it was sent."""
        ...


class AdaptiveLimiter:
    """Slots shared by every request of a program or a command-line run.

    `on_change` is called with a line for a person when the limit is cut to a new low
    or is back at its ceiling (see `Window`); at most once per change, never per
    request, outside the lock. `close` ends every wait for a slot: requests not yet
    sent are not sent."""

    def __init__(self, ceiling: int, *, on_change: Callable[[str], None] | None = None) -> None:
        self.window = Window(ceiling)
        self.on_change = on_change
        self._changed = threading.Condition()
        self._in_flight = 0
        self._closed = False

    @property
    def ceiling(self) -> int:
        return self.window.ceiling

    @property
    def allowed(self) -> int:
        with self._changed:
            return self.window.allowed

    def take(self) -> int | None:
        with self._changed:
            # Woken by every slot given back, every step up and close: never stuck.
            self._changed.wait_for(lambda: self._closed or self._in_flight < self.window.allowed)
            if self._closed:
                return None
            self._in_flight += 1
            return self.window.round

    def give_back(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify()

    def answered(self, admitted_in: int, error: OpenSearchFnError | None) -> bool:
        with self._changed:
            before = self.window.allowed
            if error is None:
                line = self.window.succeeded(admitted_in)
            elif throttling(error):
                # In flight now, and this one (given back already): about as many as
                # when it was sent.
                line = self.window.throttled(admitted_in, self._in_flight + 1)
            else:
                return False
            if self.window.allowed > before:
                self._changed.notify()  # room for one more
            absorbed = error is not None and self.window.round != admitted_in
        if line is not None and self.on_change is not None:
            self.on_change(line)
        return absorbed

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class FixedSlots:
    """A plain semaphore's slots (or none: no bound), which learn nothing."""

    def __init__(self, semaphore: threading.Semaphore | None) -> None:
        self._semaphore = semaphore

    def take(self) -> int | None:
        if self._semaphore is not None:
            self._semaphore.acquire()
        return 0

    def give_back(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()

    def answered(self, admitted_in: int, error: OpenSearchFnError | None) -> bool:
        return False


RequestSlots = threading.Semaphore | AdaptiveLimiter


def slots_of(request_slots: RequestSlots | None) -> Slots:
    if isinstance(request_slots, AdaptiveLimiter):
        return request_slots
    return FixedSlots(request_slots)
