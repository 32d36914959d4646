"""Data sources in a mocked program: result shapes, types and values for the sample
state, and the `*_output` twins resolving to the same results from plain and Output
inputs."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn.core.clients import close_clients

from ..hostile import (
    HostileServer,
    Reply,
    Seen,
    good_instance,
    good_task,
    good_tasks,
    service_error,
)
from .harness import APP, BROKEN, FN, READY, TRAINING, UPSTREAM_TYPE, Upstream, settle

NoneType = type(None)

INSTANCE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "app_group": (str,),
    "function_name": (str,),
    "instance_name": (str,),
    "status": (str,),
    "version_id": (int, NoneType),
    "function_type": (str,),
    "model_type": (str,),
    "source": (str,),
    "description": (str,),
    "cron": (str,),
    "create_time": (str, NoneType),
    "belongs": (dict, NoneType),
    "create_parameters": (list,),
    "usage_parameters": (list,),
    "extend_info": (dict,),
    "extend_info_raw": (str,),
    "task_dag_status": (str, NoneType),
    "task_progress": (int, NoneType),
    "task_last_run_time": (str, NoneType),
    "ready": (bool,),
    "unmet": (list,),
}
TASK_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "app_group": (str,),
    "function_name": (str,),
    "instance_name": (str,),
    "generation": (int,),
    "status": (str,),
    "progress": (int, NoneType),
    "run_id": (str,),
    "start_time": (str, NoneType),
    "end_time": (str, NoneType),
    "metrics": (dict,),
    "errors": (list,),
    "extend_info": (dict, NoneType),
    "extend_info_raw": (str,),
    "ready": (bool,),
    "unmet": (list,),
}
TASKS_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "app_group": (str,),
    "function_name": (str,),
    "instance_name": (str,),
    "status": (str, NoneType),
    "tasks": (list,),
}


def assert_shape(result: Any, cls: type, expected: dict[str, tuple[type, ...]]) -> None:
    assert type(result) is cls
    assert [f.name for f in dataclasses.fields(result)] == list(expected)
    for name, types in expected.items():
        value = getattr(result, name)
        # `type(...) in` rather than isinstance: a bool must not pass for an int.
        assert type(value) in types, f"{name}={value!r} is not {types}"


def utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_task(task: Any, instance: str, generation: int, status: str) -> None:
    assert_shape(task, fn.GetFunctionTaskResult, TASK_FIELDS)
    assert task.id == f"{APP}/{FN}/{instance}/{generation}"
    assert (task.app_group, task.function_name, task.instance_name) == (APP, FN, instance)
    assert (task.generation, task.status) == (generation, status)
    assert task.run_id
    assert utc(task.start_time) < datetime.now(UTC)
    assert json.loads(task.extend_info_raw) == task.extend_info
    assert all(type(v) is float for v in task.metrics.values())
    assert all(type(e) is str for e in task.errors)
    assert (task.ready, task.unmet) == (True, [])


# -- plain calls ------------------------------------------------------------------


def test_get_function_instance_shape_and_values(program, admin):
    result = program.run(lambda: fn.get_function_instance(APP, FN, READY))

    assert_shape(result, fn.GetFunctionInstanceResult, INSTANCE_FIELDS)
    assert result.id == "my_app/ctr/ctr_test"
    assert (result.app_group, result.function_name, result.instance_name) == (APP, FN, READY)
    assert result.status == "available"
    assert result.version_id == 3
    assert (result.function_type, result.model_type, result.source) == (
        "PAAS",
        "tf_checkpoint",
        "user",
    )
    assert result.description == "CTR model trained nightly"
    assert result.cron == "0 3 * * *"
    assert result.belongs == {"domain": "ecommerce", "category": "general", "language": "zh"}
    assert result.create_parameters == [{"name": "param1", "value": "val1"}]
    assert result.usage_parameters == [{"name": "use_param1", "value": "val1"}]
    assert result.extend_info == {"dataReport": {}, "errors": {}}
    assert json.loads(result.extend_info_raw) == result.extend_info
    assert result.task_dag_status == "success"
    assert result.task_progress == 100
    created = utc(result.create_time)
    assert timedelta(days=29) < utc(result.task_last_run_time) - created < timedelta(days=31)
    assert (result.ready, result.unmet) == (True, [])
    # Without task expectations: exactly one detail read, nothing through the engine.
    sent = admin.requests()
    assert [(r["action"], r["query"]) for r in sent] == [("GetFunctionInstance", "output=detail")]
    assert program.mocks.calls == []


def test_get_function_instance_without_tasks_has_null_task_fields(program, admin):
    admin.upsert_instance(APP, FN, "fresh", status="unavailable")

    result = program.run(lambda: fn.get_function_instance(APP, FN, "fresh"))

    assert_shape(result, fn.GetFunctionInstanceResult, INSTANCE_FIELDS)
    assert (result.status, result.version_id) == ("unavailable", 0)
    assert (result.task_dag_status, result.task_progress, result.task_last_run_time) == (
        None,
        None,
        None,
    )


def test_get_function_task_shape_and_values(program):
    result = program.run(lambda: fn.get_function_task(APP, FN, READY, generation=3))

    assert_task(result, READY, 3, "success")
    assert result.progress == 100
    assert result.metrics == {"recall": 91.0, "precision": 88.0, "auc": 0.87}
    assert result.errors == []
    assert result.extend_info == {"recall": 91, "precision": 88, "auc": 0.87, "errors": []}
    assert utc(result.end_time) - utc(result.start_time) == timedelta(seconds=1200)


def test_get_function_task_accepts_a_decimal_string_generation(program):
    result = program.run(lambda: fn.get_function_task(APP, FN, READY, generation="2"))

    assert_task(result, READY, 2, "success")
    assert result.metrics["recall"] == 90.0


def test_get_function_tasks_shape_newest_first(program, admin):
    result = program.run(lambda: fn.get_function_tasks(APP, FN, READY))

    assert_shape(result, fn.GetFunctionTasksResult, TASKS_FIELDS)
    assert result.id == "my_app/ctr/ctr_test"
    assert result.status is None
    assert [t.generation for t in result.tasks] == [3, 2, 1]
    for task in result.tasks:
        assert_task(task, READY, task.generation, "success")
    starts = [utc(t.start_time) for t in result.tasks]
    assert starts == sorted(starts, reverse=True)
    assert [r["action"] for r in admin.requests()] == ["ListFunctionTasks"]


def test_get_function_tasks_filters(program):
    def body():
        return (
            fn.get_function_tasks(APP, FN, READY, status="success", limit=2),
            fn.get_function_tasks(APP, FN, TRAINING, status="running"),
            fn.get_function_tasks(APP, FN, BROKEN, status="success"),
        )

    newest_two, running, none = program.run(body)

    assert newest_two.status == "success"
    assert [t.generation for t in newest_two.tasks] == [3, 2]
    assert [(t.generation, t.status) for t in running.tasks] == [(2, "running")]
    assert none.tasks == []


def test_get_function_tasks_failed_task_errors_are_strings(program):
    result = program.run(lambda: fn.get_function_tasks(APP, FN, BROKEN))

    assert [(t.generation, t.status, t.progress) for t in result.tasks] == [
        (2, "failed", 40),
        (1, "failed", 40),
    ]
    for task in result.tasks:
        assert_task(task, BROKEN, task.generation, "failed")
        assert task.metrics == {}
        assert len(task.errors) == 1
        assert "DATA_NOT_ENOUGH" in task.errors[0]


def test_get_latest_function_task_shape(program):
    def body():
        return (
            fn.get_latest_function_task(APP, FN, TRAINING),
            fn.get_latest_function_task(APP, FN, TRAINING, status="success"),
        )

    running, success = program.run(body)

    assert_task(running, TRAINING, 2, "running")
    assert 0 <= running.progress < 100
    assert running.end_time is None
    assert_task(success, TRAINING, 1, "success")
    assert success.metrics["recall"] == 88.0


def test_get_latest_function_task_none_without_tasks(program, admin):
    admin.upsert_instance(APP, FN, "fresh", status="unavailable")

    assert program.run(lambda: fn.get_latest_function_task(APP, FN, "fresh")) is None


def test_plain_data_sources_run_in_preview(program, admin):
    result = program.run(lambda: fn.get_function_instance(APP, FN, READY), preview=True)

    assert result.version_id == 3
    assert [r["action"] for r in admin.requests()] == ["GetFunctionInstance"]


# -- Output twins -----------------------------------------------------------------

CASES: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "instance": (fn.get_function_instance, fn.get_function_instance_output, {}),
    "task": (fn.get_function_task, fn.get_function_task_output, {"generation": 3}),
    "latest": (
        fn.get_latest_function_task,
        fn.get_latest_function_task_output,
        {"status": "success"},
    ),
    "tasks": (
        fn.get_function_tasks,
        fn.get_function_tasks_output,
        {"status": "success", "limit": 2, "start_time": 0},
    ),
}


def _as_outputs(values: Mapping[str, Any], how: str) -> dict[str, Any]:
    if how == "plain":
        return dict(values)
    if how == "output":
        return {k: pulumi.Output.from_input(v) for k, v in values.items()}
    if how == "secret":
        return {k: pulumi.Output.secret(v) for k, v in values.items()}
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["plain", "output", "secret"])
@pytest.mark.parametrize("case", list(CASES))
def test_output_twin_resolves_to_the_plain_result(program, case, how):
    plain, twin, extra = CASES[case]
    identity = {"app_group": APP, "function_name": FN, "instance_name": READY}

    async def body():
        out = twin(**_as_outputs(identity | extra, how))
        assert isinstance(out, pulumi.Output)
        return await settle(out), plain(**identity, **extra)

    settled, expected = program.run(body)

    assert settled.known
    assert settled.secret is (how == "secret")
    assert type(settled.value) is type(expected)
    assert dataclasses.asdict(settled.value) == dataclasses.asdict(expected)


@pytest.mark.parametrize("case", list(CASES))
def test_output_twin_from_resource_outputs_depends_on_the_resource(program, mocks, case):
    _plain, twin, extra = CASES[case]

    async def body():
        upstream = Upstream("names", {"app": APP, "function": FN, "instance": READY})
        out = twin(
            upstream.value["app"],
            upstream.value["function"],
            upstream.value["instance"],
            **extra,
        )
        return await settle(out), upstream

    settled, upstream = program.run(body)

    assert settled.known
    assert settled.value.instance_name == READY
    assert upstream in settled.resources
    assert [r.typ for r in mocks.resources] == [UPSTREAM_TYPE]
    assert mocks.calls == []


def test_output_twin_generation_from_a_resource_output(program):
    """Numbers cross the engine as floats: 3 comes back from a resource as 3.0."""

    async def body():
        upstream = Upstream("gen", 3)
        return await settle(upstream.value), await settle(
            fn.get_function_task_output(APP, FN, READY, generation=upstream.value)
        )

    raw, settled = program.run(body)

    assert raw.value == 3.0 and type(raw.value) is float
    assert settled.value.generation == 3
    assert type(settled.value.generation) is int


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", 2), ("start_time", 0), ("end_time", 4_102_444_800_000)],
)
def test_output_twin_numbers_from_resource_outputs(program, name, value):
    async def body():
        upstream = Upstream("number", value)
        return await settle(
            fn.get_function_tasks_output(APP, FN, READY, status="success", **{name: upstream.value})
        )

    settled = program.run(body)

    assert settled.known
    assert [t.generation for t in settled.value.tasks][:2] == [3, 2]


def test_latest_output_twin_resolves_to_none_without_tasks(program, admin):
    admin.upsert_instance(APP, FN, "fresh", status="unavailable")

    async def body():
        return await settle(fn.get_latest_function_task_output(APP, FN, "fresh"))

    settled = program.run(body)

    assert settled.known
    assert settled.value is None


def test_output_twins_overlap(program, hostile: HostileServer):
    """Each twin's request runs in a worker thread, so one program's calls overlap: the
    server answers none of the four before all four are in flight."""
    replies = {
        "GetFunctionInstance": good_instance(),
        "GetFunctionTask": good_task(1),
        "ListFunctionTasks": good_tasks(3, 2, 1),
    }
    together = threading.Barrier(4, timeout=60)

    def held(seen: Seen) -> Reply:
        try:
            together.wait()
        except threading.BrokenBarrierError:
            return service_error("Serial", "the four requests were never in flight at once", 500)
        return replies[seen.action]

    hostile.serve(held)
    url = hostile.url

    async def body():
        outs = [
            fn.get_function_instance_output(APP, FN, READY, endpoint=url),
            fn.get_function_task_output(APP, FN, READY, generation=1, endpoint=url),
            fn.get_latest_function_task_output(APP, FN, TRAINING, endpoint=url),
            fn.get_function_tasks_output(APP, FN, BROKEN, endpoint=url),
        ]
        return [await settle(o) for o in outs]

    try:
        results = program.run(body)
    finally:
        close_clients(url)

    assert all(r.known for r in results)
    assert len(hostile.requests) == 4
