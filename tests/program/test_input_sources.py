"""Every input source of a program gets one line before any request: a name read from
a non-UTF-8 byte (a lone surrogate), credentials in stack config no header can carry,
proxy variables httpx cannot use, `opensearch-fn:maxConcurrentReads` = '²'. A
resource fails before it is registered, its row saying so; a data source raises `DataSourceError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError, FunctionInstance, FunctionTask

from .harness import APP, FN, READY, failed_registration

BAD = "model\udcff"  # what Python makes of the argv or environment bytes b"model\xff"

RESOURCES: dict[str, Callable[[], Any]] = {
    "instance-app": lambda: FunctionInstance("m", BAD, FN, READY),
    "instance-name": lambda: FunctionInstance("m", APP, FN, BAD),
    "task-function": lambda: FunctionTask("t", APP, BAD, READY, 3),
    "task-latest-name": lambda: FunctionTask("t", APP, FN, BAD),
}
SOURCES: dict[str, Callable[[], Any]] = {
    "instance": lambda: fn.get_function_instance(APP, FN, BAD),
    "task": lambda: fn.get_function_task(APP, BAD, READY, generation=3),
    "latest-task": lambda: fn.get_latest_function_task(BAD, FN, READY),
    "tasks": lambda: fn.get_function_tasks(APP, FN, BAD),
}


def source_failure(program, call: Callable[[], Any]) -> str:
    with pytest.raises(DataSourceError) as caught:
        program.run(call)
    text = str(caught.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
@pytest.mark.parametrize("case", list(RESOURCES))
def test_a_name_that_is_not_utf8_fails_check_before_any_request(
    program, mocks, admin, engine_log, case, preview
):
    make = RESOURCES[case]
    reason = failed_registration(program, mocks, engine_log, make, preview=preview)
    assert "is not UTF-8 text" in reason
    assert "'model\\udcff'" in reason  # named, escaped: the line stays printable
    assert admin.requests() == []


@pytest.mark.parametrize("case", list(SOURCES))
def test_a_data_source_refuses_a_name_that_is_not_utf8(program, admin, case):
    text = source_failure(program, SOURCES[case])
    assert "is not UTF-8 text" in text
    assert text.isprintable()
    assert admin.requests() == []


# stack config key set to a bad value: (its pair's keys, what the line says)
CREDENTIALS = {
    "key-id-newline": ("opensearch-fn:accessKeyId", "STS.canary-id\n", "a line break"),
    "token-non-ascii": ("opensearch-fn:securityToken", "CAIS-canary-token-é", "a non-ASCII"),
    "alicloud-key-non-ascii": ("alicloud:accessKey", "LTAI-canary-ü", "a non-ASCII"),
    "secret-newline": ("opensearch-fn:accessKeySecret", "canary-config-secret\n", "a line break"),
}


def credential_config(stack_config: dict[str, str], key: str, value: str) -> dict[str, str]:
    config = dict(stack_config)
    if key.startswith("alicloud:"):
        del config["opensearch-fn:accessKeyId"], config["opensearch-fn:accessKeySecret"]
        config["alicloud:secretKey"] = "alicloud-canary-secret"
    config[key] = value
    return config


@pytest.mark.parametrize("case", list(CREDENTIALS))
def test_stack_config_credentials_no_header_can_carry_fail_check_without_the_value(
    bare_program, mocks, admin, engine_log, stack_config, set_stack_config, case
):
    key, value, says = CREDENTIALS[case]
    config = credential_config(stack_config, key, value)
    set_stack_config(config)
    reason = failed_registration(
        bare_program, mocks, engine_log, lambda: FunctionInstance("m", APP, FN, READY)
    )
    assert f"{key} (stack config " in reason
    assert f"contains {says}" in reason
    assert value.strip() not in reason and "***" not in reason
    assert admin.requests() == []


@pytest.mark.parametrize("case", list(CREDENTIALS))
def test_a_data_source_refuses_such_credentials_without_the_value(
    bare_program, admin, stack_config, set_stack_config, case
):
    key, value, says = CREDENTIALS[case]
    set_stack_config(credential_config(stack_config, key, value))
    text = source_failure(bare_program, lambda: fn.get_function_instance(APP, FN, READY))
    assert f"{key} (stack config " in text and f"contains {says}" in text
    assert value.strip() not in text and "***" not in text
    assert admin.requests() == []


PROXIES = {
    "https-proxy-ftp": ("HTTPS_PROXY", "ftp://proxy.example:21", "must be an http://"),
    "http-proxy-bad-ipv6": ("HTTP_PROXY", "http://[::1", "is not a valid URL"),
    "no-proxy-bad-ipv6": ("NO_PROXY", "[::1", "has an entry that is not a host"),
}


@pytest.mark.parametrize("case", list(PROXIES))
def test_a_proxy_variable_httpx_cannot_use_fails_check(
    program, mocks, admin, engine_log, monkeypatch, case
):
    variable, value, says = PROXIES[case]
    monkeypatch.setenv(variable, value)
    reason = failed_registration(
        program, mocks, engine_log, lambda: FunctionInstance("m", APP, FN, READY)
    )
    assert f"proxy variable {variable} {says}" in reason
    assert admin.requests() == []


@pytest.mark.parametrize("case", list(PROXIES))
def test_a_data_source_refuses_a_proxy_variable_httpx_cannot_use(program, admin, monkeypatch, case):
    variable, value, says = PROXIES[case]
    monkeypatch.setenv(variable, value)
    text = source_failure(program, lambda: fn.get_function_instance(APP, FN, READY))
    assert f"proxy variable {variable} {says}" in text
    assert admin.requests() == []


@pytest.mark.parametrize("bound", ["²", "٣", "9" * 5000])
def test_a_bound_in_other_digits_fails_check_before_any_request(
    bare_program, mocks, admin, engine_log, stack_config, set_stack_config, bound
):
    set_stack_config({**stack_config, "opensearch-fn:maxConcurrentReads": bound})
    reason = failed_registration(
        bare_program, mocks, engine_log, lambda: FunctionInstance("m", APP, FN, READY)
    )
    assert reason.startswith(
        f"FunctionInstance {APP}/{FN}/{READY}: opensearch-fn:maxConcurrentReads "
    )
    assert len(reason) < 300
    assert admin.requests() == []
