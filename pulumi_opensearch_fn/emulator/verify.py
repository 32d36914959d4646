"""Signature verification for both schemes the gateway accepts.

* V3 ``ACS3-HMAC-SHA256``: the canonical request is rebuilt from the
  ``SignedHeaders`` the client declares, the path exactly as sent and the query
  decoded (``+`` is a space) then re-encoded RFC 3986 style.
* Legacy ROA ``acs AK:signature`` (HMAC-SHA1 over method, accept, content-md5,
  content-type, date, every ``x-acs-*`` header and the resource).

Written from the published description, independently of any client signer,
so a bug on one side cannot hide the same bug on the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl, quote

from .faults import REDACTED
from .state import EmulatorState

API_VERSION = "2017-12-25"
WINDOW_S = 15 * 60
V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
V3_REQUIRED = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)
_V3_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)=([^,]*)")
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces

Scheme = Literal["v3", "roa"]
Headers = Mapping[str, list[str]]  # lowercase name -> values in arrival order


class AuthError(Exception):
    """A gateway rejection: documented code, HTTP status, message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str  # exactly as sent, still percent-encoded, without the query
    query: str  # raw query string, without '?'
    headers: Headers
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Verified:
    scheme: Scheme
    access_key_id: str
    token: bool
    actions: frozenset[str] | None  # RAM: what the credential may call; None = all


# -- canonical forms (pure; tested against the published vectors) -----------------


def rfc3986(text: str) -> str:
    """Only unreserved characters stay literal: space %20, * %2A, / %2F, + %2B."""
    return quote(text, safe="~", encoding="utf-8")


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode a wire query; form encoding sends a space as '+'."""
    return parse_qsl(raw_query, keep_blank_values=True)


def v3_canonical_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(pairs))


def v3_canonical_request(
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    headers: Headers,
    signed_headers: list[str],
    payload_sha256: str,
) -> str:
    names = sorted(signed_headers)
    canonical_headers = "".join(
        f"{name}:{','.join(sorted(v.strip() for v in headers.get(name, [])))}\n" for name in names
    )
    return "\n".join(
        [
            method.upper(),
            path or "/",
            v3_canonical_query(pairs),
            canonical_headers,
            ";".join(names),
            payload_sha256,
        ]
    )


def v3_string_to_sign(canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{V3_ALGORITHM}\n{digest}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def roa_string_to_sign(
    method: str, path: str, pairs: list[tuple[str, str]], headers: Headers
) -> str:
    def one(name: str) -> str:
        values = headers.get(name)
        return values[0].strip() if values else ""

    lines = [method.upper(), one("accept"), one("content-md5"), one("content-type"), one("date")]
    acs = "".join(
        f"{name}:{','.join(v.strip() for v in headers[name])}\n"
        for name in sorted(headers)
        if name.startswith("x-acs-")
    )
    resource = path
    if pairs:
        resource += "?" + "&".join(k if v == "" else f"{k}={v}" for k, v in sorted(pairs))
    return "\n".join(lines) + "\n" + acs + resource


def roa_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


_V3_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")


def _v3_date(value: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SSZ``; strptime is slow enough to show up under load."""
    match = _V3_DATE.fullmatch(value)
    if match is None:
        raise ValueError(value)
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- nonce replay -------------------------------------------------------------------


class NonceCache:
    """Nonces seen in the last ``window_s`` seconds (real time), per access key."""

    def __init__(self, window_s: float = WINDOW_S, now: Callable[[], float] = time.time) -> None:
        self._window_s = window_s
        self._now = now
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_add(self, access_key_id: str, nonce: str) -> bool:
        """True when the nonce is fresh (and remembers it); False on replay."""
        now = self._now()
        key = (access_key_id, nonce)
        with self._lock:
            # Insertion order is time order, so expired entries sit at the front.
            while self._seen:
                oldest_key, seen_at = next(iter(self._seen.items()))
                if now - seen_at <= self._window_s:
                    break
                del self._seen[oldest_key]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


# -- the verifier -------------------------------------------------------------------


