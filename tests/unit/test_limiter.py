"""The request limiter's arithmetic, with no threads and no time: it probes in waves of
16 (or its ceiling, when lower), twice as large each time one is answered, until one
at its ceiling is answered or the first throttle; it never goes above its ceiling,
halves on throttling (floor 1) once per round, grows back by one per window of
successes, and has a line to show only when it backs off to a new low or is back at
its ceiling. Then the limiter's slots and paces, with threads where they wait."""

from __future__ import annotations

import threading

import pytest

from pulumi_opensearch_fn.api.errors import (
    BadRequestError,
    InvalidInputError,
    NetworkError,
    ServerError,
    ThrottledError,
)
from pulumi_opensearch_fn.api.limiter import AdaptiveLimiter, Pace, Ticket, Window, throttling

FULL = 1000  # requests in flight with a throttled one: more than any window allows


def test_it_starts_at_16_or_its_ceiling_when_lower():
    assert [Window(c).allowed for c in (1, 8, 16, 17, 32, 64)] == [1, 8, 16, 16, 16, 16]
    window = Window(32)
    assert (window.ceiling, window.round) == (32, 0)


def send_wave(window: Window, most: int = FULL) -> int:
    """Sends what the probe lets go (at most `most`): how many."""
    sent = 0
    while sent < most and window.may_send(0.0) and sent < window.allowed:
        window.sent()
        sent += 1
    return sent


def test_the_probe_sends_waves_twice_as_large_until_one_at_its_ceiling_is_answered():
    window = Window(40)
    assert send_wave(window) == 16
    assert [window.settled(0.0) for _ in range(16)] == [False] * 15 + [True]
    assert (window.allowed, window.starting) == (32, True)
    assert send_wave(window) == 32
    for _ in range(32):
        window.settled(0.0)
    assert (window.allowed, send_wave(window), window.starting) == (40, 40, True)
    for _ in range(40):
        window.settled(0.0)
    assert not window.starting
    assert window.may_send(0.0)  # slots one by one now: in flight is the only bound


def test_no_request_beyond_the_wave_goes_until_the_whole_wave_is_answered():
    window = Window(32)
    assert send_wave(window, 10) == 10  # fewer asked for than the wave: all go
    assert send_wave(window) == 6
    for _ in range(15):
        window.settled(0.0)
        window.succeeded(0)  # successes do not grow the probe: its waves do
        assert not window.may_send(0.0)
    window.settled(0.0)
    assert window.may_send(0.0) and window.allowed == 32


def test_a_waves_late_answers_hold_the_next_one_back_for_a_second_at_most():
    window = Window(32)
    send_wave(window)
    for _ in range(15):
        window.settled(5.0)  # its first answer, all sent: one second from now
    assert window.patience_left(5.5) == 0.5 and not window.may_send(5.5)
    assert window.may_send(6.0) and window.allowed == 32  # one slow answer is no quota
    assert window.patience_left(6.0) is None
    window.settled(6.5)  # the late one, counted for no wave
    assert send_wave(window) == 32


def test_the_first_throttle_ends_the_probe():
    window = Window(64)
    send_wave(window)
    window.throttled(0, 8)  # 8 in flight: cut to 4, then one per window of 4
    assert (window.starting, window.allowed) == (False, 4)
    for _ in range(4):
        window.succeeded(window.round)
    assert window.allowed == 5


def test_after_a_probe_cut_short_without_a_cut_it_grows_to_its_ceiling_saying_nothing():
    """A throttle the pace answered ends the probe at 16 of 32, with no cut: the window
    grows on as after a cut, but holds nothing back and has nothing to say."""
    window = Window(32)
    send_wave(window)
    window.end_start()
    assert (window.allowed, window.holding_back) == (16, False)
    lines = [window.succeeded(0) for _ in range(16 + 17 + 18 + 19)]
    assert (window.allowed, lines) == (20, [None] * 70)
    lines = [window.succeeded(0) for _ in range(1000)]
    assert (window.allowed, set(lines)) == (32, {None})


