"""Bad input to the library and the data sources: the package's own one-line error
(InvalidInputError, DataSourceError), never a raw exception, and no request sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError, Expect, Wait
from pulumi_opensearch_fn.api.errors import InvalidInputError
from pulumi_opensearch_fn.api.validation import MAX_GENERATION, check_generation
from pulumi_opensearch_fn.core.durations import MAX_DURATION, parse_duration

APP, FN, INSTANCE = "my_app", "ctr", "ctr_test"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999999999d", "max_age must be at most 36500d, got '99999999999d'"),
        ("9999999999999999999w", "max_age must be at most 36500d"),
        (float("nan"), "max_age must be a finite duration, got nan"),
        (float("inf"), "max_age must be a finite duration, got inf"),
        (float("-inf"), "max_age must be a finite duration, got -inf"),
        (1e300, "max_age must be at most 36500d, got 1e+300"),
        (10**400, "max_age must be at most 36500d"),
        ("1" * 5000 + "s", "is not a duration"),
        ("3²h", "is not a duration"),
        (timedelta(days=-1), "must be longer than zero"),
        ("0.0000001s", "must be at least a microsecond"),
        ([], "must be a duration such as '30m'"),
    ],
)
def test_durations_refuse_what_no_timedelta_holds(value, message):
    with pytest.raises(InvalidInputError) as caught:
        parse_duration("max_age", value)
    assert message in caught.value.message
    assert "\n" not in caught.value.message
    assert len(caught.value.message) < 200


def test_durations_up_to_the_maximum_are_exact():
    assert parse_duration("d", "36500d") == MAX_DURATION
    assert parse_duration("d", "1h30m") == timedelta(minutes=90)
    assert parse_duration("d", 0.000001) == timedelta(microseconds=1)
    assert parse_duration("d", "1.000001s") == timedelta(seconds=1, microseconds=1)
    assert parse_duration("d", 1e9) == timedelta(seconds=10**9)


@pytest.mark.parametrize(
    ("expect", "field", "message"),
    [
        (Expect(max_age=float("nan")), "max_age", "must be a finite duration"),
        (Expect(max_age=float("inf")), "max_age", "must be a finite duration"),
        (Expect(max_age=1e300), "max_age", "must be at most 36500d"),
        (Expect(metrics=5), "metrics", "metrics must be a dict such as"),  # type: ignore[arg-type]
        (Expect(metrics=[5]), "metrics", "metric threshold must be text"),
        (Expect(metrics={"auc": 0.8}), "metrics", "metric 'auc' must be text"),
        (Expect(metrics={5: ">= 1"}), "metrics", "metric names must be text"),  # type: ignore[dict-item]
        (Expect(metrics=["auc >= nan"]), "metrics", "'nan' is not a finite decimal number"),
        (Expect(min_generation=3.9), "min_generation", "whole number >= 0, got 3.9"),
    ],
)
def test_expect_names_every_bad_field(expect, field, message):
    problems = expect.problems()
    assert [name for name, _ in problems] == [field]
    assert message in problems[0][1]
    with pytest.raises(InvalidInputError, match=f"expect.{field}: "):
        expect.validated()


@pytest.mark.parametrize(
    ("wait", "message"),
    [
        (Wait(interval="0.000001s"), "interval must be at least 1s, got '0.000001s'"),
        (Wait(interval=0.5), "interval must be at least 1s, got 0.5"),
        (Wait(interval=timedelta(milliseconds=999)), "interval must be at least 1s"),
        (Wait(timeout="9999999999999999999w"), "timeout must be at most 36500d"),
        (Wait(timeout=float("nan")), "timeout must be a finite duration"),
    ],
)
def test_wait_has_a_minimum_interval_and_bounded_durations(wait, message):
    with pytest.raises(InvalidInputError) as caught:
        wait.validated()
    assert message in caught.value.message
    assert not Wait(interval="1s", timeout="1s").problems()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("²", "generation must be a whole number, got '²'"),
        ("٣", "generation must be a whole number, got '٣'"),
        ("3.5", "generation must be a whole number, got '3.5'"),
        (3.5, "generation must be a whole number, got 3.5"),
        (float("nan"), "generation must be a whole number, got nan"),
        ("9" * 5000, f"generation must be at most {MAX_GENERATION}, got 5000 digits"),
        (2**63, f"generation must be at most {MAX_GENERATION}"),
        (1e300, f"generation must be at most {MAX_GENERATION}"),
        ("-4", "generation must not be negative, got -4"),
    ],
)
def test_generations_are_ascii_whole_numbers_in_range(value, message):
    with pytest.raises(InvalidInputError) as caught:
        check_generation(value)
    assert message in caught.value.message
    assert len(caught.value.message) < 120


def test_generations_that_are_fine():
    assert check_generation(" 7 ") == 7
    assert check_generation(3.0) == 3
    assert check_generation(str(MAX_GENERATION)) == MAX_GENERATION


# -- the data sources: DataSourceError, before any request ---------------------------

BAD_CALLS = {
    "max_age nan": (
        lambda url: fn.get_function_instance(
            APP, FN, INSTANCE, expect={"max_age": float("nan")}, endpoint=url
        ),
        "expect.max_age: max_age must be a finite duration, got nan",
    ),
    "max_age inf": (
        lambda url: fn.get_function_instance(
            APP, FN, INSTANCE, expect=Expect(max_age=float("inf")), endpoint=url
        ),
        "expect.max_age: max_age must be a finite duration, got inf",
    ),
    "max_age 1e300": (
        lambda url: fn.get_latest_function_task(
            APP, FN, INSTANCE, expect={"maxAge": 1e300}, endpoint=url
        ),
        "expect.max_age: max_age must be at most 36500d, got 1e+300",
    ),
    "metrics=5": (
        lambda url: fn.get_function_instance(
            APP, FN, INSTANCE, expect={"metrics": 5}, endpoint=url
        ),
        "expect.metrics: metrics must be a dict such as",
    ),
    "min_generation 3.9": (
        lambda url: fn.get_function_instance(
            APP, FN, INSTANCE, expect={"min_generation": 3.9}, endpoint=url
        ),
        "expect.min_generation: min_generation must be a whole number >= 0, got 3.9",
    ),
    "generation ²": (
        lambda url: fn.get_function_task(APP, FN, INSTANCE, generation="²", endpoint=url),
        "generation must be a whole number, got '²'",
    ),
    "threshold NaN": (
        lambda url: fn.get_function_task(
            APP, FN, INSTANCE, generation=3, expect={"metrics": {"auc": ">= NaN"}}, endpoint=url
        ),
        "expect.metrics: metric 'auc': '>= NaN' is not a threshold; write e.g. '>= 90'"
        " ('NaN' is not a finite decimal number)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_data_sources_refuse_bad_input_before_any_request(emulator, admin, monkeypatch, case):
    # Usable credentials: the input is the only thing wrong.
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-emulator-demo")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret")
    call, reason = BAD_CALLS[case]
    admin.clear_requests()
    with pytest.raises(DataSourceError) as caught:
        call(emulator.url)
    message = str(caught.value)
    assert message.startswith("get_")
    assert reason in message
    assert "\n" not in message
    assert admin.requests() == []


def test_the_same_calls_with_good_input_do_send_requests(emulator, admin, monkeypatch):
    """The check above is not vacuous: these credentials and endpoint do reach the API."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-emulator-demo")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret")
    admin.clear_requests()
    found = fn.get_function_instance(
        APP, FN, INSTANCE, expect={"min_generation": 3.0, "max_age": 1e9}, endpoint=emulator.url
    )
    assert found.ready
    assert admin.requests()
