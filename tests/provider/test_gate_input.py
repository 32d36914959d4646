"""Gates through the real provider: thresholds exact across the engine's wire, bad
expectations and waits a `check` failure naming the field, before any request."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn import Expect, Wait

from .harness import INSTANCE_TYPE, TASK_TYPE, program_inputs

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}


@pytest.fixture
def sent(config):
    """What the program registers on `up`: its read and verdict join the inputs."""

    def make(type_=INSTANCE_TYPE, **inputs):
        return program_inputs(type_, {**CTR, **inputs}, config)

    return make


@pytest.fixture
def close_call(admin):
    """ctr_test's newest successful task: generation 4, auc 0.1234564, count 12345678901234567."""
    admin.add_tasks("my_app", "ctr", "ctr_test", 1,
                    metrics={"auc": 0.1234564, "count": 12345678901234567})  # fmt: skip


@pytest.mark.parametrize(
    ("threshold", "unmet"),
    [
        # 6 significant digits would round the threshold to 0.123456 and pass.
        ("auc >= 0.12345649", "metrics.auc: expected >= 0.12345649, saw 0.1234564"),
        ("auc >= 0.1234564", None),
        ("auc < 0.12345641", None),
        ("count >= 12345678901234567", None),
        ("count > 12345678901234566", None),  # equal to the value as doubles
        ("count >= 12345678901234568",  # equal to the value as doubles too
         "metrics.count: expected >= 12345678901234568, saw 12345678901234567"),
    ],
)  # fmt: skip
def test_thresholds_cross_the_engine_exactly(provider, sent, close_call, threshold, unmet):
    expect = Expect(metrics=[threshold]).to_dict()
    checked, failures = provider().check(INSTANCE_TYPE, sent(expect=expect))
    if unmet is None:
        assert failures == []
        assert checked["expect"]["metrics"] == [threshold]
    else:
        [(_, reason)] = failures
        assert reason.endswith("expectations not met: " + unmet)


@pytest.mark.parametrize(
    ("expect", "reason"),
    [
        (Expect(min_generation=3.9).to_dict(), "min_generation must be a whole number >= 0, got 3.9"),
        ({"min_generation": 4.5}, "min_generation must be a whole number >= 0, got 4.5"),
        ({"max_age": float("nan")}, "max_age must be a finite duration, got nan"),
        ({"max_age": float("inf")}, "max_age must be a finite duration, got inf"),
        ({"max_age": 1e300}, "max_age must be at most 36500d, got 1e+300"),
        ({"max_age": "99999999999d"}, "max_age must be at most 36500d"),
        ({"metrics": 5}, "metrics must be a dict such as"),
        ({"metrics": {"auc": ">= inf"}}, "'inf' is not a finite decimal number"),
    ],
)  # fmt: skip
def test_bad_expectations_fail_check_before_any_request(provider, admin, expect, reason):
    process = provider()
    admin.clear_requests()
    _, failures = process.check(INSTANCE_TYPE, {**CTR, "expect": expect})
    assert [prop for prop, _ in failures] == ["expect"]
    assert reason in failures[0][1]
    assert admin.requests() == []


def test_whole_min_generation_from_the_engine_is_fine(provider, sent):
    # 3 crosses the engine as 3.0: a whole number, accepted and compared exactly.
    _, failures = provider().check(INSTANCE_TYPE, sent(expect={"min_generation": 3.0}))
    assert failures == []


@pytest.mark.parametrize(
    ("wait", "reason"),
    [
        ({"interval": "0.000001s"}, "interval must be at least 1s, got '0.000001s'"),
        (Wait(interval=0.5).to_dict(), "interval must be at least 1s, got 0.5"),
        ({"timeout": "9999999999999999999w"}, "timeout must be at most 36500d"),
    ],
)
def test_bad_waits_fail_check(provider, admin, wait, reason):
    process = provider()
    admin.clear_requests()
    _, failures = process.check(
        INSTANCE_TYPE, {**CTR, "expect": {"status": "available"}, "wait": wait}
    )
    assert [prop for prop, _ in failures] == ["wait"]
    assert reason in failures[0][1]
    assert admin.requests() == []


@pytest.mark.parametrize(
    ("generation", "reason"),
    [
        ("²", "generation must be a whole number, got '²'"),
        ("9" * 5000, "generation must be at most 9223372036854775807, got 5000 digits"),
        (3.5, "generation must be a whole number, got 3.5"),
    ],
)
def test_bad_generations_fail_check(provider, admin, generation, reason):
    process = provider()
    admin.clear_requests()
    _, failures = process.check(TASK_TYPE, {**CTR, "requested_generation": generation})
    assert failures == [("requested_generation", reason)]
    assert admin.requests() == []


def test_max_regression_gates_an_instance(provider, admin, sent):
    admin.add_tasks("my_app", "ctr", "ctr_test", 1, metrics={"auc": 0.861})  # gen 3: 0.87
    process = provider()
    expect = Expect(max_regression={"auc": "0.005"}).to_dict()
    _, failures = process.check(INSTANCE_TYPE, sent(expect=expect))
    [(_, reason)] = failures
    assert reason.endswith(
        "expectations not met: max_regression.auc: expected >= gen 3 0.87 - 0.005, saw gen 4 0.861"
    )
    relaxed = Expect(max_regression=["auc 2%"]).to_dict()
    _, failures = process.check(INSTANCE_TYPE, sent(expect=relaxed))
    assert failures == []


def test_max_regression_on_a_task_resource_says_where_it_applies(provider, sent):
    expect = {"max_regression": ["auc 0.01"]}
    _, failures = provider().check(
        TASK_TYPE, sent(TASK_TYPE, requested_generation=3, expect=expect)
    )
    [(_, reason)] = failures
    assert "max_regression.auc: expected a comparison with the previous successful generation," \
        " saw judged only for an instance" in reason  # fmt: skip
