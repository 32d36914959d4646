"""Mocks as a user writes them, answering the documented tokens, and a runner for
program bodies under `pulumi.runtime.set_mocks`."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

APP, FN = "my_app", "ctr"
READY, BROKEN, NEW = "ctr_test", "ctr_broken", "ctr_new"
INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"
UPSTREAM_TYPE = "test:index:Upstream"
GET_INSTANCE = "opensearch-fn:index:getFunctionInstance"
GET_TASK = "opensearch-fn:index:getFunctionTask"
GET_LATEST = "opensearch-fn:index:getLatestFunctionTask"
GET_TASKS = "opensearch-fn:index:getFunctionTasks"

ENDED = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
ENDED_TEXT = ENDED.isoformat().replace("+00:00", "Z")
TASK_3 = {
    "generation": 3,
    "status": "success",
    "progress": 100,
    "runId": "trigger__3",
    "startTime": (ENDED - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    "endTime": ENDED_TEXT,
    "metrics": {"recall": 91, "auc": 0.87},
}
TASK_2 = {"generation": 2, "status": "success", "endTime": ENDED_TEXT, "metrics": {"auc": 0.86}}
READY_INSTANCE = {
    "status": "available",
    "versionId": 3,
    "functionType": "PAAS",
    "modelType": "tf_checkpoint",
    "description": "CTR model",
    "belongs": {"domain": "ecommerce", "category": "general", "language": "zh"},
    "createParameters": [{"name": "param1", "value": "val1"}],
    "latestGeneration": 3,
    "latestTaskStatus": "success",
    "latestTaskRunId": "trigger__3",
    "latestTaskEndTime": ENDED_TEXT,
    "latestTaskMetrics": {"recall": 91, "auc": 0.87},
}
BROKEN_INSTANCE = {
    "status": "unavailable",
    "latestGeneration": 4,
    "latestTaskStatus": "failed",
    "latestTaskErrors": ["DATA_NOT_ENOUGH: behavior table has too few rows"],
    "latestSuccessGeneration": 3,
}
# What each token answers, per instance (and generation); anything else answers {}.
ANSWERS: dict[tuple[str, str], Any] = {
    (GET_INSTANCE, READY): READY_INSTANCE,
    (GET_INSTANCE, BROKEN): BROKEN_INSTANCE,
    (GET_LATEST, READY): TASK_3,
    (GET_LATEST, BROKEN): {"generation": 4, "status": "failed", "errors": ["DATA_NOT_ENOUGH"]},
    (GET_TASK, READY): TASK_3,
    (GET_TASKS, READY): {"tasks": [TASK_3, TASK_2]},
    (GET_INSTANCE, NEW): {"status": "unavailable"},
}


class ModelMocks(Mocks):
    """Answers `Mocks.call` from `answers`; `new_resource` echoes the inputs (what the read
    saw), or returns `outputs[type]` when a test sets it. Records what it is asked."""

    def __init__(self, answers: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.answers = dict(ANSWERS if answers is None else answers)
        self.outputs: dict[str, dict[str, Any]] = {}
        self.calls: list[MockCallArgs] = []
        self.resources: list[MockResourceArgs] = []
        self.events: list[str] = []
        self.upstream_id = "upstream-id"

    def call(self, args: MockCallArgs) -> Any:
        """The answer, or (answer, failures) as `Mocks.call` may return."""
        self.calls.append(args)
        self.events.append(f"call {args.token}")
        return self.answers.get((args.token, args.args.get("instanceName")), {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        self.events.append(f"register {args.name}")
        if args.typ == UPSTREAM_TYPE:
            return self.upstream_id, args.inputs
        return f"{args.name}-id", self.outputs.get(args.typ, args.inputs)

    def tokens(self) -> list[str]:
        return [c.token for c in self.calls]


class Upstream(pulumi.CustomResource):
    value: pulumi.Output[Any]

    def __init__(self, name: str, value: Any = 1) -> None:
        super().__init__(UPSTREAM_TYPE, name, {"value": value})


@dataclass
class Settled:
    known: bool
    value: Any


async def settle(output: Any) -> Settled:
    out = pulumi.Output.from_input(output)
    return Settled(await out.is_known(), await out.future(with_unknowns=True))


def run(
    mocks: Mocks,
    body: Callable[[], Any],
    *,
    preview: bool,
    logger: logging.Logger | None = None,
) -> Any:
    """Runs `body` as a unit test does: under `set_mocks`, in a `@pulumi.runtime.test`."""
    pulumi.runtime.set_mocks(mocks, project="unit", stack="test", preview=preview, logger=logger)
    box: dict[str, Any] = {}

    async def main() -> None:
        value = body()
        box["value"] = await value if inspect.isawaitable(value) else value

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        return pulumi.Output.from_input(main())

    program()
    return box.get("value")
