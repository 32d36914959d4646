"""EmulatorServer lifecycle, in-process use and the admin API's reach."""

from __future__ import annotations

import contextlib
import http.client
import socket

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, EmulatorState
from pulumi_opensearch_fn.emulator.admin_api import is_loopback_address
from pulumi_opensearch_fn.emulator.app import EmulatorHandler

from .helpers import api_path, get


def test_lifecycle_and_url():
    server = EmulatorServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.endpoint == f"127.0.0.1:{server.port}"
        assert isinstance(server.state, EmulatorState)
    finally:
        server.stop()
    server.stop()  # idempotent


def test_stop_closes_idle_keep_alive_connections():
    with EmulatorServer() as server:
        port = server.port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request(
            "GET", "/_admin/health", headers={"Authorization": f"Bearer {server.admin_token}"}
        )
        assert conn.getresponse().read() == b'{"ok":true}'  # kept alive, a thread waits on it
    assert conn.sock is not None
    # Stopped, the server has hung up already: left alone, the connection would close
    # only at the idle timeout.
    conn.sock.settimeout(EmulatorHandler.timeout / 2)
    with contextlib.suppress(ConnectionResetError):  # either way, the server hung up
        assert conn.sock.recv(1) == b""
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_in_process_state_is_what_http_serves(server: EmulatorServer):
    server.state.upsert_instance("app", "fn", "inst", {"version_id": 11})
    reply = get(server.port, "GetFunctionInstance", api_path("app", "fn", "inst"))
    assert reply.json()["result"]["versionId"] == 11
    server.casing = "pascal"
    assert "Result" in get(server.port, "GetFunctionInstance", api_path("app", "fn", "inst")).json()
    with pytest.raises(ValueError, match="casing"):
        server.casing = "snake"  # type: ignore[assignment]


def test_admin_routes_are_separate_and_unsigned(server: EmulatorServer, admin: EmulatorAdmin):
    assert admin.health()
    server.log.clear()
    admin.state()
    assert server.log.counts() == {}  # admin calls are not API requests
    # An API path never reaches the admin layer, even when signed for it.
    reply = get(server.port, "GetFunctionInstance", "/_admin_x/state")
    assert reply.code == "InvalidAction.NotFound"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("localhost", False),
    ],
)
def test_admin_is_loopback_only(host: str, loopback: bool):
    assert is_loopback_address(host) is loopback
