"""Request slots: how many requests are in flight at once, learned from throttling.

Alibaba Cloud limits calls per account and action, and answers beyond the limit with
`Throttling*` (400/429) or 503 `ServiceUnavailable`. As botocore's adaptive retry mode
does (and TCP before it), the limiter learns from those answers, and never exceeds its
ceiling of requests in flight.

A quota is a rate ("Request Rate: N/1 s" per action): with answers quicker than 1/N s,
even one request in flight exceeds it. So each action gets a `Pace`, none at first: on
a throttle while some of its requests got through in the last second (and no cut
holds the window below its ceiling: then those say how many in flight the service
takes, not its rate), the action is paced at 90% of those, and the pace grows by a
tenth for each second's worth of successes, until it is dropped again. The throttle
that ends the window's probe (see below) paces every other action with answers in the
last second too (at 90% of those, or the throttled one's pace when faster): each action
has sent its first burst, the account is at its quotas, and their own throttles may be
on the way. A throttle with nothing let through (too many at once, or an outage: no
rate to learn) cuts the `Window` of requests in flight instead: halved (floor 1; a cut
halves what was really in flight, when that is less than allowed), and one more after
each full window of successes. Answers to requests sent before a cut say nothing new:
one round makes one cut.

The window starts with a probe (TCP's slow start, in whole waves): `INITIAL_WINDOW`
requests (or its ceiling, when lower), then twice as many once every one of them is
answered, up to the ceiling; the first throttle, or a wave at the ceiling answered,
ends it, and answers free slots one by one from then on. So a quota's burst meets one
wave at a time: against 20/1 s, a stack's first 16 requests pass, a few of the next 32
are throttled, and the rest go at the pace learned from them. For the default ceiling
of 32, 100 requests still take 4 round trips (16, 32, 32, 20).

`Window` and `Pace` are the arithmetic, with no threads and time given; `AdaptiveLimiter`
the slots that threads take, one per request while it talks to the service. `FixedSlots`
gives a plain semaphore (or no bound at all) the same shape, for clients given one.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple, Protocol

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


INITIAL_WINDOW = 16
PROBE_PATIENCE = 1.0  # seconds a wave's slowest answers may hold the next one back


class Window:
    """How many requests may be in flight: a probe in waves (slow start), then
    multiplicative decrease, additive increase.

    While `starting`, a wave of `allowed` requests is sent and the next (twice as large,
    at most the ceiling) only once the whole wave is answered; the first throttle, or a
    wave at the ceiling answered, ends it. Then a request is admitted in the current
    `round`; a cut starts a new round, so the throttling answers of requests admitted
    before it are not cut for again, and their successes do not count towards growing
    back. At 1 there is nothing to cut: the round goes on. `throttled` and `succeeded`
    return the line to show a person, if the change is one to show: a cut to a new
    low since the window was last at its ceiling, or the return to the ceiling."""

    def __init__(self, ceiling: int, *, start: int = INITIAL_WINDOW) -> None:
        if isinstance(ceiling, bool) or not isinstance(ceiling, int) or ceiling < 1:
            raise InvalidInputError(
                f"requests in flight must be a whole number >= 1, got {ceiling!r}"
            )
        self.ceiling = ceiling
        self.allowed = max(1, min(ceiling, start))
        self.starting = True
        self._wave_left = self.allowed  # of this wave, not yet sent
        self._wave_out = 0  # sent, not yet answered
        self._wave_due: float | None = None  # all sent and one answered: when it may go on
        self.round = 0
        self.holding_back = False  # a cut keeps it below its ceiling
        self._credit = 0  # successes towards the next step up
        self._lowest_shown = ceiling

    def may_send(self, now: float) -> bool:
        """Whether the probe lets one more request go (in flight aside). A wave whose
        last answers are `PROBE_PATIENCE` late is taken as answered: one slow request
        is not a quota, and must not hold every other back."""
        if not self.starting or self._wave_left > 0:
            return True
        if self._wave_due is None or now < self._wave_due:
            return False
        self._next_wave()
        return True

    def patience_left(self, now: float) -> float | None:
        """How long until a wave's late answers stop holding the next (None: not so)."""
        if not self.starting or self._wave_left > 0 or self._wave_due is None:
            return None
        return max(0.0, self._wave_due - now)

    def sent(self) -> None:
        if self.starting:
            self._wave_left -= 1
            self._wave_out += 1

    def settled(self, now: float) -> bool:
        """A request's answer, whatever it was: True when the probe sends a new wave."""
        if not self.starting:
            return False
        self._wave_out = max(0, self._wave_out - 1)  # a late one of an earlier wave: 0
        if self._wave_left:
            return False
        if self._wave_out:
            self._wave_due = self._wave_due or now + PROBE_PATIENCE
            return False
        self._next_wave()
        return True

    def _next_wave(self) -> None:
        self._wave_out, self._wave_due = 0, None
        if self.allowed >= self.ceiling:
            self.starting = False  # a wave at the ceiling got through: slots one by one
        else:
            self.allowed = self._wave_left = min(self.ceiling, 2 * self.allowed)

    def end_start(self) -> None:
        """Throttled during the probe: no more waves, the slots go one by one."""
        self.starting = False

    def throttled(self, admitted_in: int, in_flight: int) -> str | None:
        """A throttling answer to a request admitted in `admitted_in`, sent with
        `in_flight` requests in flight (itself included)."""
        self.end_start()
        if admitted_in != self.round:
            return None  # sent before the last cut: that cut already answered it
        self._credit = 0
        if self.allowed == 1:
            return None
        self.round += 1
        self.allowed = max(1, min(self.allowed, in_flight) // 2)
        self.holding_back = True
        if self.allowed >= self._lowest_shown:
            return None
        self._lowest_shown = self.allowed
        return (
            f"OpenSearch API throttling: at most {self.allowed} request"
            f"{'s' * (self.allowed != 1)} in flight now (of {self.ceiling});"
            " throttled requests are retried"
        )

    def succeeded(self, admitted_in: int) -> str | None:
        if self.starting or admitted_in != self.round or self.allowed >= self.ceiling:
            return None  # the probe grows by waves, and says nothing: nothing was cut
        self._credit += 1
        if self._credit < self.allowed:
            return None
        self._credit = 0
        self.allowed += 1
        if self.allowed < self.ceiling:
            return None
        shown, self._lowest_shown, self.holding_back = self._lowest_shown, self.ceiling, False
        if shown >= self.ceiling:
            return None  # grown after a probe cut short, never cut: nothing to say
        return f"OpenSearch API no longer throttling: back to {self.ceiling} requests in flight"


class Pace:
    """Requests per second for one action: `rate` None (not paced) until throttled.

    Rounds work as `Window`'s: a cut starts a new one, and answers to requests admitted
    before it change nothing. A throttle when some got through in the last second
    (a quota, not an outage) paces at 90% of them; when none did, a pace already set is
    halved (none is set: there is no rate to learn). Never below `MIN_RATE`. Each `rate`
    successes add a tenth (at least 1); past `MAX_RATE` the pacing ends. Lines as
    `Window`'s: a cut to a new low, and the end of the pacing."""

    MIN_RATE = 0.5
    MAX_RATE = 1000.0
    SECOND = 1.0

    def __init__(self, action: str) -> None:
        self.action = action
        self.rate: float | None = None
        self.round = 0
        self._next_send = 0.0
        self._credit = 0
        self._lowest_shown: float | None = None
        self._succeeded: deque[float] = deque()

    def claim(self, now: float) -> float:
        """0 when a request may be sent now (its turn is taken), else how long until the
        next turn: claimed when due, so a changed rate applies to every waiting request."""
        if self.rate is None:
            return 0.0
        if now < self._next_send:
            return self._next_send - now
        self._next_send = max(now, self._next_send) + 1 / self.rate
        return 0.0

    def succeeded(self, admitted_in: int, now: float) -> str | None:
        _keep_last_second(self._succeeded, now).append(now)
        if self.rate is None or admitted_in != self.round:
            return None
        self._credit += 1
        if self._credit < self.rate:
            return None
        self._credit = 0
        self.rate += max(1.0, self.rate / 10)
        if self.rate <= self.MAX_RATE:
            return None
        self.rate, self._lowest_shown = None, None
        return f"OpenSearch API no longer throttling {self.action}: requests no longer paced"

    def throttled(self, admitted_in: int, now: float) -> str | None:
        if admitted_in != self.round:
            return None  # sent before the last cut: that cut already answered it
        let_through = len(_keep_last_second(self._succeeded, now))
        if not let_through and self.rate is None:
            return None  # nothing got through: no rate to learn (the window still cuts)
        rate = 0.9 * let_through if let_through else (self.rate or 0) / 2
        if self.rate is not None:
            rate = min(rate, self.rate * 0.9)  # a cut always slows it
        return self._cut_to(rate, now)

    def followed(self, throttled: Pace, now: float) -> str | None:
        """`throttled`, another action, was paced: the account is at its quotas, so this
        one, not paced yet, is paced too if any of it got through in the last second,
        before its own bucket runs dry while its throttles are still on the way. At
        90% of those, or at the other's pace when faster: quotas of one service are
        alike, and an action still starting has too few answers to say its own."""
        let_through = len(_keep_last_second(self._succeeded, now))
        if self.rate is not None or not let_through or throttled.rate is None:
            return None
        return self._cut_to(max(0.9 * let_through, throttled.rate), now)

    def _cut_to(self, rate: float, now: float) -> str | None:
        self.rate = max(self.MIN_RATE, rate)
        self.round += 1
        self._credit = 0
        self._next_send = max(self._next_send, now + 1 / self.rate)
        if self._lowest_shown is not None and self.rate >= self._lowest_shown:
            return None
        self._lowest_shown = self.rate
        return (
            f"OpenSearch API throttling {self.action}: at most {self.rate:.3g} requests per"
            " second now; throttled requests are retried"
        )


def _keep_last_second(times: deque[float], now: float) -> deque[float]:
    while times and times[0] <= now - Pace.SECOND:
        times.popleft()
    return times


class Ticket(NamedTuple):
    """What a request was admitted under: its action, the window's round, its pace's."""

    action: str
    window_round: int
    pace_round: int


class Slots(Protocol):
    """What a client takes a slot from for each try, and tells how the try went."""

    def take(self, action: str = "") -> Ticket | None:
        """Blocks until `action` may be sent and a slot is free; what it was admitted
        under, or None when the slots are closed (nothing may be sent any more)."""
        ...

    def give_back(self) -> None: ...

    def answered(self, ticket: Ticket, error: OpenSearchFnError | None) -> bool:
        """How the try admitted with `ticket` ended (told once for every slot taken):
        no error, or `error`. True when it was throttled and the slots answered that
        already: fewer are allowed in flight, or at a slower pace, now than when it was
        sent."""
        ...


class AdaptiveLimiter:
    """Slots shared by every request of a program or a command-line run.

    `on_change` is called with a line for a person when the limit is cut to a new low
    or is back at its ceiling (see `Window`); at most once per change, never per
    request, outside the lock. `close` ends every wait for a slot: requests not yet
    sent are not sent."""

    def __init__(
        self,
        ceiling: int,
        *,
        start: int = INITIAL_WINDOW,
        on_change: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = Window(ceiling, start=start)
        self.on_change = on_change
        self._clock = clock
        self._changed = threading.Condition()
        self._in_flight = 0
        self._paces: dict[str, Pace] = {}
        self._closing = threading.Event()

    @property
    def ceiling(self) -> int:
        return self.window.ceiling

    @property
    def allowed(self) -> int:
        with self._changed:
            return self.window.allowed

    def pace(self, action: str) -> float | None:
        """Requests per second `action` is paced at, if it is."""
        with self._changed:
            found = self._paces.get(action)
            return None if found is None else found.rate

    def take(self, action: str = "") -> Ticket | None:
        while True:
            pace_round = self._turn(action)
            if pace_round is None:
                return None
            with self._changed:
                # Woken by every slot given back, every step up and close: never stuck.
                while not (self._closing.is_set() or self._free()):
                    self._changed.wait(self.window.patience_left(self._clock()))
                if self._closing.is_set():
                    return None
                if self._paces[action].round != pace_round:
                    continue  # paced anew while it queued for a slot: a turn at the new pace
                self._in_flight += 1
                self.window.sent()
                return Ticket(action, self.window.round, pace_round)

    def _free(self) -> bool:
        wave = (self.window.allowed, self.window.starting)
        sendable = self.window.may_send(self._clock())
        if (self.window.allowed, self.window.starting) != wave:
            self._changed.notify_all()  # a wave let go past its late answers: all may go
        return sendable and self._in_flight < self.window.allowed

    def _turn(self, action: str) -> int | None:
        """Waits for `action`'s turn at its pace (the round it was taken in), or None
        when closed first."""
        while True:
            with self._changed:
                pace = self._paces.setdefault(action, Pace(action))
                wait, pace_round = pace.claim(self._clock()), pace.round
            if not wait:
                return pace_round
            if self._closing.wait(wait):
                return None

    def give_back(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify()

    def answered(self, ticket: Ticket, error: OpenSearchFnError | None) -> bool:
        with self._changed:
            throttled = throttling(error)
            probe_ends = throttled and self.window.starting
            if probe_ends:
                self.window.end_start()  # the probe found a limit: slots one by one
                self._changed.notify_all()
            elif not throttled and self.window.starting:
                self.window.settled(self._clock())
                self._changed.notify_all()  # a next wave, the probe's end or its patience
            if error is not None and not throttled:
                return False
            before = self.window.allowed
            pace, now = self._paces[ticket.action], self._clock()
            if error is None:
                lines = [
                    self.window.succeeded(ticket.window_round),
                    pace.succeeded(ticket.pace_round, now),
                ]
            else:
                # A rate the service let through is learned as a pace, unless a cut
                # holds the window back: what got through then says how many in flight
                # the service takes, not its rate. With no pace the window cuts. In flight
                # now, and this one (given back already): about as many as when sent.
                learns = pace.rate is not None or not self.window.holding_back
                lines = [pace.throttled(ticket.pace_round, now)] if learns else []
                if probe_ends and pace.rate is not None:
                    lines += [p.followed(pace, now) for p in self._paces.values() if p is not pace]
                if pace.rate is None:
                    lines.append(self.window.throttled(ticket.window_round, self._in_flight + 1))
            if self.window.allowed > before:
                self._changed.notify()  # room for one more
            absorbed = error is not None and (
                self.window.round != ticket.window_round or pace.round != ticket.pace_round
            )
        for line in lines:
            if line is not None and self.on_change is not None:
                self.on_change(line)
        return absorbed

    def close(self) -> None:
        with self._changed:
            self._closing.set()
            self._changed.notify_all()


class FixedSlots:
    """A plain semaphore's slots (or none: no bound), which learn nothing."""

    def __init__(self, semaphore: threading.Semaphore | None) -> None:
        self._semaphore = semaphore

    def take(self, action: str = "") -> Ticket | None:
        if self._semaphore is not None:
            self._semaphore.acquire()
        return Ticket(action, 0, 0)

    def give_back(self) -> None:
        if self._semaphore is not None:
            self._semaphore.release()

    def answered(self, ticket: Ticket, error: OpenSearchFnError | None) -> bool:
        return False


RequestSlots = threading.Semaphore | AdaptiveLimiter


def slots_of(request_slots: RequestSlots | None) -> Slots:
    if isinstance(request_slots, AdaptiveLimiter):
        return request_slots
    return FixedSlots(request_slots)
