"""Gates compare exactly: thresholds as written, metric values as sent, no rounding
in parsing, messages, `to_dict` -> `from_value` (the wire to the provider) or the
CLI's `--metric`. The oracle is `fractions.Fraction`, independent of the code's
`decimal.Decimal`."""

from __future__ import annotations

import json
import operator
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pulumi_opensearch_fn import Expect
from pulumi_opensearch_fn.api.errors import InvalidInputError
from pulumi_opensearch_fn.api.models import ExtendInfo, FunctionTask
from pulumi_opensearch_fn.cli.parser import build
from pulumi_opensearch_fn.core.expectations import MetricThreshold, Observation, evaluate

ORACLE = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
OPERATORS = st.sampled_from(sorted(ORACLE))

# Numbers as the service's JSON spells them (what json.dumps or a Java service emits).
_digits = st.text("0123456789", min_size=1, max_size=30).map(lambda d: d.lstrip("0") or "0")
_json_numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=12).map(lambda d: f"{d:f}"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        lambda sign, whole, frac, exp: f"{sign}{whole}.{frac}e{exp}",
        st.sampled_from(["", "-"]), _digits, _digits, st.integers(-400, 400),
    ),
)  # fmt: skip
# Thresholds as people write them: the JSON forms, and also `+1`, `.5`, `5.`, `1E6`.
_exponent = st.one_of(
    st.just(""), st.builds(lambda e, n: f"{e}{n}", st.sampled_from("eE"), st.integers(-400, 400))
)
_written = st.one_of(
    _json_numbers,
    st.builds(
        lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
        st.sampled_from(["", "+", "-"]), _digits, st.sampled_from(["", ".", ".5", ".000001"]),
        _exponent,
    ),
    st.builds(lambda sign, frac, exp: f"{sign}.{frac}{exp}", st.sampled_from(["", "-"]), _digits,
              _exponent),
)  # fmt: skip


def _exact(text: str) -> Fraction:
    return Fraction(text)


def _task(extend_info: str) -> FunctionTask:
    return FunctionTask.from_body(
        {"functionName": "ctr", "generation": 3, "status": "success", "extendInfo": extend_info}
    )


def _verdict(expect: Expect, value_text: str) -> bool:
    task = _task('{"m": ' + value_text + "}")
    [result] = evaluate(expect.parse(), Observation(instance=None, task=task, success_task=task))
    return result.met


@settings(max_examples=400, deadline=None)
@given(value=_json_numbers, op=OPERATORS, threshold=_written)
@example(value="0.1234564", op=">=", threshold="0.12345649")
@example(value="1234566", op=">=", threshold="1234567")
@example(value="12345678901234567", op=">", threshold="12345678901234566")
@example(value="1e-9", op=">", threshold="0.000000000999999999999")
@example(value="0.1", op="==", threshold="0.10000000000000000555")
def test_verdict_is_the_exact_comparison(value, op, threshold):
    truth = ORACLE[op](_exact(value), _exact(threshold))
    written = f"m {op} {threshold}"

    parsed = MetricThreshold.parse(written)
    assert parsed.holds(Decimal(value)) is truth
    assert _verdict(Expect(metrics=[written]), value) is truth
    assert _verdict(Expect(metrics={"m": f"{op}{threshold}"}), value) is truth
    # The wire between program and provider: to_dict, JSON, from_value.
    crossed = json.loads(json.dumps(Expect(metrics=[written]).to_dict()))
    again = Expect.from_value(crossed)
    assert again is not None and _verdict(again, value) is truth
    assert crossed["metrics"] == [f"m {op} {threshold}"]  # as written, never rounded
    # The CLI: what `--metric` keeps is what the gate compares.
    args = build().parse_args(["check", "a", "f", "i", "--metric", f"m{op}{threshold}"])
    assert _verdict(Expect(metrics=args.metric), value) is truth


@settings(max_examples=200, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False), op=OPERATORS, threshold=_written)
def test_float_values_compare_by_their_exact_binary_value(value, op, threshold):
    truth = ORACLE[op](Fraction(value), _exact(threshold))
    assert MetricThreshold.parse(f"m{op}{threshold}").holds(value) is truth


@settings(max_examples=200, deadline=None)
@given(value=_json_numbers)
def test_metric_values_are_shown_exactly_as_sent(value):
    task = _task('{"m": ' + value + "}")
    [result] = evaluate(Expect(metrics=["m >= 0"]).parse(), Observation(None, task, task))
    assert Fraction(result.seen) == _exact(value)
    assert task.extend_info.exact_metrics["m"] == Decimal(value)


def test_the_reported_cases():
    seen = "0.1234564"
    result = _result(Expect(metrics=["auc>=0.12345649"]), '{"auc": ' + seen + "}")
    assert not result.met
    assert str(result) == "metrics.auc: expected >= 0.12345649, saw 0.1234564"
    assert _result(Expect(metrics=["count>=1234567"]), '{"count": 1234567}').met
    assert Expect(metrics={"auc": ">= 0.12345649"}).to_dict()["metrics"] == ["auc >= 0.12345649"]
    assert Expect(metrics=["x >= 1e-9", "y < 1E6"]).to_dict()["metrics"] == [
        "x >= 1e-9",
        "y < 1E6",
    ]


