"""Signature verification for both schemes the gateway accepts, written from the published
description (not from a client signer, so a bug on one side cannot hide the same on the other).

* V3 ``ACS3-HMAC-SHA256``: the canonical request from the ``SignedHeaders`` declared, the
  path as sent and the query decoded (``+`` is a space) then re-encoded RFC 3986 style.
* ROA ``acs AK:signature``: HMAC-SHA1 over method, accept, content-md5, content-type,
  date, every ``x-acs-*`` header and the resource.
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
from .schema import PRINTABLE
from .state import EmulatorState

API_VERSION = "2017-12-25"
WINDOW_S = 15 * 60
V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
V3_REQUIRED: tuple[str, ...] = ("host", "x-acs-action", "x-acs-content-sha256", "x-acs-date")
V3_REQUIRED += ("x-acs-signature-nonce", "x-acs-version")
ROA_DATE_EXAMPLE = "Mon, 01 Jan 2024 00:00:00 GMT"
ROA_REQUIRED = ("date", "x-acs-signature-method", "x-acs-signature-version", "x-acs-version")
_V3_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)=([^,]*)")
_V3_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")

Headers = Mapping[str, list[str]]  # lowercase name -> values in arrival order


class AuthError(Exception):
    """A gateway rejection: documented code, HTTP status, message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


