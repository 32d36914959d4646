"""Plain messages, not tracebacks, for this package's errors in the provider server.

`python -m pulumi.dynamic` answers any exception a provider method raises with
`traceback.format_exc()`, so a refresh that meets an API error would print a
Python traceback. This package's errors already name the resource, the call and
the API's code and request id: for them the server sends the message alone.
Every other exception keeps its traceback, which is what a bug report needs.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from .api.errors import OpenSearchFnError

_SERVER_MODULE = "pulumi.dynamic.__main__"


class _Traceback:
    """Stands in for the `traceback` module inside the provider server only."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, OpenSearchFnError):
            return str(error)
        return traceback.format_exc(limit, chain)


def install() -> None:
    """Takes effect only in a provider server process; anywhere else it does nothing."""
    server = sys.modules.get("__main__")
    spec = getattr(server, "__spec__", None)
    if (
        getattr(spec, "name", None) == _SERVER_MODULE
        and getattr(server, "traceback", None) is traceback
    ):
        server.traceback = _Traceback()  # type: ignore[union-attr]
