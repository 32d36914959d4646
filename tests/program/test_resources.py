"""The resources under mocks: the type tokens, names and inputs the engine is sent."""

from __future__ import annotations

import base64
import json
import logging

import dill
import pulumi
import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask, Wait
from pulumi_opensearch_fn.core.outputs import INSTANCE_OUTPUTS, TRACKED_INSTANCE_FIELDS
from pulumi_opensearch_fn.provider import FunctionInstanceProvider, FunctionTaskProvider
from pulumi_opensearch_fn.resources import GateFailedError

from .harness import AK, APP, FN, READY, SECRET, Upstream, settle

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"
GIVEN = ("app_group", "function_name", "instance_name", "requested_generation", "expect", "wait",
         "region", "endpoint")  # fmt: skip


def _without_provider(inputs: dict) -> dict:
    return {k: v for k, v in inputs.items() if k != "__provider"}


def _given(inputs: dict) -> dict:
    """The inputs the program was given, without what its read saw."""
    return {k: v for k, v in inputs.items() if k in GIVEN}


def _provider_bytes(inputs: dict) -> bytes:
    return base64.b64decode(inputs["__provider"])


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_function_instance_registers_type_and_inputs(program, mocks, admin, preview):
    program.run(
        lambda: FunctionInstance(
            "model",
            APP,
            FN,
            READY,
            expect=Expect(status="available", min_generation=3, metrics={"recall": ">= 90"}),
            wait=Wait(timeout="10m", interval="15s"),
        ),
        preview=preview,
    )

    [registered] = mocks.resources
    assert registered.typ == INSTANCE_TYPE
    assert registered.name == "model"
    assert registered.custom is True
    assert registered.resource_id in (None, "")
    assert _given(registered.inputs) == {
        "app_group": APP,
        "function_name": FN,
        "instance_name": READY,
        "expect": {
            "status": "available",
            "min_generation": 3,
            "metrics": ["recall >= 90"],
            "no_task_errors": False,
            "enforce": True,
        },
        "wait": {"timeout": "10m", "interval": "15s"},
    }
    # The read happened in the program, once; what it saw is sent under the output names.
    assert sorted(r["action"] for r in admin.requests()) == [
        "GetFunctionInstance",
        "ListFunctionTasks",
    ]
    assert registered.inputs["status"] == "available"
    assert registered.inputs["latest_generation"] == 3
    assert registered.inputs["latest_task_metrics"] == {"recall": 91, "precision": 88, "auc": 0.87}
    assert (registered.inputs["ready"], registered.inputs["unmet"]) == (True, [])
    assert registered.inputs["gate"] == {"action": "pass"}
    assert "dry_run" not in registered.inputs
    assert mocks.calls == []


def test_provider_blob_is_the_real_provider_and_holds_no_settings(program, mocks, emulator):
    program.run(
        lambda: (FunctionInstance("model", APP, FN, READY), FunctionTask("task", APP, FN, READY))
    )

    [instance], [task] = mocks.registered(INSTANCE_TYPE), mocks.registered(TASK_TYPE)
    assert type(dill.loads(_provider_bytes(instance.inputs))) is FunctionInstanceProvider
    assert type(dill.loads(_provider_bytes(task.inputs))) is FunctionTaskProvider
    for registered in (instance, task):
        blob = _provider_bytes(registered.inputs)
        text = json.dumps(_without_provider(registered.inputs))
        for value in (SECRET, AK, emulator.url):
            assert value.encode() not in blob
            assert value not in text


def test_function_instance_shorthands_and_overrides(program, mocks, emulator):
    """The inputs as registered, shorthands expanded; `wait=True` is the default Wait."""
    program.run(
        lambda: FunctionInstance(
            "model",
            APP,
            FN,
            READY,
            expect={"status": "available"},
            wait=True,
            region="cn-hangzhou",
            endpoint=emulator.url,
        )
    )

    [registered] = mocks.resources
    assert _given(registered.inputs) == {
        "app_group": APP,
        "function_name": FN,
        "instance_name": READY,
        "expect": {"status": "available"},
        "wait": {},
        "region": "cn-hangzhou",
        "endpoint": emulator.url,
    }
    assert registered.inputs["gate"]["action"] == "pass"


