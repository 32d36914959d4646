"""Refresh (`Read`) through the real provider server against a hostile API: a resource
leaves state only when the API says, with a 4xx, that it does not exist. Every other
answer fails the read with one line, and the engine keeps the state as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..hostile import (
    HostileServer,
    broken_answers,
    envelope,
    good_tasks,
    healthy,
    json_reply,
    service_error,
)
from .conftest import KEY_ID, KEY_SECRET
from .harness import (
    INSTANCE_TYPE,
    TASK_TYPE,
    ProviderError,
    ProviderProcess,
    program_inputs,
    strip_provider,
)

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.fixture(scope="module")
def process(server: HostileServer) -> Iterator[ProviderProcess]:
    """One provider process for the module: every read is live (refresh never reuses)."""
    with ProviderProcess() as started:
        started.configure(
            {
                "opensearch-fn:endpoint": server.url,
                "opensearch-fn:accessKeyId": KEY_ID,
                "opensearch-fn:accessKeySecret": KEY_SECRET,
            }
        )
        yield started


def deployed(process: ProviderProcess, server: HostileServer, type_: str, **inputs: Any):
    healthy(server)
    config = {"opensearch-fn:endpoint": server.url, "opensearch-fn:accessKeyId": KEY_ID,
              "opensearch-fn:accessKeySecret": KEY_SECRET}  # fmt: skip
    checked, failures = process.check(type_, program_inputs(type_, {**CTR, **inputs}, config))
    assert failures == []
    id_, outs = process.create(type_, strip_provider(checked))
    return id_, strip_provider(outs)


# (resource kind, its extra inputs, the action whose answer is broken)
READS = {
    "instance-get": (INSTANCE_TYPE, {}, "GetFunctionInstance"),
    "instance-list": (INSTANCE_TYPE, {}, "ListFunctionTasks"),
    "task-latest": (TASK_TYPE, {"requested_generation": "latest"}, "ListFunctionTasks"),
    "task-given": (TASK_TYPE, {"requested_generation": 3}, "GetFunctionTask"),
}
CASES = [
    pytest.param(read, shape, id=f"{read}-{shape}")
    for read, (_, _, action) in READS.items()
    for shape in broken_answers(action)
]


@pytest.mark.parametrize(("read", "shape"), CASES)
def test_a_broken_answer_keeps_state_and_fails_in_one_line(
    process: ProviderProcess, server: HostileServer, read: str, shape: str
) -> None:
    type_, inputs, action = READS[read]
    id_, outs = deployed(process, server, type_, **inputs)
    server.serve(broken_answers(action)[shape], action=action)

    with pytest.raises(ProviderError) as caught:
        process.read(type_, id_, outs)

    details = caught.value.details
    kind = type_.rsplit(":", 1)[1]
    assert details.startswith(f"{kind} my_app/ctr/ctr_test"), details
    assert action in details
    assert "\n" not in details.strip()
    assert "Traceback" not in details


@pytest.mark.parametrize(
    ("read", "code"),
    [
        ("instance-get", "Instance.NotExist"),
        ("instance-list", "Instance.NotExist"),
        ("task-given", "Task.NotExist"),
    ],
)
def test_not_exist_with_a_4xx_removes_the_resource(
    process: ProviderProcess, server: HostileServer, read: str, code: str
) -> None:
    type_, inputs, action = READS[read]
    id_, outs = deployed(process, server, type_, **inputs)
    server.serve(service_error(code, "not there", 404), action=action)
    assert process.read(type_, id_, outs)[0] == ""


def test_instance_not_exist_keeps_a_task(process: ProviderProcess, server: HostileServer) -> None:
    """A task leaves state only on GetFunctionTask's Task.NotExist."""
    id_, outs = deployed(process, server, TASK_TYPE, requested_generation="latest")
    server.serve(service_error("Instance.NotExist", "not there", 404), action="ListFunctionTasks")
    with pytest.raises(ProviderError, match="Instance.NotExist"):
        process.read(TASK_TYPE, id_, outs)


def test_an_empty_task_list_keeps_a_latest_task(
    process: ProviderProcess, server: HostileServer
) -> None:
    """No task listed is no proof the task is gone: the refresh fails, the state stays."""
    id_, outs = deployed(process, server, TASK_TYPE, requested_generation="latest")
    server.serve(json_reply(envelope(result=[], totalCount=0)), action="ListFunctionTasks")
    with pytest.raises(ProviderError, match="my_app/ctr/ctr_test has no training task yet"):
        process.read(TASK_TYPE, id_, outs)


def test_a_healthy_read_keeps_the_resource(process: ProviderProcess, server: HostileServer) -> None:
    id_, outs = deployed(process, server, INSTANCE_TYPE)
    server.serve(good_tasks(3, 2, 1), action="ListFunctionTasks")
    new_id, refreshed, _ = process.read(INSTANCE_TYPE, id_, outs)
    assert (new_id, refreshed["latest_generation"]) == (id_, outs["latest_generation"])