def _incomplete(message: str) -> AuthError:
    return AuthError("IncompleteSignature", message)


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
    scheme: Literal["v3", "roa"]
    access_key_id: str
    token: bool
    actions: frozenset[str] | None  # RAM: what the credential may call; None = all


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode a wire query; form encoding sends a space as '+'."""
    return parse_qsl(raw_query, keep_blank_values=True)


def v3_canonical_query(pairs: list[tuple[str, str]]) -> str:
    """RFC 3986: only unreserved characters stay literal (space %20, * %2A, / %2F, + %2B)."""
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(pairs))


def v3_canonical_request(
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    headers: Headers,
    signed_headers: list[str],
    payload_sha256: str,
) -> str:
    names = sorted(signed_headers)
    lines = (f"{n}:{','.join(sorted(v.strip() for v in headers.get(n, [])))}\n" for n in names)
    parts = (method.upper(), path or "/", v3_canonical_query(pairs), "".join(lines))
    return "\n".join((*parts, ";".join(names), payload_sha256))


def v3_string_to_sign(canonical_request: str) -> str:
    return f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


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
    query = "&".join(k if v == "" else f"{k}={v}" for k, v in sorted(pairs))
    return "\n".join(lines) + "\n" + acs + path + (f"?{query}" if pairs else "")


def roa_signature(secret: str, string_to_sign: str) -> str:
    mac = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class NonceCache:
    """Nonces seen in the last ``window_s`` seconds (real time), per access key."""

    def __init__(self, window_s: float = WINDOW_S, now: Callable[[], float] = time.time) -> None:
        self._window_s = window_s
        self._now = now
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_add(self, access_key_id: str, nonce: str) -> bool:
        """True when the nonce is fresh (and remembers it); False on replay."""
        now, key = self._now(), (access_key_id, nonce)
        with self._lock:
            # Insertion order is time order, so expired entries sit at the front.
            while self._seen and now - next(iter(self._seen.values())) > self._window_s:
                self._seen.popitem(last=False)
            fresh = key not in self._seen
            self._seen.setdefault(key, now)
            return fresh

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


class Verifier:
    """Checks a request the way the gateway does, raising :class:`AuthError`."""

    def __init__(self, credentials: EmulatorState, now: Callable[[], float] = time.time) -> None:
        self.credentials, self._now = credentials, now
        self.nonces = NonceCache(WINDOW_S, now)

    def verify(self, req: WireRequest, action: str) -> Verified:
        auth = req.header("authorization")
        if not auth:
            raise _incomplete("the request carries no Authorization header")
        if auth.startswith(V3_ALGORITHM + " "):
            return self._verify_v3(req, action, auth[len(V3_ALGORITHM) + 1 :])
        if auth.startswith("acs "):
            return self._verify_roa(req, action, auth[4:])
        raise _incomplete(f"the Authorization header is neither {V3_ALGORITHM} nor 'acs AK:sig'")

    def _verify_v3(self, req: WireRequest, action: str, fields_text: str) -> Verified:
        matches = (_V3_FIELD.match(part) for part in fields_text.split(","))
        fields = {m.group(1): m.group(2).strip() for m in matches if m}
        access_key_id, signature = fields.get("Credential"), fields.get("Signature")
        signed = [h.strip().lower() for h in fields.get("SignedHeaders", "").split(";")]
        signed = [h for h in signed if h]
        if not access_key_id or not signed or not signature:
            raise _incomplete("Authorization must carry Credential, SignedHeaders and Signature")
        token = req.header("x-acs-security-token")
        for name in (*V3_REQUIRED, *(("x-acs-security-token",) if token is not None else ())):
            if req.header(name) is None:
                raise _incomplete(f"the required header {name} is missing")
            if name not in signed:
                raise _incomplete(f"the header {name} must be signed")
        for name in signed:
            if name not in req.headers:
                raise _incomplete(f"the signed header {name} was not sent")
        self._check_action_version(req, action)
        self._check_time(req.header("x-acs-date") or "", v3=True)
        payload = hashlib.sha256(req.body).hexdigest()
        if (req.header("x-acs-content-sha256") or "").lower() != payload:
            message = "x-acs-content-sha256 does not match the request body"
            raise AuthError("SignatureDoesNotMatch", message)
        secret, actions = self._secret(req, access_key_id, token)
        pairs = query_pairs(req.query)
        canonical = v3_canonical_request(req.method, req.path, pairs, req.headers, signed, payload)
        string_to_sign = v3_string_to_sign(canonical)
        if not hmac.compare_digest(v3_signature(secret, string_to_sign), signature.lower()):
            message = "The request signature does not conform to Aliyun standards. "
            message += f"server string to sign is:{string_to_sign}"
            raise AuthError("SignatureDoesNotMatch", message)
        self._check_nonce(access_key_id, req.header("x-acs-signature-nonce"))
        return Verified("v3", access_key_id, token is not None, actions)

    def _verify_roa(self, req: WireRequest, action: str, credential: str) -> Verified:
        access_key_id, sep, signature = credential.strip().rpartition(":")
        if not sep or not access_key_id or not signature:
            raise _incomplete("Authorization must look like 'acs AK:signature'")
        for name in ROA_REQUIRED:
            if req.header(name) is None:
                raise _incomplete(f"the required header {name} is missing")
        if req.header("x-acs-signature-method") != "HMAC-SHA1":
            raise _incomplete("x-acs-signature-method must be HMAC-SHA1")
        if req.header("x-acs-signature-version") != "1.0":
            raise _incomplete("x-acs-signature-version must be 1.0")
        if req.header("x-acs-action") is not None:
            self._check_action_version(req, action)
        elif req.header("x-acs-version") != API_VERSION:
            raise AuthError("InvalidVersion", f"x-acs-version must be {API_VERSION}")
        self._check_time(req.header("date") or "", v3=False)
        token = req.header("x-acs-security-token")
        secret, actions = self._secret(req, access_key_id, token)
        pairs = query_pairs(req.query)
        string_to_sign = roa_string_to_sign(req.method, req.path, pairs, req.headers)
        if not hmac.compare_digest(roa_signature(secret, string_to_sign), signature):
            # The string to sign holds the STS token; the answer must not.
            shown = {**req.headers, "x-acs-security-token": [REDACTED]} if token else req.headers
            printable = roa_string_to_sign(req.method, req.path, pairs, shown).replace("\n", "#")
            message = "Specified signature is not matched with our calculation. "
            message += f"server string to sign is:{printable}"
            raise AuthError("SignatureDoesNotMatch", message)
        self._check_nonce(access_key_id, req.header("x-acs-signature-nonce"))
        return Verified("roa", access_key_id, token is not None, actions)

    def _check_action_version(self, req: WireRequest, action: str) -> None:
        sent = req.header("x-acs-action")
        if sent != action:
            message = f"x-acs-action {sent!r} does not match this path and method"
            raise AuthError("InvalidAction.NotFound", f"{message} (expected {action})", 404)
        if req.header("x-acs-version") != API_VERSION:
            raise AuthError("InvalidVersion", f"x-acs-version must be {API_VERSION}")

    def _check_time(self, value: str, *, v3: bool) -> None:
        try:
            if v3:  # strptime is slow enough to show up under load
                match = _V3_DATE.fullmatch(value)
                if match is None:
                    raise ValueError(value)
                year, month, day, hour, minute, second = map(int, match.groups())
                stamp = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            else:
                stamp = parsedate_to_datetime(value)
                stamp = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
        except (ValueError, TypeError):
            expected = "YYYY-MM-DDTHH:MM:SSZ" if v3 else f"RFC 1123, e.g. {ROA_DATE_EXAMPLE}"
            message = f"the date {value!r} is not {expected}"
            raise AuthError("InvalidTimeStamp.Format", message) from None
        skew = abs(stamp.timestamp() - self._now())
        if skew > WINDOW_S:
            message = f"the request date {value} is {int(skew)} s away from the server time"
            message += f" (at most {int(WINDOW_S)} s allowed)"
            raise AuthError("InvalidTimeStamp.Expired", message)

    def _secret(
        self, req: WireRequest, access_key_id: str, token: str | None
    ) -> tuple[str, frozenset[str] | None]:
        creds = self.credentials
        with creds.lock:
            key, sts = creds.access_keys.get(access_key_id), creds.sts_tokens.get(token or "")
            temporary = any(t.access_key_id == access_key_id for t in creds.sts_tokens.values())
        if token is None:
            if key is None:
                hint = " (a temporary key: send its security token)" if temporary else ""
                message = f"Specified access key is not found{hint}."
                raise AuthError("InvalidAccessKeyId.NotFound", message, 404)
            return key.secret, key.actions
        if sts is None or not PRINTABLE.fullmatch(token):
            word = "not valid" if PRINTABLE.fullmatch(token) else "malformed"
            raise AuthError("InvalidSecurityToken.Malformed", f"The security token is {word}.")
        if sts.expires_ms is not None and sts.expires_ms <= self._now() * 1000:
            raise AuthError("InvalidSecurityToken.Expired", "The security token has expired.")
        named = req.header("x-acs-accesskey-id")  # optional, but then the same
        if access_key_id != sts.access_key_id or named not in (None, access_key_id):
            message = "The security token does not belong to this access key."
            raise AuthError("InvalidSecurityToken.MismatchWithAccessKey", message)
        return sts.secret, sts.actions

    def _check_nonce(self, access_key_id: str, nonce: str | None) -> None:
        if not nonce:  # without one, a captured request could be sent again for 15 minutes
            raise _incomplete("x-acs-signature-nonce is missing: the request could be replayed")
        if not self.nonces.check_and_add(access_key_id, nonce):
            raise AuthError("SignatureNonceUsed", "The signature nonce has been used.")
