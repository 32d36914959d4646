"""Plain messages, not tracebacks, for this package's errors in the provider server.

`python -m pulumi.dynamic` answers any exception a provider method raises with
`traceback.format_exc()` (its `_abort_with_traceback`, pulumi 3.260 on), so a
refresh that meets an API error would print a Python traceback. This package's
errors already name the resource, the call and the API's code and request id: for
them the server sends the message alone. Every other exception keeps its
traceback, which is what a bug report needs.

The server module's `traceback` is swapped for a stand-in only after `problems()`
has run the server's own wrapper against the stand-in and seen both answers come
out as intended; otherwise nothing is swapped and one line says why
(`patches.report_skipped`).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import traceback
from collections.abc import Callable, Mapping
from importlib.abc import InspectLoader
from types import FunctionType
from typing import Any

from .api.errors import OpenSearchFnError
from .patches import report_skipped

_SERVER_MODULE = "pulumi.dynamic.__main__"
_WRAPPER = "_abort_with_traceback"  # the server's decorator of every provider method
_PROBE = "probe: a provider method failed"


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
    if server is None or getattr(spec, "name", None) != _SERVER_MODULE:
        return
    if isinstance(getattr(server, "traceback", None), _Traceback):
        return  # already in place
    found = problems(vars(server))
    if found:
        report_skipped("server_errors", found)
        return
    server.traceback = _Traceback()  # type: ignore[attr-defined]


def problems(server: Mapping[str, Any]) -> list[str]:
    """What the swap assumes of the server module's names `server`, and does not hold."""
    if server.get("traceback") is not traceback:
        return [f"{_SERVER_MODULE} has no module-level `traceback` to stand in for"]
    wrapper = server.get(_WRAPPER)
    if not isinstance(wrapper, FunctionType):
        return [f"{_SERVER_MODULE} has no {_WRAPPER} answering a failed method"]
    # A copy of the server's wrapper that sees the stand-in: the live module is untouched.
    probe = FunctionType(
        wrapper.__code__,
        {**server, "traceback": _Traceback()},
        wrapper.__name__,
        wrapper.__defaults__,
        wrapper.__closure__,
    )
    plain = _answer(probe, OpenSearchFnError(_PROBE))
    bug = _answer(probe, ValueError(_PROBE))
    if plain != _PROBE or bug is None or not bug.startswith("Traceback"):
        return [
            f"{_SERVER_MODULE}.{_WRAPPER} does not answer a failed method with"
            " traceback.format_exc()"
        ]
    return []


class _Aborted(Exception):
    """What `context.abort` raises, as grpc's does."""


class _Context:
    details: str | None = None

    def abort(self, _code: object, details: str) -> None:
        self.details = details
        raise _Aborted


def _answer(wrapper: Callable[..., Any], error: Exception) -> str | None:
    """What the wrapped server method tells the engine when it raises `error`."""

    def method(_self: object, _request: object, _context: object) -> None:
        raise error

    context = _Context()
    try:
        wrapper(method)(None, None, context)
    except _Aborted:
        return context.details
    except Exception:  # any other outcome means: not as assumed
        return None
    return None


def server_namespace(namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provider server module's names (in `namespace`, if given), for checking outside
    a server process: its source run without its last statement, `main()`, which serves."""
    if namespace is None:
        namespace = {"__name__": "pulumi_opensearch_fn.server_probe"}
    spec = importlib.util.find_spec(_SERVER_MODULE)
    if spec is None or not isinstance(spec.loader, InspectLoader):
        return namespace
    source = spec.loader.get_source(_SERVER_MODULE)
    if not source:
        return namespace
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if not _starts_server(node)]
    code = compile(tree, spec.origin or _SERVER_MODULE, "exec")
    exec(code, namespace)  # noqa: S102 (pulumi's own source, as the server runs it)
    return namespace


def _starts_server(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "main"
    )
