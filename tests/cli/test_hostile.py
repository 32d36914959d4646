"""Every command against a hostile API: a broken answer is exit 5 and one line, never
"not found" (3), "no training tasks" (0) or a traceback; no secret and no control
character from the server reaches the terminal."""

from __future__ import annotations

import pytest

from ..hostile import (
    HostileServer,
    Pager,
    Reply,
    broken_answers,
    echo_headers,
    healthy,
    service_error,
)
from .conftest import APP, FN

INST = "ctr_test"
# command: (arguments, the action whose answer is broken)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "instance": (("instance", APP, FN, INST), "GetFunctionInstance"),
    "tasks": (("tasks", APP, FN, INST), "ListFunctionTasks"),
    "task": (("task", APP, FN, INST, "3"), "GetFunctionTask"),
    "task-latest": (("task", APP, FN, INST, "latest"), "ListFunctionTasks"),
    "check-instance": (("check", APP, FN, INST), "GetFunctionInstance"),
    "check-tasks": (("check", APP, FN, INST), "ListFunctionTasks"),
}
CASES = [
    pytest.param(command, shape, id=f"{command}-{shape}")
    for command, (_, action) in COMMANDS.items()
    for shape in broken_answers(action)
]


@pytest.fixture
def server(hostile: HostileServer) -> HostileServer:
    healthy(hostile)
    return hostile


@pytest.mark.parametrize(("command", "shape"), CASES)
def test_a_broken_answer_is_exit_5_in_one_line(
    cli, server: HostileServer, command: str, shape: str
) -> None:
    argv, action = COMMANDS[command]
    server.serve(broken_answers(action)[shape], action=action)

    ran = cli(*argv, "--endpoint", server.url)

    assert ran.code == 5, ran
    assert "Traceback" not in ran.out + ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    if argv[0] == "check":
        assert action in ran.out
        assert lines[0].endswith("0 of 1 instance ready, 1 with errors")
    else:
        assert action in lines[0]
        assert ran.out == ""


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_healthy_answer_is_exit_0(cli, server: HostileServer, command: str) -> None:
    argv, _ = COMMANDS[command]
    assert cli(*argv, "--endpoint", server.url).code == 0


TOKEN = "CAIS-cli-canary-token-0c4b9e"
SECRET = "cli-canary-secret-5a7d21"


@pytest.mark.parametrize("command", ["instance", "check-instance"])
def test_echoed_secrets_never_reach_the_terminal(
    cli, server: HostileServer, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.cli-canary")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
    server.serve(echo_headers(), action="GetFunctionInstance")
    argv, _ = COMMANDS[command]

    ran = cli(*argv, "--endpoint", server.url, "--json")

    assert server.requests[-1].headers["x-acs-security-token"] == TOKEN
    assert ran.code == 4
    assert "***" in ran.out + ran.err
    assert TOKEN not in ran.out + ran.err
    assert SECRET not in ran.out + ran.err


@pytest.mark.parametrize("command", ["instance", "check-instance"])
def test_server_text_cannot_drive_the_terminal(cli, server: HostileServer, command: str) -> None:
    text = "\x1b[2J\x1b[H\x1b]0;x\x07all models ready\r\n\x9b1A"
    error = service_error("InternalError", text, 400)
    server.serve(
        Reply(400, error.body, (("x-acs-request-id", "\x1b[1Arid"),)), action="GetFunctionInstance"
    )
    argv, _ = COMMANDS[command]

    ran = cli(*argv, "--endpoint", server.url)

    assert ran.code == 5
    assert "all models ready" in ran.out + ran.err
    for line in (ran.out + ran.err).splitlines():
        assert line.isprintable(), repr(line)


@pytest.mark.parametrize(
    "endpoint",
    ["http://[::1", "http://exa\x07mple.com", "http://user:hunter2-password@127.0.0.1:1"],
)
def test_bad_endpoints_are_usage_errors_before_any_request(
    cli, server: HostileServer, endpoint: str
) -> None:
    ran = cli("instance", APP, FN, INST, "--endpoint", endpoint)
    assert ran.code == 2
    assert "Traceback" not in ran.err
    assert "hunter2" not in ran.err
    assert server.requests == []


def test_a_5000_character_region_is_a_usage_error(cli, server: HostileServer) -> None:
    ran = cli("instance", APP, FN, INST, "--region", "cn-" + "a" * 5000)
    assert ran.code == 2
    assert "at most 63" in ran.err
    assert len(ran.err) < 1000


def test_tasks_from_a_server_announcing_a_trillion_ends(cli, server: HostileServer) -> None:
    server.serve(Pager(total=10**12), action="ListFunctionTasks")
    ran = cli("tasks", APP, FN, INST, "--page-size", "1", "--endpoint", server.url)
    assert ran.code == 5
    assert "still more tasks after 1000 pages" in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    limited = cli("tasks", APP, FN, INST, "--limit", "3", "--json", "--endpoint", server.url)
    assert limited.code == 0
    assert limited.out.count('"generation"') == 3
