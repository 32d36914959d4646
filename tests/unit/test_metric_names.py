"""A metric name means one value or is refused: a dotted key and nested keys naming the
same metric, or a key repeated in extendInfo's JSON text, never let key order decide
a verdict. Such a name is left out of the `metrics` output; `extend_info_raw` keeps it."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_opensearch_fn import Expect
from pulumi_opensearch_fn.api.models import ExtendInfo, FunctionTask
from pulumi_opensearch_fn.core.expectations import Observation, Result, evaluate
from pulumi_opensearch_fn.core.outputs import task_fields
from pulumi_opensearch_fn.core.thresholds import RegressionLimit

COLLIDING = "ambiguous: 2 values in extendInfo have this name (dotted and nested keys)"


def task_with(raw: str, generation: int = 3) -> FunctionTask:
    return FunctionTask.from_body(
        {"generation": str(generation), "status": "success", "extendInfo": raw}
    )


def judged(raw: str, expect: Expect) -> list[Result]:
    task = task_with(raw)
    return evaluate(expect.parse(), Observation(None, task, task))


@pytest.mark.parametrize(
    "raw",
    [
        '{"dataReport": {"auc": 0.3}, "dataReport.auc": 0.9}',
        '{"dataReport.auc": 0.9, "dataReport": {"auc": 0.3}}',
    ],
)
def test_a_dotted_and_a_nested_key_naming_one_metric_are_refused(raw: str) -> None:
    [result] = judged(raw, Expect(metrics=["dataReport.auc >= 0.5"]))
    assert not result.met
    assert str(result) == f"metrics.dataReport.auc: expected >= 0.5, saw {COLLIDING}"


@pytest.mark.parametrize("raw", ['{"auc": 0.1, "auc": 0.9}', '{"auc": 0.9, "auc": 0.1}'])
def test_a_repeated_key_is_refused(raw: str) -> None:
    for threshold in ("auc >= 0.5", "auc < 0.5"):
        [result] = judged(raw, Expect(metrics=[threshold]))
        assert not result.met
        assert result.seen == "ambiguous: extendInfo repeats the key auc"


def test_outputs_leave_an_ambiguous_name_out_and_keep_the_rest() -> None:
    raw = '{"auc": 0.1, "auc": 0.9, "recall": 91, "r": {"x": 1}, "r.x": 2, "ok": {"y": 3}}'
    fields = task_fields(task_with(raw))
    assert fields["metrics"] == {"recall": 91.0, "ok.y": 3.0}
    # The repeated key has no one value to show; the colliding ones are distinct keys.
    assert fields["extend_info"] == {"recall": 91, "r": {"x": 1}, "r.x": 2, "ok": {"y": 3}}
    assert fields["extend_info_raw"] == raw


def test_every_name_under_a_repeated_key_is_refused() -> None:
    info = ExtendInfo.parse('{"r": {"a": 1}, "r": {"b": 2}, "s": {"a": 1}}')
    assert dict(info.exact_metrics) == {"s.a": 1}
    assert set(info.ambiguous) == {"r", "r.a", "r.b"}


def test_a_collision_refuses_only_the_name_itself() -> None:
    info = ExtendInfo.parse('{"a": {"b": {"c": 1}}, "a.b": {"d": 2}}')
    assert dict(info.exact_metrics) == {"a.b.c": 1, "a.b.d": 2}
    assert set(info.ambiguous) == {"a.b"}


@pytest.mark.parametrize(
    "raw", ['{"errors": ["boom"], "errors": []}', '{"errors": [], "errors": ["boom"]}']
)
def test_a_repeated_errors_key_is_an_error(raw: str) -> None:
    [result] = judged(raw, Expect(no_task_errors=True))
    assert not result.met
    assert result.seen == "errors: ambiguous, extendInfo repeats the key errors"


@pytest.mark.parametrize("which", ["latest", "previous"])
def test_max_regression_refuses_an_ambiguous_metric(which: str) -> None:
    clean, dirty = '{"auc": 0.8}', '{"auc": 0.9, "auc": 0.1}'
    latest = task_with(dirty if which == "latest" else clean, generation=4)
    previous = task_with(dirty if which == "previous" else clean, generation=3)
    _, seen, met = RegressionLimit.parse("auc 0.5").judge(latest, previous)
    assert not met
    gen = 4 if which == "latest" else 3
    assert seen == f"gen {gen} auc is ambiguous: extendInfo repeats the key auc"


# -- key order never decides ------------------------------------------------------

KEYS = ("a", "b", "a.b", "b.a", "auc", "errors")
LEAVES = ("0.1", "0.9", "3", "-2", '"text"', "[]", '["boom"]', "true", "null")


class Obj(tuple):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs, in order; keys may repeat."""


def _objects(children: st.SearchStrategy[object]) -> st.SearchStrategy[Obj]:
    return st.lists(st.tuples(st.sampled_from(KEYS), children), max_size=4).map(Obj)


TREES = _objects(st.recursive(st.sampled_from(LEAVES), _objects, max_leaves=10))


def dump(node: object, shuffle: random.Random | None) -> str:
    """JSON text for the tree, with each object's keys shuffled when asked."""
    if not isinstance(node, Obj):
        return str(node)
    pairs = list(node)
    if shuffle is not None:
        shuffle.shuffle(pairs)
    return "{" + ",".join(f"{json.dumps(k)}:{dump(v, shuffle)}" for k, v in pairs) + "}"


def names(node: Obj, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in node:
        found.add(prefix + key)
        if isinstance(value, Obj):
            found |= names(value, f"{prefix}{key}.")
    return found


def verdict_and_outputs(raw: str, expect: Expect) -> tuple[object, ...]:
    """Each verdict, what a metric gate saw, and the parsed outputs (as maps)."""
    task = task_with(raw)
    results = evaluate(expect.parse(), Observation(None, task, task))
    fields = task_fields(task)
    return (
        [(r.name, r.met) for r in results],
        [r.seen for r in results if r.name.startswith("metrics.")],
        fields["metrics"],
        fields["extend_info"],
    )


@settings(max_examples=400, deadline=None)
@given(tree=TREES, shuffle=st.randoms(use_true_random=False))
def test_permuting_keys_never_changes_the_verdict(tree: Obj, shuffle: random.Random) -> None:
    thresholds = [f"{name} >= 0.5" for name in sorted(names(tree))]
    expect = Expect(metrics=thresholds, no_task_errors=True)
    as_written = verdict_and_outputs(dump(tree, None), expect)
    permuted = verdict_and_outputs(dump(tree, shuffle), expect)
    assert permuted == as_written
