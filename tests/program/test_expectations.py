"""`expect=` on data sources: unmet fails the program with the message the matching
resource's provider gives in `check`; met passes; `enforce=False` only warns."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError, Expect, FunctionInstance, FunctionTask

from .harness import APP, BROKEN, FN, READY, TRAINING, failed_registration, provider_check, settle

NOT_MET = "expectations not met: "
INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"

UNMET_INSTANCE: dict[str, tuple[str, Expect, list[str]]] = {
    "status": (
        BROKEN,
        Expect(status="available"),
        ["status: expected available, saw unavailable"],
    ),
    "task_status": (
        TRAINING,
        Expect(task_status="success"),
        ["task_status: expected success, saw running"],
    ),
    "min_generation": (
        READY,
        Expect(min_generation=4),
        ["min_generation: expected >= 4, saw 3"],
    ),
    "metrics": (
        TRAINING,
        Expect(metrics={"recall": ">= 90", "auc": ">= 0.8"}),
        ["metrics.recall: expected >= 90, saw 88"],
    ),
    "no_success": (
        BROKEN,
        Expect(status="available", min_generation=1, no_task_errors=True),
        [
            "status: expected available, saw unavailable",
            "min_generation: expected >= 1, saw no successful task",
            "no_task_errors: expected no errors, saw no successful task",
        ],
    ),
}


def _details(message: str) -> str:
    assert NOT_MET in message, message
    return message.split(NOT_MET, 1)[1]


def _raises(program, body, **run: Any) -> DataSourceError:
    with pytest.raises(DataSourceError) as caught:
        program.run(body, **run)
    assert isinstance(caught.value, pulumi.RunError)
    return caught.value


@pytest.mark.parametrize("case", list(UNMET_INSTANCE))
def test_unmet_instance_expectation_fails_like_the_resource(program, mocks, engine_log, case):
    instance, expect, unmet = UNMET_INSTANCE[case]

    error = _raises(program, lambda: fn.get_function_instance(APP, FN, instance, expect=expect))
    reason = failed_registration(
        program,
        mocks,
        engine_log,
        lambda: FunctionInstance("gate", APP, FN, instance, expect=expect),
    )

    message = str(error)
    assert message == f"get_function_instance({APP}/{FN}/{instance}): {NOT_MET}" + "; ".join(unmet)
    assert reason.startswith(f"FunctionInstance {APP}/{FN}/{instance}: {NOT_MET}")
    assert _details(message) == _details(reason)


@pytest.mark.parametrize("how", ["expect", "dict"])
def test_unmet_expectation_fails_the_output_twin(program, how):
    expect: Any = Expect(status="available") if how == "expect" else {"status": "available"}

    async def body():
        return await settle(fn.get_function_instance_output(APP, FN, BROKEN, expect=expect))

    error = _raises(program, body)

    assert str(error) == (
        f"get_function_instance({APP}/{FN}/{BROKEN}): {NOT_MET}"
        "status: expected available, saw unavailable"
    )


def test_unmet_task_expectation_fails_like_the_resource(program, mocks, engine_log):
    expect = Expect(task_status="success", no_task_errors=True)

    error = _raises(
        program, lambda: fn.get_function_task(APP, FN, BROKEN, generation=2, expect=expect)
    )
    reason = failed_registration(
        program, mocks, engine_log, lambda: FunctionTask("gate", APP, FN, BROKEN, 2, expect=expect)
    )

    assert str(error).startswith(f"get_function_task({APP}/{FN}/{BROKEN}/2): {NOT_MET}")
    assert reason.startswith(f"FunctionTask {APP}/{FN}/{BROKEN}/")
    assert _details(str(error)) == _details(reason)
    assert _details(str(error)) == (
        "task_status: expected success, saw failed; "
        "no_task_errors: expected no errors, saw no successful task"
    )


def test_task_resource_message_names_the_generation_as_given(program, mocks, engine_log):
    reason = failed_registration(
        program,
        mocks,
        engine_log,
        lambda: FunctionTask("gate", APP, FN, BROKEN, 2, expect={"task_status": "success"}),
    )

    assert reason.startswith(f"FunctionTask {APP}/{FN}/{BROKEN}/2: {NOT_MET}")


def test_unmet_latest_task_expectation(program):
    error = _raises(
        program,
        lambda: fn.get_latest_function_task(APP, FN, TRAINING, expect={"taskStatus": "success"}),
    )

    assert str(error) == (
        f"get_latest_function_task({APP}/{FN}/{TRAINING}): {NOT_MET}"
        "task_status: expected success, saw running"
    )


def test_expectation_on_an_instance_without_tasks(program, admin):
    admin.upsert_instance(APP, FN, "fresh", status="available")

    error = _raises(
        program,
        lambda: fn.get_latest_function_task(APP, FN, "fresh", expect={"task_status": "success"}),
    )

    assert str(error) == (
        f"get_latest_function_task({APP}/{FN}/fresh): {NOT_MET}the instance has no task"
    )


def test_met_expectations_pass(program, mocks, stack_config, provider_config):
    expect = Expect(
        status="available",
        task_status="success",
        min_generation=3,
        max_age="7d",
        metrics=["recall >= 90", "auc > 0.8"],
        no_task_errors=True,
    )

    async def body():
        twin = await settle(fn.get_function_instance_output(APP, FN, READY, expect=expect))
        return (
            fn.get_function_instance(APP, FN, READY, expect=expect),
            twin,
            fn.get_function_task(
                APP, FN, READY, generation=3, expect={"metrics": {"recall": "== 91"}}
            ),
            fn.get_latest_function_task(APP, FN, READY, expect={"min_generation": 3}),
        )

    instance, twin, task, latest = program.run(body)
    program.run(lambda: FunctionInstance("gate", APP, FN, READY, expect=expect), preview=True)
    [registered] = mocks.registered(INSTANCE_TYPE)
    check = provider_check(registered, stack_config)

    for result in (instance, twin.value, task, latest):
        assert (result.ready, result.unmet) == (True, [])
    assert check.failures == []
    assert check.inputs["ready"] is True


def test_unenforced_expectations_warn_and_report(program, engine_log):
    expect = {"status": "available", "min_generation": 1, "enforce": False}
    message = (
        f"get_function_instance({APP}/{FN}/{BROKEN}): {NOT_MET}"
        "status: expected available, saw unavailable; "
        "min_generation: expected >= 1, saw no successful task"
    )

    async def body():
        twin = await settle(fn.get_function_instance_output(APP, FN, BROKEN, expect=expect))
        return fn.get_function_instance(APP, FN, BROKEN, expect=expect), twin

    plain, twin = program.run(body)

    for result in (plain, twin.value):
        assert result.ready is False
        assert result.unmet == [
            "status: expected available, saw unavailable",
            "min_generation: expected >= 1, saw no successful task",
        ]
        assert result.status == "unavailable"
    assert engine_log.warnings == [message, message]


def test_invalid_expectation_fails_before_any_request(program, admin):
    error = _raises(
        program,
        lambda: fn.get_function_instance(APP, FN, READY, expect={"status": "ready", "bogus": 1}),
    )
    twin_error = _raises(
        program,
        lambda: fn.get_function_task_output(
            APP, FN, READY, generation=1, expect=Expect(status="sleeping")
        ),
    )

    assert str(error).startswith(f"get_function_instance({APP}/{FN}/{READY}): expect has no field")
    assert "'bogus'" in str(error)
    assert str(twin_error) == (
        f"get_function_task({APP}/{FN}/{READY}/1): expect.status: status must be one of"
        " available, unavailable; got 'sleeping'"
    )
    assert admin.requests() == []
