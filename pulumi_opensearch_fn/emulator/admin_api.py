"""The admin API: JSON routes under ``/_admin``, unsigned but guarded (see ``admin_guard``).

Every request carries ``Authorization: Bearer TOKEN`` (the run's admin token),
a loopback ``Host`` and, with a body or a state-changing method,
``Content-Type: application/json``.

===========================================================  =============================
route                                                        body / answer
===========================================================  =============================
GET    /_admin/health                                        {"ok": true}
GET    /_admin/state?secrets=1                               the state, in the file format;
                                                             key secrets and STS tokens only
                                                             with secrets=1
PUT    /_admin/state                                         a state (file format)
GET    /_admin/clock                                         {"nowMs", "offsetMs"}
POST   /_admin/clock/advance                                 {"seconds"} -> {"nowMs", "offsetMs"}
POST   /_admin/clock/steps                                   {"seconds", "atRequest", "action"?}
                                                             -> {"id"}: the atRequest-th API
                                                             request (of action) from now is
                                                             answered with the clock advanced
GET    /_admin/clock/steps, DELETE                           pending steps, clear them
PUT    /_admin/casing                                        {"casing": "camel"|"pascal"}
PUT    /_admin/app-groups/{app}                              create an empty app group
PUT    /_admin/app-groups/{app}/functions/{fn}/instances/{i} instance fields: create or merge
PATCH  /_admin/app-groups/{app}/functions/{fn}/instances/{i} instance fields: existing only
POST   .../instances/{i}/tasks                               {"count", "status", "startTime",
                                                             "intervalS", "durationS", "metrics",
                                                             "errors"} -> {"first", "last"}
POST   .../instances/{i}/training                            {"durationS", "outcome", "metrics",
                                                             "errors", "runId"} -> {"generation"}
POST   /_admin/access-keys                                   {"accessKeyId", "accessKeySecret",
                                                             "securityToken"?, "expiration"?,
                                                             "actions"?}
GET    /_admin/faults, POST /_admin/faults, DELETE           list, add (FaultSpec fields in
                                                             camelCase) -> {"id"}, clear
GET    /_admin/requests?limit=N&headers=1, DELETE            the request log, clear it
GET    /_admin/counts                                        request counts and state sizes
DELETE /_admin/nonces                                        forget seen signature nonces
===========================================================  =============================

Path segments are percent-encoded like the API's. Errors answer
``{"error": message}`` (and ``"problems"`` for state validation).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, unquote

from .core import Backend, decode_json
from .faults import FaultSpec
from .responses import CASINGS
from .state import ConflictError, OpenSearchError
from .state_file import StateFileError, dump_state, parse_instance_update, parse_state, parse_time

Answer = tuple[int, Any]


class AdminError(Exception):
    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problems = problems


def handle_admin(
    backend: Backend, method: str, raw_path: str, raw_query: str, body: bytes
) -> Answer:
    parts = [unquote(p, errors="replace") for p in raw_path.split("/")[2:] if p != ""]
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    try:
        try:
            data = decode_json(body)
        except ValueError as exc:
            raise AdminError(400, f"the body is not JSON ({exc})") from None
        return _dispatch(backend, method, parts, query, data)
    except AdminError as exc:
        payload: dict[str, Any] = {"error": str(exc)}
        if exc.problems:
            payload["problems"] = exc.problems
        return exc.status, payload
    except StateFileError as exc:
        return 400, {"error": str(exc), "problems": exc.problems}
    except OpenSearchError as exc:
        return exc.status, {"error": exc.message, "code": exc.code}
    except ConflictError as exc:
        return 409, {"error": str(exc)}
    except (ValueError, OverflowError) as exc:
        return 400, {"error": str(exc)}


def _dispatch(
    backend: Backend, method: str, parts: list[str], query: dict[str, str], data: Any
) -> Answer:
    state = backend.state
    head = parts[0] if parts else ""
    key = (method, head, len(parts))
    if key == ("GET", "health", 1):
        return 200, {"ok": True}
    if key == ("GET", "state", 1):
        dumped = dump_state(state)
        return 200, dumped if _flag(query, "secrets") else without_secrets(dumped)
    if key == ("PUT", "state", 1):
        # Everything is replaced, the clock offset too (0 when the body has none).
        state.replace_with(parse_state(data, "(request body)", state.clock.fresh()))
        return 200, state.counts()
    if key == ("GET", "clock", 1):
        return 200, _clock(backend)
    if key == ("POST", "clock", 2) and parts[1] == "advance":
        state.advance_clock(_number(_obj(data), "seconds", low=0.0))
        return 200, _clock(backend)
    if head == "clock" and len(parts) == 2 and parts[1] == "steps":
        return _clock_steps(backend, method, data)
    if key == ("PUT", "casing", 1):
        casing = _obj(data).get("casing")
        if casing not in CASINGS:
            raise AdminError(400, f"casing must be one of {', '.join(CASINGS)}")
        backend.casing = casing
        return 200, {"casing": casing}
    if key == ("GET", "casing", 1):
        return 200, {"casing": backend.casing}
    if head == "app-groups":
        return _app_groups(backend, method, parts, data)
    if key == ("POST", "access-keys", 1):
        return _access_key(backend, _obj(data))
    if head == "faults" and len(parts) == 1:
        return _faults(backend, method, data)
    if head == "requests" and len(parts) == 1 and method in ("GET", "DELETE"):
        if method == "DELETE":
            backend.log.clear()
            return 200, {"cleared": True}
        limit = int(query["limit"]) if query.get("limit", "").isdecimal() else None
        with_headers = _flag(query, "headers")
        return 200, [e.to_json(headers=with_headers) for e in backend.log.entries(limit)]
    if key == ("GET", "counts", 1):
        nonces = len(backend.verifier.nonces)
        return 200, {"requests": backend.log.counts(), "state": state.counts(), "nonces": nonces}
    if key == ("DELETE", "nonces", 1):
        backend.verifier.nonces.clear()
        return 200, {"cleared": True}
    raise AdminError(404, f"no admin route {method} /_admin/{'/'.join(parts)}")


def _clock_steps(backend: Backend, method: str, data: Any) -> Answer:
    steps = backend.clock_steps
    if method == "GET":
        return 200, steps.list()
    if method == "DELETE":
        steps.clear()
        return 200, {"cleared": True}
    if method != "POST":
        raise AdminError(405, "clock/steps: GET, POST or DELETE")
    body = _obj(data)
    unknown = sorted(set(body) - {"seconds", "atRequest", "action"})
    if unknown:
        raise AdminError(400, f"unknown clock step fields: {', '.join(unknown)}")
    at_request = body.get("atRequest")
    if isinstance(at_request, bool) or not isinstance(at_request, int) or at_request < 1:
        raise AdminError(400, "atRequest must be an integer >= 1")
    action = body.get("action")
    if action is not None and not isinstance(action, str):
        raise AdminError(400, "action must be a string")
    step_id = steps.add(_number(body, "seconds", low=0.0), at_request, action)
    return 200, {"id": step_id}


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "") in ("1", "true", "yes")


def without_secrets(dumped: dict[str, Any]) -> dict[str, Any]:
    """The dumped state with key secrets and STS tokens left out (ids stay, to show
    which credentials exist); such a state cannot be loaded back."""
    keys = [
        {k: v for k, v in entry.items() if k != "accessKeySecret"}
        for entry in dumped.get("accessKeys", [])
    ]
    tokens = [
        {k: v for k, v in entry.items() if k not in ("accessKeySecret", "securityToken")}
        for entry in dumped.get("stsTokens", [])
    ]
    return {**dumped, "accessKeys": keys, "stsTokens": tokens}


def _clock(backend: Backend) -> dict[str, int]:
    return {"nowMs": backend.state.now_ms(), "offsetMs": backend.state.clock.offset_ms}


def _obj(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


# Clock steps and durations beyond a century are mistakes, and would overflow epoch-ms math.
MAX_SECONDS = 100 * 365 * 24 * 3600


def _number(data: dict[str, Any], name: str, *, low: float, default: float | None = None) -> float:
    value = data.get(name, default)
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not _finite(value)
        or not low <= value <= MAX_SECONDS
    ):
        raise AdminError(
            400, f"{name} must be a number from {low} to {MAX_SECONDS}, got {_short(value)}"
        )
    return float(value)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _app_groups(backend: Backend, method: str, parts: list[str], data: Any) -> Answer:
    state = backend.state
    if len(parts) == 2 and method == "PUT":
        state.add_app_group(parts[1])
        return 200, {"appGroup": parts[1]}
    shape_ok = len(parts) >= 6 and parts[2] == "functions" and parts[4] == "instances"
    if not shape_ok:
        raise AdminError(
            404, "expected /_admin/app-groups/{app}/functions/{fn}/instances/{instance}"
        )
    app, function, name = parts[1], parts[3], parts[5]
    rest = parts[6:]
    body = _obj(data)
    if not rest and method in ("PUT", "PATCH"):
        fields = parse_instance_update(body, state.now_ms())
        if method == "PUT":
            state.upsert_instance(app, function, name, fields)
        else:
            state.set_instance_fields(app, function, name, fields)
        return 200, state.get_instance(app, function, name)
    if rest == ["tasks"] and method == "POST":
        first, last = _add_tasks(backend, app, function, name, body)
        return 200, {"first": first, "last": last}
    if rest == ["training"] and method == "POST":
        generation = state.start_task(
            app,
            function,
            name,
            round(_number(body, "durationS", low=0.001) * 1000),
            outcome=str(body.get("outcome", "success")),
            metrics=_json_obj(body, "metrics"),
            errors=_json_list(body, "errors"),
            run_id=str(body.get("runId", "")),
        )
        return 200, {"generation": generation}
    raise AdminError(404, f"no admin route {method} for an instance's {'/'.join(rest) or 'fields'}")


def _add_tasks(
    backend: Backend, app: str, function: str, name: str, body: dict[str, Any]
) -> tuple[int, int]:
    state = backend.state
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
        raise AdminError(400, "count must be an integer between 1 and 1000000")
    start = None
    if body.get("startTime") is not None:
        start = parse_time(body["startTime"], state.now_ms())
        if start is None:
            raise AdminError(400, "startTime must be epoch ms, ISO 8601 or now[+-]N[smhd]")
    interval = body.get("intervalS")
    return state.add_tasks(
        app,
        function,
        name,
        count,
        status=str(body.get("status", "success")),
        start_ms=start,
        interval_ms=None
        if interval is None
        else round(_number(body, "intervalS", low=0.001) * 1000),
        duration_ms=round(_number(body, "durationS", low=0.0, default=600) * 1000),
        metrics=_json_obj(body, "metrics"),
        errors=_json_list(body, "errors"),
    )


def _json_obj(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict) or "errors" in value:
        raise AdminError(400, f"{name} must be an object (errors go in 'errors')")
    return value


def _json_list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name) or []
    if not isinstance(value, list):
        raise AdminError(400, f"{name} must be a list")
    return value


def _access_key(backend: Backend, body: dict[str, Any]) -> Answer:
    if body.get("securityToken"):
        names = ("securityToken", "accessKeyId", "accessKeySecret", "expiration", "actions")
        entry = {k: body[k] for k in names if k in body}
        parsed = parse_state({"stsTokens": [entry]}, "(request body)")
        for token in parsed.sts_tokens.values():
            backend.state.add_sts_token(token)
    else:
        entry = {k: body[k] for k in ("accessKeyId", "accessKeySecret", "actions") if k in body}
        parsed = parse_state({"accessKeys": [entry]}, "(request body)")
        for key in parsed.access_keys.values():
            backend.state.add_access_key(key)
    return 200, {"accessKeyId": body.get("accessKeyId")}


_FAULT_FIELDS = {
    "kind": "kind",
    "count": "count",
    "rate": "rate",
    "status": "status",
    "code": "code",
    "latencyMs": "latency_ms",
    "retryAfterMs": "retry_after_ms",
    "action": "action",
    "seed": "seed",
}


def _faults(backend: Backend, method: str, data: Any) -> Answer:
    if method == "GET":
        return 200, backend.faults.list()
    if method == "DELETE":
        backend.faults.clear()
        return 200, {"cleared": True}
    if method != "POST":
        raise AdminError(405, "faults: GET, POST or DELETE")
    body = _obj(data)
    unknown = sorted(set(body) - set(_FAULT_FIELDS))
    if unknown:
        raise AdminError(400, f"unknown fault fields: {', '.join(unknown)}")
    fields = {_FAULT_FIELDS[k]: v for k, v in body.items()}
    types = {"count": int, "status": int, "latency_ms": int, "retry_after_ms": int, "seed": int}
    for name, kind in types.items():
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise AdminError(400, f"{name} must be an integer")
    rate = fields.get("rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)):
        raise AdminError(400, "rate must be a number")
    for name in ("kind", "code", "action"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            raise AdminError(400, f"{name} must be a string")
    fault_id = backend.faults.add(FaultSpec(**fields))
    return 200, {"id": fault_id}
