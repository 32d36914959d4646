"""Refresh (`Read`) through the real provider server never stores an answer that is not
about the resource: another instance, another generation, `{}` or a blank status
fails the read in one line, and the engine keeps the state as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..answers import (
    PROPERTY,
    Answer,
    instance_answers,
    statuses_of,
    task_answers,
    task_lists,
)
from ..hostile import INSTANCE, HostileServer, envelope, healthy, json_reply, task
from .conftest import KEY_ID, KEY_SECRET
from .harness import INSTANCE_TYPE, TASK_TYPE, ProviderError, ProviderProcess
from .test_hostile_read import deployed


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


@pytest.fixture(scope="module")
def resources() -> dict[str, tuple[str, dict[str, Any]]]:
    """Resources deployed for the property test, by read: (id, outputs)."""
    return {}


def failed_read(process: ProviderProcess, type_: str, id_: str, outs: dict[str, Any]) -> str:
    with pytest.raises(ProviderError) as caught:
        process.read(type_, id_, outs)
    details = caught.value.details
    assert details.startswith(f"{type_.rsplit(':', 1)[1]} my_app/ctr/ctr_test"), details
    assert "\n" not in details.strip()
    return details


@pytest.mark.parametrize(
    ("result", "needle"),
    [
        pytest.param({}, "names no instance", id="empty-object"),
        pytest.param(INSTANCE | {"instanceName": "other"}, "instance 'other'", id="other"),
        pytest.param(INSTANCE | {"status": ""}, "status is blank", id="blank-status"),
    ],
)
def test_refresh_never_stores_another_or_an_empty_instance(
    process: ProviderProcess, server: HostileServer, result: dict[str, Any], needle: str
) -> None:
    id_, outs = deployed(process, server, INSTANCE_TYPE)
    assert outs["status"] == "available"
    server.serve(json_reply(envelope(result=result)), action="GetFunctionInstance")
    assert needle in failed_read(process, INSTANCE_TYPE, id_, outs)


def test_refresh_never_stores_another_generation(
    process: ProviderProcess, server: HostileServer
) -> None:
    id_, outs = deployed(process, server, TASK_TYPE, requested_generation=3)
    server.serve(json_reply(envelope(result=task(4))), action="GetFunctionTask")
    assert "generation 4, not 3" in failed_read(process, TASK_TYPE, id_, outs)


# (resource kind, its extra inputs, the action whose answer is drawn, the strategy)
READS = {
    "instance": (INSTANCE_TYPE, {}, "GetFunctionInstance", instance_answers()),
    "instance-tasks": (INSTANCE_TYPE, {}, "ListFunctionTasks", task_lists()),
    "task-given": (TASK_TYPE, {"requested_generation": 3}, "GetFunctionTask", task_answers()),
    "task-latest": (TASK_TYPE, {"requested_generation": "latest"}, "ListFunctionTasks",
                    task_lists()),
}  # fmt: skip


@pytest.mark.parametrize("read", list(READS))
@PROPERTY
@given(data=st.data())
def test_refresh_stores_only_what_was_asked(
    process: ProviderProcess,
    server: HostileServer,
    resources: dict[str, tuple[str, dict[str, Any]]],
    read: str,
    data: st.DataObject,
) -> None:
    """Whatever the server answers, the read fails in one line (the state stays) or
    returns the asked-for resource with a status; a clean answer is always read."""
    type_, inputs, action, strategy = READS[read]
    if read not in resources:  # deployed once: a read changes nothing at the server
        resources[read] = deployed(process, server, type_, **inputs)
    id_, outs = resources[read]
    answer: Answer = data.draw(strategy)
    healthy(server)
    server.serve(answer.reply, action=action)

    refreshed, error = attempt_read(process, type_, id_, outs)

    served = statuses_of(answer) if action == "ListFunctionTasks" else {}
    if error is not None:
        assert not answer.clean or (read == "task-latest" and not served), error
        assert error.startswith(f"{type_.rsplit(':', 1)[1]} my_app/ctr/ctr_test"), error
        assert "\n" not in error.strip()
        return
    assert answer.clean, f"a broken answer was stored: {answer.result!r}"
    new_id, props, _ = refreshed
    assert new_id == (f"my_app/ctr/ctr_test/{max(served)}" if read == "task-latest" else id_)
    assert isinstance(props["status"], str) and props["status"].strip()
    if read == "task-given":
        assert props["generation"] == 3
    elif read == "task-latest":
        assert props["generation"] == max(served)
        assert props["status"] == served[max(served)]
    elif read == "instance-tasks" and served:
        assert props["latest_generation"] == max(served)


def attempt_read(
    process: ProviderProcess, type_: str, id_: str, outs: dict[str, Any]
) -> tuple[Any, str | None]:
    try:
        return process.read(type_, id_, outs), None
    except ProviderError as error:
        return None, error.details
