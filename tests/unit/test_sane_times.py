"""max_age trusts only times that can be right: a task that ended in the future (beyond
the clock-skew allowance) or before it started never passes, and the message says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulumi_opensearch_fn import Expect
from pulumi_opensearch_fn.api.models import FunctionTask
from pulumi_opensearch_fn.core.expectations import CLOCK_SKEW, Observation, evaluate

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def max_age(start: datetime, end: datetime, limit: str = "1h") -> tuple[str, bool]:
    task = FunctionTask.from_body(
        {"generation": "3", "status": "success", "startTime": ms(start), "endTime": ms(end)}
    )
    [result] = evaluate(Expect(max_age=limit).parse(), Observation(None, task, task, read_at=NOW))
    assert result.name == "max_age"
    return result.seen, result.met


def test_a_task_ending_ten_years_ahead_fails_naming_the_time() -> None:
    ended = datetime(2036, 1, 1, tzinfo=UTC)
    seen, met = max_age(NOW - timedelta(hours=1), ended)
    assert not met
    assert seen == (
        "ended 2036-01-01T00:00:00Z, in the future: 3651d12h ahead of now (2026-01-01T12:00:00Z)"
    )


@pytest.mark.parametrize(
    ("ahead", "met"),
    [
        (CLOCK_SKEW, True),  # the service's clock may run this far ahead of ours
        (CLOCK_SKEW + timedelta(seconds=1), False),
    ],
)
def test_the_clock_skew_allowance_is_a_bound(ahead: timedelta, met: bool) -> None:
    seen, was_met = max_age(NOW - timedelta(hours=1), NOW + ahead)
    assert was_met is met
    if met:
        assert seen == "0s old"
    else:
        assert seen.startswith("ended 2026-01-01T12:05:01Z, in the future: 5m1s ahead"), seen


def test_an_end_before_its_start_is_not_trusted() -> None:
    started = NOW - timedelta(minutes=10)
    seen, met = max_age(started, NOW - timedelta(hours=2), limit="1d")
    assert not met
    assert seen == "ended 2026-01-01T10:00:00Z, before it started 2026-01-01T11:50:00Z"


def test_a_sane_task_is_judged_by_its_age() -> None:
    assert max_age(NOW - timedelta(hours=3), NOW - timedelta(hours=2)) == ("2h old", False)
    assert max_age(NOW - timedelta(hours=3), NOW - timedelta(minutes=30)) == ("30m old", True)