def test_100_requests_at_a_ceiling_of_32_take_4_round_trips():
    """The probe costs the default ceiling no round trip: ceil(100 / 32) = 4."""
    window, left, trips = Window(32), 100, 0
    while left:
        sent = send_wave(window, left)
        left, trips = left - sent, trips + 1
        for _ in range(sent):
            window.settled(0.0)
            window.succeeded(0)
    assert trips == 4


@pytest.mark.parametrize("ceiling", [0, -1, True, 2.5, "8"])
def test_a_ceiling_below_one_or_not_whole_is_refused(ceiling):
    with pytest.raises(InvalidInputError, match="requests in flight must be a whole number"):
        Window(ceiling)


def test_throttling_halves_it_down_to_one():
    window = Window(32, start=32)
    seen = []
    for _ in range(7):
        window.throttled(window.round, FULL)
        seen.append(window.allowed)
    assert seen == [16, 8, 4, 2, 1, 1, 1]


def test_a_cut_halves_what_was_in_flight_when_that_was_fewer():
    window = Window(32, start=32)
    window.throttled(0, 2)  # two in flight were already too many
    assert window.allowed == 1
    window = Window(32, start=32)
    window.throttled(0, 40)  # more than allowed: in flight from before a cut
    assert window.allowed == 16


def test_throttles_of_requests_sent_before_a_cut_make_no_further_cut():
    window = Window(16)
    first_round = window.round
    assert window.throttled(first_round, FULL) is not None
    for _ in range(15):  # the rest of what was in flight, throttled in the same burst
        assert window.throttled(first_round, FULL) is None
    assert window.allowed == 8
    window.throttled(window.round, FULL)  # a request sent at 8 in flight: a new round
    assert window.allowed == 4


def test_it_grows_back_by_one_per_window_of_successes_never_past_the_ceiling():
    window = Window(8)
    window.throttled(0, FULL)
    window.throttled(1, FULL)
    assert window.allowed == 2
    steps = []
    for _ in range(100):
        window.succeeded(window.round)
        steps.append(window.allowed)
    # 2 successes at 2 in flight make 3, 3 at 3 make 4, ... then it stays at 8.
    expected = [2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7]
    assert steps[: len(expected)] == expected
    assert steps[len(expected) :] == [8] * (100 - len(expected))


def test_successes_of_requests_sent_before_a_cut_do_not_count():
    window = Window(8)
    window.throttled(0, FULL)
    for _ in range(10):
        window.succeeded(0)
    assert window.allowed == 4


def test_a_throttle_resets_the_successes_towards_the_next_step():
    window = Window(8)
    window.throttled(0, FULL)
    window.throttled(1, FULL)  # 2
    window.succeeded(2)
    window.throttled(2, FULL)  # 1, and the one success above is forgotten
    assert window.allowed == 1
    window.succeeded(3)
    assert window.allowed == 2
    window.succeeded(3)
    assert window.allowed == 2


def test_lines_only_at_a_new_low_and_back_at_the_ceiling():
    window = Window(8)
    lines = [window.throttled(window.round, FULL), window.throttled(window.round, FULL)]
    assert lines == [
        "OpenSearch API throttling: at most 4 requests in flight now (of 8);"
        " throttled requests are retried",
        "OpenSearch API throttling: at most 2 requests in flight now (of 8);"
        " throttled requests are retried",
    ]
    grown = [window.succeeded(window.round) for _ in range(5)]  # 2 -> 3 -> 4
    assert window.allowed == 4
    assert grown == [None] * 5
    # Back down to 2: not a new low, nothing to say; to 1: a new low.
    assert window.throttled(window.round, FULL) is None
    assert window.allowed == 2
    assert window.throttled(window.round, FULL) == (
        "OpenSearch API throttling: at most 1 request in flight now (of 8);"
        " throttled requests are retried"
    )
    lines = [window.succeeded(window.round) for _ in range(1 + 2 + 3 + 4 + 5 + 6 + 7)]
    assert window.allowed == 8
    assert [line for line in lines if line] == [
        "OpenSearch API no longer throttling: back to 8 requests in flight"
    ]
    # A new episode starts from the ceiling: its first cut is a new low again.
    assert window.throttled(window.round, FULL) is not None


