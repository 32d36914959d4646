"""Server text cannot drive the terminal: escape sequences, C1 controls and bidi
overrides in error messages, names, statuses, task errors and request ids are removed
from every line the CLI prints; JSON carries them escaped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from .conftest import APP, FN, run_cli

# Clear the screen, home the cursor, print a fake verdict; a C1 CSI; a bidi override.
FAKE = "\x1b[2J\x1b[1;1Hall models ready\x9b2J\u202eydaer"
UNSAFE = ("\x1b", "\x9b", "\u202e", "\r")
INSTANCE = {
    "instanceName": "ctr_test",
    "functionName": FN,
    "status": "unavailable" + FAKE,
    "description": "line one\nline two" + FAKE,
    "extendInfo": "{}",
}
TASK = {
    "functionName": FN,
    "generation": 4,
    "status": "running" + FAKE,
    "progress": 40,
    "startTime": 1_700_000_000_000,
    "extendInfo": json.dumps({"errors": ["disk full" + FAKE], "auc": 0.5}),
}
# What a `status=success` query lists: a successful task (its status exact), text elsewhere.
SUCCESS = TASK | {"generation": 3, "status": "success", "runId": "run" + FAKE}


class _Hostile(BaseHTTPRequestHandler):
    """Answers GetFunctionInstance and ListFunctionTasks with what `routes` says."""

    routes: ClassVar[dict[str, tuple[int, dict[str, Any]]]] = {}

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        route = "tasks" if path.endswith("/tasks") else "instance"
        status, body = self.routes["success" if "status=success" in query else route]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-acs-request-id", "hdr-id")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[tuple[str, dict[str, tuple[int, dict[str, Any]]]]]:
    routes: dict[str, tuple[int, dict[str, Any]]] = {
        "instance": (200, {"requestId": "req" + FAKE, "result": INSTANCE}),
        "tasks": (200, {"requestId": "req" + FAKE, "totalCount": 1, "result": [TASK]}),
        "success": (200, {"requestId": "req" + FAKE, "totalCount": 1, "result": [SUCCESS]}),
    }
    handler = type("Handler", (_Hostile,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _assert_safe(*texts: str) -> None:
    for text in texts:
        for char in UNSAFE:
            assert char not in text, (char, text)


def test_an_error_message_cannot_clear_the_screen(hostile, env):
    url, routes = hostile
    routes["instance"] = (
        403,
        {"code": "Forbidden.NoPermission" + FAKE, "message": FAKE + "\nsecond line",
         "requestId": "r" + FAKE},
    )  # fmt: skip
    for argv in (["instance", APP, FN, "ctr_test"], ["check", APP, FN, "ctr_test"]):
        ran = run_cli("--endpoint", url, *argv, env=env)
        assert ran.code == 4, ran.err
        _assert_safe(ran.out, ran.err)
        assert "all models ready" in ran.err + ran.out  # the text is shown, its escapes gone
    ran = run_cli("--endpoint", url, "instance", APP, FN, "ctr_test", env=env)
    assert len(ran.err.splitlines()) == 1  # one line, whatever the server put in it


def test_key_values_tables_and_progress_lines_are_safe(hostile, env):
    url, _ = hostile
    for argv in (
        ["instance", APP, FN, "ctr_test", "--output", "detail"],
        ["tasks", APP, FN, "ctr_test"],
        ["task", APP, FN, "ctr_test", "latest"],
        ["--debug", "check", APP, FN, "ctr_test", "--status", "available", "--no-task-errors",
         "--task-status", "success", "--wait", "--timeout", "1s", "--interval", "1s"],
    ):  # fmt: skip
        ran = run_cli("--endpoint", url, *argv, env=env)
        assert ran.code in (0, 1), ran.err
        assert "Traceback" not in ran.err
        _assert_safe(ran.out, ran.err)
        assert "all models ready" in ran.out + ran.err  # the text is shown, its escapes gone
    # The progress lines of --wait: one per read, each one line.
    progress = [line for line in ran.err.splitlines() if "task gen 4 running" in line]
    assert progress and all(line.startswith("my_app/ctr/ctr_test: ") for line in progress)


def test_json_is_safe_to_print_and_still_exact(hostile, env):
    url, _ = hostile
    ran = run_cli("--endpoint", url, "--json", "check", APP, FN, "ctr_test",
                  "--task-status", "success", env=env)  # fmt: skip
    assert ran.code == 1
    _assert_safe(ran.out)
    [outcome] = json.loads(ran.out)["instances"]
    assert outcome["observation"]["status"] == INSTANCE["status"]  # the data, unchanged
    assert outcome["expectations"][0]["seen"] == TASK["status"]
    ran = run_cli("--endpoint", url, "--json", "tasks", APP, FN, "ctr_test", env=env)
    _assert_safe(ran.out)
    assert json.loads(ran.out)[0]["errors"] == ["disk full" + FAKE]
