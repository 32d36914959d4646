"""Request signers: V3 `ACS3-HMAC-SHA256` (the default) and legacy ROA HMAC-SHA1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import quote

from .credentials import Credentials

EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
ISO8601 = "%Y-%m-%dT%H:%M:%SZ"


def new_nonce() -> str:
    """32 random hex digits, unique per request (the API rejects a nonce seen before)."""
    return os.urandom(16).hex()


def rfc3986(value: str) -> str:
    """Only A-Z a-z 0-9 - _ . ~ stay literal."""
    return quote(value, safe="-_.~")


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(query))


class Signer(Protocol):
    name: str

    def sign(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        credentials: Credentials,
        *,
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """Returns the headers to send: the given ones plus date, token and authorization."""
        ...


class V3Signer:
    """ACS3-HMAC-SHA256: every header it sends except user-agent is signed."""

    name = "v3"
    algorithm = "ACS3-HMAC-SHA256"

    def sign(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        credentials: Credentials,
        *,
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        out = {k.lower(): v for k, v in headers.items()}
        out["x-acs-date"] = now.strftime(ISO8601) if now else time.strftime(ISO8601, time.gmtime())
        out["x-acs-signature-nonce"] = nonce or new_nonce()
        out["x-acs-content-sha256"] = EMPTY_BODY_SHA256
        if credentials.security_token:
            out["x-acs-security-token"] = credentials.security_token
            out["x-acs-accesskey-id"] = credentials.access_key_id
        signed = sorted(k for k in out if k != "user-agent")
        canonical = "\n".join(
            [
                method.upper(),
                path,
                canonical_query(query),
                "".join(f"{k}:{out[k].strip()}\n" for k in signed),
                ";".join(signed),
                EMPTY_BODY_SHA256,
            ]
        )
        string_to_sign = f"{self.algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(
            credentials.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        out["authorization"] = (
            f"{self.algorithm} Credential={credentials.access_key_id},"
            f"SignedHeaders={';'.join(signed)},Signature={signature}"
        )
        return out


class RoaSigner:
    """Legacy ROA signature: `acs AK:base64(HMAC-SHA1(secret, StringToSign))`."""

    name = "roa"

    def sign(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        credentials: Credentials,
        *,
        now: datetime | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        out = {k.lower(): v for k, v in headers.items()}
        out["date"] = format_datetime(now or datetime.now(UTC), usegmt=True)
        out["x-acs-signature-method"] = "HMAC-SHA1"
        out["x-acs-signature-version"] = "1.0"
        out["x-acs-signature-nonce"] = nonce or new_nonce()
        if credentials.security_token:
            out["x-acs-security-token"] = credentials.security_token
        acs_headers = "".join(
            f"{k}:{out[k].strip()}\n" for k in sorted(out) if k.startswith("x-acs-")
        )
        resource = path
        if query:
            resource += "?" + "&".join(f"{k}={v}" if v != "" else k for k, v in sorted(query))
        string_to_sign = "\n".join(
            [
                method.upper(),
                out.get("accept", ""),
                out.get("content-md5", ""),
                out.get("content-type", ""),
                out["date"],
                acs_headers + resource,
            ]
        )
        digest = hmac.new(
            credentials.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha1
        ).digest()
        out["authorization"] = (
            f"acs {credentials.access_key_id}:{base64.b64encode(digest).decode()}"
        )
        return out


SIGNERS: dict[str, Signer] = {"v3": V3Signer(), "roa": RoaSigner()}