def test_a_ceiling_of_one_never_changes_and_says_nothing():
    window = Window(1)
    assert window.throttled(0, FULL) is None
    assert [window.succeeded(window.round) for _ in range(5)] == [None] * 5
    assert window.allowed == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ThrottledError("x", code="Throttling.User", http_status=400), True),
        (ThrottledError("x", code="Throttling.Api", http_status=400), True),
        (ThrottledError("x", code="TooMany", http_status=429), True),
        (ServerError("x", code="ServiceUnavailable", http_status=503), True),
        (ServerError("x", code="InternalError", http_status=500), False),
        (ServerError("x", code="Instance.NotExist", http_status=503), False),
        (BadRequestError("x", code="InvalidParameter", http_status=400), False),
        (NetworkError("reset"), False),
        (None, False),
    ],
)
def test_what_counts_as_throttling(error, expected):
    assert throttling(error) is expected


def test_a_request_beyond_the_probes_wave_waits_for_the_wave_to_be_answered():
    limiter = AdaptiveLimiter(32)
    wave = [limiter.take("a") for _ in range(16)]
    for _ in wave:
        limiter.give_back()  # none in flight, but none answered yet
    taken: list[object] = []
    waiting = threading.Thread(target=lambda: taken.append(limiter.take("a")), daemon=True)
    waiting.start()
    assert not limiter._free()
    for ticket in wave:
        assert ticket is not None
        limiter.answered(ticket, BadRequestError("x", code="InvalidParameter", http_status=400))
    waiting.join(timeout=60)  # woken by the last answer: the next wave
    assert taken == [Ticket("a", 0, 0)] and limiter.allowed == 32


def test_requests_held_by_a_waves_late_answer_go_once_its_patience_is_over():
    now = [5.0]
    limiter = AdaptiveLimiter(32, clock=lambda: now[0])
    wave = [limiter.take("a") for _ in range(16)]
    for ticket in wave[:15]:
        limiter.give_back()
        assert ticket is not None
        limiter.answered(ticket, None)  # the sixteenth is slow: no answer yet
    taken: list[object] = []
    waiting = [
        threading.Thread(target=lambda: taken.append(limiter.take("a")), daemon=True)
        for _ in range(3)
    ]
    for thread in waiting:
        thread.start()
    now[0] = 6.0  # one second after the wave's first answer: they time out, and go
    for thread in waiting:
        thread.join(timeout=60)
    assert taken == [Ticket("a", 0, 0)] * 3 and limiter.allowed == 32


def test_a_closed_limiter_hands_out_no_slot():
    limiter = AdaptiveLimiter(2)
    assert limiter.take("GetFunctionInstance") == Ticket("GetFunctionInstance", 0, 0)
    limiter.close()
    assert limiter.take("GetFunctionInstance") is None


def test_a_throttle_is_absorbed_when_fewer_are_allowed_than_when_it_was_sent():
    """The client retries such a try without using up an attempt: fewer are allowed in
    flight, or the action is paced slower, than when it was sent."""
    limiter = AdaptiveLimiter(2, clock=lambda: 0.0)
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    first, second = limiter.take(), limiter.take()
    assert first == second == Ticket("", 0, 0)
    assert first is not None and second is not None
    limiter.give_back()
    limiter.give_back()
    assert limiter.answered(first, throttled) is True  # cut to 1 for it, and paced
    assert limiter.answered(second, throttled) is True  # sent at 2, 1 allowed now
    assert limiter.allowed == 1
    assert limiter.pace("") is None  # none got through: no rate to learn
    assert limiter.answered(first, None) is False
    assert limiter.answered(first, NetworkError("reset")) is False


def test_the_limiter_says_each_change_once():
    lines: list[str] = []
    limiter = AdaptiveLimiter(4, on_change=lines.append)
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    rounds = [limiter.take("ListFunctionTasks") for _ in range(4)]
    for admitted in rounds:
        limiter.give_back()
        assert admitted is not None
        limiter.answered(admitted, throttled)
    assert limiter.allowed == 2
    assert lines == [
        "OpenSearch API throttling: at most 2 requests in flight now (of 4);"
        " throttled requests are retried"
    ]  # and no pace: none got through, so there is no rate to learn


