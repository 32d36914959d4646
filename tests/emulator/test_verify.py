"""verify.py against the published vectors, and every rejection it documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulumi_opensearch_fn.emulator.state import AccessKey, EmulatorState, StsToken
from pulumi_opensearch_fn.emulator.verify import (
    EMPTY_SHA256,
    AuthError,
    NonceCache,
    Verifier,
    WireRequest,
    query_pairs,
    roa_signature,
    roa_string_to_sign,
    v3_canonical_query,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

from .helpers import Raw, build

VECTOR_PATH = "/v4/openapi/app-groups/my_app/functions/ctr/instances/ctr_test"
VECTOR_HOST = "opensearch.cn-hangzhou.aliyuncs.com"
VECTOR_NONCE = "0123456789abcdef0123456789abcdef"
VECTOR_TIME = datetime(2024, 1, 1, tzinfo=UTC)
V3_HEADERS = {
    "accept": ["application/json"],
    "host": [VECTOR_HOST],
    "x-acs-action": ["GetFunctionInstance"],
    "x-acs-content-sha256": [EMPTY_SHA256],
    "x-acs-date": ["2024-01-01T00:00:00Z"],
    "x-acs-signature-nonce": [VECTOR_NONCE],
    "x-acs-version": ["2017-12-25"],
}
V3_AUTH = (
    "ACS3-HMAC-SHA256 Credential=testAKID,SignedHeaders=accept;host;x-acs-action;"
    "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
    "Signature=1804e2d11b05b3d629e0787787218fccca6c159761bd46bd705677c79ed3cc28"
)
ROA_HEADERS = {
    "accept": ["application/json"],
    "host": [VECTOR_HOST],
    "date": ["Mon, 01 Jan 2024 00:00:00 GMT"],
    "x-acs-action": ["GetFunctionInstance"],
    "x-acs-signature-nonce": [VECTOR_NONCE],
    "x-acs-version": ["2017-12-25"],
    "x-acs-signature-method": ["HMAC-SHA1"],
    "x-acs-signature-version": ["1.0"],
}
ROA_AUTH = "acs testAKID:5aeDXICaRSgWlTWdhtpM2oagIRI="


def make_state() -> EmulatorState:
    state = EmulatorState()
    state.add_credential(AccessKey("testAKID", "testSecret"))
    state.add_credential(AccessKey("LTAI-emulator-demo", "emulator-demo-secret"))
    state.add_credential(StsToken("good-token", "STS.good", "sts-secret", None))
    state.add_credential(StsToken("old-token", "STS.old", "old-secret", 1_000))
    return state


def verifier_at(when: datetime) -> Verifier:
    return Verifier(make_state(), now=when.timestamp)


def wire(headers: dict[str, list[str]], auth: str, query: str = "output=detail") -> WireRequest:
    return WireRequest("GET", VECTOR_PATH, query, {**headers, "authorization": [auth]})


def from_raw(raw: Raw) -> WireRequest:
    headers: dict[str, list[str]] = {}
    for name, value in raw.headers:
        headers.setdefault(name.lower(), []).append(value)
    return WireRequest(raw.method, raw.path, raw.query, headers)


def rejected(
    verifier: Verifier, req: WireRequest, action: str = "GetFunctionInstance"
) -> AuthError:
    with pytest.raises(AuthError) as info:
        verifier.verify(req, action)
    return info.value


# -- vectors ----------------------------------------------------------------------


def test_v3_vector_string_to_sign_and_signature():
    canonical = v3_canonical_request(
        "GET",
        VECTOR_PATH,
        query_pairs("output=detail"),
        V3_HEADERS,
        sorted(V3_HEADERS),
        EMPTY_SHA256,
    )
    string_to_sign = v3_string_to_sign(canonical)
    assert string_to_sign == (
        "ACS3-HMAC-SHA256\n2817efd117abdd93c8558fc2b2c8678bdeae376ca058ce06cc5f368af9b3f0df"
    )
    assert v3_signature("testSecret", string_to_sign) == (
        "1804e2d11b05b3d629e0787787218fccca6c159761bd46bd705677c79ed3cc28"
    )


def test_v3_vector_verifies():
    verified = verifier_at(VECTOR_TIME).verify(wire(V3_HEADERS, V3_AUTH), "GetFunctionInstance")
    assert (verified.scheme, verified.access_key_id, verified.token) == ("v3", "testAKID", False)


def test_roa_vector_signature():
    string_to_sign = roa_string_to_sign(
        "GET", VECTOR_PATH, query_pairs("output=detail"), ROA_HEADERS
    )
    assert string_to_sign.endswith(f"x-acs-version:2017-12-25\n{VECTOR_PATH}?output=detail")
    assert roa_signature("testSecret", string_to_sign) == "5aeDXICaRSgWlTWdhtpM2oagIRI="


def test_roa_vector_verifies():
    verified = verifier_at(VECTOR_TIME).verify(wire(ROA_HEADERS, ROA_AUTH), "GetFunctionInstance")
    assert (verified.scheme, verified.access_key_id) == ("roa", "testAKID")


def test_canonical_query_is_rfc3986_after_form_decoding():
    pairs = query_pairs("b=a+b%2Bc&a=x%2Fy~*&e=")
    assert v3_canonical_query(pairs) == "a=x%2Fy~%2A&b=a%20b%2Bc&e="


# -- rejections ---------------------------------------------------------------------


def test_bad_signature():
    auth = V3_AUTH[:-1] + ("9" if V3_AUTH[-1] != "9" else "8")
    error = rejected(verifier_at(VECTOR_TIME), wire(V3_HEADERS, auth))
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 400)
    assert "server string to sign is:" in error.message


def test_wrong_secret_and_tampered_query():
    v = verifier_at(VECTOR_TIME)
    assert rejected(v, wire(V3_HEADERS, V3_AUTH, "output=simple")).code == "SignatureDoesNotMatch"
    assert rejected(v, wire(ROA_HEADERS, ROA_AUTH, "output=simple")).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("name", sorted(V3_HEADERS.keys() - {"accept"}))
def test_v3_missing_required_header(name: str):
    headers = {k: v for k, v in V3_HEADERS.items() if k != name}
    error = rejected(verifier_at(VECTOR_TIME), wire(headers, V3_AUTH))
    assert (error.code, error.status) == ("IncompleteSignature", 400)
    assert name in error.message


def test_v3_required_header_must_be_signed():
    auth = V3_AUTH.replace("x-acs-signature-nonce;", "")
    error = rejected(verifier_at(VECTOR_TIME), wire(V3_HEADERS, auth))
    assert error.code == "IncompleteSignature"


@pytest.mark.parametrize(
    "auth",
    ["", "Bearer x", "ACS3-HMAC-SHA256 Credential=testAKID", "acs testAKID", "acs :sig"],
)
def test_missing_or_malformed_authorization(auth: str):
    headers = dict(V3_HEADERS)
    req = WireRequest(
        "GET", VECTOR_PATH, "", {**headers, **({"authorization": [auth]} if auth else {})}
    )
    assert rejected(verifier_at(VECTOR_TIME), req).code == "IncompleteSignature"


@pytest.mark.parametrize("scheme", ["v3", "roa"])
@pytest.mark.parametrize("minutes", [-16, 16])
def test_clock_skew(scheme: str, minutes: int):
    when = datetime.now(UTC) + timedelta(minutes=minutes)
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH, scheme=scheme, when=when))
    error = rejected(Verifier(make_state()), req)
    assert (error.code, error.status) == ("InvalidTimeStamp.Expired", 400)


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_skew_within_window_is_accepted(scheme: str):
    when = datetime.now(UTC) - timedelta(minutes=14)
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH, scheme=scheme, when=when))
    assert Verifier(make_state()).verify(req, "GetFunctionInstance").scheme == scheme


def test_malformed_date():
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH)).headers
    bad = WireRequest("GET", VECTOR_PATH, "", {**req, "x-acs-date": ["2024-01-01 00:00:00"]})
    assert rejected(Verifier(make_state()), bad).code == "InvalidTimeStamp.Format"


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_nonce_replay(scheme: str):
    verifier = Verifier(make_state())
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH, scheme=scheme))
    verifier.verify(req, "GetFunctionInstance")
    error = rejected(verifier, req)
    assert (error.code, error.status) == ("SignatureNonceUsed", 400)
    verifier.nonces.clear()
    verifier.verify(req, "GetFunctionInstance")


def test_nonce_cache_forgets_after_the_window():
    now = [1_000.0]
    cache = NonceCache(window_s=900, now=lambda: now[0])
    assert cache.check_and_add("ak", "n1")
    now[0] += 899
    assert not cache.check_and_add("ak", "n1")
    now[0] += 902
    assert cache.check_and_add("ak", "n1")
    assert cache.check_and_add("other-ak", "n1")


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_unknown_access_key(scheme: str):
    req = from_raw(
        build("GetFunctionInstance", VECTOR_PATH, scheme=scheme, ak="nobody", secret="x")
    )
    error = rejected(Verifier(make_state()), req)
    assert (error.code, error.status) == ("InvalidAccessKeyId.NotFound", 404)


def test_sts_key_without_token_is_unknown():
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH, ak="STS.good", secret="sts-secret"))
    error = rejected(Verifier(make_state()), req)
    assert error.code == "InvalidAccessKeyId.NotFound"
    assert "security token" in error.message


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_sts_token_accepted(scheme: str):
    raw = build(
        "GetFunctionInstance",
        VECTOR_PATH,
        scheme=scheme,
        ak="STS.good",
        secret="sts-secret",
        token="good-token",
    )
    verified = Verifier(make_state()).verify(from_raw(raw), "GetFunctionInstance")
    assert verified.token and verified.access_key_id == "STS.good"


@pytest.mark.parametrize(
    ("ak", "secret", "token", "code"),
    [
        ("STS.old", "old-secret", "old-token", "InvalidSecurityToken.Expired"),
        ("STS.good", "sts-secret", "unknown-token", "InvalidSecurityToken.Malformed"),
        ("STS.good", "sts-secret", "has space", "InvalidSecurityToken.Malformed"),
        ("testAKID", "testSecret", "good-token", "InvalidSecurityToken.MismatchWithAccessKey"),
    ],
)
@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_bad_sts_tokens(scheme: str, ak: str, secret: str, token: str, code: str):
    raw = build(
        "GetFunctionInstance", VECTOR_PATH, scheme=scheme, ak=ak, secret=secret, token=token
    )
    error = rejected(Verifier(make_state()), from_raw(raw))
    assert (error.code, error.status) == (code, 400)


def test_v3_token_must_be_signed():
    raw = build("GetFunctionInstance", VECTOR_PATH, ak="STS.good", secret="sts-secret")
    req = from_raw(raw)
    headers = {**req.headers, "x-acs-security-token": ["good-token"]}
    error = rejected(Verifier(make_state()), WireRequest("GET", VECTOR_PATH, "", headers))
    assert error.code == "IncompleteSignature"


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_action_must_match_the_route(scheme: str):
    req = from_raw(build("ListFunctionTasks", VECTOR_PATH, scheme=scheme))
    error = rejected(Verifier(make_state()), req, "GetFunctionInstance")
    assert (error.code, error.status) == ("InvalidAction.NotFound", 404)


def test_wrong_version():
    raw = build("GetFunctionInstance", VECTOR_PATH, extra={"x-acs-version": "2020-01-01"})
    assert rejected(Verifier(make_state()), from_raw(raw)).code == "InvalidVersion"


def test_roa_requires_sha1_method():
    raw = build("GetFunctionInstance", VECTOR_PATH, scheme="roa").replace_header(
        "x-acs-signature-method", "HMAC-SHA256"
    )
    assert rejected(Verifier(make_state()), from_raw(raw)).code == "IncompleteSignature"


def test_body_hash_must_match():
    req = from_raw(build("GetFunctionInstance", VECTOR_PATH))
    with_body = WireRequest(req.method, req.path, req.query, req.headers, b"{}")
    assert rejected(Verifier(make_state()), with_body).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("wire_form", ["a+b", "a%20b"])
def test_plus_and_percent20_are_both_a_space(wire_form: str):
    raw = build("ListFunctionTasks", VECTOR_PATH + "/tasks", {"status": "a b"})
    assert raw.query == "status=a+b"
    req = from_raw(Raw(raw.method, raw.path, f"status={wire_form}", raw.headers))
    assert Verifier(make_state()).verify(req, "ListFunctionTasks").scheme == "v3"
