"""Resources under `pulumi.runtime.set_mocks`: each read is one `Mocks.call`, its gate is
judged against the answer with the messages of a real run, and the outputs are what
`Mocks.new_resource` returns. No connection reaches the configured endpoint."""

from __future__ import annotations

import logging

import pulumi
import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask, Wait
from pulumi_opensearch_fn.resources import GateFailedError

from .programs import (
    APP,
    BROKEN,
    FN,
    GET_INSTANCE,
    GET_LATEST,
    GET_TASK,
    INSTANCE_TYPE,
    NEW,
    READY,
    TASK_TYPE,
    ModelMocks,
    run,
    settle,
)

PREVIEW = pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])


@PREVIEW
def test_a_ready_model_passes_its_gate(offline, preview):
    mocks = ModelMocks()

    async def body():
        model = FunctionInstance(
            "model", APP, FN, READY,
            expect=Expect(status="available", min_generation=3, metrics={"recall": ">= 90"},
                          max_age="36h", no_task_errors=True),
        )  # fmt: skip
        return [
            await settle(o)
            for o in (model.status, model.version_id, model.latest_generation,
                      model.latest_task_metrics, model.latest_task_end_time, model.ready,
                      model.unmet, model.id)
        ]  # fmt: skip

    settled = run(mocks, body, preview=preview)

    assert all(s.known for s in settled)
    status, version, generation, metrics, ended, ready, unmet, id_ = (s.value for s in settled)
    assert (status, version, generation) == ("available", 3, 3)
    assert metrics == {"recall": 91, "auc": 0.87}
    assert ended.endswith("Z")
    assert (ready, unmet, id_) == (True, [], "model-id")
    [call] = mocks.calls
    assert call.token == GET_INSTANCE
    assert call.args == {
        "appGroup": APP,
        "functionName": FN,
        "instanceName": READY,
        "expect": {"status": "available", "minGeneration": 3, "maxAge": "36h",
                   "metrics": ["recall >= 90"], "noTaskErrors": True, "enforce": True},
    }  # fmt: skip
    [registered] = mocks.resources
    assert registered.typ == INSTANCE_TYPE
    assert registered.inputs["gate"] == {"action": "pass"}
    assert offline.accepted == []


@PREVIEW
def test_a_model_that_is_not_ready_stops_the_stack(offline, preview, engine_logger, caplog):
    mocks = ModelMocks()
    caplog.set_level(logging.ERROR, logger=engine_logger.name)

    def body():
        FunctionInstance("model", APP, FN, BROKEN, expect=Expect(status="available"))

    with pytest.raises(GateFailedError) as failed:
        run(mocks, body, preview=preview, logger=engine_logger)

    reason = (
        f"FunctionInstance {APP}/{FN}/{BROKEN}: expectations not met:"
        " status: expected available, saw unavailable"
    )
    assert failed.value.reason == reason
    assert str(failed.value) == (
        "FunctionInstance 'model' failed (see above): nothing that depends on it goes ahead"
    )
    assert mocks.resources == []  # never registered: nothing depending on it can be
    assert [r.getMessage() for r in caplog.records] == [reason]  # the row's line, as in a run
    assert mocks.tokens() == [GET_INSTANCE]
    assert offline.accepted == []


@PREVIEW
def test_every_unmet_expectation_is_named(offline, preview):
    def body():
        FunctionInstance(
            "model", APP, FN, BROKEN,
            expect=Expect(task_status="success", min_generation=4, no_task_errors=True),
        )  # fmt: skip

    with pytest.raises(GateFailedError) as failed:
        run(ModelMocks(), body, preview=preview)

    assert failed.value.reason == (
        f"FunctionInstance {APP}/{FN}/{BROKEN}: expectations not met:"
        " task_status: expected success, saw failed;"
        " min_generation: expected >= 4, saw 3"
    )  # no_task_errors holds: the latest successful task (generation 3) has none
    assert offline.accepted == []


@PREVIEW
def test_an_unenforced_gate_warns_and_exports_unmet(offline, preview, engine_logger, caplog):
    caplog.set_level(logging.WARNING, logger=engine_logger.name)

    async def body():
        model = FunctionInstance(
            "model", APP, FN, BROKEN, expect=Expect(status="available", enforce=False)
        )
        return (await settle(model.ready)).value, (await settle(model.unmet)).value

    ready, unmet = run(ModelMocks(), body, preview=preview, logger=engine_logger)

    assert (ready, unmet) == (False, ["status: expected available, saw unavailable"])
    assert [r.getMessage() for r in caplog.records] == [
        f"FunctionInstance {APP}/{FN}/{BROKEN}: expectations not met:"
        " status: expected available, saw unavailable"
    ]
    assert offline.accepted == []


