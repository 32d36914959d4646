"""Bad input: exit code 2, a message naming what is wrong, and not a single request."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn.cli import exit_codes

from .conftest import APP, FN, run_cli

I = [APP, FN, "ctr_test"]  # noqa: E741

BAD = [
    (["instance", APP, FN], "the following arguments are required: INSTANCE"),
    (["instance", *I, "--output", "full"], "argument --output: invalid choice: 'full'"),
    (["instance", "my\x01app", FN, "x"], "app group 'my\\x01app' contains a control character"),
    (["instance", APP, "..", "x"], "function name must not be '..'"),
    (["instance", APP, FN, "x" * 300], "instance name is 300 characters long; at most 256"),
    (["tasks", *I, "--limit", "0"], "argument --limit: limit must be at least 1, got 0"),
    (["tasks", *I, "--page-size", "101"], "page size must be between 1 and 100, got 101"),
    (["tasks", *I, "--page-size", "ten"], "page size must be a whole number, got 'ten'"),
    (["tasks", *I, "--status", "done"], "argument --status: invalid choice: 'done'"),
    (["tasks", *I, "--start-time", "yesterday"], "start time 'yesterday' is neither ISO 8601"),
    (["tasks", *I, "--start-time", "2024-02-01", "--end-time", "2024-01-01"],
     "is before start time"),
    (["task", *I, "-1"], "generation must not be negative, got -1"),
    (["task", *I, "first"], "generation must be a whole number, got 'first'"),
    (["check"], "no instance to check: give APP FUNCTION INSTANCE or --instances-file"),
    (["check", APP, FN], "give instances as APP FUNCTION INSTANCE (3 arguments each), got 2"),
    (["check", *I, "--metric", "recall"], "metric threshold 'recall' is not of the form"),
    (["check", *I, "--max-age", "36x"], "max age '36x' is not a duration"),
    (["check", *I, "--min-generation", "-2"], "min generation must be at least 0, got -2"),
    (["check", *I, "--status", "ready"], "argument --status: invalid choice: 'ready'"),
    (["check", *I, "--task-status", "ok"], "argument --task-status: invalid choice: 'ok'"),
    (["check", *I, "--wait", "--timeout", "0s"], "timeout must be longer than zero"),
    (["check", *I, "--wait", "--timeout", "1s", "--interval", "5s"],
     "--interval: interval must not be longer than timeout"),
    (["check", *I, "--timeout", "5m"], "--timeout: only applies with --wait"),
    (["check", *I, "--concurrency", "0"], "concurrency must be between 1 and 32, got 0"),
    (["check", *I, "--concurrency", "33"], "concurrency must be between 1 and 32, got 33"),
    (["check", "--instances-file", "/nonexistent/models.txt"],
     "cannot read instances file /nonexistent/models.txt: No such file or directory"),
    (["check", *I, "--max-age", "99999999999d"],
     "argument --max-age: max age must be at most 36500d, got '99999999999d'"),
    (["check", *I, "--wait", "--timeout", "9999999999999999999w"],
     "argument --timeout: timeout must be at most 36500d"),
    (["check", *I, "--wait", "--interval", "0.000001s"],
     "--interval: interval must be at least 1s, got '0.000001s'"),
    (["check", *I, "--wait", "--interval", "0.5s", "--timeout", "1m"],
     "--interval: interval must be at least 1s, got '0.5s'"),
    (["check", *I, "--metric", "auc>=nan"],
     "'auc>=nan' is not of the form 'name >= number' ('nan' is not a finite decimal number)"),
    (["check", *I, "--metric", "auc>=inf"], "('inf' is not a finite decimal number)"),
    (["check", *I, "--metric", "auc>=1e99999999999999999999"], "exponent out of range"),
    (["check", *I, "--min-generation", "3.9"], "min generation must be a whole number, got '3.9'"),
    (["check", *I, "--min-generation", "9" * 5000], "...' is too large"),
    (["task", *I, "²"], "generation must be a whole number, got '²'"),
    (["task", *I, "9" * 5000], "generation must be at most 9223372036854775807, got 5000 digits"),
    (["tasks", *I, "--limit", "٣"], "limit must be a whole number, got '٣'"),
    (["tasks", *I, "--start-time", "9" * 5000], "...' is neither ISO 8601"),
    (["check", "--instances-file", "/dev/zero"], "instances file /dev/zero is larger than 4 MiB"),
    (["--region", "Hangzhou", "instance", *I], "region must look like 'cn-hangzhou'"),
    (["instance", *I, "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_arguments(server, admin, cli, argv, message):
    admin.clear_requests()
    ran = cli(*argv, "--endpoint", server.url) if argv else cli("--endpoint", server.url)
    assert ran.code == exit_codes.USAGE, ran.err
    assert message in ran.err
    assert "Traceback" not in ran.err
    assert ran.out == ""
    assert admin.requests() == []
    assert len(ran.err.splitlines()[-1]) < 300  # the error line names, it does not echo


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "99999"], "argument --port: expected a port from 0 to 65535, got '99999'"),
        (["--port", "-1"], "argument --port: expected a port from 0 to 65535, got '-1'"),
        (["--port", "9" * 5000], "argument --port: expected a port from 0 to 65535, got '99999"),
        (["--host", "x" * 5000], "argument --host: host 'xxxxxxxx"),
        (["--host", "evil\x1b[2J"], "is not a host name or IP address"),
    ],
)
def test_bad_emulator_arguments_are_usage_errors(cli, argv, message):
    ran = cli("emulator", *argv)
    assert ran.code == exit_codes.USAGE, ran.err
    assert message in ran.err
    assert "Traceback" not in ran.err
    assert ran.out == ""  # nothing served: no URL printed


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("my_app/ctr/ok\nmy_app ctr\n", "models.txt:2: expected `app/function/instance`"),
        ("# nothing here\n\n", "instances file {path} lists no instances"),
        ("my_app/ctr\n", "models.txt:1: id 'my_app/ctr' is not of the form app/function/instance"),
        ("a b c d\n", "got 4 words"),
    ],
)
def test_bad_instances_file(server, admin, cli, tmp_path, lines, message):
    path = tmp_path / "models.txt"
    path.write_text(lines)
    admin.clear_requests()
    ran = cli("check", "--instances-file", str(path), "--endpoint", server.url)
    assert ran.code == 2
    assert message.format(path=path) in ran.err
    assert admin.requests() == []


def test_no_region_or_endpoint(cli):
    ran = cli("instance", *I)
    assert ran.code == 2
    assert "no region or endpoint" in ran.err


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""},
         "sets ALIBABA_CLOUD_ACCESS_KEY_ID without ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ({"ALIBABA_CLOUD_PROFILE": "dev"}, "sets both a profile"),
        ({"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
          "ALIBABA_CLOUD_PROFILE": "missing"}, "no credentials from profile 'missing'"),
        # Nothing anywhere: the default chain finds nothing (its probes stay quiet).
        ({"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
          "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"},
         "no credentials from the default credentials chain"),
    ],
)  # fmt: skip
def test_credentials_setup_errors_are_2(server, admin, env, environ, message):
    """In a subprocess: the credentials package reads HOME when it is imported."""
    environ = {**env, **environ}
    ran = run_cli("--endpoint", server.url, "check", *I,
                  env={k: v for k, v in environ.items() if v})  # fmt: skip
    assert ran.code == 2, ran.err
    assert message in ran.err
    assert "Traceback" not in ran.err
    assert len(ran.err.splitlines()) == 1
    assert admin.requests() == []


def test_help_lists_exit_codes_and_is_fast(env):
    ran = run_cli("--help", env=env)
    assert ran.code == 0
    for code, text in exit_codes.TABLE:
        assert f"{code:>3}  {text}" in ran.out
    check = run_cli("check", "--help", env=env)
    assert "--instances-file" in check.out
    assert "exit codes:" in check.out


def test_module_docstring_lists_the_same_exit_codes():
    import pulumi_opensearch_fn.cli as cli_module

    doc = cli_module.__doc__ or ""
    for code, text in exit_codes.TABLE:
        assert f"{code:>3}  {text}\n" in doc


def test_version(env):
    ran = run_cli("--version", env=env)
    assert ran.code == 0
    assert ran.out.startswith("opensearch-fn 0.")


def test_parsing_imports_neither_httpx_nor_pulumi(env):
    code = (
        "import sys; from pulumi_opensearch_fn.cli.parser import build;"
        " build().parse_args(['instance', 'a', 'b', 'c']);"
        " print(sorted(m for m in ('httpx', 'pulumi') if m in sys.modules))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout  # fmt: skip
    # Name checks import the package's validation, which sits under the HTTP client.
    assert "pulumi" not in out
    bare = subprocess.run(
        [sys.executable, "-c", "import sys, pulumi_opensearch_fn.cli;"
         " print('httpx' in sys.modules, 'pulumi' in sys.modules)"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert bare.split() == ["False", "False"]
