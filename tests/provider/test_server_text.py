"""Server text through the real provider server: drift lines pass through the one rule
for text a person sees (no escape sequence, title change or bidi override reaches the
engine's output), and a server echoing the STS token into an answer gets it neither
into state nor into outputs, by refresh or by the program's read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ..hostile import INSTANCE, HostileServer, Reply, Seen, envelope, healthy, json_reply, task
from .harness import INSTANCE_TYPE, TASK_TYPE, ProviderProcess, program_inputs, strip_provider

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
# Clear the screen, set the window title, a C1 CSI, reverse the rest of the line.
HOSTILE = "available\x1b[2J\x1b]0;all models ready\x07\x9b2J\u202eydaer"
UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        healthy(hostile)
        yield hostile


def settings(server: HostileServer, **more: str) -> dict[str, str]:
    return {
        "opensearch-fn:endpoint": server.url,
        "opensearch-fn:accessKeyId": "LTAI-provider-text",
        "opensearch-fn:accessKeySecret": "provider-text-secret-value",
        **more,
    }


def deploy(process: ProviderProcess, config: dict[str, str], type_: str, **inputs: Any):
    checked, failures = process.check(type_, program_inputs(type_, {**CTR, **inputs}, config))
    assert failures == []
    id_, outs = process.create(type_, strip_provider(checked))
    return id_, strip_provider(outs), strip_provider(checked)


def instance_with_status(status: str) -> Reply:
    return json_reply(envelope(result={**INSTANCE, "status": status}))


def drift_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " drifted: " in line]


def test_a_refresh_drift_line_is_safe_to_show(server: HostileServer):
    config = settings(server)
    with ProviderProcess() as process:
        process.configure(config)
        id_, outs, _ = deploy(process, config, INSTANCE_TYPE)
        server.serve(instance_with_status(HOSTILE), action="GetFunctionInstance")
        _, refreshed, _ = process.read(INSTANCE_TYPE, id_, outs)
        stderr = process.close()
    assert refreshed["status"] == HOSTILE  # the data is kept as sent
    [line] = drift_lines(stderr)
    # The sequences go whole (the title with its OSC); the text around them stays.
    assert line == "FunctionInstance my_app/ctr/ctr_test drifted: status available → availableydaer"
    assert not any(char in line for char in UNSAFE), repr(line)
    assert not any(char in stderr for char in UNSAFE), repr(stderr)


def test_a_preview_drift_line_is_safe_to_show(server: HostileServer):
    config = settings(server)
    with ProviderProcess() as process:
        process.configure(config)
        id_, outs, _ = deploy(process, config, INSTANCE_TYPE)
    server.serve(instance_with_status(HOSTILE), action="GetFunctionInstance")
    with ProviderProcess() as later:  # the next run: its program read the new status
        later.configure(config)
        checked, failures = later.check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, config))
        assert failures == []
        assert later.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked)).changes == 2
        stderr = later.close()
    [line] = drift_lines(stderr)
    assert line == "FunctionInstance my_app/ctr/ctr_test drifted: status available → availableydaer"
    assert not any(char in stderr for char in UNSAFE), repr(stderr)


def test_an_unmet_expectation_message_is_safe_to_show(server: HostileServer):
    """The check failure the engine prints, with the server's status in it."""
    server.serve(instance_with_status(HOSTILE), action="GetFunctionInstance")
    config = settings(server)
    with ProviderProcess() as process:
        process.configure(config)
        sent = program_inputs(INSTANCE_TYPE, {**CTR, "expect": {"status": "unavailable"}}, config)
        _, failures = process.check(INSTANCE_TYPE, sent)
    [(_, reason)] = failures
    assert "expectations not met: status: expected unavailable" in reason
    assert not any(char in reason for char in UNSAFE), repr(reason)


# -- a reflected STS token ---------------------------------------------------------


def reflecting(seen: Seen) -> Reply:
    """GetFunctionInstance whose description, extendInfo (value and key) echo the token."""
    token = seen.headers.get("x-acs-security-token", "none")
    extend = json.dumps({"owner": f"token={token}", token: 1, "nested": [{"t": token}]})
    result = {**INSTANCE, "description": f"issued for {token}", "extendInfo": extend}
    return json_reply(envelope(result=result))


def reflecting_tasks(seen: Seen) -> Reply:
    token = seen.headers.get("x-acs-security-token", "none")
    extend = json.dumps({"errors": [f"bad token {token}"], "auc": 0.9, "by": token})
    tasks = [task(3, runId=f"run-{token}", extendInfo=extend)]
    return json_reply(envelope(result=tasks, totalCount=1))


def reflecting_task(seen: Seen) -> Reply:
    token = seen.headers.get("x-acs-security-token", "none")
    return json_reply(envelope(result=task(3, runId=f"run-{token}")))


def sts(server: HostileServer, token: str) -> dict[str, str]:
    return settings(
        server,
        **{
            "opensearch-fn:accessKeyId": "STS.provider-canary",
            "opensearch-fn:securityToken": token,
        },
    )


def assert_masked(outs: dict[str, Any], token: str) -> None:
    text = json.dumps(outs, ensure_ascii=False)
    assert token not in text
    assert "***" in text


KINDS = pytest.mark.parametrize(
    ("type_", "inputs"),
    [(INSTANCE_TYPE, {}), (TASK_TYPE, {"requested_generation": "latest"}),
     (TASK_TYPE, {"requested_generation": 3})],
    ids=["instance", "task-latest", "task-3"],
)  # fmt: skip


def reflect(server: HostileServer) -> None:
    server.serve(reflecting, action="GetFunctionInstance")
    server.serve(reflecting_tasks, action="ListFunctionTasks")
    server.serve(reflecting_task, action="GetFunctionTask")


def canary(type_: str, inputs: dict[str, Any], where: str) -> str:
    return f"CAIS-{where}-canary-{type_[-4:]}-{inputs.get('requested_generation')}-91ab"


@KINDS
def test_a_token_the_program_read_reflected_is_masked_in_state(
    server: HostileServer, type_: str, inputs: dict[str, Any]
):
    token = canary(type_, inputs, "program")
    reflect(server)
    config = sts(server, token)
    with ProviderProcess() as process:
        process.configure(config)
        _, outs, checked = deploy(process, config, type_, **inputs)
    assert server.requests[-1].headers["x-acs-security-token"] == token  # it was sent
    assert_masked(checked, token)  # what the program sent the engine
    assert_masked(outs, token)  # what create stored


@KINDS
def test_a_token_a_refresh_reflected_is_masked_in_state(
    server: HostileServer, type_: str, inputs: dict[str, Any]
):
    token = canary(type_, inputs, "refresh")
    config = sts(server, token)
    with ProviderProcess() as process:
        process.configure(config)
        id_, outs, _ = deploy(process, config, type_, **inputs)  # healthy answers
        reflect(server)
        _, refreshed, new_inputs = process.read(type_, id_, outs)
        stderr = process.close()
    assert server.requests[-1].headers["x-acs-security-token"] == token
    assert_masked(refreshed, token)
    assert new_inputs is not None
    assert_masked(new_inputs, token)
    assert token not in stderr
