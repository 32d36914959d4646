"""The three operations over HTTP: output levels, filters, paging, casings, errors."""

from __future__ import annotations

import http.client
import uuid

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer
from pulumi_opensearch_fn.emulator.state import TaskBatch

from .helpers import AK, SECRET, api_path, build, get, send

INSTANCE = api_path("my_app", "ctr", "ctr_test")
TASKS = api_path("my_app", "ctr", "ctr_test", tasks=True)


def instance(server: EmulatorServer, **query: str) -> dict:
    reply = get(server.port, "GetFunctionInstance", INSTANCE, query)
    assert reply.status == 200, reply.body
    return reply.json()["result"]


def tasks(server: EmulatorServer, path: str = TASKS, **query: object) -> tuple[int, list[dict]]:
    reply = get(server.port, "ListFunctionTasks", path, query)
    assert reply.status == 200, reply.body
    body = reply.json()
    return body["totalCount"], body["result"]


def test_envelope(server: EmulatorServer):
    reply = get(server.port, "GetFunctionInstance", INSTANCE)
    body = reply.json()
    assert list(body) == ["status", "requestId", "httpCode", "code", "message", "latency", "result"]
    assert (body["status"], body["httpCode"], body["code"], body["message"]) == ("OK", 200, "", "")
    assert uuid.UUID(body["requestId"]) and reply.headers["x-acs-request-id"] == body["requestId"]
    assert isinstance(body["latency"], int)
    assert reply.headers["content-type"].startswith("application/json")


def test_output_levels(server: EmulatorServer):
    simple, normal, detail = (instance(server, output=o) for o in ("simple", "normal", "detail"))
    default = instance(server)
    basic = set(
        [
            "instanceName",
            "functionName",
            "functionType",
            "modelType",
            "source",
            "status",
            "versionId",
            "createTime",
            "description",
            "belongs",
            "usageParameters",
            "extendInfo",
        ]
    )
    assert set(simple) == basic
    assert set(normal) == basic | {"createParameters", "cron"}
    assert set(detail) == basic | {"createParameters", "cron", "task"}
    assert default == normal
    assert detail["task"]["dagStatus"] == "success" and detail["task"]["progress"] == 100
    assert detail["versionId"] == 3 and detail["status"] == "available"
    assert detail["belongs"] == {"domain": "ecommerce", "category": "general", "language": "zh"}
    assert detail["createParameters"] == [{"name": "param1", "value": "val1"}]
    assert detail["extendInfo"] == '{"dataReport":{},"errors":{}}'


def test_task_fields_and_types(server: EmulatorServer):
    reply = get(
        server.port, "GetFunctionTask", api_path("my_app", "ctr", "ctr_test", generation="3")
    )
    task = reply.json()["result"]
    assert set(task) == set(
        [
            "functionName",
            "generation",
            "runId",
            "status",
            "progress",
            "startTime",
            "endTime",
            "extendInfo",
        ]
    )
    assert task["generation"] == "3" and task["functionName"] == "ctr"
    assert task["endTime"] - task["startTime"] == 1_200_000
    assert task["extendInfo"] == '{"recall":91,"precision":88,"auc":0.87,"errors":[]}'


def test_list_defaults_to_the_latest_task(server: EmulatorServer):
    total, page = tasks(server)
    assert total == 3 and [t["generation"] for t in page] == ["3"]


def test_paging_newest_first(server: EmulatorServer, admin: EmulatorAdmin):
    admin.add_tasks("my_app", "ctr", "ctr_test", 7, metrics={"recall": 90})
    total, _ = tasks(server)
    assert total == 10
    seen: list[str] = []
    for page_number in range(1, 5):
        _, page = tasks(server, pageNumber=page_number, pageSize=3)
        seen += [t["generation"] for t in page]
    assert seen == [str(g) for g in range(10, 0, -1)]
    _, beyond = tasks(server, pageNumber=9, pageSize=3)
    assert beyond == []


