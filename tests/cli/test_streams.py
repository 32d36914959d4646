"""Closed or broken standard streams never change the verdict: the exit code is the
check's (0 ready, 3 not found) whether stdout or stderr is closed (`>&-`, `2>&-`) or
read by a reader that leaves early (`| head -1`), and with --json stdout is exactly
one JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pulumi_opensearch_fn.cli import exit_codes

from .conftest import APP, FN, SUBPROCESS_TIMEOUT

CLI = (sys.executable, "-m", "pulumi_opensearch_fn.cli")


def missing(count: int) -> list[str]:
    """`count` instances the emulator does not have. With names this long, 300 rows of
    the table are more than a pipe holds (64 KiB): the writer is still writing when
    the reader leaves."""
    return [word for i in range(count) for word in (APP, FN, f"missing_{i:03d}_" + "x" * 100)]


def in_bash(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`script` run by bash with the CLI as "$@"."""
    return subprocess.run(
        ["bash", "-c", script, "bash", *CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize(
    ("instance", "code"),
    [("ctr_test", exit_codes.OK), ("no_such_instance", exit_codes.NOT_FOUND)],
)
@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_a_closed_stdout_keeps_the_verdict(server, env, instance, code, json_flag):
    ran = in_bash(
        '"$@" >&-', "--endpoint", server.url, "check", APP, FN, instance, *json_flag, env=env
    )
    assert ran.returncode == code, ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.stdout == ""


@pytest.mark.parametrize(
    ("instance", "code"),
    [("ctr_test", exit_codes.OK), ("no_such_instance", exit_codes.NOT_FOUND)],
)
def test_a_closed_stderr_leaves_stdout_one_json_document(server, env, instance, code):
    ran = in_bash('"$@" 2>&-', "--endpoint", server.url, "--json", "check", APP, FN, instance,
                  env=env)  # fmt: skip
    assert ran.returncode == code
    document = json.loads(ran.stdout)  # one document, nothing after it
    assert document["exit_code"] == code
    assert "instance ready" not in ran.stdout


def test_a_closed_stderr_with_progress_keeps_the_verdict(server, env):
    ran = in_bash('"$@" 2>&-', "--endpoint", server.url, "--json", "check", APP, FN, "ctr_test",
                  "--wait", "--timeout", "5s", "--interval", "1s", env=env)  # fmt: skip
    assert ran.returncode == exit_codes.OK
    assert json.loads(ran.stdout)["ready"] is True


@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_a_reader_leaving_early_keeps_the_verdict(server, env, json_flag):
    """`check <300 missing> 2>&1 | head -1`: the output is more than the pipe holds."""
    ran = in_bash(
        '"$@" 2>&1 | head -1; echo "status ${PIPESTATUS[0]}"',
        "--endpoint", server.url, *json_flag, "check", *missing(300), env=env,
    )  # fmt: skip
    lines = ran.stdout.splitlines()
    assert len(lines) == 2, ran.stdout[-2000:]
    assert lines[1] == f"status {exit_codes.NOT_FOUND}", ran.stderr


def test_a_pipe_without_a_reader_keeps_the_verdict(server, env):
    """Both streams on a pipe whose reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [*CLI, "--endpoint", server.url, "check", *missing(3)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=write_end,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == exit_codes.NOT_FOUND


def test_an_error_with_stderr_closed_writes_nothing_to_stdout(server, env):
    without_secret = {k: v for k, v in env.items() if k != "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}
    ran = in_bash('"$@" 2>&-', "--endpoint", server.url, "--json", "check", APP, FN, "ctr_test",
                  env=without_secret)  # fmt: skip
    assert ran.returncode == exit_codes.USAGE
    assert ran.stdout == ""