def test_a_wait_ends_with_the_answer_on_up(offline):
    """A mock's answer never changes: up fails at once, as a wait that timed out does."""
    mocks = ModelMocks()

    def body():
        FunctionInstance(
            "model", APP, FN, NEW, expect=Expect(status="available"), wait=Wait(timeout="10m")
        )

    with pytest.raises(GateFailedError) as failed:
        run(mocks, body, preview=False)

    assert failed.value.reason == (
        f"FunctionInstance {APP}/{FN}/{NEW}: expectations not met:"
        " status: expected available, saw unavailable (after waiting up to 10m)"
    )
    assert mocks.tokens() == [GET_INSTANCE]
    assert offline.accepted == []


def test_a_wait_passes_a_preview_with_a_note(offline, engine_logger, caplog):
    caplog.set_level(logging.INFO, logger=engine_logger.name)

    async def body():
        model = FunctionInstance(
            "model", APP, FN, NEW, expect=Expect(status="available"), wait=Wait(timeout="10m")
        )
        return (await settle(model.ready)).value

    assert run(ModelMocks(), body, preview=True, logger=engine_logger) is False
    assert (
        f"FunctionInstance {APP}/{FN}/{NEW}: up will wait up to 10m for:"
        " status: expected available, saw unavailable"
    ) in [r.getMessage() for r in caplog.records]
    assert offline.accepted == []


@PREVIEW
def test_outputs_are_what_new_resource_returns(offline, preview):
    """Keyed by the documented type tokens, as for any resource under mocks."""
    mocks = ModelMocks()
    mocks.outputs[INSTANCE_TYPE] = {"status": "set by new_resource", "latest_generation": 42}
    mocks.outputs[TASK_TYPE] = {"generation": 7}

    async def body():
        model = FunctionInstance("model", APP, FN, READY)
        task = FunctionTask("task", APP, FN, READY)
        return [(await settle(o)).value for o in (model.status, model.latest_generation,
                                                   task.generation)]  # fmt: skip

    assert run(mocks, body, preview=preview) == ["set by new_resource", 42, 7]
    assert sorted(r.typ for r in mocks.resources) == [INSTANCE_TYPE, TASK_TYPE]
    assert offline.accepted == []


@PREVIEW
def test_tasks_are_read_by_generation_or_latest(offline, preview):
    mocks = ModelMocks()

    async def body():
        latest = FunctionTask("latest", APP, FN, READY, expect=Expect(task_status="success"))
        third = FunctionTask("third", APP, FN, READY, 3, expect=Expect(metrics=["auc >= 0.8"]))
        return [
            (await settle(o)).value
            for o in (latest.generation, latest.requested_generation, third.generation,
                      third.metrics, third.ready, third.id)
        ]  # fmt: skip

    assert run(mocks, body, preview=preview) == [
        3, "latest", 3, {"recall": 91, "auc": 0.87}, True, "third-id"
    ]  # fmt: skip
    assert sorted(mocks.tokens()) == sorted([GET_LATEST, GET_TASK])
    by_token = {c.token: c.args for c in mocks.calls}
    assert by_token[GET_TASK] == {"appGroup": APP, "functionName": FN, "instanceName": READY,
                                  "generation": 3}  # fmt: skip
    assert by_token[GET_LATEST] == {"appGroup": APP, "functionName": FN, "instanceName": READY}
    assert offline.accepted == []


def test_latest_task_of_an_instance_without_any_fails(offline):
    """An empty answer to getLatestFunctionTask is an instance with no task yet."""

    def body():
        FunctionTask("latest", APP, FN, NEW)

    with pytest.raises(GateFailedError) as failed:
        run(ModelMocks(), body, preview=True)

    assert failed.value.reason == (
        f"FunctionTask {APP}/{FN}/{NEW}/latest: {APP}/{FN}/{NEW} has no training task yet"
    )
    assert offline.accepted == []


def test_bad_input_fails_before_any_call(offline):
    mocks = ModelMocks()

    def body():
        FunctionInstance("model", APP, FN, "", expect=Expect(status="ready"))

    with pytest.raises(GateFailedError) as failed:
        run(mocks, body, preview=True)

    assert failed.value.reason.startswith("invalid input: instance_name: ")
    assert "expect: status: status must be one of available, unavailable" in failed.value.reason
    assert mocks.calls == []
    assert offline.accepted == []


def test_inputs_that_are_outputs_are_read_once_known(offline):
    mocks = ModelMocks()

    async def body():
        name = pulumi.Output.from_input(READY)
        model = FunctionInstance("model", APP, FN, name, expect=Expect(status="available"))
        return (await settle(model.status)).value

    assert run(mocks, body, preview=False) == "available"
    assert [c.args["instanceName"] for c in mocks.calls] == [READY]
    assert offline.accepted == []