def test_filters(server: EmulatorServer):
    path = api_path("my_app", "ctr", "ctr_broken", tasks=True)
    assert tasks(server, path, status="failed")[0] == 2
    assert tasks(server, path, status="success")[0] == 0
    _, [latest] = tasks(server, path)
    _, [oldest] = tasks(server, path, pageNumber=2)
    # startTime: strictly after; endTime: strictly before.
    assert tasks(server, path, startTime=oldest["startTime"])[0] == 1
    assert tasks(server, path, startTime=oldest["startTime"] - 1)[0] == 2
    assert tasks(server, path, endTime=latest["endTime"])[0] == 1
    assert tasks(server, path, endTime=latest["endTime"] + 1, pageSize=5)[0] == 2
    training = api_path("my_app", "ctr", "ctr_training", tasks=True)
    assert tasks(server, training, status="running")[0] == 1
    # A running task has not ended, so no endTime bound matches it.
    assert tasks(server, training, endTime=2**62, pageSize=5)[0] == 1


@pytest.mark.parametrize(
    ("action", "path", "query"),
    [
        ("GetFunctionInstance", INSTANCE, {"output": "full"}),
        ("ListFunctionTasks", TASKS, {"status": "done"}),
        ("ListFunctionTasks", TASKS, {"pageNumber": "one"}),
        ("ListFunctionTasks", TASKS, {"pageNumber": "0"}),
        ("ListFunctionTasks", TASKS, {"pageSize": "-1"}),
        ("ListFunctionTasks", TASKS, {"startTime": "yesterday"}),
    ],
)
def test_bad_parameters(server: EmulatorServer, action: str, path: str, query: dict):
    reply = get(server.port, action, path, query)
    assert reply.status == 400
    body = reply.json()
    assert set(body) == {"requestId", "httpCode", "code", "message"}
    assert (body["code"], body["httpCode"]) == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    ("action", "path", "code"),
    [
        ("GetFunctionInstance", api_path("nope", "ctr", "ctr_test"), "App.NotFound"),
        ("GetFunctionInstance", api_path("my_app", "ctr", "nope"), "Instance.NotExist"),
        ("GetFunctionInstance", api_path("my_app", "nope", "ctr_test"), "Instance.NotExist"),
        ("ListFunctionTasks", api_path("my_app", "ctr", "nope", tasks=True), "Instance.NotExist"),
        (
            "GetFunctionTask",
            api_path("my_app", "ctr", "ctr_test", generation="42"),
            "Task.NotExist",
        ),
        ("GetFunctionTask", api_path("my_app", "ctr", "ctr_test", generation="x"), "Task.NotExist"),
    ],
)
def test_not_found(server: EmulatorServer, action: str, path: str, code: str):
    reply = get(server.port, action, path)
    assert (reply.status, reply.json()["code"], reply.json()["httpCode"]) == (404, code, 404)


def test_pascal_casing(pascal_server: EmulatorServer):
    reply = get(pascal_server.port, "GetFunctionInstance", INSTANCE, {"output": "detail"})
    body = reply.json()
    assert {"Status", "RequestId", "HttpCode", "Code", "Message", "Latency", "Result"} == set(body)
    result = body["Result"]
    assert result["VersionId"] == 3 and result["Task"]["DagStatus"] == "success"
    assert result["Belongs"]["Domain"] == "ecommerce"
    assert result["CreateParameters"] == [{"Name": "param1", "Value": "val1"}]
    listed = get(pascal_server.port, "ListFunctionTasks", TASKS).json()
    assert listed["TotalCount"] == 3 and listed["Result"][0]["Generation"] == "3"
    missing = get(pascal_server.port, "GetFunctionInstance", api_path("my_app", "ctr", "x")).json()
    assert missing == {**missing, "Code": "Instance.NotExist", "HttpCode": 404}


