"""Many concurrent keep-alive clients: nothing dropped, every request logged."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import httpx

from pulumi_opensearch_fn.emulator import EmulatorServer

from .helpers import api_path, build

CLIENTS = 50
PER_CLIENT = 10
PATHS = [
    ("GetFunctionInstance", api_path("my_app", "ctr", "ctr_test"), {"output": "detail"}),
    ("ListFunctionTasks", api_path("my_app", "ctr", "ctr_test", tasks=True), {"pageSize": 2}),
    ("GetFunctionTask", api_path("my_app", "ctr", "ctr_test", generation="2"), None),
]


def client_run(client: httpx.Client, index: int) -> list[int]:
    statuses = []
    for i in range(PER_CLIENT):
        action, path, query = PATHS[(index + i) % len(PATHS)]
        raw = build(action, path, query, scheme="roa" if i % 2 else "v3")
        statuses.append(client.get(raw.target, headers=raw.headers).status_code)
    return statuses


def test_concurrent_clients(server: EmulatorServer):
    server.log.clear()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    with (
        httpx.Client(base_url=server.url, trust_env=False, timeout=30, limits=limits) as client,
        ThreadPoolExecutor(CLIENTS) as pool,
    ):
        results = list(pool.map(lambda i: client_run(client, i), range(CLIENTS)))
    statuses = [s for r in results for s in r]
    assert statuses == [200] * CLIENTS * PER_CLIENT
    assert server.log.counts()["total"] == CLIENTS * PER_CLIENT


def test_connection_burst_is_queued_not_refused(server: EmulatorServer):
    # More simultaneous connects than listen()'s usual default backlog of 5.
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(200)]
    for sock in sockets:
        sock.close()
    raw = build("GetFunctionInstance", api_path("my_app", "ctr", "ctr_test"))
    with httpx.Client(trust_env=False) as client:
        assert client.get(server.url + raw.target, headers=raw.headers).status_code == 200
