"""The three read operations on top of the state: parameters, routes, output levels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .state import TASK_STATUSES, EmulatorState, OpenSearchError

OUTPUT_LEVELS = ("simple", "normal", "detail")
MAX_INT_CHARS = 20  # a signed 64-bit integer with its sign
_API = re.compile(
    r"/v4/openapi/app-groups/([^/]+)/functions/([^/]+)/instances/([^/]+)(/tasks(?:/([^/]+))?)?"
)
# Fields GetFunctionInstance leaves out below a given output level.
_NORMAL_ONLY = ("createParameters", "cron")
_DETAIL_ONLY = ("task",)


@dataclass(frozen=True)
class Route:
    action: str
    app: str
    function: str
    instance: str
    generation: str | None = None


def route(method: str, raw_path: str) -> Route | None:
    """Map method and encoded path to an action; segments are percent-decoded."""
    match = _API.fullmatch(raw_path)
    if match is None or method != "GET":
        return None
    app, function, instance = (unquote(match.group(i), errors="replace") for i in (1, 2, 3))
    if match.group(4) is None:
        return Route("GetFunctionInstance", app, function, instance)
    if match.group(5) is None:
        return Route("ListFunctionTasks", app, function, instance)
    return Route(
        "GetFunctionTask", app, function, instance, unquote(match.group(5), errors="replace")
    )


def _bad(message: str) -> OpenSearchError:
    return OpenSearchError("InvalidParameter", message, 400)


def _int_param(params: dict[str, str], name: str, default: int | None, low: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    shown = repr(raw) if len(raw) <= 40 else repr(raw[:37]) + "..."
    if len(text) > MAX_INT_CHARS:
        raise _bad(f"{name} must be an integer of at most {MAX_INT_CHARS} characters, got {shown}")
    try:
        value = int(text)
    except ValueError:
        raise _bad(f"{name} must be an integer, got {shown}") from None
    if value < low:
        raise _bad(f"{name} must be at least {low}, got {value}")
    return value


def run_operation(state: EmulatorState, r: Route, params: dict[str, str]) -> tuple[Any, int | None]:
    """(result, totalCount or None); raises OpenSearchError."""
    if r.action == "GetFunctionInstance":
        output = params.get("output", "normal")
        if output not in OUTPUT_LEVELS:
            raise _bad(f"output must be one of {', '.join(OUTPUT_LEVELS)}, got {output!r}")
        result = state.get_instance(r.app, r.function, r.instance)
        dropped = {"simple": _NORMAL_ONLY + _DETAIL_ONLY, "normal": _DETAIL_ONLY}.get(output, ())
        return {k: v for k, v in result.items() if k not in dropped}, None
    if r.action == "ListFunctionTasks":
        status = params.get("status")
        if status is not None and status not in TASK_STATUSES:
            raise _bad(f"status must be one of {', '.join(TASK_STATUSES)}, got {status!r}")
        total, page = state.list_tasks(
            r.app,
            r.function,
            r.instance,
            status=status,
            start_time=_int_param(params, "startTime", None, 0),
            end_time=_int_param(params, "endTime", None, 0),
            page_number=_int_param(params, "pageNumber", 1, 1) or 1,
            page_size=_int_param(params, "pageSize", 1, 1) or 1,
        )
        return page, total
    return state.get_task(r.app, r.function, r.instance, r.generation or ""), None
