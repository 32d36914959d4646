"""The proxy settings httpx takes from the environment, checked before any request.

A client made with `trust_env` reads HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY
(in either case) when it is made, and a value it cannot use fails there with an
exception of its own: `InvalidURL` for `http://[::1`, `ValueError` for `ftp://...`,
`ImportError` for a SOCKS proxy without the `socksio` package. Here each is an
`InvalidInputError` in one line naming the variable. The value is never shown: a
proxy URL may hold a password.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from .errors import InvalidInputError

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
NO_PROXY = "no_proxy"
SCHEMES = ("http", "https", "socks5", "socks5h")


def check_proxy_environment(environ: Mapping[str, str] | None = None) -> None:
    """Raises InvalidInputError for the first proxy variable httpx could not use."""
    env = os.environ if environ is None else environ
    for name in sorted(env):
        value = env[name]
        if not value:
            continue  # httpx ignores an empty variable
        if name.lower() in PROXY_VARIABLES:
            _check_proxy(name, value)
        elif name.lower() == NO_PROXY:
            _check_no_proxy(name, value)


def _check_proxy(name: str, value: str) -> None:
    # What httpx does with a value that has no scheme.
    url = value if "://" in value else f"http://{value}"
    _check_characters(name, url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise _refused(name, "is not a valid URL (host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _refused(name, f"must be an http://, https:// or socks5:// URL, not {scheme}://")
    if not parts.hostname:
        raise _refused(name, "has no host")
    try:
        httpx.Proxy(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise _refused(name, "is not a URL httpx can use") from None
    if scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise _refused(
            name,
            "is a SOCKS proxy, which needs the socksio package (pip install 'httpx[socks]');"
            " install it, use an http:// proxy, or unset the variable",
        )


def _check_no_proxy(name: str, value: str) -> None:
    """Each entry as httpx turns it into a URL pattern."""
    for entry in (part.strip() for part in value.split(",")):
        if not entry or entry == "*":
            continue
        _check_characters(name, entry)
        if "://" in entry:
            pattern = entry
        elif _is_ip(entry, ipaddress.IPv4Address) or entry.lower() == "localhost":
            pattern = f"all://{entry}"
        elif _is_ip(entry, ipaddress.IPv6Address):
            pattern = f"all://[{entry}]"
        else:
            pattern = f"all://*{entry}"
        try:
            httpx.URL(pattern)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise _refused(name, "has an entry that is not a host name or address") from None


def _is_ip(text: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    try:
        kind(text.split("/", 1)[0])
    except ValueError:
        return False
    return True


def _check_characters(name: str, value: str) -> None:
    if any(not ch.isprintable() or ch.isspace() or not ch.isascii() for ch in value):
        raise _refused(name, "contains a space, a control character or a non-ASCII character")


def _refused(name: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"proxy variable {name} {why}")
