"""A hostile HTTP server on loopback: answers whatever a test scripts, however broken.

Any status (1xx, 204, redirects, errors), any headers, any body: gzip bombs, bodies
that drip a byte at a time or never end, echoes of the request's own headers. Replies
are chosen per API action (the `x-acs-action` header) or for every request. Every
answer is bounded: a connection is served for at most `max_seconds`, and closing
the server ends every answer still being written.

    with HostileServer() as server:
        server.serve(json_reply(envelope(result=None)), action="ListFunctionTasks")
        ... client(endpoint=server.url) ...
        assert server.requests[0].action == "ListFunctionTasks"

It counts the requests in flight (from a request's head read until it is answered):
`throttle_above(n)` answers `Throttling.User` to a request arriving while n are
already in flight, as the service does beyond an account's limit, and `hold` keeps
answers back so that the requests a client sends at once are in flight together.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http
import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

HEAD_LIMIT = 64 * 1024
ENDLESS_CHUNK = b" " * 16384
_MISSING = object()


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names in lower case

    @property
    def action(self) -> str:
        return self.headers.get("x-acs-action", "")


@dataclass(frozen=True)
class Reply:
    """One answer. `interim` heads (1xx) go first; `drip` seconds pass between body
    bytes; `endless` keeps sending after `body` until the client leaves; `hang` sends
    nothing at all. Without `length` the end of the body is the closed connection."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None
    interim: tuple[int, ...] = ()
    drip: float = 0.0
    endless: bool = False
    hang: bool = False
    length: bool = True
    final: bool = True  # False: only the interim heads, then the connection closes


Route = Reply | Callable[[Seen], Reply]


@dataclass(frozen=True)
class Arrival:
    """A request as it arrived: how many were in flight, itself included; throttled?"""

    in_flight: int
    throttled: bool


class HostileServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that closes each connection after one answer."""

    def __init__(self, *, max_seconds: float = 30.0) -> None:
        self.max_seconds = max_seconds
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.arrivals: list[Arrival] = []
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._flight = threading.Condition()
        self._in_flight = 0
        self._limit: int | None = None
        self._throttles_left: int | None = None
        self._hold = 0.0
        self._hold_until: int | None = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def serve(self, route: Route, action: str = "*") -> None:
        """Answers requests for `action` (or any action, "*") with `route`."""
        with self._lock:
            self.routes[action] = route

    def throttle_above(self, limit: int | None, *, at_most: int | None = None) -> None:
        """Answers Throttling.User (400) to a request that arrives while `limit` are
        already in flight, `at_most` times (None: always); `limit` None: never."""
        with self._flight:
            self._limit, self._throttles_left = limit, at_most

    def hold(self, seconds: float, *, until_in_flight: int | None = None) -> None:
        """Keeps each answer (but a throttling one) back `seconds`, as a slow service
        would, so that what a client sends at once is in flight together; less once
        `until_in_flight` requests are in flight."""
        with self._flight:
            self._hold, self._hold_until = seconds, until_in_flight

    @property
    def peak(self) -> int:
        with self._flight:
            return max((a.in_flight for a in self.arrivals), default=0)

    @property
    def throttled(self) -> int:
        with self._flight:
            return sum(a.throttled for a in self.arrivals)

    def arrive(self, seen: Seen) -> Reply:
        """Counts `seen` in flight (until `leave`, as its answer starts) and answers it:
        throttled, or held (see `hold`), then as routed."""
        with self._flight:
            self._in_flight += 1
            beyond = self._limit is not None and self._in_flight > self._limit
            throttle = beyond and self._throttles_left != 0
            self.arrivals.append(Arrival(self._in_flight, throttle))
            if throttle:
                if self._throttles_left is not None:
                    self._throttles_left -= 1
            else:
                self._flight.notify_all()  # one more in flight: a hold may end
                until = self._hold_until
                self._flight.wait_for(
                    lambda: (
                        self.stopped.is_set() or (until is not None and self._in_flight >= until)
                    ),
                    timeout=self._hold,
                )
        if throttle:
            with self._lock:
                self.requests.append(seen)
            return service_error("Throttling.User", "denied by user flow control", 400)
        return self.route_for(seen)

    def leave(self) -> None:
        with self._flight:
            self._in_flight -= 1

    def route_for(self, seen: Seen) -> Reply:
        with self._lock:
            route = self.routes.get(seen.action, self.routes.get("*"))
            self.requests.append(seen)
        if route is None:
            return json_reply({"code": "NoRoute", "message": "no reply scripted"}, status=501)
        return route(seen) if callable(route) else route

    def actions(self) -> list[str]:
        with self._lock:
            return [seen.action for seen in self.requests]

    def close(self) -> None:
        self.stopped.set()
        with self._flight:
            self._flight.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # clients that connect 32 at once wait for no SYN retry
    owner: HostileServer


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        conn: socket.socket = self.request
        conn.settimeout(5)
        seen = _read_head(conn)
        if seen is None:
            return
        try:
            reply = owner.arrive(seen)
        finally:
            # Out of flight once answered: before the answer is sent, so a client that
            # sends its next request on reading this answer is never counted twice.
            owner.leave()
        until = time.monotonic() + owner.max_seconds
        with contextlib.suppress(OSError):  # the client went away: that ends the answer
            _write(conn, reply, owner.stopped, until)


def _read_head(conn: socket.socket) -> Seen | None:
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    line, *lines = head.split("\r\n")
    method, target, _ = [*line.split(" ", 2), "", ""][:3]
    path, _, query = target.partition("?")
    headers = {}
    for item in lines:
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seen(method, path, query, headers)


def _write(conn: socket.socket, reply: Reply, stopped: threading.Event, until: float) -> None:
    def alive() -> bool:
        return not stopped.is_set() and time.monotonic() < until

    for code in reply.interim:
        conn.sendall(f"HTTP/1.1 {code} {_reason(code)}\r\n\r\n".encode())
    if not reply.final:
        return
    if reply.hang:
        stopped.wait(max(0.0, until - time.monotonic()))
        return
    reason = reply.reason if reply.reason is not None else _reason(reply.status)
    lines = [f"HTTP/1.1 {reply.status} {reason}", *(f"{k}: {v}" for k, v in reply.headers)]
    if reply.endless:
        lines.append("transfer-encoding: chunked")
    elif reply.length:
        lines.append(f"content-length: {len(reply.body)}")
    lines.append("connection: close")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if reply.endless:
        for chunk in _endless(reply.body):
            if not alive():
                return
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        return
    if reply.drip:
        for index in range(len(reply.body)):
            if not alive():
                return
            conn.sendall(reply.body[index : index + 1])
            stopped.wait(reply.drip)
        return
    conn.sendall(reply.body)


def _endless(first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        yield ENDLESS_CHUNK


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status"


# -- replies ---------------------------------------------------------------------


def json_reply(
    payload: Any, *, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Reply(status, body, (("content-type", "application/json"), *headers))


def envelope(result: Any = _MISSING, **fields: Any) -> dict[str, Any]:
    """A success envelope as the service sends it; `result` left out when not given."""
    body: dict[str, Any] = {
        "status": "OK",
        "requestId": "hostile-request",
        "httpCode": 200,
        "code": "",
        "message": "",
        "latency": 1,
    }
    if result is not _MISSING:
        body["result"] = result
    return body | fields


def service_error(code: str, message: str, status: int) -> Reply:
    return json_reply(
        {"requestId": "hostile-request", "httpCode": status, "code": code, "message": message},
        status=status,
    )


INSTANCE = {
    "instanceName": "ctr_test",
    "functionName": "ctr",
    "functionType": "PAAS",
    "modelType": "tf_checkpoint",
    "source": "user",
    "status": "available",
    "versionId": 3,
    "createTime": 1700000000000,
    "cron": "",
    "description": "",
    "extendInfo": "{}",
    "task": {"dagStatus": "success", "progress": 100, "lastRunTime": 1700000300000},
}


def task(generation: int, **fields: Any) -> dict[str, Any]:
    return {
        "functionName": "ctr",
        "generation": str(generation),
        "runId": f"trigger__{generation}",
        "status": "success",
        "progress": 100,
        "startTime": 1700000000000 + generation % 10**6 * 1000,
        "endTime": 1700000000500 + generation % 10**6 * 1000,
        "extendInfo": json.dumps({"recall": 91, "errors": []}),
    } | fields


def good_instance() -> Reply:
    return json_reply(envelope(result=INSTANCE))


def good_task(generation: int = 3) -> Reply:
    return json_reply(envelope(result=task(generation)))


def good_tasks(*generations: int) -> Reply:
    tasks = [task(g) for g in generations or (3,)]
    return json_reply(envelope(result=tasks, totalCount=len(tasks)))


def healthy(server: HostileServer) -> None:
    """Good answers for all three actions (tests then break one of them)."""
    server.serve(good_instance(), action="GetFunctionInstance")
    server.serve(good_tasks(3, 2, 1), action="ListFunctionTasks")
    server.serve(good_task(3), action="GetFunctionTask")


@functools.lru_cache(maxsize=4)
def _gzip_of_zeros(mebibytes: int) -> bytes:
    """A valid gzip stream of `mebibytes` MiB of zeros, built without compressing them all:
    after a full flush the packer starts afresh, so every 1 MiB block packs to the same bytes."""
    block = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush(zlib.Z_FINISH)[:-8]  # the trailer is rewritten for the whole stream
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (mebibytes << 20) & 0xFFFFFFFF)
    return first + again * (mebibytes - 1) + end + trailer


def gzip_bomb(mebibytes: int = 1024) -> Reply:
    """A 200 gzip body that inflates to `mebibytes` MiB of zeros (1 GiB from about 1 MB)."""
    return Reply(
        200,
        _gzip_of_zeros(mebibytes),
        (("content-type", "application/json"), ("content-encoding", "gzip")),
    )


def dripping(body: bytes, every: float = 1.0, status: int = 200) -> Reply:
    """`body` one byte every `every` seconds."""
    return Reply(status, body, (("content-type", "application/json"),), drip=every)


def endless(status: int = 200) -> Reply:
    """A chunked body that never ends (until the client leaves or the server's limit)."""
    return Reply(status, b'{"result": "', (("content-type", "application/json"),), endless=True)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", (("location", location),))


def echo_headers(
    status: int = 400,
    code: str = "SignatureDoesNotMatch",
    first: tuple[str, ...] = ("x-acs-security-token", "authorization"),
) -> Callable[[Seen], Reply]:
    """An error whose message echoes every request header (those in `first` first, so
    they survive a client that cuts long messages), plain and in the encodings a
    careless server or proxy might use: base64, hex and url-encoded."""

    def reply(seen: Seen) -> Reply:
        names = [n for n in first if n in seen.headers]
        names += [n for n in seen.headers if n not in names]
        text = "; ".join(f"{n}={seen.headers[n]}" for n in names)
        raw = text.encode()
        message = (
            f"headers: {text} | b64: {base64.b64encode(raw).decode()}"
            f" | hex: {raw.hex()} | url: {quote(text, safe='')}"
        )
        return service_error(code, message, status)

    return reply


@dataclass
class Pager:
    """ListFunctionTasks that announces `total` tasks and serves full pages forever
    (`repeat`: the same page every time)."""

    total: int = 10**12
    repeat: bool = False
    pages: list[int] = field(default_factory=list)

    def __call__(self, seen: Seen) -> Reply:
        query = dict(item.partition("=")[::2] for item in seen.query.split("&") if item)
        number = int(query.get("pageNumber", "1"))
        size = int(query.get("pageSize", "1"))
        self.pages.append(number)
        first = 1 if self.repeat else (number - 1) * size + 1
        tasks = [task(self.total - first - i + 1) for i in range(size)]
        return json_reply(envelope(result=tasks, totalCount=self.total))


def broken_answers(action: str) -> dict[str, Reply]:
    """Answers that must never read as "does not exist" or "no tasks": each has to end
    as an API, network or bad-response error. Keyed by a short name for test ids."""
    shapes = {
        "error-code-in-200": json_reply({"code": "InternalError", "message": "boom"}),
        "http-code-500-in-200": json_reply(envelope(result=[], httpCode=500)),
        "result-null": json_reply(envelope(result=None)),
        "result-missing": json_reply(envelope()),
        "result-wrong-type": json_reply(envelope(result="3")),
        "empty-200": Reply(200, b""),
        "no-content-204": Reply(204, b""),
        "redirect-302": redirect("/elsewhere"),
        "redirect-301-empty-result": Reply(
            301, json.dumps(envelope(result=[])).encode(), (("location", "/elsewhere"),)
        ),
        "informational-then-close": Reply(interim=(103,), final=False),
        "switching-protocols-101": Reply(101, b"", (("upgrade", "websocket"),), length=False),
        "instance-not-exist-503": service_error("Instance.NotExist", "gone?", 503),
        "task-not-exist-503": service_error("Task.NotExist", "gone?", 503),
        "body-is-a-list": json_reply([]),
        "body-is-a-string": json_reply("ok"),
        "body-is-html": Reply(200, b"<html>maintenance</html>"),
        "partial-content-206": Reply(206, json.dumps(envelope(result=[])).encode()),
    }
    if action == "ListFunctionTasks":
        shapes["task-not-exist-from-list"] = service_error("Task.NotExist", "no task", 404)
        shapes["result-object-not-list"] = json_reply(envelope(result={}))
        shapes["total-count-wrong-type"] = json_reply(envelope(result=[], totalCount="many"))
    if action == "GetFunctionInstance":
        shapes["task-not-exist-from-instance"] = service_error("Task.NotExist", "no task", 404)
        shapes["result-list-not-object"] = json_reply(envelope(result=[]))
    return shapes


def any_instance(seen: Seen) -> Reply:
    """GetFunctionInstance for whichever instance the path names (a fleet of them)."""
    name = seen.path.rstrip("/").rsplit("/", 1)[-1]
    return json_reply(envelope(result=INSTANCE | {"instanceName": name}))


def fleet(server: HostileServer) -> None:
    """Good answers for any instance: each is available with tasks 3, 2, 1."""
    healthy(server)
    server.serve(any_instance, action="GetFunctionInstance")
