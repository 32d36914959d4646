"""Resources constructed before the program's event loop runs (a unit test's module
importing a program) read live as under the engine: only the loop differs. The harness's
monitor is not Pulumi's MockMonitor, so the package does not take it for users' mocks."""

from __future__ import annotations

import pulumi
import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask

from .harness import APP, FN, READY

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_resources_constructed_before_the_loop_runs_read_live(program, mocks, admin, preview):
    program.install(preview=preview)
    FunctionInstance("model", APP, FN, READY, expect=Expect(status="available"))
    FunctionTask("task", APP, FN, READY, 3)

    @pulumi.runtime.test
    def run_the_loop() -> pulumi.Output[None]:
        return pulumi.Output.from_input(None)

    run_the_loop()

    registered = {r.typ: r.inputs for r in mocks.resources}
    assert registered[INSTANCE_TYPE]["status"] == "available"
    assert registered[INSTANCE_TYPE]["latest_generation"] == 3
    assert registered[INSTANCE_TYPE]["gate"] == {"action": "pass"}
    assert registered[TASK_TYPE]["generation"] == 3
    assert sorted(r["action"] for r in admin.requests()) == [
        "GetFunctionInstance",
        "GetFunctionTask",
        "ListFunctionTasks",
    ]
    assert mocks.calls == []
