"""Data sources under `pulumi.runtime.set_mocks`: `get_*` and `get_*_output` go through
`Mocks.call` with the documented tokens and return the usual result classes, built from
the answer; an unusable answer fails with a message naming the key. No connection
reaches the configured endpoint."""

from __future__ import annotations

from typing import Any

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import (
    DataSourceError,
    Expect,
    FunctionInstance,
    GetFunctionInstanceResult,
    GetFunctionTaskResult,
    GetFunctionTasksResult,
)
from pulumi_opensearch_fn.resources import GateFailedError

from .programs import (
    APP,
    BROKEN,
    ENDED_TEXT,
    FN,
    GET_INSTANCE,
    GET_LATEST,
    GET_TASK,
    GET_TASKS,
    NEW,
    READY,
    ModelMocks,
    run,
    settle,
)

PREVIEW = pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
IDENTITY = {"appGroup": APP, "functionName": FN, "instanceName": READY}
# name: (plain call, its twin, keyword arguments, token, the call's arguments)
SOURCES: dict[str, tuple[Any, Any, dict[str, Any], str, dict[str, Any]]] = {
    "instance": (
        fn.get_function_instance, fn.get_function_instance_output,
        {"expect": Expect(status="available")}, GET_INSTANCE,
        {**IDENTITY, "expect": {"status": "available", "noTaskErrors": False, "enforce": True}},
    ),
    "task": (
        fn.get_function_task, fn.get_function_task_output, {"generation": 3}, GET_TASK,
        {**IDENTITY, "generation": 3},
    ),
    "latest": (
        fn.get_latest_function_task, fn.get_latest_function_task_output,
        {"status": "success", "region": "cn-hangzhou"}, GET_LATEST,
        {**IDENTITY, "status": "success", "region": "cn-hangzhou"},
    ),
    "tasks": (
        fn.get_function_tasks, fn.get_function_tasks_output,
        {"status": "success", "start_time": 0, "end_time": 4_102_444_800_000, "limit": 2},
        GET_TASKS,
        {**IDENTITY, "status": "success", "startTime": 0, "endTime": 4_102_444_800_000,
         "limit": 2},
    ),
}  # fmt: skip
CASES = [(name, form) for name in SOURCES for form in ("plain", "output")]


def _check_result(name: str, result: Any) -> None:
    if name == "instance":
        assert isinstance(result, GetFunctionInstanceResult)
        assert (result.id, result.status, result.version_id) == (
            f"{APP}/{FN}/{READY}",
            "available",
            3,
        )
        assert result.belongs == {"domain": "ecommerce", "category": "general", "language": "zh"}
        assert result.create_parameters == [{"name": "param1", "value": "val1"}]
        assert (result.ready, result.unmet) == (True, [])
    elif name == "tasks":
        assert isinstance(result, GetFunctionTasksResult)
        assert [t.generation for t in result.tasks] == [3, 2]
        assert result.tasks[1].metrics == {"auc": 0.86}
        assert (result.id, result.status) == (f"{APP}/{FN}/{READY}", "success")
    else:
        assert isinstance(result, GetFunctionTaskResult)
        assert (result.id, result.generation, result.status) == (
            f"{APP}/{FN}/{READY}/3",
            3,
            "success",
        )
        assert (result.run_id, result.progress, result.end_time) == ("trigger__3", 100, ENDED_TEXT)
        assert result.metrics == {"recall": 91, "auc": 0.87}
        assert result.extend_info == {"recall": 91, "auc": 0.87}