def _result(expect: Expect, extend_info: str):
    task = _task(extend_info)
    [result] = evaluate(expect.parse(), Observation(None, task, task))
    return result


@pytest.mark.parametrize("number", ["nan", "NaN", "inf", "-Infinity", "1e", "0x10", "1_000", "²"])
def test_thresholds_that_are_not_finite_numbers_are_refused(number):
    with pytest.raises(InvalidInputError, match="not a finite decimal number|not of the form"):
        MetricThreshold.parse(f"auc >= {number}")
    problems = Expect(metrics={"auc": f">= {number}"}).problems()
    assert [name for name, _ in problems] == ["metrics"]


def test_thresholds_of_any_magnitude_parse():
    for text in ("1e-999999", "1E+999999", "-123456789012345678901234567890.5", "1e999999999"):
        assert MetricThreshold.parse(f"m > {text}").value == Decimal(text)
    with pytest.raises(InvalidInputError, match="exponent out of range"):
        MetricThreshold.parse("m > 1e9999999999999999999")
    with pytest.raises(InvalidInputError, match="at most 400"):
        MetricThreshold.parse("m > " + "9" * 401)


@pytest.mark.parametrize(
    ("extend_info", "seen"),
    [
        ('{"auc": NaN}', "NaN, not a finite number"),
        ('{"auc": Infinity}', "Infinity, not a finite number"),
        ('{"auc": -Infinity}', "-Infinity, not a finite number"),
    ],
)
def test_non_finite_metric_values_never_pass(extend_info, seen):
    for op in ORACLE:
        result = _result(Expect(metrics=[f"auc {op} 0"]), extend_info)
        assert not result.met
        assert result.seen == seen
    task = _task(extend_info)
    assert task.metrics == {}  # outputs carry doubles: no NaN reaches Pulumi or JSON
    assert task.extend_info.data == {"auc": None}


def test_numbers_no_double_holds_stay_exact_for_gates_and_out_of_outputs():
    huge = "9" * 400
    info = ExtendInfo.parse('{"big": 1e400, "huge": ' + huge + ', "auc": 0.5}')
    assert info.exact_metrics["huge"] == Decimal(huge)
    assert info.metrics == {"auc": 0.5}
    assert info.data == {"big": None, "huge": None, "auc": 0.5}
    assert _result(Expect(metrics=["big > 1e399"]), info.raw).met
    unparseable = ExtendInfo.parse('{"auc": 1e99999999999999999999}')
    assert not unparseable.valid
    assert "out of range" in (unparseable.parse_error or "")


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_deeply_nested_extend_info_is_unparseable_not_a_crash(depth):
    info = ExtendInfo.parse('{"a":' * depth + "1" + "}" * depth)
    assert not info.valid
    assert info.exact_metrics == {}
    result = _result(Expect(metrics=["a >= 1"]), info.raw)
    assert (result.met, result.seen) == (False, "unparseable extendInfo")


def test_already_decoded_extend_info_keeps_the_shortest_decimal():
    info = ExtendInfo.parse({"auc": 0.1, "nested": {"recall": 91}})
    assert info.exact_metrics == {"auc": Decimal("0.1"), "nested.recall": Decimal(91)}


# -- min_generation: never truncated ------------------------------------------------


def test_min_generation_is_never_truncated():
    task = _task("{}")
    seen = Observation(None, task, task)  # generation 3
    assert [n for n, _ in Expect(min_generation=3.9).problems()] == ["min_generation"]
    crossed = Expect.from_value({"min_generation": 3.9})
    assert crossed is not None
    assert crossed.min_generation == 3.9
    assert "min_generation must be a whole number >= 0, got 3.9" in crossed.problems()[0][1]
    with pytest.raises(InvalidInputError, match="got 3.9"):
        crossed.parse()  # never judged: evaluate takes only the parsed form
    whole = Expect.from_value({"minGeneration": 3.0})  # as numbers cross the engine
    assert whole is not None and whole.min_generation == 3 and not whole.problems()
    [result] = evaluate(whole.parse(), seen)
    assert result.met and result.expected == ">= 3"
    for bad in (float("nan"), float("inf"), -1, "3", True):
        assert Expect(min_generation=bad).problems(), bad  # type: ignore[arg-type]


# Generations the client accepts: whole numbers up to 2**63 - 1.
@given(st.integers(0, 2**63 - 1), st.integers(0, 2**70))
def test_min_generation_verdict_is_exact(generation, minimum):
    task = FunctionTask.from_body({"generation": generation, "status": "success"})
    [result] = evaluate(Expect(min_generation=minimum).parse(), Observation(None, task, task))
    assert result.met is (generation >= minimum)


def test_durations_round_trip_exactly_through_to_dict():
    expect = Expect(max_age=timedelta(seconds=90.5))
    crossed = Expect.from_value(json.loads(json.dumps(expect.to_dict())))
    assert crossed is not None
    assert crossed.to_dict()["max_age"] == "90.5s"