class Verifier:
    """Checks a request the way the gateway does, raising :class:`AuthError`."""

    def __init__(
        self,
        credentials: EmulatorState,
        nonces: NonceCache | None = None,
        *,
        window_s: float = WINDOW_S,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.nonces = nonces if nonces is not None else NonceCache(window_s, now)
        self.window_s = window_s
        self._now = now

    def verify(self, req: WireRequest, action: str) -> Verified:
        auth = req.header("authorization")
        if not auth:
            raise AuthError("IncompleteSignature", "the request carries no Authorization header")
        if auth.startswith(V3_ALGORITHM + " "):
            return self._verify_v3(req, action, auth[len(V3_ALGORITHM) + 1 :])
        if auth.startswith("acs "):
            return self._verify_roa(req, action, auth[4:])
        raise AuthError(
            "IncompleteSignature",
            "the Authorization header is neither ACS3-HMAC-SHA256 nor 'acs AK:signature'",
        )

    # V3 ---------------------------------------------------------------------

    def _verify_v3(self, req: WireRequest, action: str, fields_text: str) -> Verified:
        fields: dict[str, str] = {}
        for part in fields_text.split(","):
            match = _V3_FIELD.match(part)
            if match:
                fields[match.group(1)] = match.group(2)
        access_key_id = fields.get("Credential", "").strip()
        signed_text = fields.get("SignedHeaders", "").strip()
        signature = fields.get("Signature", "").strip()
        if not access_key_id or not signed_text or not signature:
            raise AuthError(
                "IncompleteSignature",
                "Authorization must carry Credential, SignedHeaders and Signature",
            )
        signed = [h.strip().lower() for h in signed_text.split(";") if h.strip()]
        token = req.header("x-acs-security-token")
        required = (*V3_REQUIRED, "x-acs-security-token") if token is not None else V3_REQUIRED
        for name in required:
            if req.header(name) is None:
                raise AuthError("IncompleteSignature", f"the required header {name} is missing")
            if name not in signed:
                raise AuthError("IncompleteSignature", f"the header {name} must be signed")
        for name in signed:
            if name not in req.headers:
                raise AuthError("IncompleteSignature", f"the signed header {name} was not sent")
        self._check_action_version(req, action)
        self._check_time(req.header("x-acs-date") or "", v3=True)
        payload = hashlib.sha256(req.body).hexdigest()
        if (req.header("x-acs-content-sha256") or "").lower() != payload:
            raise AuthError(
                "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body"
            )
        secret, actions = self._secret(req, access_key_id, token)
        canonical = v3_canonical_request(
            req.method, req.path, query_pairs(req.query), req.headers, signed, payload
        )
        string_to_sign = v3_string_to_sign(canonical)
        if not hmac.compare_digest(v3_signature(secret, string_to_sign), signature.lower()):
            raise AuthError(
                "SignatureDoesNotMatch",
                "The request signature does not conform to Aliyun standards. "
                f"server string to sign is:{string_to_sign}",
            )
        self._check_nonce(access_key_id, req.header("x-acs-signature-nonce"))
        return Verified("v3", access_key_id, token is not None, actions)

    # ROA --------------------------------------------------------------------

    def _verify_roa(self, req: WireRequest, action: str, credential: str) -> Verified:
        access_key_id, sep, signature = credential.strip().rpartition(":")
        if not sep or not access_key_id or not signature:
            raise AuthError(
                "IncompleteSignature", "Authorization must look like 'acs AK:signature'"
            )
        for name in ("date", "x-acs-signature-method", "x-acs-signature-version", "x-acs-version"):
            if req.header(name) is None:
                raise AuthError("IncompleteSignature", f"the required header {name} is missing")
        if req.header("x-acs-signature-method") != "HMAC-SHA1":
            raise AuthError("IncompleteSignature", "x-acs-signature-method must be HMAC-SHA1")
        if req.header("x-acs-signature-version") != "1.0":
            raise AuthError("IncompleteSignature", "x-acs-signature-version must be 1.0")
        if req.header("x-acs-action") is not None:
            self._check_action_version(req, action)
        elif req.header("x-acs-version") != API_VERSION:
            raise AuthError("InvalidVersion", f"x-acs-version must be {API_VERSION}")
        self._check_time(req.header("date") or "", v3=False)
        token = req.header("x-acs-security-token")
        secret, actions = self._secret(req, access_key_id, token)
        string_to_sign = roa_string_to_sign(
            req.method, req.path, query_pairs(req.query), req.headers
        )
        if not hmac.compare_digest(roa_signature(secret, string_to_sign), signature):
            # The string to sign holds the STS token; the answer must not.
            shown = {**req.headers, "x-acs-security-token": [REDACTED]} if token else req.headers
            printable = roa_string_to_sign(
                req.method, req.path, query_pairs(req.query), shown
            ).replace("\n", "#")
            raise AuthError(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. "
                f"server string to sign is:{printable}",
            )
        # Without a nonce a captured request could be sent again for 15 minutes.
        nonce = req.header("x-acs-signature-nonce")
        if not nonce:
            raise AuthError(
                "IncompleteSignature",
                "the required header x-acs-signature-nonce is missing: "
                "a request without one can be replayed",
            )
        self._check_nonce(access_key_id, nonce)
        return Verified("roa", access_key_id, token is not None, actions)

    # shared checks ----------------------------------------------------------

    def _check_action_version(self, req: WireRequest, action: str) -> None:
        sent = req.header("x-acs-action")
        if sent != action:
            raise AuthError(
                "InvalidAction.NotFound",
                f"x-acs-action {sent!r} does not match this path and method (expected {action})",
                404,
            )
        if req.header("x-acs-version") != API_VERSION:
            raise AuthError("InvalidVersion", f"x-acs-version must be {API_VERSION}")

    def _check_time(self, value: str, *, v3: bool) -> None:
        try:
            if v3:
                stamp = _v3_date(value)
            else:
                stamp = parsedate_to_datetime(value)
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=UTC)
        except (ValueError, TypeError):
            expected = (
                "YYYY-MM-DDTHH:MM:SSZ" if v3 else "RFC 1123, e.g. Mon, 01 Jan 2024 00:00:00 GMT"
            )
            raise AuthError(
                "InvalidTimeStamp.Format", f"the date {value!r} is not {expected}"
            ) from None
        skew = abs(stamp.timestamp() - self._now())
        if skew > self.window_s:
            raise AuthError(
                "InvalidTimeStamp.Expired",
                f"the request date {value} is {int(skew)} s away from the server time "
                f"(at most {int(self.window_s)} s allowed)",
            )

    def _secret(
        self, req: WireRequest, access_key_id: str, token: str | None
    ) -> tuple[str, frozenset[str] | None]:
        if token is None:
            key = self.credentials.access_key(access_key_id)
            if key is None:
                hint = (
                    " (a temporary key: send its security token)"
                    if self.credentials.is_sts_key_id(access_key_id)
                    else ""
                )
                raise AuthError(
                    "InvalidAccessKeyId.NotFound", f"Specified access key is not found{hint}.", 404
                )
            return key.secret, key.actions
        if not _TOKEN_SHAPE.fullmatch(token):
            raise AuthError("InvalidSecurityToken.Malformed", "The security token is malformed.")
        sts = self.credentials.sts_token(token)
        if sts is None:
            raise AuthError("InvalidSecurityToken.Malformed", "The security token is not valid.")
        if sts.expires_ms is not None and sts.expires_ms <= self._now() * 1000:
            raise AuthError("InvalidSecurityToken.Expired", "The security token has expired.")
        sent_id = req.header("x-acs-accesskey-id")
        if sts.access_key_id != access_key_id or (sent_id is not None and sent_id != access_key_id):
            raise AuthError(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not belong to this access key.",
            )
        return sts.secret, sts.actions

    def _check_nonce(self, access_key_id: str, nonce: str | None) -> None:
        if not nonce:
            raise AuthError("IncompleteSignature", "x-acs-signature-nonce must not be empty")
        if not self.nonces.check_and_add(access_key_id, nonce):
            raise AuthError("SignatureNonceUsed", "The signature nonce has been used.")
