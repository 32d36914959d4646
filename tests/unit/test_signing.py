"""The signers reproduce the published vectors (computed by the official SDK's signer)."""

from datetime import UTC, datetime

import pytest

from pulumi_opensearch_fn.api import Credentials, RoaSigner, V3Signer
from pulumi_opensearch_fn.api.signing import canonical_query, rfc3986

PATH = "/v4/openapi/app-groups/my_app/functions/ctr/instances/ctr_test"
HEADERS = {
    "accept": "application/json",
    "host": "opensearch.cn-hangzhou.aliyuncs.com",
    "x-acs-action": "GetFunctionInstance",
    "x-acs-version": "2017-12-25",
}
NONCE = "0123456789abcdef0123456789abcdef"
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
KEYS = Credentials("testAKID", "testSecret")


def test_v3_vector():
    out = V3Signer().sign("GET", PATH, [("output", "detail")], HEADERS, KEYS, now=WHEN, nonce=NONCE)
    assert out["authorization"] == (
        "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=accept;host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=1804e2d11b05b3d629e0787787218fccca6c159761bd46bd705677c79ed3cc28"
    )
    assert out["x-acs-date"] == "2024-01-01T00:00:00Z"
    assert out["x-acs-content-sha256"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_roa_vector():
    out = RoaSigner().sign(
        "GET", PATH, [("output", "detail")], HEADERS, KEYS, now=WHEN, nonce=NONCE
    )
    assert out["date"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert out["authorization"] == "acs testAKID:5aeDXICaRSgWlTWdhtpM2oagIRI="


def test_v3_sts_token_is_sent_and_signed():
    keys = Credentials("testAKID", "testSecret", "the-token")
    out = V3Signer().sign("GET", PATH, [], HEADERS, keys, now=WHEN, nonce=NONCE)
    assert out["x-acs-security-token"] == "the-token"
    assert out["x-acs-accesskey-id"] == "testAKID"
    signed = out["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-acs-security-token" in signed
    assert "x-acs-accesskey-id" in signed


def test_roa_sts_token_is_sent():
    keys = Credentials("testAKID", "testSecret", "the-token")
    out = RoaSigner().sign("GET", PATH, [], HEADERS, keys, now=WHEN, nonce=NONCE)
    assert out["x-acs-security-token"] == "the-token"


def test_user_agent_is_not_signed():
    headers = {**HEADERS, "user-agent": "anything/1.0"}
    out = V3Signer().sign("GET", PATH, [("output", "detail")], headers, KEYS, now=WHEN, nonce=NONCE)
    assert "user-agent" not in out["authorization"]
    assert out["authorization"].endswith(
        "1804e2d11b05b3d629e0787787218fccca6c159761bd46bd705677c79ed3cc28"
    )


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("my app", "my%20app"), ("inst/1~*x", "inst%2F1~%2Ax"), ("a+b", "a%2Bb"), ("é", "%C3%A9")],
)
def test_rfc3986(raw, encoded):
    assert rfc3986(raw) == encoded


def test_canonical_query_sorts_and_encodes():
    assert canonical_query([("b", "x y"), ("a", ""), ("c", "*")]) == "a=&b=x%20y&c=%2A"


def test_credentials_never_show_the_secret():
    keys = Credentials("id", "very-secret", "very-token")
    assert "very-secret" not in repr(keys)
    assert "very-token" not in repr(keys)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(keys)
