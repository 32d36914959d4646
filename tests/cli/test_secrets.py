"""Credentials: never from the command line, --profile wins, and no secret is ever shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import APP, FN, Proc, clean_env, run_cli

CANARY_SECRET = "canary-secret-4d1f9c0e7b"
CANARY_TOKEN = "canary-sts-token-88aa31fe"
CANARY_STS_SECRET = "canary-sts-secret-0b9e62"


@pytest.fixture
def canary(admin, tmp_path) -> dict[str, dict[str, str]]:
    admin.add_access_key("LTAI-canary", CANARY_SECRET)
    admin.add_access_key("STS.canary", CANARY_STS_SECRET, security_token=CANARY_TOKEN)
    home = tmp_path / "canary-home"
    home.mkdir()
    return {
        "keys": clean_env(home, ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI-canary",
                          ALIBABA_CLOUD_ACCESS_KEY_SECRET=CANARY_SECRET),
        "sts": clean_env(home, ALIBABA_CLOUD_ACCESS_KEY_ID="STS.canary",
                         ALIBABA_CLOUD_ACCESS_KEY_SECRET=CANARY_STS_SECRET,
                         ALIBABA_CLOUD_SECURITY_TOKEN=CANARY_TOKEN),
        # A wrong secret (the canary) for a real key: authentication fails.
        "wrong": clean_env(home, ALICLOUD_ACCESS_KEY="LTAI-emulator-demo",
                           ALICLOUD_SECRET_KEY=CANARY_SECRET,
                           ALIBABA_CLOUD_ACCESS_KEY_ID="", ALIBABA_CLOUD_ACCESS_KEY_SECRET=""),
    }  # fmt: skip


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in (CANARY_SECRET, CANARY_TOKEN, CANARY_STS_SECRET):
            assert secret not in text


COMMANDS = [
    ["instance", APP, FN, "ctr_test", "--output", "detail"],
    ["--json", "tasks", APP, FN, "ctr_test", "--page-size", "1"],
    ["task", APP, FN, "ctr_test", "latest"],
    ["task", APP, FN, "ctr_test", "77"],
    ["--json", "check", APP, FN, "ctr_training", "--task-status", "success", "--wait",
     "--timeout", "1s", "--interval", "1s"],
]  # fmt: skip


@pytest.mark.parametrize("which", ["keys", "sts", "wrong"])
def test_no_secret_in_any_output_even_with_debug(server, canary, which):
    expected = {"keys": {0, 1, 3}, "sts": {0, 1, 3}, "wrong": {4}}[which]
    for argv in COMMANDS:
        ran = run_cli("--debug", "--endpoint", server.url, *argv, env=canary[which])
        assert ran.code in expected, (argv, ran.err)
        assert "DEBUG pulumi_opensearch_fn.api:" in ran.err
        _assert_clean(ran.out, ran.err)


def test_debug_logs_each_request(server, cli):
    ran = cli("--debug", "--endpoint", server.url, "check", APP, FN, "ctr_test")
    assert ran.code == 0
    lines = [line for line in ran.err.splitlines() if "pulumi_opensearch_fn.api" in line]
    assert len(lines) == 2
    assert "GetFunctionInstance /v4/openapi/app-groups/my_app/functions/ctr/instances/ctr_test"\
        " -> 200 request_id=" in lines[0]  # fmt: skip
    assert "ListFunctionTasks" in lines[1]
    assert "latency=" in lines[1]
    assert "credentials from environment" in ran.err


def _profile_home(tmp_path: Path, secret: str) -> Path:
    home = tmp_path / "profile-home"
    (home / ".aliyun").mkdir(parents=True)
    (home / ".aliyun" / "config.json").write_text(json.dumps({
        "current": "other",
        "profiles": [{"name": "canary", "mode": "AK", "access_key_id": "LTAI-canary",
                      "access_key_secret": secret}],
    }))  # fmt: skip
    return home


def test_profile_wins_over_keys_in_the_environment(server, canary, tmp_path):
    home = _profile_home(tmp_path, CANARY_SECRET)
    # The environment's keys are wrong; the profile's are right, and win.
    env = {**canary["wrong"], "HOME": str(home)}
    ran = run_cli("--debug", "--endpoint", server.url, "--profile", "canary",
                  "instance", APP, FN, "ctr_test", env=env)  # fmt: skip
    assert ran.code == 0, ran.err
    assert "credentials from profile 'canary'" in ran.err
    _assert_clean(ran.out, ran.err)
    # Without --profile the environment's (wrong) keys are used.
    ran = run_cli("--endpoint", server.url, "instance", APP, FN, "ctr_test", env=env)
    assert ran.code == 4
    _assert_clean(ran.out, ran.err)


def test_unknown_profile_is_a_usage_error(server, admin, env, tmp_path):
    env = {**env, "HOME": str(_profile_home(tmp_path, "whatever-secret"))}
    admin.clear_requests()
    ran = run_cli("--endpoint", server.url, "--profile", "nope", "check", APP, FN, "ctr_test",
                  env=env)  # fmt: skip
    assert ran.code == 2
    assert "no credentials from profile 'nope'" in ran.err
    assert admin.requests() == []


def test_no_option_takes_credentials():
    import argparse

    from pulumi_opensearch_fn.cli.parser import build

    def options(parser: argparse.ArgumentParser) -> set[str]:
        found = set()
        for action in parser._actions:
            found.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if name != "emulator":  # the emulator's keys are what it accepts
                        found |= options(sub)
        return found

    every = options(build())
    assert "--profile" in every
    assert not [o for o in every if any(w in o for w in ("key", "secret", "token", "password"))]


def test_emulator_command(env):
    """`opensearch-fn emulator` serves until interrupted; the URL is its first line."""
    import signal

    proc = Proc("emulator", "--port", "0", "--casing", "pascal",
                "--access-key", f"LTAI-canary:{CANARY_SECRET}", env=env)  # fmt: skip
    try:
        proc.wait_for_stderr("emulator at")
        url = proc.first_stdout_line()
        assert url.startswith("http://127.0.0.1:")
        env = {**env, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-canary",
               "ALIBABA_CLOUD_ACCESS_KEY_SECRET": CANARY_SECRET}  # fmt: skip
        ran = run_cli("--endpoint", url, "--json", "task", APP, FN, "ctr_test", "latest", env=env)
        assert ran.code == 0, ran.err
        assert json.loads(ran.out)["generation"] == 3  # PascalCase answers read alike
    finally:
        proc.popen.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15).code == 0
    help_text = run_cli("emulator", "--help", env=env)
    assert help_text.code == 0
    assert "--casing" in help_text.out
    bad = run_cli("emulator", "--casing", "snake", env=env)
    assert bad.code == 2
    assert "invalid choice: 'snake'" in bad.err
