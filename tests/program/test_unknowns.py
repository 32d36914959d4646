"""Unknown inputs in preview: a twin's result stays unknown, its callbacks do not run,
it keeps the dependency on the resource, and no request reaches the API."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn.resources import FunctionInstance

from .harness import APP, FN, READY, UPSTREAM_TYPE, Upstream, settle

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
IDENTITY = {"app_group": APP, "function_name": FN, "instance_name": READY}
TWINS: dict[str, tuple[Any, dict[str, Any]]] = {
    "instance": (fn.get_function_instance_output, {}),
    "task": (fn.get_function_task_output, {"generation": 3}),
    "latest": (fn.get_latest_function_task_output, {"status": "success"}),
    "tasks": (
        fn.get_function_tasks_output,
        {"status": "success", "start_time": 0, "end_time": 4_102_444_800_000, "limit": 2},
    ),
}
# Every Input of every twin, each made unknown in turn.
CASES = [
    (twin, name)
    for twin, (_, extra) in TWINS.items()
    for name in (*IDENTITY, *extra, "region", "endpoint")
]


def _known_kwargs(twin: str, endpoint: str) -> dict[str, Any]:
    return {**IDENTITY, **TWINS[twin][1], "endpoint": endpoint}


def _value_for(name: str, kwargs: dict[str, Any]) -> Any:
    return "cn-hangzhou" if name == "region" else kwargs[name]


@pytest.mark.parametrize(("twin", "name"), CASES, ids=[f"{t}-{n}" for t, n in CASES])
def test_unknown_input_leaves_result_unknown_without_a_request(
    program, mocks, admin, emulator, twin, name
):
    call = TWINS[twin][0]
    kwargs = _known_kwargs(twin, emulator.url)
    applied: list[Any] = []

    async def body():
        upstream = Upstream("upstream", _value_for(name, kwargs))
        out = call(**(kwargs | {name: upstream.value}))
        out.apply(applied.append)
        return await settle(upstream.value), await settle(out), upstream

    source, settled, upstream = program.run(body, preview=True)

    assert not source.known  # the input really was unknown
    assert not settled.known
    assert settled.value is None or isinstance(settled.value, type(pulumi.output.UNKNOWN))
    assert applied == []
    assert upstream in settled.resources
    assert admin.requests() == []
    assert [r.typ for r in mocks.resources] == [UPSTREAM_TYPE]
    assert mocks.calls == []


@pytest.mark.parametrize(("twin", "name"), CASES, ids=[f"{t}-{n}" for t, n in CASES])
def test_same_input_known_in_preview_sends_the_request(program, admin, emulator, twin, name):
    """The control for the test above: only the input's knownness differs."""
    call = TWINS[twin][0]
    kwargs = _known_kwargs(twin, emulator.url)
    applied: list[Any] = []

    async def body():
        out = call(**(kwargs | {name: pulumi.Output.from_input(_value_for(name, kwargs))}))
        out.apply(applied.append)
        return await settle(out)

    settled = program.run(body, preview=True)

    assert settled.known
    assert applied == [settled.value]
    assert settled.value.instance_name == READY
    assert len(admin.requests()) >= 1
    assert all(r["status"] == 200 for r in admin.requests())


def test_outputs_of_a_function_instance_are_unknown_in_preview(program, mocks, admin):
    """A realistic program: a data source fed by the outputs of a resource that the
    engine has not read yet."""
    applied: list[Any] = []

    async def body():
        model = FunctionInstance("model", APP, FN, READY)
        latest = fn.get_latest_function_task_output(
            model.app_group, model.function_name, model.instance_name, status="success"
        )
        tasks = fn.get_function_tasks_output(APP, FN, model.instance_name)
        detail = fn.get_function_instance_output(APP, FN, model.instance_name)
        task = fn.get_function_task_output(APP, FN, READY, generation=model.latest_generation)
        for out in (latest, tasks, detail, task):
            out.apply(applied.append)
        return [await settle(o) for o in (latest, tasks, detail, task)], model

    results, model = program.run(body, preview=True)

    assert [r.known for r in results] == [False, False, False, False]
    assert all(model in r.resources for r in results)
    assert applied == []
    # Only the resource's own read, in the program; the data sources it feeds wait.
    assert sorted(r["action"] for r in admin.requests()) == [
        "GetFunctionInstance",
        "ListFunctionTasks",
    ]
    assert [r.typ for r in mocks.resources] == [INSTANCE_TYPE]


def test_outputs_of_a_function_instance_once_known(program, mocks, admin):
    """The same program in `up`: the mock engine echoes the inputs as outputs."""

    async def body():
        model = FunctionInstance("model", APP, FN, READY)
        latest = fn.get_latest_function_task_output(
            model.app_group, model.function_name, model.instance_name, status="success"
        )
        return await settle(latest), model

    settled, model = program.run(body)

    assert settled.known
    assert (settled.value.instance_name, settled.value.generation) == (READY, 3)
    assert model in settled.resources
    # The resource's read, then the data source's one request.
    assert sorted(r["action"] for r in admin.requests()) == [
        "GetFunctionInstance",
        "ListFunctionTasks",
        "ListFunctionTasks",
    ]


def test_unknown_input_does_not_hold_back_other_data_sources(program, admin):
    async def body():
        upstream = Upstream("upstream", READY)
        waiting = fn.get_function_instance_output(APP, FN, upstream.value)
        ready = fn.get_function_instance_output(APP, FN, "ctr_broken")
        return await settle(waiting), await settle(ready)

    waiting, ready = program.run(body, preview=True)

    assert not waiting.known
    assert ready.known
    assert ready.value.status == "unavailable"
    sent = admin.requests()
    assert [r["path"].rsplit("/", 1)[-1] for r in sent] == ["ctr_broken"]
