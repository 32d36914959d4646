"""Server text in a program: a server echoing the STS token into its answers gets it
into no resource output, data-source result or log line, and progress and warning
lines carry no escape sequence, title change or bidi override."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask, Wait
from pulumi_opensearch_fn.resources import GateFailedError

from ..hostile import INSTANCE, HostileServer, Reply, Seen, envelope, json_reply, task
from .harness import APP, FN, READY

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"
UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e")
CONTROLS = "\x1b[2J\x1b]0;all models ready\x07\u202e"


def token_of(seen: Seen) -> str:
    return seen.headers.get("x-acs-security-token", "none")


def reflecting_instance(seen: Seen) -> Reply:
    token = token_of(seen)
    extend = json.dumps({"owner": f"token={token}", token: [token]})
    result = {
        **INSTANCE,
        "status": f"unavailable {token}{CONTROLS}",
        "description": f"issued for {token}",
        "extendInfo": extend,
    }
    return json_reply(envelope(result=result))


def reflecting_tasks(seen: Seen) -> Reply:
    token = token_of(seen)
    extend = json.dumps({"errors": [f"bad token {token}"], "auc": 0.9})
    tasks = [task(3, runId=f"run-{token}", status=f"running {token}", extendInfo=extend)]
    return json_reply(envelope(result=tasks, totalCount=1))


def reflecting_task(seen: Seen) -> Reply:
    return json_reply(envelope(result=task(3, runId=f"run-{token_of(seen)}")))


@pytest.fixture
def reflecting(hostile: HostileServer) -> Iterator[HostileServer]:
    hostile.serve(reflecting_instance, action="GetFunctionInstance")
    hostile.serve(reflecting_tasks, action="ListFunctionTasks")
    hostile.serve(reflecting_task, action="GetFunctionTask")
    yield hostile
    from pulumi_opensearch_fn.core.clients import close_clients

    close_clients(hostile.url)


def with_token(bare_program, set_stack_config, server: HostileServer, token: str):
    set_stack_config(
        {
            "opensearch-fn:endpoint": server.url,
            "opensearch-fn:accessKeyId": "STS.program-canary",
            "opensearch-fn:accessKeySecret": "program-canary-secret-value",
            "opensearch-fn:securityToken": token,
        }
    )
    return bare_program


def assert_masked(value: Any, token: str) -> None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    assert token not in text
    assert "***" in text


def test_resource_outputs_mask_a_reflected_token(
    bare_program, set_stack_config, reflecting, mocks, provider_config
):
    token = "CAIS-program-resource-canary-3f1c"
    program = with_token(bare_program, set_stack_config, reflecting, token)
    program.run(
        lambda: [
            FunctionInstance("m", APP, FN, READY),
            FunctionTask("t", APP, FN, READY),
            FunctionTask("g", APP, FN, READY, 3),
        ]
    )
    assert reflecting.requests[-1].headers["x-acs-security-token"] == token
    for type_ in (INSTANCE_TYPE, TASK_TYPE):
        for registered in mocks.registered(type_):
            assert_masked({k: v for k, v in registered.inputs.items() if k != "__provider"}, token)


SOURCES = {
    "instance": lambda: fn.get_function_instance(APP, FN, READY),
    "task": lambda: fn.get_function_task(APP, FN, READY, generation=3),
    "latest-task": lambda: fn.get_latest_function_task(APP, FN, READY),
    "tasks": lambda: fn.get_function_tasks(APP, FN, READY),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_data_source_results_mask_a_reflected_token(
    bare_program, set_stack_config, reflecting, source
):
    token = f"CAIS-program-source-canary-{source}"
    program = with_token(bare_program, set_stack_config, reflecting, token)
    assert_masked(program.run(SOURCES[source]), token)


def test_progress_and_warning_lines_are_masked_and_safe(
    bare_program, set_stack_config, reflecting, mocks, engine_log, provider_config
):
    token = "CAIS-program-log-canary-8d2e"
    program = with_token(bare_program, set_stack_config, reflecting, token)
    # `up` waits (one more read after a second), logging progress on the row.
    wait = Wait(timeout="1s", interval="1s")
    # Unmet but not enforced: a warning line.
    lenient = Expect(status="available", enforce=False)
    with pytest.raises(GateFailedError):  # "waits" still unmet after waiting: its row says why
        program.run(
            lambda: [
                FunctionInstance(
                    "waits", APP, FN, READY, expect=Expect(status="available"), wait=wait
                ),
                FunctionInstance("warns", APP, FN, READY, expect=lenient),
            ]
        )
    program.run(
        lambda: fn.get_function_instance(
            APP, FN, READY, expect=Expect(status="available", enforce=False)
        )
    )
    lines = engine_log.messages(logging.INFO)
    progress = [line for line in lines if "elapsed" in line]
    warnings = engine_log.warnings
    assert progress and len(warnings) >= 2, lines
    assert len(engine_log.messages(logging.ERROR)) == 1, lines
    for line in lines:
        assert token not in line, line
        assert not any(char in line for char in UNSAFE), repr(line)
    for registered in mocks.registered(INSTANCE_TYPE):
        assert_masked(registered.inputs["unmet"], token)
        assert registered.inputs["unmet"] and all(
            not any(char in line for char in UNSAFE) for line in registered.inputs["unmet"]
        )
