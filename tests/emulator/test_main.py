"""``python -m pulumi_opensearch_fn.emulator``: URL first, clean exit on signals."""

from __future__ import annotations

import json
import signal
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin

from .helpers import api_path, build, send
from .process import COMMAND, RunningEmulator, emulator_process


def running(*args: str) -> AbstractContextManager[RunningEmulator]:
    return emulator_process(*args, capture_stderr=True)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_prints_url_first_and_exits_cleanly(signum: int):
    with running("--port", "0") as (proc, url, token):
        assert url.startswith("http://127.0.0.1:") and port_of(url) > 0
        with EmulatorAdmin(url, token) as admin:
            assert admin.health()
        reply = send(
            port_of(url), build("GetFunctionInstance", api_path("my_app", "ctr", "ctr_test"))
        )
        assert reply.json()["result"]["versionId"] == 3
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "Traceback" not in err


def test_options(tmp_path: Path):
    state = {
        "appGroups": {"app": {"functions": {"f": {"instances": {"i": {"versionId": 4}}}}}},
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    args = ["--state", str(path), "--casing", "pascal"]
    args += ["--access-key", "LTAI-x:sec", "--access-key", "STS.y:sts-sec:tok-1"]
    with running(*args) as (proc, url, _):
        port = port_of(url)
        plain = send(
            port, build("GetFunctionInstance", api_path("app", "f", "i"), ak="LTAI-x", secret="sec")
        )
        assert plain.json()["Result"]["VersionId"] == 4
        sts = build(
            "GetFunctionInstance",
            api_path("app", "f", "i"),
            ak="STS.y",
            secret="sts-sec",
            token="tok-1",
        )
        assert send(port, sts).status == 200
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
        assert proc.returncode == 0


def test_bad_state_file_is_a_message_not_a_traceback(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text(
        '{"appGroups": {"a": {"functions": {"f": {"instances": {"i": {"status": 1}}}}}}}'
    )
    result = subprocess.run(
        [*COMMAND, "--state", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "appGroups.a.functions.f.instances.i.status: must be a string" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_access_key_argument():
    result = subprocess.run(
        [*COMMAND, "--access-key", "only-an-id"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "ID:SECRET" in result.stderr
