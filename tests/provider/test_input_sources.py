"""Input no request can carry, through the real provider server: the program's read
makes `check` fail in one line, and a refresh (the provider's own read) fails in one
line naming the setting, never showing the value nor an Authorization header."""

from __future__ import annotations

import pytest

from .conftest import KEY_ID, KEY_SECRET
from .harness import INSTANCE_TYPE, ProviderError, ProviderProcess, program_inputs, strip_provider

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
# stack config key: (bad value, what the line says)
CREDENTIALS = {
    "key-id-newline": ("opensearch-fn:accessKeyId", "LTAI-provider-canary\n", "a line break"),
    "key-id-non-ascii": ("opensearch-fn:accessKeyId", "LTAI-provider-canaryé", "a non-ASCII"),
    "token-newline": ("opensearch-fn:securityToken", "CAIS-provider-canary-tok\n", "a line break"),
}


def assert_named_not_shown(text: str, key: str, value: str, says: str) -> None:
    assert f"{key} (stack config opensearch-fn:*) contains {says}" in text, text
    assert "\n" not in text.strip() and "Traceback" not in text
    for never in (value.strip(), "***", "Credential=", "uthorization", "Illegal header"):
        assert never not in text


@pytest.mark.parametrize("case", list(CREDENTIALS))
def test_bad_credentials_fail_check_and_refresh_in_one_line(provider, config, admin, case) -> None:
    key, value, says = CREDENTIALS[case]
    process = provider()
    checked, failures = process.check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, config))
    assert failures == []
    id_, outs = process.create(INSTANCE_TYPE, strip_provider(checked))
    bad = {**config, key: value}
    admin.clear_requests()

    _, failures = process.check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, bad))
    [(_, reason)] = failures
    assert_named_not_shown(reason, key, value, says)

    later = provider(bad)  # the next run, configured with the bad value
    with pytest.raises(ProviderError) as caught:
        later.read(INSTANCE_TYPE, id_, strip_provider(outs))
    assert_named_not_shown(caught.value.details, key, value, says)
    assert admin.requests() == []


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HTTPS_PROXY", "ftp://user:hunter2@proxy.example", "must be an http://, https://"),
        ("HTTP_PROXY", "http://[::1", "is not a valid URL"),
    ],
)
def test_a_proxy_variable_httpx_cannot_use_fails_refresh_in_one_line(
    provider, config, admin, variable, value, says
) -> None:
    checked, _ = provider().check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, config))
    id_, outs = provider().create(INSTANCE_TYPE, strip_provider(checked))
    admin.clear_requests()
    with ProviderProcess(env={variable: value}) as process:
        process.configure(config)
        with pytest.raises(ProviderError) as caught:
            process.read(INSTANCE_TYPE, id_, strip_provider(outs))
    details = caught.value.details
    assert f"proxy variable {variable} {says}" in details
    assert "\n" not in details.strip() and "Traceback" not in details
    assert "hunter2" not in details
    assert admin.requests() == []


def test_the_demo_key_still_reads(provider, config) -> None:
    assert config["opensearch-fn:accessKeyId"] == KEY_ID
    assert config["opensearch-fn:accessKeySecret"] == KEY_SECRET
    _, failures = provider().check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, config))
    assert failures == []