def test_casing_switch_through_admin(server: EmulatorServer, admin: EmulatorAdmin):
    admin.set_casing("pascal")
    assert "Result" in get(server.port, "GetFunctionInstance", INSTANCE).json()
    admin.set_casing("camel")
    assert "result" in get(server.port, "GetFunctionInstance", INSTANCE).json()


def test_gateway_errors_are_pascal_even_in_camel(server: EmulatorServer):
    reply = get(server.port, "GetFunctionInstance", INSTANCE, secret="wrong")
    body = reply.json()
    assert reply.status == 400
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"]
    assert body["Code"] == "SignatureDoesNotMatch"
    assert body["HostId"] == "opensearch.cn-hangzhou.aliyuncs.com"


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_special_characters_in_names(server: EmulatorServer, scheme: str):
    names = ("my app", "f/1~*x", "inst ü+%")
    server.state.upsert_instance(*names, {"version_id": 7})
    server.state.add_tasks(*names, TaskBatch(count=2))
    path = api_path(*names)
    assert "my%20app" in path and "f%2F1~%2Ax" in path
    reply = get(server.port, "GetFunctionInstance", path, scheme=scheme)
    assert reply.json()["result"]["instanceName"] == "inst ü+%"
    reply = get(server.port, "GetFunctionTask", api_path(*names, generation="2"), scheme=scheme)
    assert reply.json()["result"]["generation"] == "2"


def test_unknown_routes(server: EmulatorServer):
    for method, path in [("GET", "/v4/openapi/app-groups/my_app"), ("POST", INSTANCE)]:
        raw = build("GetFunctionInstance", path)
        raw.method = method
        reply = send(server.port, raw)
        assert (reply.status, reply.code) == (404, "InvalidAction.NotFound")


def test_ram_denies_unlisted_actions(server: EmulatorServer, admin: EmulatorAdmin):
    admin.add_access_key("LTAI-reader", "reader-secret", actions=["GetFunctionInstance"])
    ok = get(server.port, "GetFunctionInstance", INSTANCE, ak="LTAI-reader", secret="reader-secret")
    assert ok.status == 200
    denied = get(server.port, "ListFunctionTasks", TASKS, ak="LTAI-reader", secret="reader-secret")
    assert (denied.status, denied.code) == (403, "Forbidden.RAM")


def test_keep_alive_serves_many_requests_on_one_connection(server: EmulatorServer):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for _ in range(20):
            raw = build("GetFunctionInstance", INSTANCE, ak=AK, secret=SECRET)
            conn.putrequest("GET", raw.target, skip_host=True, skip_accept_encoding=True)
            for name, value in raw.headers:
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            assert response.status == 200
            response.read()
        assert conn.sock is not None  # still the same, open connection
    finally:
        conn.close()


def test_ten_thousand_tasks_quickly(server: EmulatorServer, admin: EmulatorAdmin):
    admin.upsert_instance("my_app", "ctr", "big", status="available")
    first, last = admin.add_tasks("my_app", "ctr", "big", 10_000, metrics={"auc": 0.8})
    assert (first, last) == (1, 10_000)
    path = api_path("my_app", "ctr", "big", tasks=True)
    total, [latest] = tasks(server, path)
    assert (total, latest["generation"]) == (10_000, "10000")
    for number in (1, 50, 100):
        _, page = tasks(server, path, pageNumber=number, pageSize=100)
        assert page[0]["generation"] == str(10_000 - (number - 1) * 100)
    assert tasks(server, path, status="failed")[0] == 0


def test_nonce_replay_over_http_and_reset(server: EmulatorServer, admin: EmulatorAdmin):
    raw = build("GetFunctionInstance", INSTANCE)
    assert send(server.port, raw).status == 200
    replay = send(server.port, raw)
    assert (replay.status, replay.code) == (400, "SignatureNonceUsed")
    admin.reset_nonces()
    assert send(server.port, raw).status == 200
