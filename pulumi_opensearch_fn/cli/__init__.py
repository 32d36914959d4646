"""`opensearch-fn`: read OpenSearch function instances and training tasks, and gate on them.

Commands::

    opensearch-fn instance APP FUNCTION INSTANCE [--output simple|normal|detail]
    opensearch-fn tasks APP FUNCTION INSTANCE [--status S] [--start-time T] [--end-time T]
                        [--limit N] [--page-size N]
    opensearch-fn task APP FUNCTION INSTANCE GENERATION|latest
    opensearch-fn check [APP FUNCTION INSTANCE ...] [--instances-file FILE] [--status S]
                        [--task-status S] [--min-generation N] [--max-age D] [--metric M ...]
                        [--no-task-errors] [--wait] [--timeout D] [--interval D]
                        [--concurrency N]
    opensearch-fn emulator [--host H] [--port P] [--state FILE] [--casing camel|pascal] ...

Common options: --region, --endpoint URL, --profile NAME, --json, --debug, --version.
Credentials come from the environment, a profile or the default chain, never from a
command-line argument; --profile wins, and access keys in the environment are then ignored.

Exit codes::

      0  success; with check, every expectation of every instance is met
      1  expectations not met (including still unmet when --wait timed out)
      2  usage error or bad input: arguments, instance names, credentials setup
      3  not found: app group, instance or task (generation)
      4  authentication failed or permission denied
      5  other API or network failure: throttled, server error, network, bad response
    130  interrupted (Ctrl-C)

With several instances (check), the highest code that applies is returned.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import args as args_types
from . import exit_codes, logs, session
from .args import DEFAULT_CONCURRENCY
from .parser import PROG, build

if TYPE_CHECKING:
    from ..api import OpenSearchFunctionClient
    from ..api.limiter import AdaptiveLimiter

__all__ = ["main"]

Handler = Callable[[argparse.Namespace, "OpenSearchFunctionClient"], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command and returns its exit code (the console script exits with it)."""
    logs.quiet_others()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        _say("interrupted")
        return exit_codes.INTERRUPTED
    finally:
        logs.disable_debug()
        logs.unquiet_others()


def _main(argv: list[str]) -> int:
    parser = build()
    try:
        args, extras = parser.parse_known_args(argv)
        if args.command == "emulator":
            return _emulator(args, extras)
        if extras:
            args.subparser.error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return _exit_status(exc)
    if args.debug:
        logs.enable_debug()
    from ..api.errors import InvalidInputError, OpenSearchFnError
    from ..api.limiter import AdaptiveLimiter

    # The run's one limiter: every request of the command takes a slot from it. Its
    # lines go to the debug log unless the command shows progress (check --wait).
    connections = getattr(args, "concurrency", DEFAULT_CONCURRENCY)
    limiter = AdaptiveLimiter(connections, on_change=session.log.debug)
    # Everything that can be wrong with the input is found here, before any request.
    try:
        prepared = _prepare(args, limiter)
    except InvalidInputError as exc:
        return _usage_error(args.subparser, exc.message)
    except OpenSearchFnError as exc:
        _say(f"error: {exc}")
        return exit_codes.for_error(exc)
    try:
        settings = session.settings_from(args, os.environ)
        client = session.open_client(settings, max_connections=connections, request_slots=limiter)
    except OpenSearchFnError as exc:
        _say(f"error: {exc}")
        return exit_codes.for_error(exc)
    # Closing the limiter (Ctrl-C included) ends every wait for a slot at once.
    with client:
        try:
            return prepared(client)
        except OpenSearchFnError as exc:
            _say(f"{_subject(args)}{exc}")
            return exit_codes.for_error(exc)
        finally:
            limiter.close()


def _prepare(
    args: argparse.Namespace, limiter: AdaptiveLimiter
) -> Callable[[OpenSearchFunctionClient], int]:
    """The command, with its input checked; raises InvalidInputError for bad input."""
    if args.command == "check":
        from . import check

        expect, wait = check.expectations(args)
        targets = check.targets_of(args)
        return lambda client: check.run(args, client, expect, wait, targets, limiter)
    from . import commands

    handler: Handler = getattr(commands, args.command)
    return lambda client: handler(args, client)


def _emulator(args: argparse.Namespace, extras: list[str]) -> int:
    """Delegates to the emulator's own arguments and runner (imported only now)."""
    if args.debug:
        logs.enable_debug()
    from ..emulator import main as emulator

    parser = argparse.ArgumentParser(
        prog=f"{PROG} emulator",
        description="Serve the local OpenSearch function API emulator; prints its base URL"
        " as the first line and runs until interrupted.",
    )
    emulator.add_arguments(parser)
    try:
        options = parser.parse_args(extras)
        # Checked here so a bad host is a usage error, not a failure to bind (the
        # emulator's parser checks the port itself).
        try:
            args_types.host(str(options.host))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"argument --host: {exc}")
    except SystemExit as exc:
        return _exit_status(exc)
    return int(emulator.run(options))


def _subject(args: argparse.Namespace) -> str:
    if args.command == "check" or not hasattr(args, "instance"):
        return ""
    subject = f"{args.app}/{args.function}/{args.instance}"
    generation = getattr(args, "generation", None)
    return f"{subject} task {generation}: " if generation is not None else f"{subject}: "


def _usage_error(subparser: argparse.ArgumentParser, message: str) -> int:
    try:
        subparser.error(message)
    except SystemExit as exc:
        return _exit_status(exc)
    return exit_codes.USAGE


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return exit_codes.OK
    return exc.code if isinstance(exc.code, int) else exit_codes.USAGE


def _say(message: str) -> None:
    """One line on stderr (never stdout, even when stderr is closed); error messages
    carry server text, made printable."""
    from ..core.printable import printable
    from . import streams

    streams.err(logs.redact(printable(f"{PROG}: {message}")))