def test_a_resource_whose_read_fails_is_never_registered(program, mocks, engine_log):
    """An endpoint that does not resolve: the read fails, the resource's row says why, and
    the program fails before registering it (nothing depending on it can go ahead)."""
    with pytest.raises(GateFailedError):
        program.run(
            lambda: FunctionInstance(
                "model", APP, FN, READY, endpoint="https://opensearch.example.test"
            )
        )

    assert mocks.resources == []
    [reason] = engine_log.messages(logging.ERROR)
    assert reason.startswith(f"FunctionInstance {APP}/{FN}/{READY}: ")


def test_function_instance_with_no_options_sends_only_identity(program, mocks):
    program.run(lambda: FunctionInstance("model", APP, FN, READY), preview=True)

    [registered] = mocks.resources
    # Unset options are not sent; every output is, with what the read saw.
    assert _given(registered.inputs) == {
        "app_group": APP,
        "function_name": FN,
        "instance_name": READY,
    }
    sent = set(_without_provider(registered.inputs))
    assert sent <= {*GIVEN, *INSTANCE_OUTPUTS, "gate"}
    assert {*TRACKED_INSTANCE_FIELDS, "ready", "unmet", "gate"} <= sent


def test_function_instance_outputs_known_in_up_unknown_in_preview(program):
    async def body():
        model = FunctionInstance("model", APP, FN, READY)
        return (
            await settle(model.id),
            await settle(model.instance_name),
            await settle(model.status),
            await settle(model.ready),
        )

    up = program.run(body)
    preview = program.run(body, preview=True)

    ident, name, _status, _ready = up
    assert (ident.known, ident.value) == (True, "model-id")
    assert (name.known, name.value) == (True, READY)
    assert [s.known for s in preview] == [False, False, False, False]


def test_unknown_input_reaches_the_monitor_as_unknown(program, mocks):
    program.run(
        lambda: FunctionInstance("model", APP, FN, Upstream("names", READY).value),
        preview=True,
    )

    registered = mocks.registered(INSTANCE_TYPE)
    assert len(registered) == 1
    assert isinstance(registered[0].inputs["instance_name"], type(pulumi.output.UNKNOWN))
    assert registered[0].inputs["app_group"] == APP


def test_function_task_registers_type_and_inputs(program, mocks):
    program.run(
        lambda: (
            FunctionTask("latest", APP, FN, READY),
            FunctionTask("third", APP, FN, READY, 3, expect=Expect(task_status="success")),
        ),
        preview=True,
    )

    # Resources register concurrently: find them by name, not by order.
    by_name = {r.name: r for r in mocks.resources}
    latest, third = by_name["latest"], by_name["third"]
    assert len(mocks.resources) == 2
    assert (latest.typ, latest.name, latest.custom) == (TASK_TYPE, "latest", True)
    assert _given(latest.inputs) == {
        "app_group": APP,
        "function_name": FN,
        "instance_name": READY,
        "requested_generation": "latest",
    }
    assert latest.inputs["generation"] == 3  # what "latest" is now
    assert (third.typ, third.name) == (TASK_TYPE, "third")
    assert _given(third.inputs) == {
        "app_group": APP,
        "function_name": FN,
        "instance_name": READY,
        "requested_generation": 3,
        "expect": {"task_status": "success", "no_task_errors": False, "enforce": True},
    }
    assert (third.inputs["generation"], third.inputs["status"]) == (3, "success")


def test_function_instance_get_reads_by_id(program, mocks, admin):
    async def body():
        model = FunctionInstance.get(
            "existing", "my_app/ctr/ctr_test", expect={"status": "available"}
        )
        return await settle(model.id)

    ident = program.run(body)

    [read] = mocks.resources
    assert (read.typ, read.name, read.resource_id) == (
        INSTANCE_TYPE,
        "existing",
        "my_app/ctr/ctr_test",
    )
    assert _without_provider(read.inputs) == {"expect": {"status": "available"}}
    assert ident.value == "my_app/ctr/ctr_test"
    assert admin.requests() == []
