"""Where requests go: a region's public or VPC endpoint, or an explicit URL."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from .errors import InvalidInputError
from .safe_text import shorten, strip_controls
from .validation import check_region

# A host name is at most 253 characters; the scheme and a port add a few.
MAX_ENDPOINT_LENGTH = 300


def region_endpoint(region: str, *, vpc: bool = False) -> str:
    host = "opensearch-vpc" if vpc else "opensearch"
    return f"https://{host}.{check_region(region)}.aliyuncs.com"


def normalize_endpoint(url: str) -> str:
    """Checks an explicit endpoint URL (a bare host gets https); no trailing slash.

    Refused before any request: user:password (httpx would swap the signed
    Authorization header for Basic auth and leak the password into errors),
    control characters or spaces, a malformed host, port or IPv6 literal.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("endpoint must be a non-empty URL such as https://host")
    shown = shorten(strip_controls(url.strip()), 100)
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise InvalidInputError(
            f"endpoint is {len(url)} characters long; at most {MAX_ENDPOINT_LENGTH}"
        )
    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidInputError(f"endpoint {shown!r} contains a space or a control character")
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"endpoint {shown!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInputError(f"endpoint {shown!r} must use http or https")
    if "@" in parts.netloc:
        raise InvalidInputError(
            "endpoint must not contain a user name or password (user:password@host);"
            " credentials come from the access key settings"
        )
    if not parts.hostname:
        raise InvalidInputError(f"endpoint {shown!r} has no host")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise InvalidInputError(f"endpoint {shown!r} must be scheme://host[:port] with no path")
    if port == 0:
        raise InvalidInputError(f"endpoint {shown!r} has an invalid port")
    endpoint = f"{parts.scheme}://{parts.netloc}"
    try:
        # What httpx will send to: catches hosts it cannot encode (IDNA label limits).
        host = httpx.URL(endpoint).netloc.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise InvalidInputError(f"endpoint {shown!r} has an invalid host: {exc}") from None
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    if name and any(not 0 < len(label) <= 63 for label in name.rstrip(".").split(".")):
        raise InvalidInputError(
            f"endpoint {shown!r} has an invalid host: each dot-separated part of a host name"
            " must be 1 to 63 characters"
        )
    return endpoint
