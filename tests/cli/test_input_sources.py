"""Every input source of the CLI gets a one-line error and exit 2 before any request:
names from non-UTF-8 argv bytes, credentials no header can carry (the message never
holds the value, not even masked, and never an Authorization header), and proxy
variables httpx cannot use."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from pulumi_opensearch_fn.cli import exit_codes

from .conftest import APP, FN, SUBPROCESS_TIMEOUT, Ran

INST = "ctr_test"
# A byte that is not UTF-8, and the UTF-8 form of a surrogate (also not UTF-8):
# Python reads both from argv as lone surrogates.
NOT_UTF8 = {"byte-ff": b"\xff", "encoded-surrogate": b"\xed\xa0\x80"}


def run_bytes(*args: str | bytes, env: dict[str, str]) -> Ran:
    """The CLI as a separate process, with argv given as bytes where needed."""
    argv = [os.fsencode(a) if isinstance(a, str) else a for a in args]
    proc = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"pulumi_opensearch_fn.cli", *argv],
        env=env,
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    decode = lambda data: data.decode("utf-8", "backslashreplace")  # noqa: E731
    return Ran(proc.returncode, decode(proc.stdout), decode(proc.stderr))


def assert_one_line_usage_error(ran: Ran, says: str) -> None:
    assert ran.code == exit_codes.USAGE, ran.err
    assert "Traceback" not in ran.err
    assert ran.out == ""
    assert says in ran.err.splitlines()[-1], ran.err


COMMANDS = {
    "instance": lambda name: ("instance", APP, FN, name),
    "tasks": lambda name: ("tasks", APP, name, INST),
    "task": lambda name: ("task", name, FN, INST, "3"),
    "task-latest": lambda name: ("task", APP, FN, name, "latest"),
    "check": lambda name: ("check", APP, FN, name),
}


@pytest.mark.parametrize("bad", list(NOT_UTF8))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_name_that_is_not_utf8_is_a_usage_error(server, admin, env, command, bad):
    admin.clear_requests()
    name = b"model" + NOT_UTF8[bad]
    ran = run_bytes("--endpoint", server.url, *COMMANDS[command](name), env=env)  # type: ignore[arg-type]
    assert_one_line_usage_error(ran, "is not UTF-8 text")
    assert admin.requests() == []


def test_an_instances_file_line_that_is_not_utf8_is_a_usage_error(server, admin, env, tmp_path):
    path = tmp_path / "models.txt"
    path.write_bytes(b"my_app ctr model\xff\n")
    admin.clear_requests()
    ran = run_bytes("--endpoint", server.url, "check", "-f", str(path), env=env)
    assert_one_line_usage_error(ran, "is not UTF-8 text")
    assert admin.requests() == []


CANARY_ID = "LTAI-canary-key-id-5d1e"
CANARY_TOKEN = "CAIS-canary-sts-token-0b7f9e"
# variable: (value, what the message says about it)
CREDENTIALS = {
    "key-id-non-ascii": ("ALIBABA_CLOUD_ACCESS_KEY_ID", CANARY_ID + "é", "a non-ASCII character"),
    "key-id-trailing-newline": ("ALIBABA_CLOUD_ACCESS_KEY_ID", CANARY_ID + "\n", "a line break"),
    "key-id-tab": ("ALIBABA_CLOUD_ACCESS_KEY_ID", CANARY_ID + "\t", "a space"),
    "alicloud-key-id-newline": ("ALICLOUD_ACCESS_KEY", CANARY_ID + "\r\n", "a line break"),
    "token-non-ascii": ("ALIBABA_CLOUD_SECURITY_TOKEN", CANARY_TOKEN + "ü", "a non-ASCII character"),
    "token-trailing-newline": ("ALIBABA_CLOUD_SECURITY_TOKEN", CANARY_TOKEN + "\n", "a line break"),
    "secret-trailing-newline": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret\n",
                                "a line break"),
    "secret-escape": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-secret\x1b",
                      "a control character"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CREDENTIALS))
@pytest.mark.parametrize("command", ["instance", "check"])
def test_credentials_no_request_can_carry_are_refused_without_the_value(
    server, admin, env, case, command
):
    variable, value, says = CREDENTIALS[case]
    environ = dict(env)
    if variable.startswith("ALICLOUD_"):  # that source's own pair
        environ.pop("ALIBABA_CLOUD_ACCESS_KEY_ID")
        environ["ALICLOUD_SECRET_KEY"] = environ.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    environ[variable] = value
    admin.clear_requests()
    ran = run_bytes("--endpoint", server.url, *COMMANDS[command](INST), env=environ)
    assert ran.code == exit_codes.USAGE, ran.err
    assert "Traceback" not in ran.err
    assert ran.out == ""
    [line] = ran.err.splitlines()
    assert line.startswith(f"opensearch-fn: error: {variable} (environment) contains {says}")
    # Never the value, not even masked, and never a request header.
    assert value.strip() not in line
    for never in ("***", "Authorization", "authorization", "Credential=", "Illegal header"):
        assert never not in line
    assert admin.requests() == []


SOCKS_READY = importlib.util.find_spec("socksio") is not None
PROXIES = {
    "all-proxy-socks": ("ALL_PROXY", "socks5://127.0.0.1:1080", "needs the socksio package"),
    "http-proxy-bad-ipv6": ("HTTP_PROXY", "http://[::1", "is not a valid URL"),
    "https-proxy-ftp": ("HTTPS_PROXY", "ftp://proxy.example:21", "must be an http://, https://"),
    "https-proxy-port-99999": ("https_proxy", "http://proxy.example:99999", "is not a valid URL"),
    "http-proxy-control": ("http_proxy", "http://proxy\x01.example", "a control character"),
    "no-proxy-bad-ipv6": ("NO_PROXY", "127.0.0.1,[::1", "has an entry that is not a host"),
}


@pytest.mark.parametrize("case", list(PROXIES))
def test_a_proxy_variable_httpx_cannot_use_is_a_usage_error(server, admin, env, case):
    variable, value, says = PROXIES[case]
    admin.clear_requests()
    ran = run_bytes("--endpoint", server.url, "check", APP, FN, INST,
                    env={**env, variable: value})  # fmt: skip
    if case == "all-proxy-socks" and SOCKS_READY:  # usable; loopback is in NO_PROXY
        assert ran.code == exit_codes.OK, ran.err
        return
    assert ran.code == exit_codes.USAGE, ran.err
    assert "Traceback" not in ran.err
    [line] = ran.err.splitlines()
    assert line.startswith(f"opensearch-fn: error: proxy variable {variable} ")
    assert says in line
    assert value not in line  # a proxy URL may hold a password
    assert admin.requests() == []


def test_usable_proxy_variables_still_work(server, env):
    environ = {**env, "HTTP_PROXY": "proxy.example:3128", "NO_PROXY": "127.0.0.1, localhost"}
    ran = run_bytes("--endpoint", server.url, "check", APP, FN, INST, env=environ)
    assert ran.code == exit_codes.OK, ran.err


def test_a_profile_name_that_is_not_utf8_is_named_as_given(server, admin, env):
    environ = {k: v for k, v in env.items() if not k.startswith("ALIBABA_CLOUD_ACCESS_KEY")}
    admin.clear_requests()
    ran = run_bytes("--endpoint", server.url, "instance", APP, FN, INST,
                    "--profile", b"dev\xff", env=environ)  # fmt: skip
    assert ran.code == exit_codes.USAGE, ran.err
    [line] = ran.err.splitlines()
    assert line.startswith("opensearch-fn: error: --profile contains a control character or")
    assert admin.requests() == []
