"""A program's resources parse their expectations once each, however many polls."""

from __future__ import annotations

from pulumi_opensearch_fn import Expect, FunctionInstance, Wait

from ..parses import Parses
from .harness import APP, FN, READY

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"


def test_each_resource_parses_once_whatever_the_number_of_polls(program, mocks, admin, monkeypatch):
    generation = admin.start_task(APP, FN, READY, duration_s=600, metrics={"m": 1})
    # Training ends just before the 7th GetFunctionInstance: each resource polls a few times.
    admin.advance_clock_at_request(601, 7, action="GetFunctionInstance")
    as_object = Expect(task_status="success", min_generation=generation, metrics=["m >= 0"],
                       max_regression=["m 10%"])  # fmt: skip
    as_dict = {"task_status": "success", "min_generation": generation,
               "metrics": {"m": ">= 0"}, "max_regression": {"m": "10%"}}  # fmt: skip
    parses = Parses(monkeypatch)

    program.run(lambda: [
        FunctionInstance("one", APP, FN, READY, expect=as_object,
                         wait=Wait(timeout="1m", interval="1s")),
        FunctionInstance("two", APP, FN, READY, expect=as_dict,
                         wait={"timeout": "1m", "interval": "1s"}),
    ])  # fmt: skip

    registered = mocks.registered(INSTANCE_TYPE)
    assert [r.inputs["gate"] for r in registered] == [{"action": "pass"}] * 2
    assert admin.counts()["requests"]["action:GetFunctionInstance"] >= 7  # several polls
    assert parses.counts == {
        "threshold": 2, "limit": 2, "timeout": 2, "interval": 2
    }  # fmt: skip