def test_an_action_is_paced_only_once_throttled_at_what_got_through():
    pace = Pace("GetFunctionInstance")
    assert [pace.claim(0.1 * i) for i in range(5)] == [0.0] * 5  # not paced: sent at once
    for i in range(20):  # 20 answers in the last second: what the quota let through
        pace.succeeded(0, 0.5 + i * 0.02)
    line = pace.throttled(0, 1.0)
    assert pace.rate == 18
    assert line == (
        "OpenSearch API throttling GetFunctionInstance: at most 18 requests per second now;"
        " throttled requests are retried"
    )
    # Requests now go 1/18 s apart, the first no sooner than that after the cut.
    assert pace.claim(1.0) == pytest.approx(1 / 18)
    assert pace.claim(1.0 + 1 / 18) == 0.0  # its turn, taken
    assert pace.claim(1.0 + 1 / 18) == pytest.approx(1 / 18)  # the next one waits
    for _ in range(18):
        pace.succeeded(1, 2.0)
    assert pace.rate == pytest.approx(19.8)  # a faster pace applies to the next turn
    assert pace.claim(1.0 + 2 / 18) == 0.0
    assert pace.claim(1.0 + 2 / 18) == pytest.approx(1 / 19.8)


def test_once_the_window_is_cut_a_throttle_cuts_it_again_and_learns_no_pace():
    """What got through while fewer were let in flight says how many in flight the
    service takes, not its rate: a pace learned from it would be far too slow."""
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    limiter = AdaptiveLimiter(8, clock=lambda: 1.0)
    wave = [limiter.take("a") for _ in range(8)]
    assert all(wave)
    limiter.give_back()
    limiter.answered(Ticket("a", 0, 0), throttled)  # none through yet: the window cuts
    for _ in range(7):
        limiter.give_back()
        limiter.answered(Ticket("a", 0, 0), None)
    assert (limiter.allowed, limiter.pace("a")) == (4, None)
    again = [limiter.take("a") for _ in range(4)]
    assert again == [Ticket("a", 1, 0)] * 4
    limiter.give_back()
    limiter.answered(Ticket("a", 1, 0), throttled)  # 7 got through in the last second
    assert (limiter.allowed, limiter.pace("a")) == (2, None)


def test_the_throttle_that_ends_the_probe_paces_every_action_at_what_got_through():
    """The account is at its quotas: an action not throttled yet is paced too, before
    its own bucket runs dry, at 90% of its last second or the throttled one's pace when
    faster; one with none through is not, and a later throttle paces no other."""
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    lines: list[str] = []
    limiter = AdaptiveLimiter(80, start=80, clock=lambda: 1.0, on_change=lines.append)
    tickets = {a: [limiter.take(a) for _ in range(20)] for a in ("G", "L", "M", "idle")}
    for action, count in (("G", 10), ("L", 5), ("M", 20)):
        for ticket in tickets[action][:count]:
            assert ticket is not None
            limiter.answered(ticket, None)
    limiter.answered(Ticket("G", 0, 0), throttled)
    paces = [limiter.pace(a) for a in ("G", "L", "M", "idle")]
    assert paces == [9, 9, 18, None]
    assert lines == [
        f"OpenSearch API throttling {action}: at most {rate} requests per second now;"
        " throttled requests are retried"
        for action, rate in (("G", 9), ("L", 9), ("M", 18))
    ]
    limiter.answered(Ticket("G", 0, 1), throttled)  # G cut again, L and M left as they are
    assert [limiter.pace(a) for a in ("G", "L", "M")] == [8.1, 9, 18]


