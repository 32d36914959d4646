"""Every fault kind, observed over real HTTP, and the request log."""

from __future__ import annotations

import http.client
import json
import time

import httpx
import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorAdminError, EmulatorServer

from .helpers import STS_AK, STS_SECRET, STS_TOKEN, api_path, build, get, send

INSTANCE = api_path("my_app", "ctr", "ctr_test")
TASKS = api_path("my_app", "ctr", "ctr_test", tasks=True)


def call(server: EmulatorServer, action: str = "GetFunctionInstance", path: str = INSTANCE):
    return get(server.port, action, path)


def test_throttle_next_n(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("throttle", count=2)
    for _ in range(2):
        reply = call(server)
        assert (reply.status, reply.code) == (400, "Throttling.User")
        assert "x-acs-retry-after" not in reply.headers
        assert set(reply.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert call(server).status == 200
    assert admin.faults() == []


def test_throttle_429_with_retry_after(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("throttle", count=1, status=429, code="Throttling.Api", retry_after_ms=250)
    reply = call(server)
    assert (reply.status, reply.code, reply.headers["x-acs-retry-after"]) == (
        429,
        "Throttling.Api",
        "250",
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalError"),
        (502, "BadGateway"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
    ],
)
def test_server_errors(server: EmulatorServer, admin: EmulatorAdmin, status: int, code: str):
    admin.inject_fault("error", count=1, status=status)
    reply = call(server)
    assert (reply.status, reply.code) == (status, code)


def test_latency(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("latency", count=1, latency_ms=300)
    started = time.monotonic()
    assert call(server).status == 200
    assert time.monotonic() - started >= 0.3
    call(server)
    assert admin.requests()[-1]["fault"] is None  # the fault hit only the first request


def test_drop(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("drop", count=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(server)
    assert call(server).status == 200


def test_malformed_body(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("malformed", count=1)
    reply = call(server)
    assert reply.status == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_truncated_body(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("truncated", count=1)
    raw = build("GetFunctionInstance", INSTANCE)
    with httpx.Client(trust_env=False) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(server.url + raw.target, headers=raw.headers)


def test_cut_body(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("cut", count=1)
    reply = call(server)
    assert reply.status == 200 and int(reply.headers["content-length"]) == len(reply.body)
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_rate_is_seeded(server: EmulatorServer, admin: EmulatorAdmin):
    def run() -> list[int]:
        admin.clear_faults()
        admin.inject_fault("error", rate=0.5, seed=7, status=503)
        return [call(server).status for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(503) < 30


def test_action_match(server: EmulatorServer, admin: EmulatorAdmin):
    admin.inject_fault("error", action="ListFunctionTasks")
    assert call(server).status == 200
    assert call(server, "ListFunctionTasks", TASKS).status == 500
    assert call(server, "ListFunctionTasks", TASKS).status == 500  # no count: every time
    admin.clear_faults()
    assert call(server, "ListFunctionTasks", TASKS).status == 200


def test_bad_fault_specs(admin: EmulatorAdmin):
    bad_specs = [
        {"kind": "explode"},
        {"kind": "throttle", "status": 500},
        {"kind": "latency"},
        {"kind": "error", "status": 404},
        {"kind": "drop", "rate": 2.0},
    ]
    for kwargs in bad_specs:
        with pytest.raises(EmulatorAdminError) as info:
            admin.inject_fault(**kwargs)
        assert info.value.status == 400


def test_request_log_and_counts(server: EmulatorServer, admin: EmulatorAdmin):
    admin.clear_requests()
    call(server)
    send(server.port, build("ListFunctionTasks", TASKS, {"status": "success"}, scheme="roa"))
    get(server.port, "GetFunctionInstance", INSTANCE, ak=STS_AK, secret=STS_SECRET, token=STS_TOKEN)
    admin.inject_fault("throttle", count=1)
    call(server)
    with httpx.Client(trust_env=False) as client:
        client.get(server.url + INSTANCE)
    entries = admin.requests()
    assert [e["scheme"] for e in entries] == ["v3", "roa", "v3", "v3", "none"]
    assert [e["status"] for e in entries] == [200, 200, 200, 400, 400]
    assert [e["token"] for e in entries] == [False, False, True, False, False]
    assert entries[1]["query"] == "status=success" and entries[1]["action"] == "ListFunctionTasks"
    assert entries[2]["accessKeyId"] == STS_AK
    assert (entries[3]["fault"], entries[3]["code"]) == ("throttle", "Throttling.User")
    assert entries[4]["code"] == "IncompleteSignature"
    assert all(e["latencyMs"] >= 0 and e["time"] > 0 and e["method"] == "GET" for e in entries)
    assert "headers" not in entries[0] and admin.requests(1, headers=True)[0]["headers"]
    counts = admin.counts()["requests"]
    assert counts["total"] == 5 and counts["status:200"] == 3 and counts["fault:throttle"] == 1
    admin.clear_requests()
    assert admin.requests() == [] and admin.counts()["requests"] == {}


def test_dropped_requests_are_logged(server: EmulatorServer, admin: EmulatorAdmin):
    admin.clear_requests()
    admin.inject_fault("drop", count=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(server)
    [entry] = admin.requests()
    assert (entry["status"], entry["fault"]) == (0, "drop")
