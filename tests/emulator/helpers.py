"""Test-side request building: signatures come from the official SDK's own signer."""

from __future__ import annotations

import hashlib
import http.client
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode

from alibabacloud_tea_openapi.utils import Utils

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
STS_AK, STS_SECRET, STS_TOKEN = (
    "STS.emulator-demo",
    "emulator-demo-sts-secret",
    "emulator-demo-sts-token",
)
EXPIRED_AK, EXPIRED_SECRET, EXPIRED_TOKEN = (
    "STS.emulator-expired",
    "emulator-expired-sts-secret",
    "emulator-expired-sts-token",
)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
AUTH_CODES = {
    "IncompleteSignature",
    "SignatureDoesNotMatch",
    "SignatureNonceUsed",
    "InvalidTimeStamp.Expired",
    "InvalidTimeStamp.Format",
    "InvalidAccessKeyId.NotFound",
    "InvalidSecurityToken.Expired",
    "InvalidSecurityToken.Malformed",
    "InvalidSecurityToken.MismatchWithAccessKey",
    "InvalidAction.NotFound",
    "InvalidVersion",
}


def seg(text: str) -> str:
    return quote(text, safe="~")


def api_path(
    app: str, function: str, instance: str, tasks: bool = False, generation: str | None = None
) -> str:
    path = f"/v4/openapi/app-groups/{seg(app)}/functions/{seg(function)}/instances/{seg(instance)}"
    if tasks or generation is not None:
        path += "/tasks"
    if generation is not None:
        path += f"/{seg(generation)}"
    return path


@dataclass
class Raw:
    """A request exactly as it goes on the wire."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def replace_header(self, name: str, value: str) -> Raw:
        headers = [(k, value if k.lower() == name else v) for k, v in self.headers]
        return Raw(self.method, self.path, self.query, headers)

    def without_header(self, name: str) -> Raw:
        return Raw(
            self.method,
            self.path,
            self.query,
            [(k, v) for k, v in self.headers if k.lower() != name],
        )


def build(
    action: str,
    path: str,
    query: dict[str, Any] | None = None,
    *,
    scheme: str = "v3",
    ak: str = AK,
    secret: str = SECRET,
    token: str | None = None,
    host: str = "opensearch.cn-hangzhou.aliyuncs.com",
    when: datetime | None = None,
    nonce: str | None = None,
    extra: dict[str, str] | None = None,
    with_nonce: bool = True,
) -> Raw:
    """Sign like the official SDK does (its own Utils), then lay out the wire request.
    ``with_nonce=False`` signs a request without ``x-acs-signature-nonce``."""
    when = when or datetime.now(UTC)
    str_query = {k: str(v) for k, v in (query or {}).items() if v is not None}
    headers: dict[str, str] = {
        "host": host,
        "accept": "application/json",
        "x-acs-action": action,
        "x-acs-version": "2017-12-25",
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        **(extra or {}),
    }
    if not with_nonce:
        del headers["x-acs-signature-nonce"]
    if token is not None:
        headers["x-acs-accesskey-id"] = ak
        headers["x-acs-security-token"] = token
    request = SimpleNamespace(method="GET", pathname=path, query=str_query, headers=headers)
    if scheme == "v3":
        headers["x-acs-date"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        headers["x-acs-content-sha256"] = EMPTY_SHA256
        auth = Utils.get_authorization(request, "ACS3-HMAC-SHA256", EMPTY_SHA256, ak, secret)
    else:
        headers["date"] = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
        headers["x-acs-signature-method"] = "HMAC-SHA1"
        headers["x-acs-signature-version"] = "1.0"
        auth = f"acs {ak}:{Utils.get_roasignature(Utils.get_string_to_sign(request), secret)}"
    headers["authorization"] = auth
    return Raw("GET", path, urlencode(str_query), list(headers.items()))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        data = self.json()
        return str(data.get("Code", data.get("code", "")))


def send(port: int, raw: Raw, timeout: float = 10.0) -> Reply:
    """Send ``raw`` byte for byte (no client-side normalisation of path or headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(raw.method, raw.target, skip_host=True, skip_accept_encoding=True)
        for name, value in raw.headers:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def get(port: int, action: str, path: str, query: dict[str, Any] | None = None, **kw: Any) -> Reply:
    return send(port, build(action, path, query, **kw))