@PREVIEW
@pytest.mark.parametrize(("name", "form"), CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_data_sources_are_answered_by_mocks_call(offline, preview, name, form):
    plain, twin, kwargs, token, args = SOURCES[name]
    mocks = ModelMocks()

    async def body():
        if form == "plain":
            return plain(APP, FN, READY, **kwargs)
        settled = await settle(twin(APP, FN, READY, **kwargs))
        assert settled.known
        return settled.value

    _check_result(name, run(mocks, body, preview=preview))
    [call] = mocks.calls
    assert (call.token, call.args) == (token, args)
    assert offline.accepted == []


def test_the_latest_task_is_none_when_the_answer_is_empty(offline):
    result = run(ModelMocks(), lambda: fn.get_latest_function_task(APP, FN, NEW), preview=False)
    assert result is None
    assert offline.accepted == []


def test_snake_case_answers_are_accepted(offline):
    mocks = ModelMocks(
        {
            (GET_INSTANCE, READY): {
                "status": "available",
                "version_id": "3",
                "latest_generation": 4.0,
                "latest_task_status": "success",
                "latest_task_end_time": 1_767_225_600_000,
                "latest_task_extend_info": '{"dataReport": {"auc": 0.9}}',
            }
        }
    )

    def body():
        return fn.get_function_instance(
            APP, FN, READY, expect=Expect(min_generation=4, metrics={"dataReport.auc": ">= 0.9"})
        )

    result = run(mocks, body, preview=False)
    assert (result.version_id, result.ready) == (3, True)
    assert offline.accepted == []


def test_gates_are_judged_against_the_answer(offline):
    def body():
        return fn.get_function_instance(APP, FN, BROKEN, expect=Expect(status="available"))

    with pytest.raises(DataSourceError) as failed:
        run(ModelMocks(), body, preview=False)

    assert str(failed.value) == (
        f"get_function_instance({APP}/{FN}/{BROKEN}): expectations not met:"
        " status: expected available, saw unavailable"
    )
    assert offline.accepted == []


def test_max_regression_compares_with_the_previous_successful_task(offline):
    answer = {
        "status": "available",
        "latestGeneration": 4,
        "latestTaskStatus": "success",
        "latestTaskMetrics": {"auc": 0.80},
        "previousSuccessTask": {"generation": 3, "status": "success", "metrics": {"auc": 0.87}},
    }
    mocks = ModelMocks({(GET_INSTANCE, READY): answer})

    def body():
        return fn.get_function_instance(APP, FN, READY, expect=Expect(max_regression=["auc 0.01"]))

    with pytest.raises(DataSourceError) as failed:
        run(mocks, body, preview=False)

    assert str(failed.value) == (
        f"get_function_instance({APP}/{FN}/{READY}): expectations not met:"
        " max_regression.auc: expected >= gen 3 0.87 - 0.01, saw gen 4 0.8"
    )
    assert offline.accepted == []


BAD_ANSWERS: dict[str, tuple[str, Any, str]] = {
    "nothing": (GET_INSTANCE, {}, "has no `status` (text such as 'available')"),
    "status not text": (GET_INSTANCE, {"status": 3}, "`status` is 3.0, expected text"),
    "typo": (GET_INSTANCE, {"staus": "available"},
             "`staus` is not a key of this answer (did you mean `status`?)"),
    "generation not whole": (
        GET_INSTANCE, {"status": "available", "latestGeneration": "three",
                       "latestTaskStatus": "success"},
        "`latestGeneration` is 'three', expected a whole number >= 0",
    ),
    "latest task half described": (
        GET_INSTANCE, {"status": "available", "latestTaskMetrics": {"auc": 0.9}},
        "`latestTaskMetrics` describes a latest task: give `latestGeneration` and"
        " `latestTaskStatus` too",
    ),
    "metric not a number": (
        GET_INSTANCE, {"status": "available", "latestGeneration": 3, "latestTaskStatus": "success",
                       "latestTaskMetrics": {"recall": "high"}},
        "`latestTaskMetrics.recall` is 'high', expected a number",
    ),
    "time not a time": (
        GET_INSTANCE, {"status": "available", "latestGeneration": 3, "latestTaskStatus": "success",
                       "latestTaskEndTime": "yesterday"},
        "`latestTaskEndTime` is 'yesterday', expected an ISO 8601 time",
    ),
    "metrics against extendInfo": (
        GET_INSTANCE, {"status": "available", "latestGeneration": 3, "latestTaskStatus": "success",
                       "latestTaskMetrics": {"auc": 0.5}, "latestTaskExtendInfo": {"auc": 0.9}},
        "`latestTaskMetrics` differs from what `latestTaskExtendInfo` holds; give one of them",
    ),
    "nested task": (
        GET_INSTANCE, {"status": "available", "latestSuccessTask": {"generation": 2}},
        "has no `latestSuccessTask.status` (text such as 'success')",
    ),
    "task status missing": (GET_TASK, {"generation": 3}, "has no `status`"),
    "another generation": (GET_TASK, {"generation": 4, "status": "success"},
                           "`generation` is 4, but generation 3 was asked for"),
    "tasks not a list": (GET_TASKS, {"tasks": "none"}, "`tasks` is 'none', expected a list"),
    "task in a list": (GET_TASKS, {"tasks": [{"status": "success"}]},
                       "has no `tasks[0].generation` (a whole number)"),
}  # fmt: skip
CALLS = {
    GET_INSTANCE: lambda: fn.get_function_instance(APP, FN, READY),
    GET_TASK: lambda: fn.get_function_task(APP, FN, READY, generation=3),
    GET_TASKS: lambda: fn.get_function_tasks(APP, FN, READY),
}
CALLED = {GET_INSTANCE: "get_function_instance", GET_TASK: "get_function_task",
          GET_TASKS: "get_function_tasks"}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_an_unusable_answer_names_the_key(offline, case):
    token, answer, problem = BAD_ANSWERS[case]
    mocks = ModelMocks({(token, READY): answer})

    with pytest.raises(DataSourceError) as failed:
        run(mocks, CALLS[token], preview=False)

    message = str(failed.value)
    assert message.startswith(f"{CALLED[token]}({APP}/{FN}/{READY}")
    assert f"Mocks.call answer to {token}: {problem}" in message
    assert "\n" not in message
    assert offline.accepted == []


def test_an_unusable_answer_fails_a_resource_with_the_same_words(offline):
    mocks = ModelMocks({(GET_INSTANCE, READY): {"status": "available", "versionId": -1}})

    def body():
        FunctionInstance("model", APP, FN, READY)

    with pytest.raises(GateFailedError) as failed:
        run(mocks, body, preview=True)

    assert failed.value.reason == (
        f"FunctionInstance {APP}/{FN}/{READY}: Mocks.call answer to {GET_INSTANCE}:"
        " `versionId` is -1.0, expected a whole number >= 0 (beyond 2**53 - 1, as decimal text)"
    )
    assert offline.accepted == []


def test_failures_from_mocks_call_fail_the_read(offline):
    failures = [("instanceName", "no such instance in this test")]
    mocks = ModelMocks({(GET_INSTANCE, READY): ({}, failures)})

    with pytest.raises(DataSourceError) as failed:
        run(mocks, CALLS[GET_INSTANCE], preview=False)

    assert str(failed.value) == (
        f"get_function_instance({APP}/{FN}/{READY}): Mocks.call of {GET_INSTANCE} failed:"
        f" invoke of {GET_INSTANCE} failed: no such instance in this test (instanceName)"
    )
    assert offline.accepted == []


def test_bad_arguments_fail_before_any_call(offline):
    mocks = ModelMocks()

    def body():
        return fn.get_function_tasks(APP, FN, READY, status="done", endpoint="ftp://x")

    with pytest.raises(DataSourceError) as failed:
        run(mocks, body, preview=False)

    assert "status must be one of success, failed, running" in str(failed.value)
    assert mocks.calls == []
    assert offline.accepted == []
