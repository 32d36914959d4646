"""`max_regression`: a metric may fall at most so far from the previous successful
generation; exact, both directions, absolute or relative, with reasons when there is
nothing to compare."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError, Expect
from pulumi_opensearch_fn.api.errors import InvalidInputError
from pulumi_opensearch_fn.api.models import FunctionTask
from pulumi_opensearch_fn.core.expectations import Observation, evaluate
from pulumi_opensearch_fn.core.thresholds import RegressionLimit, parse_limits


def _task(generation: int, metrics: dict[str, str] | None) -> FunctionTask:
    info = "{" + ", ".join(f'"{k}": {v}' for k, v in (metrics or {}).items()) + "}"
    return FunctionTask.from_body(
        {"generation": generation, "status": "success", "runId": f"run-{generation}",
         "extendInfo": info}
    )  # fmt: skip


def _judge(expect: Expect, latest: FunctionTask | None, previous: FunctionTask | None):
    seen = Observation(
        instance=None, task=latest, success_task=latest, previous_success_task=previous,
        previous_read=True,
    )  # fmt: skip
    [result] = evaluate(expect.parse(), seen)
    return result


def test_a_fall_beyond_the_amount_names_both_generations_and_values():
    result = _judge(
        Expect(max_regression={"auc": "0.01"}),
        _task(7, {"auc": "0.861"}),
        _task(6, {"auc": "0.874"}),
    )
    assert not result.met
    assert str(result) == "max_regression.auc: expected >= gen 6 0.874 - 0.01, saw gen 7 0.861"


@pytest.mark.parametrize(
    ("limit", "now", "before", "met"),
    [
        ("auc 0.01", "0.864", "0.874", True),  # exactly at the bound
        ("auc 0.01", "0.86399999999999999999", "0.874", False),
        ("auc 0", "0.874", "0.874", True),
        ("auc 0", "0.87399999999999999999", "0.874", False),
        ("recall 2%", "88.2", "90", True),  # 90 - 1.8
        ("recall 2%", "88.19999999", "90", False),
        ("loss 0.05 lower", "0.35", "0.30", True),
        ("loss 0.05 lower", "0.3500000001", "0.30", False),
        ("loss 10% lower", "-0.9", "-1", True),  # relative to |previous|
        ("loss 10% lower", "-0.89", "-1", False),
        ("auc 0.01 higher", "0.5", "0.9", False),
        ("count 0", "12345678901234567", "12345678901234568", False),  # equal as doubles
    ],
)
def test_bounds_are_exact_in_both_directions(limit, now, before, met):
    metric = limit.split()[0]
    result = _judge(
        Expect(max_regression=[limit]), _task(5, {metric: now}), _task(4, {metric: before})
    )
    assert result.met is met, str(result)
    assert f"gen 4 {Decimal(before)}" in result.expected
    assert result.seen == f"gen 5 {Decimal(now)}"


_values = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12),
                      max_value=10**12, places=9)  # fmt: skip
_amounts = st.decimals(allow_nan=False, allow_infinity=False, min_value=0, max_value=10**6,
                       places=9)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(now=_values, before=_values, amount=_amounts, relative=st.booleans(), lower=st.booleans())
@example(now=Decimal("0.864"), before=Decimal("0.874"), amount=Decimal("0.01"), relative=False,
         lower=False)  # fmt: skip
def test_verdict_is_the_exact_comparison(now, before, amount, relative, lower):
    allowed = abs(Fraction(before)) * Fraction(amount) / 100 if relative else Fraction(amount)
    truth = (
        Fraction(now) <= Fraction(before) + allowed
        if lower
        else Fraction(now) >= Fraction(before) - allowed
    )
    text = f"m {amount}{'%' if relative else ''}{' lower' if lower else ''}"
    expect = Expect(max_regression=[text])
    crossed = Expect.from_value(json.loads(json.dumps(expect.to_dict())))
    for judged in (expect, crossed):
        assert judged is not None
        result = _judge(judged, _task(9, {"m": str(now)}), _task(8, {"m": str(before)}))
        assert result.met is truth


@pytest.mark.parametrize(
    ("latest", "previous", "met", "seen"),
    [
        (_task(1, {"auc": "0.5"}), None, True,
         "gen 1 is the first successful generation; nothing to compare"),
        (_task(5, {"auc": "0.5"}), _task(4, {}), True, "gen 4 has no auc; nothing to compare"),
        (_task(5, {}), _task(4, {"auc": "0.5"}), False, "gen 5 has no auc"),
        (None, None, False, "no successful task"),
        (_task(5, {"auc": "NaN"}), _task(4, {"auc": "0.5"}), False,
         "gen 5 NaN, not a finite number to compare"),
        (_task(5, {"auc": "1e-999999"}), _task(4, {"auc": "1e999999"}), False,
         "gen 5 1E-999999, too far from gen 4 to compare exactly"),
    ],
)  # fmt: skip
def test_nothing_to_compare_is_said_and_passes_only_when_nothing_fell(latest, previous, met, seen):
    result = _judge(Expect(max_regression={"auc": "0.01"}), latest, previous)
    assert (result.met, result.seen) == (met, seen)


def test_judged_only_where_the_previous_generation_was_read():
    task = _task(3, {"auc": "0.9"})
    [result] = evaluate(Expect(max_regression=["auc 0.01"]).parse(), Observation(None, task, task))
    assert not result.met
    assert "judged only for an instance" in result.seen


def test_forms_and_round_trip():
    assert parse_limits({"auc": "0.01", "recall": "2%", "loss": "5% lower"}) == (
        RegressionLimit("auc", Decimal("0.01")),
        RegressionLimit("recall", Decimal(2), relative=True),
        RegressionLimit("loss", Decimal(5), relative=True, lower_is_better=True),
    )
    assert parse_limits("auc 0.01") == parse_limits(["auc 0.01"]) == parse_limits({"auc": 0.01})
    expect = Expect(max_regression={"auc": "0.010", "loss": "5% lower"})
    assert expect.to_dict()["max_regression"] == ["auc 0.010", "loss 5% lower"]
    crossed = Expect.from_value({"maxRegression": ["auc 0.010", "loss 5% lower"]})
    assert crossed is not None and crossed.regression_limits() == expect.regression_limits()
    assert expect.needs_success_task and expect.needs_previous_success and not expect.is_empty


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "max_regression must be a dict such as"),
        (["auc"], "max_regression 'auc' is not of the form 'metric amount[%] [lower]'"),
        (["auc -0.01"], "the amount must not be negative"),
        (["auc nan"], "'nan' is not a finite decimal number"),
        (["auc 1% worse"], "is not of the form"),
        ({"auc": "inf%"}, "'inf' is not a finite decimal number"),
        ({"auc": True}, "max_regression 'auc' must be text"),
        ({3: "0.1"}, "metric names must be text"),
    ],
)
def test_bad_limits_are_refused(value, message):
    with pytest.raises(InvalidInputError) as caught:
        parse_limits(value)
    assert message in caught.value.message
    assert [name for name, _ in Expect(max_regression=value).problems()] == ["max_regression"]


def test_the_data_source_gates_on_it(emulator, admin, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-emulator-demo")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret")
    admin.add_tasks("my_app", "ctr", "ctr_test", 1, metrics={"auc": 0.861})  # gen 3: 0.87
    admin.clear_requests()
    with pytest.raises(DataSourceError) as caught:
        fn.get_function_instance("my_app", "ctr", "ctr_test", endpoint=emulator.url,
                                 expect={"max_regression": {"auc": "0.005"}})  # fmt: skip
    assert str(caught.value).endswith(
        "expectations not met: max_regression.auc: expected >= gen 3 0.87 - 0.005, saw gen 4 0.861"
    )
    queries = [e["query"] for e in admin.requests() if e["action"] == "ListFunctionTasks"]
    assert len(queries) == 2  # the latest task, then the two latest successful ones
    assert "pageSize=2" in queries[1] and "status=success" in queries[1]
    found = fn.get_function_instance("my_app", "ctr", "ctr_test", endpoint=emulator.url,
                                     expect={"max_regression": {"auc": "0.01"}})  # fmt: skip
    assert found.ready
