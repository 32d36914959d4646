"""HTTP: the three read operations behind the gateway's checks, and the admin API.

An API request goes as through the gateway: route -> clock steps -> faults -> signature
-> quota -> RAM -> the operation (camelCase or PascalCase; gateway errors always PascalCase), and
is logged, secrets redacted. ``/_admin`` requests pass ``admin_api.refusal`` instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .admin_api import handle_admin, refusal
from .faults import POST_KINDS, FaultSpec, LogEntry
from .schema import MAX_STATE_BYTES, short
from .state import TASK_STATUSES, EmulatorState, OpenSearchError
from .verify import AuthError, Verified, WireRequest, query_pairs

if TYPE_CHECKING:
    from .server import EmulatorServer

log = logging.getLogger(__name__)
THROTTLED = "Request was denied due to user flow control."  # the quota's and throttle faults'
FAILED = "The request processing has failed due to some unknown error, exception or failure."
_LEFT_OUT = {"simple": ("createParameters", "cron", "task"), "normal": ("task",), "detail": ()}
MAX_INT_CHARS = 20  # a signed 64-bit integer with its sign
_API = re.compile(
    r"/v4/openapi/app-groups/([^/]+)/functions/([^/]+)/instances/([^/]+)(/tasks(?:/([^/]+))?)?"
)


@dataclass
class Response:
    status: int
    body: bytes
    code: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None  # a Content-Length to claim instead of the body's (truncated)


def pascalize(value: Any) -> Any:
    """``requestId`` -> ``RequestId`` at every depth (extendInfo is a string: untouched)."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascalize(v) for k, v in value.items()}
    return [pascalize(v) for v in value] if isinstance(value, list) else value


def json_response(status: int, payload: Any, request_id: str = "", code: str = "") -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, code, [("x-acs-request-id", request_id)] if request_id else [])


def gateway_error(
    code: str, message: str, status: int, rid: str, host: str, retry_after_ms: int | None = None
) -> Response:
    """An error of the API gateway in front of the service: always PascalCase."""
    recommend = f"https://api.aliyun.com/troubleshoot?q={code}&product=OpenSearch&requestId={rid}"
    payload = {"RequestId": rid, "HostId": host, "Code": code, "Message": message}
    response = json_response(status, {**payload, "Recommend": recommend}, rid, code)
    if retry_after_ms is not None:
        response.headers.append(("x-acs-retry-after", str(retry_after_ms)))
    return response


@dataclass(frozen=True)
class Route:
    action: str
    names: tuple[str, str, str]  # app group, function, instance (percent-decoded)
    generation: str = ""


def route(method: str, raw_path: str) -> Route | None:
    match = _API.fullmatch(raw_path)
    if match is None or method != "GET":
        return None
    parts = [unquote(g or "", errors="replace") for g in match.groups()]
    app, function, instance, tasks, generation = parts
    action = "ListFunctionTasks" if not generation else "GetFunctionTask"
    return Route(action if tasks else "GetFunctionInstance", (app, function, instance), generation)


def _bad(message: str) -> OpenSearchError:
    return OpenSearchError("InvalidParameter", message, 400)


