"""The request limiter's arithmetic, with no threads and no time: it starts at its
ceiling and never goes above it, halves on throttling (floor 1) once per round,
grows back by one per window of successes, and has a line to show only when it
backs off to a new low or is back at its ceiling."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn.api.errors import (
    BadRequestError,
    InvalidInputError,
    NetworkError,
    ServerError,
    ThrottledError,
)
from pulumi_opensearch_fn.api.limiter import AdaptiveLimiter, Window, throttling

FULL = 1000  # requests in flight with a throttled one: more than any window allows


def test_it_starts_at_its_ceiling():
    window = Window(32)
    assert (window.ceiling, window.allowed, window.round) == (32, 32, 0)


@pytest.mark.parametrize("ceiling", [0, -1, True, 2.5, "8"])
def test_a_ceiling_below_one_or_not_whole_is_refused(ceiling):
    with pytest.raises(InvalidInputError, match="requests in flight must be a whole number"):
        Window(ceiling)


def test_throttling_halves_it_down_to_one():
    window = Window(32)
    seen = []
    for _ in range(7):
        window.throttled(window.round, FULL)
        seen.append(window.allowed)
    assert seen == [16, 8, 4, 2, 1, 1, 1]


def test_a_cut_halves_what_was_in_flight_when_that_was_fewer():
    window = Window(32)
    window.throttled(0, 2)  # two in flight were already too many
    assert window.allowed == 1
    window = Window(32)
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


def test_a_closed_limiter_hands_out_no_slot():
    limiter = AdaptiveLimiter(2)
    assert limiter.take() == 0
    limiter.close()
    assert limiter.take() is None


def test_a_throttle_is_absorbed_when_fewer_are_allowed_than_when_it_was_sent():
    """The client retries such a try without using up an attempt; at 1 nothing can be
    cut, and a throttle there counts as any failure does."""
    limiter = AdaptiveLimiter(2)
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    first, second = limiter.take(), limiter.take()
    assert first == second == 0
    limiter.give_back()
    limiter.give_back()
    assert limiter.answered(first, throttled) is True  # cut to 1 for it
    assert limiter.answered(second, throttled) is True  # sent at 2, 1 allowed now
    assert limiter.allowed == 1
    third = limiter.take()
    limiter.give_back()
    assert third is not None
    assert limiter.answered(third, throttled) is False
    assert limiter.answered(third, None) is False
    assert limiter.answered(third, NetworkError("reset")) is False


def test_the_limiter_says_each_change_once():
    lines: list[str] = []
    limiter = AdaptiveLimiter(4, on_change=lines.append)
    throttled = ThrottledError("x", code="Throttling.User", http_status=400)
    rounds = [limiter.take() for _ in range(4)]
    for admitted in rounds:
        limiter.give_back()
        assert admitted is not None
        limiter.answered(admitted, throttled)
    assert limiter.allowed == 2
    assert lines == [
        "OpenSearch API throttling: at most 2 requests in flight now (of 4);"
        " throttled requests are retried"
    ]
