"""Data sources against a hostile API: a broken answer is a `DataSourceError` in one
line, never "no task" (None) or an empty list, and never shows a secret."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError
from pulumi_opensearch_fn.api import Credentials
from pulumi_opensearch_fn.core.clients import close_clients

from ..hostile import HostileServer, broken_answers, echo_headers, healthy
from .harness import APP, FN, READY

Source = Callable[[str], Any]
# name: (the call, given the endpoint; the action whose answer is broken)
SOURCES: dict[str, tuple[Source, str]] = {
    "instance": (
        lambda url: fn.get_function_instance(APP, FN, READY, endpoint=url),
        "GetFunctionInstance",
    ),
    "instance-with-task-expectations": (
        lambda url: fn.get_function_instance(
            APP, FN, READY, expect={"task_status": "success"}, endpoint=url
        ),
        "ListFunctionTasks",
    ),
    "task": (
        lambda url: fn.get_function_task(APP, FN, READY, generation=3, endpoint=url),
        "GetFunctionTask",
    ),
    "latest-task": (
        lambda url: fn.get_latest_function_task(APP, FN, READY, endpoint=url),
        "ListFunctionTasks",
    ),
    "tasks": (
        lambda url: fn.get_function_tasks(APP, FN, READY, endpoint=url),
        "ListFunctionTasks",
    ),
}
CASES = [
    pytest.param(source, shape, id=f"{source}-{shape}")
    for source, (_, action) in SOURCES.items()
    for shape in broken_answers(action)
]


@pytest.fixture
def server(hostile: HostileServer) -> Iterator[HostileServer]:
    healthy(hostile)
    yield hostile
    close_clients(hostile.url)


def failure(program, body: Callable[[], Any]) -> DataSourceError:
    with pytest.raises(DataSourceError) as caught:
        program.run(body)
    text = str(caught.value)
    assert "\n" not in text
    assert "Traceback" not in text
    return caught.value


@pytest.mark.parametrize(("source", "shape"), CASES)
def test_a_broken_answer_is_one_line_never_nothing(
    program, server: HostileServer, source: str, shape: str
) -> None:
    call, action = SOURCES[source]
    server.serve(broken_answers(action)[shape], action=action)
    error = failure(program, lambda: call(server.url))
    assert action in str(error)


def test_the_sources_read_a_healthy_answer(program, server: HostileServer) -> None:
    for call, _ in SOURCES.values():
        assert program.run(lambda call=call: call(server.url)) is not None


def test_echoed_secrets_never_reach_a_data_source_error(
    program, server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "CAIS-datasource-canary-token-1f9e"
    secret = "datasource-canary-secret-77c1"
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        '{"opensearch-fn:accessKeyId": "STS.canary", "opensearch-fn:accessKeySecret": "'
        + secret
        + '", "opensearch-fn:securityToken": "'
        + token
        + '"}',
    )
    Credentials("STS.canary", secret, token)  # what the program's settings will build
    server.serve(echo_headers(), action="GetFunctionInstance")
    error = failure(program, lambda: fn.get_function_instance(APP, FN, READY, endpoint=server.url))
    assert server.requests[-1].headers["x-acs-security-token"] == token
    for text in (str(error), repr(error), str(error.__cause__)):
        assert token not in text
        assert secret not in text
    assert "***" in str(error)
