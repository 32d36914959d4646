"""Whatever a server echoes, no error or log line of the client shows the access key
secret or the STS token, in any encoding, and server text cannot drive the terminal."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import pytest

from pulumi_opensearch_fn.api import (
    ApiError,
    Credentials,
    OpenSearchFnError,
    OpenSearchFunctionClient,
    RetryPolicy,
)
from pulumi_opensearch_fn.api.identity import Identity

from ..hostile import HostileServer, Reply, Seen, echo_headers, service_error

APP, FN, INST = "my_app", "ctr", "ctr_test"
SECRET = "canary-secret-5f0c2d9e7b"
TOKEN = "CAIS-canary-sts-token/8a1e+77=="
STS = Credentials("STS.canary-key", SECRET, TOKEN)


def forms(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
        raw.hex().upper(),
        quote(value, safe=""),
    ]


def leaks(text: str) -> list[str]:
    return [form for secret in (SECRET, TOKEN) for form in forms(secret) if form in text]


def everything(seen: Seen) -> Reply:
    """An error whose message carries the secret and token, plain and encoded, each
    embedded in longer text at every byte alignment, plus the request's headers."""
    parts = []
    for secret in (SECRET, TOKEN):
        for prefix in ("", "a", "ab"):
            raw = f"{prefix}{secret}!".encode()
            parts += [
                f"{prefix}{secret}",
                base64.b64encode(raw).decode(),
                base64.urlsafe_b64encode(raw).decode(),
                raw.hex(),
                raw.hex().upper(),
                quote(f"{prefix}{secret}", safe=""),
            ]
    echoed = echo_headers()(seen)
    return service_error("SignatureDoesNotMatch", " ".join(parts) + " " + echoed.body.decode(), 400)


@pytest.fixture
def client(hostile: HostileServer):
    with OpenSearchFunctionClient(
        endpoint=hostile.url, credentials=STS, retry=RetryPolicy(max_attempts=1)
    ) as made:
        yield made


@pytest.mark.parametrize("route", [echo_headers(), everything], ids=["headers", "encodings"])
def test_echoed_secrets_are_masked_in_errors(hostile: HostileServer, client, route) -> None:
    hostile.serve(route)
    with pytest.raises(ApiError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))
    error = caught.value
    assert hostile.requests[0].headers["x-acs-security-token"] == TOKEN  # it was sent
    for text in (str(error), repr(error), error.message, error.code, error.request_id):
        assert leaks(text) == []
    assert "***" in str(error)


def test_echoed_secrets_are_masked_in_log_lines(
    hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    echoed = echo_headers(status=503, code="ServiceUnavailable")
    hostile.serve(
        lambda seen: Reply(503, echoed(seen).body, (("x-acs-request-id", f"id-{TOKEN}-\x1b[2J"),))
    )
    policy = RetryPolicy(max_attempts=2, base_delay=0.0, deadline=10.0)
    caplog.set_level(logging.DEBUG, logger="pulumi_opensearch_fn")
    client = OpenSearchFunctionClient(endpoint=hostile.url, credentials=STS, retry=policy)
    with client, pytest.raises(OpenSearchFnError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))
    lines = [record.getMessage() for record in caplog.records]
    assert any("retrying" in line for line in lines)
    assert any("request_id=" in line for line in lines)
    for line in [*lines, str(caught.value)]:
        assert leaks(line) == []
        assert "\x1b" not in line


@pytest.mark.parametrize(
    "hostile_text",
    [
        "\x1b[2J\x1b[Hall models ready",
        "\x1b]0;owned\x07all models ready",
        "line one\r\nall models ready\n",
        "\x9b31mall models ready\x07\x00\x7f",
        "\u202eydaer sledom lla\u2028all models ready",
    ],
)
def test_server_text_cannot_drive_the_terminal(
    hostile: HostileServer, client, hostile_text: str
) -> None:
    hostile.serve(
        Reply(
            400,
            service_error(f"Bad\x1b[31m{hostile_text}", hostile_text, 400).body,
            (("x-acs-request-id", "r\x1b[1A1"),),
        )
    )
    with pytest.raises(ApiError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))
    text = str(caught.value)
    assert text.isprintable(), repr(text)
    assert "all models ready" in text