def test_a_pace_cut_once_per_round_always_slower_and_said_at_a_new_low():
    pace = Pace("a")
    assert pace.throttled(0, 0.0) is None  # none got through: nothing to learn
    assert pace.rate is None and pace.round == 0
    pace.succeeded(0, 0.5)
    assert pace.throttled(0, 1.0) is not None  # one got through: 0.9 a second
    assert pace.rate == pytest.approx(0.9)
    assert pace.throttled(0, 1.1) is None  # sent before the cut: changes nothing
    assert pace.round == 1
    for i in range(10):  # back up: 10 successes in the last second
        pace.succeeded(1, 5.0 + i * 0.01)
    grown = pace.rate
    assert grown is not None and grown > Pace.MIN_RATE
    assert pace.throttled(1, 5.5) is None  # a cut, but not to a new low: not said again
    assert pace.rate == pytest.approx(min(9, 0.9 * grown)) and pace.round == 2
    lines = [pace.throttled(pace.round, 9.0) for _ in range(6)]  # none got through: half
    assert pace.round == 8
    line = lines[-1]
    assert pace.rate == Pace.MIN_RATE and line is None  # as low as it goes, said already


def test_a_pace_grows_by_a_tenth_per_rate_successes_and_ends_past_its_most():
    pace = Pace("a")
    for i in range(20):
        pace.succeeded(0, i * 0.01)
    pace.throttled(0, 0.5)
    assert pace.rate == 18
    grown = [pace.succeeded(1, 1.0) for _ in range(18)]
    assert grown == [None] * 18 and pace.rate == pytest.approx(19.8)
    assert pace.succeeded(0, 1.0) is None  # admitted before the cut: no credit
    lines = []
    for _ in range(100_000):
        line = pace.succeeded(1, 2.0)
        if pace.rate is None:
            lines.append(line)
            break
    assert lines == ["OpenSearch API no longer throttling a: requests no longer paced"]


def test_closing_ends_a_paced_wait(monkeypatch: pytest.MonkeyPatch):
    """A request paced 1,000 s away: closing the limiter ends its wait now."""
    monkeypatch.setattr(Pace, "MIN_RATE", 0.001)
    monkeypatch.setattr(Pace, "SECOND", 1e9)  # the one success below is recent
    main, asked = threading.current_thread(), threading.Event()

    def clock() -> float:  # read by the waiting thread just before it waits its turn
        if threading.current_thread() is not main:
            asked.set()
        return 0.0

    limiter = AdaptiveLimiter(2, clock=clock)
    first, second = limiter.take("a"), limiter.take("a")
    limiter.give_back()
    limiter.give_back()
    assert first is not None and second is not None
    limiter.answered(first, None)
    for _ in range(100):  # cut down to its least: 1,000 s apart
        limiter.answered(
            Ticket("a", limiter.window.round, limiter._paces["a"].round),
            ThrottledError("x", code="Throttling.User", http_status=400),
        )
    assert limiter.pace("a") == 0.001
    taken: list[object] = []
    waiting = threading.Thread(target=lambda: taken.append(limiter.take("a")))
    waiting.start()
    assert asked.wait(60)
    limiter.close()
    waiting.join(timeout=60)
    assert not waiting.is_alive() and taken == [None]


def test_a_request_queued_for_a_slot_when_its_action_is_paced_takes_a_turn_at_the_pace():
    """It took its turn unpaced, then queued for the one slot; the answer that held the
    slot paces the action: it queues for a turn at that pace, not sent."""
    main, turns = threading.current_thread(), threading.Semaphore(0)

    def clock() -> float:  # read by the queued thread each time it takes a turn
        if threading.current_thread() is not main:
            turns.release()
        return 0.0

    limiter = AdaptiveLimiter(1, clock=clock)
    succeeded = limiter.take("a")
    assert succeeded is not None
    limiter.give_back()
    limiter.answered(succeeded, None)  # one got through: a rate to learn
    held = limiter.take("a")
    assert held is not None
    taken: list[object] = []
    queued = threading.Thread(target=lambda: taken.append(limiter.take("a")), daemon=True)
    queued.start()
    assert turns.acquire(timeout=60)  # its first turn, unpaced: now it queues for the slot
    limiter.give_back()
    limiter.answered(held, ThrottledError("x", code="Throttling.User", http_status=400))
    assert limiter.pace("a") == 0.9  # of the one that got through: 1.1 s apart
    # Its second turn: at the new pace, so it waits (the test closes the limiter then);
    # had it been sent under the old one, it would have returned the slot's ticket.
    while not turns.acquire(timeout=0.01) and queued.is_alive():
        pass
    limiter.close()
    queued.join(timeout=60)
    assert not queued.is_alive() and taken == [None]