def _int_param(params: dict[str, str], name: str, default: int | None, low: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    if len(raw.strip()) > MAX_INT_CHARS:
        message = f"an integer of at most {MAX_INT_CHARS} characters, got {short(raw)}"
        raise _bad(f"{name} must be {message}")
    try:
        value = int(raw.strip())
    except ValueError:
        raise _bad(f"{name} must be an integer, got {short(raw)}") from None
    if value < low:
        raise _bad(f"{name} must be at least {low}, got {value}")
    return value


def run_operation(state: EmulatorState, r: Route, params: dict[str, str]) -> dict[str, Any]:
    """The answer's ``result`` (and ``totalCount``); raises OpenSearchError."""
    if r.action == "GetFunctionInstance":
        output = params.get("output", "normal")
        if output not in _LEFT_OUT:
            raise _bad(f"output must be one of {', '.join(_LEFT_OUT)}, got {output!r}")
        shown = state.get_instance(*r.names)
        return {"result": {k: v for k, v in shown.items() if k not in _LEFT_OUT[output]}}
    if r.action == "GetFunctionTask":
        return {"result": state.get_task(*r.names, r.generation)}
    status = params.get("status")
    if status is not None and status not in TASK_STATUSES:
        raise _bad(f"status must be one of {', '.join(TASK_STATUSES)}, got {status!r}")
    after, before = (_int_param(params, name, None, 0) for name in ("startTime", "endTime"))
    number, size = (_int_param(params, name, 1, 1) or 1 for name in ("pageNumber", "pageSize"))
    with state.instance(*r.names) as (inst, now):
        found = inst.tasks.query(status, after, before)
        first = (number - 1) * size
        page = [t.to_wire(inst.function_name, now) for t in found[first : first + size]]
        return {"totalCount": len(found), "result": page}


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that can close its keep-alive connections on stop."""

    daemon_threads = True
    request_queue_size = 1024  # bursts of 50+ clients connecting at once are queued
    allow_reuse_address = True

    def __init__(self, emulator: EmulatorServer, address: tuple[str, int]) -> None:
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are normal under load and fault tests.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.exception("emulator: error while serving %s", client_address)


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "opensearch-emulator"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus delayed
        # ACKs add ~40 ms to every keep-alive request.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log replaces stderr access lines

    def _send(self, response: Response) -> None:
        body, length = response.body, response.length
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in response.headers:
            self.send_header(name, value)
        self.close_connection = self.close_connection or length is not None
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _handle(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        length = self.headers.get("content-length", "0")
        sized = length.isascii() and length.isdecimal() and int(length) <= MAX_STATE_BYTES
        if self.headers.get("transfer-encoding") or not sized:
            self.close_connection = True
            message = "a request body needs a valid Content-Length (no chunked encoding)"
            self._send(gateway_error("InvalidParameter", message, 400, new_id(), self._host()))
            return
        body = self.rfile.read(int(length)) if int(length) else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        # A client hanging up ends the connection: handle_error stays quiet about it.
        if raw_path == "/_admin" or raw_path.startswith("/_admin/"):
            self._admin(raw_path, raw_query, headers, body)
        else:
            self._api(started, WireRequest(self.command, raw_path, raw_query, headers, body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _host(self) -> str:
        return self.headers.get("host") or "opensearch.aliyuncs.com"

    def _admin(self, path: str, query: str, headers: dict[str, list[str]], body: bytes) -> None:
        emu = self.server.emulator
        refused = refusal(emu.admin_token, self.client_address[0], self.command, headers, body)
        if refused is not None:
            self._send(json_response(refused[0], {"error": refused[1]}))
            return
        try:
            status, payload = handle_admin(emu, self.command, path, query, body)
        except Exception:
            log.exception("emulator: unexpected error in the admin API")  # answer, not drop
            self.close_connection = True
            status, payload = 500, {"error": "the admin request failed; see the emulator's log"}
        self._send(json_response(status, payload))

    def _api(self, started: float, wire: WireRequest) -> None:
        emu, rid, host = self.server.emulator, new_id(), self._host()
        found = route(self.command, wire.path)
        action = found.action if found is not None else wire.header("x-acs-action")
        if step := emu.clock_steps.due(action):
            emu.state.advance_clock(step)
        latency_ms, fault, label = emu.faults.decide(action)
        if latency_ms:
            time.sleep(latency_ms / 1000)
        verified: Verified | None = None
        try:
            if fault is not None and fault.kind == "drop":
                response = Response(0, b"")
            elif fault is not None and fault.kind in ("throttle", "error"):
                message = THROTTLED if fault.kind == "throttle" else FAILED
                status, code = fault.status or 500, fault.code or ""
                response = gateway_error(code, message, status, rid, host, fault.retry_after_ms)
            else:
                response, verified = self._respond(wire, found, rid, started)
                if fault is not None and fault.kind in POST_KINDS:
                    response = _mangle(fault, response)
        except Exception:
            log.exception("emulator: unexpected error")  # a bug must not kill the thread silently
            self.close_connection = True
            message = "The request processing has failed due to some unknown error."
            response = gateway_error("InternalError", message, 500, rid, host)
        # Logged before answering, so a client that got its answer finds the entry.
        auth = wire.header("authorization") or ""
        scheme = "v3" if auth.startswith("ACS3-") else "roa" if auth.startswith("acs ") else "none"
        entry = LogEntry(
            time.time(), wire.method, wire.path, wire.query, action,
            verified.scheme if verified is not None else scheme,
            verified.access_key_id if verified is not None else None,
            wire.header("x-acs-security-token") is not None, response.status, response.code,
            label, round((time.perf_counter() - started) * 1000, 3),
            tuple((k, v) for k, vs in wire.headers.items() for v in vs),
        )  # fmt: skip
        emu.log.add(entry, emu.redactor())
        if response.status:
            self._send(response)
        self.close_connection = self.close_connection or not response.status

    def _respond(
        self, wire: WireRequest, found: Route | None, rid: str, started: float
    ) -> tuple[Response, Verified | None]:
        emu, host = self.server.emulator, self._host()
        if found is None:
            message = "Specified api is not found, please check your url and method "
            message += f"({self.command} {wire.path})."
            return gateway_error("InvalidAction.NotFound", message, 404, rid, host), None
        verified = None
        try:  # the signature, then the quota (per key, so after it), then RAM
            verified = emu.verifier.verify(wire, found.action)
            if not emu.quota.allow(verified.access_key_id, found.action):
                raise AuthError("Throttling.User", THROTTLED)
            if verified.actions is not None and found.action not in verified.actions:
                message = f"You are not authorized to do this action ({found.action}). "
                raise AuthError("Forbidden.RAM", message + "You should be authorized by RAM.", 403)
        except AuthError as exc:
            # Messages quote what the client sent (the ROA string to sign): no secret in them.
            message = emu.redactor()(exc.message)
            return gateway_error(exc.code, message, exc.status, rid, host), verified
        try:
            answer = run_operation(emu.state, found, dict(query_pairs(wire.query)))
        except OpenSearchError as exc:
            error = {"requestId": rid, "httpCode": exc.status, "code": exc.code}
            return self._service({**error, "message": exc.message}, exc.code), verified
        latency = int((time.perf_counter() - started) * 1000)
        head = {"status": "OK", "requestId": rid, "httpCode": 200, "code": "", "message": ""}
        return self._service({**head, "latency": latency, **answer}), verified

    def _service(self, payload: dict[str, Any], code: str = "") -> Response:
        """An answer of the service itself, in the casing asked for."""
        pascal = self.server.emulator.casing == "pascal"
        body = pascalize(payload) if pascal else payload
        return json_response(payload["httpCode"], body, payload["requestId"], code)


def new_id() -> str:
    return str(uuid.uuid4()).upper()  # the service's samples show upper-case UUIDs


def _mangle(fault: FaultSpec, response: Response) -> Response:
    """The answer with a body fault: malformed, truncated or cut."""
    if fault.kind == "malformed":
        body = b'{"status":"OK","result":{"instanceName":<!-- upstream error -->'
        return Response(fault.status or 200, body, "", response.headers)
    length = len(response.body) if fault.kind == "truncated" else None
    return replace(response, body=response.body[: max(1, len(response.body) // 2)], length=length)
