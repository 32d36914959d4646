"""The library refuses input no request can carry with its own error, before any
request: names holding lone surrogates, credentials that are not header text,
proxy variables httpx cannot use, a header with a line break."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn.api import (
    Credentials,
    CredentialsError,
    InvalidInputError,
    OpenSearchFunctionClient,
)
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.core.config import resolve_settings

from .conftest import APP, FN, INST, MakeClient

NAMES = {
    "app": (APP + "\udcff", FN, INST),
    "function": (APP, "c\udced\udca0\udc80", INST),
    "instance": (APP, FN, "\ud800"),
}


@pytest.mark.parametrize("where", list(NAMES))
def test_a_name_with_a_lone_surrogate_is_invalid_input(make_client: MakeClient, admin, where):
    client = make_client()
    calls = [
        lambda names: client.get_function_instance(Identity(*names)),
        lambda names: client.get_function_task(Identity(*names, 3)),
        lambda names: client.get_latest_function_task(Identity(*names)),
        lambda names: list(client.list_function_tasks(Identity(*names))),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError, match="is not UTF-8 text"):
            call(NAMES[where])
    assert admin.requests() == []


@pytest.mark.parametrize(
    ("key_id", "secret", "token", "says"),
    [
        ("LTAI-canary-idé", "canary-secret-value", None, "the access key id contains a non-ASCII"),
        ("LTAI-canary-id\n", "canary-secret-value", None, "the access key id contains a line break"),
        ("LTAI canary id", "canary-secret-value", None, "the access key id contains a space"),
        ("STS.canary", "canary-secret-value\n", None, "the access key secret contains a line"),
        ("STS.canary", " canary-secret-value", None, "the access key secret starts or ends"),
        ("STS.canary", "canary-secret-value", "CAIS-canary-tokenü", "the STS token contains a non"),
        ("STS.canary", "canary-secret-value", "CAIS-canary-token\r\n", "the STS token contains a"),
    ],
)  # fmt: skip
def test_credentials_no_header_can_carry_are_refused_without_the_value(key_id, secret, token, says):
    with pytest.raises(CredentialsError) as caught:
        Credentials(key_id, secret, token)
    message = str(caught.value)
    assert message.startswith(says), message
    for value in (key_id, secret, token or "never-in-it"):
        assert value.strip() not in message
    assert "***" not in message


def test_stack_config_names_the_key_and_never_the_value():
    config = {
        "opensearch-fn:endpoint": "http://127.0.0.1:9",
        "opensearch-fn:accessKeyId": "STS.canary",
        "opensearch-fn:accessKeySecret": "canary-config-secret",
        "opensearch-fn:securityToken": "CAIS-canary-config-token\n",
    }
    with pytest.raises(CredentialsError) as caught:
        resolve_settings(config, {})
    assert str(caught.value) == (
        "opensearch-fn:securityToken (stack config opensearch-fn:*) contains a line break"
        " (character 25 of 25); it must be printable ASCII without spaces"
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "needs the socksio package"),
        ("HTTP_PROXY", "http://[::1", "is not a valid URL"),
        ("HTTPS_PROXY", "ftp://user:hunter2@proxy.example", "must be an http://, https://"),
        ("NO_PROXY", "[::1", "has an entry that is not a host"),
    ],
)
def test_a_proxy_variable_httpx_cannot_use_is_invalid_input(
    server, monkeypatch: pytest.MonkeyPatch, variable, value, says
):
    import importlib.util

    monkeypatch.setenv(variable, value)
    if variable == "ALL_PROXY" and importlib.util.find_spec("socksio") is not None:
        OpenSearchFunctionClient(endpoint=server.url).close()  # usable
        return
    with pytest.raises(InvalidInputError) as caught:
        OpenSearchFunctionClient(endpoint=server.url)
    assert str(caught.value).startswith(f"proxy variable {variable} ")
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("agent", ["opensearch-fn-é", "agent\nX-Injected: 1"])
def test_a_header_http_cannot_carry_is_never_sent_or_quoted(make_client: MakeClient, admin, agent):
    client = make_client(user_agent=agent)
    with pytest.raises(InvalidInputError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))
    message = str(caught.value)
    assert "nothing was sent" in message
    for never in ("Credential=", "authorization", "Authorization", "X-Injected"):
        assert never not in message
    assert admin.requests() == []
