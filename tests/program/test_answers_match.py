"""Data sources return only what was asked: an answer about another instance or
generation, `{}`, or a failed task in a `status=success` list is a `DataSourceError`
in one line, never a result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError
from pulumi_opensearch_fn.core.clients import close_clients

from ..answers import PROPERTY, attempt, instance_answers, statuses_of, task_answers, task_lists
from ..hostile import INSTANCE, HostileServer, envelope, healthy, json_reply, task
from .harness import APP, FN, READY


@pytest.fixture
def server(hostile: HostileServer) -> Iterator[HostileServer]:
    healthy(hostile)
    yield hostile
    close_clients(hostile.url)


def refused(program, body: Callable[[], Any], needle: str) -> None:
    with pytest.raises(DataSourceError) as caught:
        program.run(body)
    text = str(caught.value)
    assert "\n" not in text
    assert needle in text, text


def test_an_instance_of_another_name_is_refused(program, server: HostileServer) -> None:
    server.serve(
        json_reply(envelope(result=INSTANCE | {"instanceName": "other"})),
        action="GetFunctionInstance",
    )
    refused(
        program,
        lambda: fn.get_function_instance(APP, FN, READY, endpoint=server.url),
        "the answer is about instance 'other', not 'ctr_test'",
    )


def test_a_failed_task_is_never_the_latest_success(program, server: HostileServer) -> None:
    server.serve(json_reply(envelope(result=[task(10, status="failed")])), "ListFunctionTasks")
    refused(
        program,
        lambda: fn.get_latest_function_task(APP, FN, READY, status="success", endpoint=server.url),
        "task 10 with status 'failed'",
    )


def test_another_generation_is_refused(program, server: HostileServer) -> None:
    server.serve(json_reply(envelope(result=task(4))), action="GetFunctionTask")
    refused(
        program,
        lambda: fn.get_function_task(APP, FN, READY, generation=3, endpoint=server.url),
        "generation 4, not 3",
    )


# name: (the action whose answer is drawn, its strategy, the call given the endpoint)
SOURCES: dict[str, tuple[str, Any, Callable[[str], Any]]] = {
    "instance": (
        "GetFunctionInstance",
        instance_answers(),
        lambda url: fn.get_function_instance(APP, FN, READY, endpoint=url),
    ),
    "instance-with-task-expectations": (
        "ListFunctionTasks",
        task_lists(),
        lambda url: fn.get_function_instance(
            APP, FN, READY, expect={"task_status": "success", "enforce": False}, endpoint=url
        ),
    ),
    "task": (
        "GetFunctionTask",
        task_answers(),
        lambda url: fn.get_function_task(APP, FN, READY, generation=3, endpoint=url),
    ),
    "latest-success": (
        "ListFunctionTasks",
        task_lists("success"),
        lambda url: fn.get_latest_function_task(APP, FN, READY, status="success", endpoint=url),
    ),
    "tasks": (
        "ListFunctionTasks",
        task_lists("success"),
        lambda url: fn.get_function_tasks(APP, FN, READY, status="success", endpoint=url),
    ),
}


@pytest.mark.parametrize("source", list(SOURCES))
@PROPERTY
@given(data=st.data())
def test_a_data_source_returns_only_what_was_asked(
    program, server: HostileServer, source: str, data: st.DataObject
) -> None:
    """Whatever the server answers: a one-line DataSourceError, or a result naming what
    was asked, with a status; the latest success is a success; a clean answer is read."""
    action, strategy, call = SOURCES[source]
    answer = data.draw(strategy)
    healthy(server)
    server.serve(answer.reply, action=action)

    got, error = attempt(lambda: program.run(lambda: call(server.url)))

    if error is not None:
        assert isinstance(error, DataSourceError)
        assert not answer.clean, f"a clean answer was refused: {error}"
        assert "\n" not in str(error)
        return
    assert answer.clean, f"a broken answer was returned: {answer.result!r}"
    served = statuses_of(answer)
    found = got.tasks if source == "tasks" else [got] if got is not None else []
    if source == "latest-success":
        assert bool(found) == bool(served)
    for result in found:
        assert (result.app_group, result.function_name, result.instance_name) == (APP, FN, READY)
        assert isinstance(result.status, str) and result.status.strip()
        if source == "task":
            assert result.generation == 3
        elif source in ("latest-success", "tasks"):
            assert result.status == "success"
            assert served[result.generation] == "success"
    if source == "tasks":
        generations = [t.generation for t in found]
        assert generations == sorted(served, reverse=True)
    if source == "latest-success" and found:
        assert found[0].generation == max(served)
