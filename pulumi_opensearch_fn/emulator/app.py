"""The HTTP layer: routes, the OpenSearch operations, faults and the request log.

Order for an API request, as a gateway in front of the service would do it:
route -> injected faults -> signature -> RAM -> the operation. Admin requests
(``/_admin/...``) skip all of that and are not logged; they pass ``admin_guard``
(loopback peer and Host, token, JSON) before ``admin_api``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import admin_guard, responses
from .admin_api import handle_admin
from .core import Backend
from .faults import POST_KINDS, Decision, FaultSpec, LogEntry
from .operations import Route, route, run_operation
from .responses import Response
from .state import OpenSearchError
from .verify import AuthError, Verified, WireRequest, query_pairs

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024 * 1024


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that can close its keep-alive connections on stop."""

    daemon_threads = True
    # Bursts of 50+ clients connecting at once must not be refused.
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], backend: Backend, *, ipv6: bool = False) -> None:
        self.backend = backend
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are normal under load and fault tests.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        log.exception("emulator: error while serving %s", client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "opensearch-emulator"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 120
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus delayed
        # ACKs add ~40 ms to every keep-alive request.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # The request log replaces stderr access lines.
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    # -- plumbing ----------------------------------------------------------

    def _headers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            out.setdefault(name.lower(), []).append(value)
        return out

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding"):
            return None
        length_text = self.headers.get("content-length", "0")
        try:
            length = int(length_text)
        except ValueError:
            return None
        if not 0 <= length <= MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _send(
        self, response: Response, *, declared: int | None = None, cut_to: int | None = None
    ) -> None:
        body = response.body if cut_to is None else response.body[:cut_to]
        self.send_response(response.status)
        self.send_header("Content-Type", responses.JSON_TYPE)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        for name, value in response.headers:
            self.send_header(name, value)
        if declared is not None:
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _handle(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            self.close_connection = True
            rid = responses.new_request_id()
            message = "a request body needs a valid Content-Length (no chunked encoding)"
            self._send(responses.gateway_error("InvalidParameter", message, 400, rid, self._host()))
            return
        try:
            if raw_path == "/_admin" or raw_path.startswith("/_admin/"):
                self._handle_admin(raw_path, raw_query, body)
                return
            self._handle_api(started, raw_path, raw_query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _handle_admin(self, raw_path: str, raw_query: str, body: bytes) -> None:
        backend = self.server.backend
        refused = admin_guard.refusal(
            token=backend.admin_token,
            peer=self.client_address[0],
            method=self.command,
            headers=self._headers(),
            body=body,
        )
        if refused is not None:
            self._send(responses.json_response(refused.status, {"error": refused.message}, ""))
            return
        try:
            status, payload = handle_admin(backend, self.command, raw_path, raw_query, body)
        except Exception:
            # A bug here must answer, not drop the connection.
            log.exception("emulator: unexpected error in the admin API")
            self.close_connection = True
            status, payload = 500, {"error": "the admin request failed; see the emulator's log"}
        self._send(responses.json_response(status, payload, ""))

    def _host(self) -> str:
        return self.headers.get("host") or "opensearch.aliyuncs.com"

    def _handle_api(self, started: float, raw_path: str, raw_query: str, body: bytes) -> None:
        backend = self.server.backend
        headers = self._headers()
        wire = WireRequest(self.command, raw_path, raw_query, headers, body)
        found = route(self.command, raw_path)
        action = found.action if found is not None else wire.header("x-acs-action")
        step = backend.clock_steps.due(action)
        if step:
            backend.state.advance_clock(step)
        decision = backend.faults.decide(action)
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000)
        verified: Verified | None = None
        fault = decision.fault
        declared: int | None = None
        cut_to: int | None = None
        rid = responses.new_request_id()
        try:
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self._record(started, wire, action, None, 0, "", decision)
                return
            if fault is not None and fault.kind in ("throttle", "error"):
                response = _fault_error(fault, rid, self._host())
            else:
                response, verified = self._respond(backend, wire, found, rid, started)
                if fault is not None and fault.kind in POST_KINDS:
                    response, declared, cut_to = _mangle(fault, response)
            # Logged before answering, so a client that got its answer finds the entry.
            self._record(started, wire, action, verified, response.status, response.code, decision)
            self._send(response, declared=declared, cut_to=cut_to)
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception:
            # A bug here must not kill the connection thread silently.
            log.exception("emulator: unexpected error")
            self.close_connection = True
            message = "The request processing has failed due to some unknown error."
            self._record(started, wire, action, verified, 500, "InternalError", decision)
            self._send(responses.gateway_error("InternalError", message, 500, rid, self._host()))

    def _respond(
        self, backend: Backend, wire: WireRequest, found: Route | None, rid: str, started: float
    ) -> tuple[Response, Verified | None]:
        host = self._host()
        if found is None:
            message = (
                "Specified api is not found, please check your url and method "
                f"({self.command} {wire.path})."
            )
            return responses.gateway_error("InvalidAction.NotFound", message, 404, rid, host), None
        try:
            verified = backend.verifier.verify(wire, found.action)
        except AuthError as exc:
            # Messages quote what the client sent (the ROA string to sign): no secret in them.
            message = backend.redactor()(exc.message)
            return responses.gateway_error(exc.code, message, exc.status, rid, host), None
        if verified.actions is not None and found.action not in verified.actions:
            message = (
                f"You are not authorized to do this action ({found.action}). "
                "You should be authorized by RAM."
            )
            return responses.gateway_error("Forbidden.RAM", message, 403, rid, host), verified
        casing = backend.casing
        try:
            params = dict(query_pairs(wire.query))
            result, total = run_operation(backend.state, found, params)
        except OpenSearchError as exc:
            return responses.service_error(exc.code, exc.message, exc.status, rid, casing), verified
        latency = int((time.perf_counter() - started) * 1000)
        return responses.success(result, rid, latency, casing, total), verified

    def _record(
        self,
        started: float,
        wire: WireRequest,
        action: str | None,
        verified: Verified | None,
        status: int,
        code: str,
        decision: Decision,
    ) -> None:
        fault = decision.fault.kind if decision.fault is not None else None
        if fault is None and decision.names:
            fault = "latency"
        self.server.backend.log.add(
            LogEntry(
                time=time.time(),
                method=wire.method,
                path=wire.path,
                query=wire.query,
                action=action,
                scheme=verified.scheme if verified is not None else _scheme(wire),
                access_key_id=verified.access_key_id if verified is not None else None,
                token=wire.header("x-acs-security-token") is not None,
                status=status,
                code=code,
                fault=fault,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                headers=tuple((k, v) for k, vs in wire.headers.items() for v in vs),
            ),
            self.server.backend.redactor(),
        )


def _scheme(wire: WireRequest) -> str:
    auth = wire.header("authorization") or ""
    if auth.startswith("ACS3-"):
        return "v3"
    if auth.startswith("acs "):
        return "roa"
    return "none"


def _fault_error(fault: FaultSpec, rid: str, host: str) -> Response:
    status = fault.status or 500
    code = fault.code or "InternalError"
    if fault.kind == "throttle":
        message = "Request was denied due to user flow control."
    else:
        message = (
            "The request processing has failed due to some unknown error, exception or failure."
        )
    return responses.gateway_error(code, message, status, rid, host, fault.retry_after_ms)


def _mangle(fault: FaultSpec, response: Response) -> tuple[Response, int | None, int | None]:
    """(response, declared Content-Length, bytes actually sent) for body faults."""
    if fault.kind == "malformed":
        body = b'{"status":"OK","result":{"instanceName":<!-- upstream error -->'
        return (
            Response(fault.status or 200, body, response.request_id, "", response.headers),
            None,
            None,
        )
    half = max(1, len(response.body) // 2)
    if fault.kind == "truncated":
        return response, len(response.body), half
    cut = dataclasses.replace(response, body=response.body[:half])
    return cut, None, None
