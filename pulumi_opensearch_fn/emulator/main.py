"""``opensearch-fn emulator``: serve the emulator until interrupted.

The base URL is the first line on stdout and the admin token the second (so
scripts can read both); everything else goes to stderr. The token is random per
run unless given with ``--admin-token`` or ``OPENSEARCH_FN_EMULATOR_ADMIN_TOKEN``.
SIGINT and SIGTERM stop it cleanly with exit status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .admin_guard import MIN_TOKEN_LENGTH, TOKEN_ENV, check_token, token_from_env
from .responses import CASINGS
from .server import EmulatorServer
from .state import AccessKey, StsToken
from .state_file import StateFileError, load_state_file, sample_state

EXIT_OK = 0
EXIT_START_FAILED = 1
EXIT_BAD_INPUT = 2


def _access_key(text: str) -> tuple[str, str, str | None]:
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1] or (len(parts) == 3 and not parts[2]):
        raise argparse.ArgumentTypeError("expected ID:SECRET or ID:SECRET:TOKEN")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _port(text: str) -> int:
    if not (text.isascii() and text.isdecimal() and len(text) <= 5 and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text[:20]!r}")
    return int(text)


def _admin_token(text: str) -> str:
    try:
        return check_token(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=0, help="port to bind; 0 picks a free one (default 0)"
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="JSON state file (default: the bundled sample with my_app/ctr/ctr_test)",
    )
    parser.add_argument(
        "--casing",
        choices=CASINGS,
        default="camel",
        help="response key casing: camel (the service's docs) or pascal (the official SDK)",
    )
    parser.add_argument(
        "--access-key",
        dest="access_keys",
        metavar="ID:SECRET[:TOKEN]",
        type=_access_key,
        action="append",
        default=[],
        help="accept this access key (with TOKEN: an STS credential); repeatable",
    )
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        type=_admin_token,
        help=f"the admin API's token, at least {MIN_TOKEN_LENGTH} characters (default: "
        f"${TOKEN_ENV}, which other local users cannot read from the process list, else a "
        "random one); printed as the second line on stdout",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    try:
        state = load_state_file(args.state) if args.state else sample_state()
    except StateFileError as exc:
        print(f"opensearch-fn emulator: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for key_id, secret, token in args.access_keys:
        if token is None:
            state.add_access_key(AccessKey(key_id, secret))
        else:
            state.add_sts_token(StsToken(token, key_id, secret))
    token = args.admin_token or token_from_env()
    try:
        token = check_token(token) if token is not None else None
    except ValueError as exc:
        print(f"opensearch-fn emulator: {TOKEN_ENV}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    server = EmulatorServer(
        state, host=args.host, port=args.port, casing=args.casing, admin_token=token
    )
    try:
        server.start()
    except OSError as exc:
        print(
            f"opensearch-fn emulator: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return EXIT_START_FAILED
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        print(server.url, flush=True)
        print(server.admin_token, flush=True)
        keys = ", ".join(sorted(state.access_keys)) or "none"
        print(
            f"OpenSearch function API emulator at {server.url} ({args.casing}Case); "
            f"access keys: {keys}; admin API under /_admin with 'Authorization: Bearer TOKEN' "
            "(TOKEN: the second line on stdout); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_OK
