"""The package's two patches to pulumi internals, each checked before it is applied.

`program_exit` (a quiet end for a program the engine stops) and `server_errors`
(plain messages for this package's errors in the provider server) change what
pulumi does through names it does not publish, which any release may change.
Before either is applied it checks that what it patches is there and behaves as
it assumes. When a check fails the patch is left out (the package works without
it, only noisier) and one line on stderr says which patch and why, once per
process: never a crash, never silently.

`problems()` runs every check against the installed pulumi without applying
anything; `tests/compat` runs it at both ends of the pulumi range pyproject.toml
declares.
"""

from __future__ import annotations

import contextlib
import sys
import threading

_reported: set[str] = set()
_lock = threading.Lock()


def report_skipped(patch: str, problems: list[str]) -> None:
    """One line on stderr (once per patch and process): `patch` is not applied, and why."""
    with _lock:
        if patch in _reported:
            return
        _reported.add(patch)
    line = (
        f"warning: pulumi-opensearch-fn: {patch} not applied under pulumi {_pulumi_version()}:"
        f" {'; '.join(problems)}"
    )
    with contextlib.suppress(OSError, ValueError):  # a closed stderr: nowhere to say it
        print(line, file=sys.stderr, flush=True)


def problems() -> dict[str, list[str]]:
    """Each patch's failed checks against the installed pulumi (empty lists: all hold)."""
    from . import program_exit, server_errors

    return {
        "program_exit": program_exit.problems(),
        "server_errors": server_errors.problems(server_errors.server_namespace()),
    }


def _pulumi_version() -> str:
    from importlib import metadata  # only to report a skipped patch: costly to import

    try:
        return metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        return "(version unknown)"
