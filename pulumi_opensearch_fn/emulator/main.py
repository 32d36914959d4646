"""``opensearch-fn emulator``: serve the emulator until SIGINT or SIGTERM (then exit 0).

The base URL is the first line on stdout and the admin token the second, so scripts can
read both; everything else goes to stderr. The token is random per run unless given
with ``--admin-token`` or ``OPENSEARCH_FN_EMULATOR_ADMIN_TOKEN``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .admin_api import CASINGS, MIN_TOKEN_LENGTH, TOKEN_ENV, check_token
from .quota import parse_rate
from .schema import InvalidInput, parse
from .server import EmulatorServer
from .state import AccessKey, StsToken
from .state_file import load_state_file, sample_state

T = TypeVar("T")


def _option(convert: Callable[[str], T]) -> Callable[[str], T]:
    """An option's type: ``convert``'s ValueError (InvalidInput too) is a usage error."""

    def read(text: str) -> T:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return read


@_option
def _access_key(text: str) -> AccessKey | StsToken:
    key_id, _, rest = text.partition(":")
    secret, has_token, token = rest.partition(":")
    if not key_id or not secret or (has_token and not token):
        raise ValueError("expected ID:SECRET or ID:SECRET:TOKEN")
    fields = {"accessKeyId": key_id, "accessKeySecret": secret}
    if has_token:
        return parse(StsToken, {**fields, "securityToken": token}, 0, "access key")
    return parse(AccessKey, fields, 0, "access key")


@_option
def _port(text: str) -> int:
    if not (text.isascii() and text.isdecimal() and len(text) <= 5 and int(text) <= 65535):
        raise ValueError(f"expected a port from 0 to 65535, got {text[:20]!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    add = parser.add_argument
    # fmt: off
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=_port, default=0, help="port to bind; 0 picks a free one (default 0)")
    add("--state", metavar="FILE",
        help="JSON state file (default: the bundled sample with my_app/ctr/ctr_test)")
    add("--casing", choices=CASINGS, default="camel",
        help="response key casing: camel (the service's docs) or pascal (the official SDK)")
    add("--access-key", dest="access_keys", metavar="ID:SECRET[:TOKEN]", type=_access_key,
        action="append", default=[],
        help="accept this access key (with TOKEN: an STS credential); repeatable")
    add("--admin-token", metavar="TOKEN", type=_option(check_token),
        help=f"the admin API's token, at least {MIN_TOKEN_LENGTH} characters (default: "
        f"${TOKEN_ENV}, which other local users cannot read from the process list, else a "
        "random one); printed as the second line on stdout")
    add("--rate-limit", metavar="N/PERIOD", type=_option(parse_rate),
        help="per access key and action, answer Throttling.User beyond N requests per PERIOD "
        "(20/1s; s, m, h, d): a token bucket of N, refilled continuously (default: no limit)")
    # fmt: on


def _fail(message: str, status: int = 2) -> int:
    print(f"opensearch-fn emulator: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status (2: bad input, 1: cannot listen)."""
    try:
        state = load_state_file(args.state) if args.state else sample_state()
        token = args.admin_token or os.environ.get(TOKEN_ENV) or None
        token = check_token(token) if token is not None else None
    except InvalidInput as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(f"{TOKEN_ENV}: {exc}")
    for credential in args.access_keys:
        state.add_credential(credential)
    server = EmulatorServer(state, args.host, args.port, args.casing, token, args.rate_limit)
    try:
        server.start()
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc}", 1)
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        print(server.url, server.admin_token, sep="\n", flush=True)
        keys = ", ".join(sorted(state.access_keys)) or "none"
        banner = f"OpenSearch function API emulator at {server.url} ({args.casing}Case); "
        banner += f"access keys: {keys}; admin API under /_admin with 'Authorization: Bearer "
        print(banner + "TOKEN' (TOKEN: the second line on stdout); Ctrl-C to stop", file=sys.stderr)
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
