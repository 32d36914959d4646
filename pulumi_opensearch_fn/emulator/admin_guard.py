"""Who may use the admin API: a per-run token, a loopback Host name, JSON bodies only.

The admin API can rewrite everything the emulator answers, so an emulator left
running must not be steerable by a web page (DNS rebinding, cross-origin
``text/plain`` POSTs) or by another local user who does not hold the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass

TOKEN_ENV = "OPENSEARCH_FN_EMULATOR_ADMIN_TOKEN"  # noqa: S105 (a variable name)
AUTH_HEADER = "authorization"
AUTH_SCHEME = "Bearer "
MIN_TOKEN_LENGTH = 16
# Methods that change state must say their body is JSON, even when it is empty:
# browsers send text/plain and form bodies cross-origin without a preflight.
_BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_token(token: str) -> str:
    """The token as given by a harness; ValueError when it is too easy to guess."""
    if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise ValueError(
            f"the admin token must be at least {MIN_TOKEN_LENGTH} printable characters "
            "without spaces"
        )
    return token


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def is_loopback_address(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


def is_loopback_host_header(value: str) -> bool:
    """``localhost``, ``127.0.0.1:PORT``, ``[::1]:PORT``: names only this machine answers to."""
    host = value.strip().lower()
    if host.startswith("["):
        name, closed, rest = host[1:].partition("]")
        if not closed or (rest and not (rest.startswith(":") and rest[1:].isdecimal())):
            return False
        return is_loopback_address(name)
    name, _, port = host.partition(":")
    if port and not port.isdecimal():
        return False
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or is_loopback_address(name)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def refusal(
    *,
    token: str,
    peer: str,
    method: str,
    headers: dict[str, list[str]],
    body: bytes,
) -> Refusal | None:
    """Why this admin request from ``peer`` (an IP address) is refused, or None."""
    if not is_loopback_address(peer):
        return Refusal(403, "the admin API is loopback only")
    hosts = headers.get("host", [])
    if len(hosts) != 1 or not is_loopback_host_header(hosts[0]):
        return Refusal(403, "the admin API answers only loopback Host names")
    sent = (headers.get(AUTH_HEADER) or [""])[0]
    if not sent.startswith(AUTH_SCHEME) or not hmac.compare_digest(
        sent[len(AUTH_SCHEME) :].strip().encode("utf-8", "replace"), token.encode("utf-8")
    ):
        return Refusal(
            401,
            "the admin API needs 'Authorization: Bearer TOKEN' with this run's admin token",
        )
    content_types = headers.get("content-type", [])
    if (body or method in _BODY_METHODS) and not (
        len(content_types) == 1 and _is_json(content_types[0])
    ):
        return Refusal(415, "admin request bodies must be sent as application/json")
    return None
