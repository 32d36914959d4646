"""The three operations over real HTTP: both signatures, STS, both casings, odd names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.api import NO_RETRY, Credentials, OpenSearchFunctionClient
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, sample_state

from .conftest import AK, APP, FN, INST, STS


@pytest.fixture(params=["camel", "pascal"])
def any_server(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), casing=request.param) as srv:
        yield srv


@pytest.mark.parametrize("signature", ["v3", "roa"])
@pytest.mark.parametrize("creds", [AK, STS], ids=["ak", "sts"])
def test_three_operations(any_server: EmulatorServer, signature: str, creds: Credentials) -> None:
    with OpenSearchFunctionClient(
        endpoint=any_server.url, credentials=creds, signature=signature,  # type: ignore[arg-type]
        retry=NO_RETRY,
    ) as client:  # fmt: skip
        inst = client.get_function_instance(Identity(APP, FN, INST), output="detail")
        assert inst.instance_name == INST
        assert inst.function_name == FN
        assert inst.version_id == 3
        assert inst.status == "available"
        assert inst.cron == "0 3 * * *"
        assert inst.task is not None
        assert inst.request_id

        tasks = list(client.list_function_tasks(Identity(APP, FN, INST)))
        assert tasks
        assert [t.generation for t in tasks] == sorted((t.generation for t in tasks), reverse=True)
        starts = [t.start_time_ms or 0 for t in tasks]
        assert starts == sorted(starts, reverse=True)

        task = client.get_function_task(Identity(APP, FN, INST, tasks[-1].generation))
        assert task.generation == tasks[-1].generation
        assert task.function_name == FN
        assert task.status == tasks[-1].status

        latest = client.get_latest_function_task(Identity(APP, FN, INST))
        assert latest is not None
        assert latest.generation == tasks[0].generation

    log = any_server.log.entries()
    assert len(log) == 4
    assert {e.scheme for e in log} == {signature}
    assert {e.status for e in log} == {200}
    assert {e.token for e in log} == {creds.security_token is not None}
    assert [e.action for e in log] == [
        "GetFunctionInstance", "ListFunctionTasks", "GetFunctionTask", "ListFunctionTasks",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("my app", "my%20app"),
        ("inst/1~*x", "inst%2F1~%2Ax"),
        ("a*b", "a%2Ab"),
        ("模型 ü", "%E6%A8%A1%E5%9E%8B%20%C3%BC"),
    ],
)
@pytest.mark.parametrize("signature", ["v3", "roa"])
def test_odd_names_reach_the_emulator(
    server: EmulatorServer, admin: EmulatorAdmin, name: str, encoded: str, signature: str
) -> None:
    admin.upsert_instance(name, name, name, status="available", version_id=7)
    admin.add_tasks(name, name, name, 3)
    with OpenSearchFunctionClient(
        endpoint=server.url, credentials=AK, signature=signature,  # type: ignore[arg-type]
        retry=NO_RETRY,
    ) as client:  # fmt: skip
        inst = client.get_function_instance(Identity(name, name, name))
        assert inst.instance_name == name
        assert inst.function_name == name
        assert inst.version_id == 7
        tasks = list(client.list_function_tasks(Identity(name, name, name), page_size=2))
        assert len(tasks) == 3
        task = client.get_function_task(Identity(name, name, name, tasks[0].generation))
        assert task.generation == tasks[0].generation
    base = f"/v4/openapi/app-groups/{encoded}/functions/{encoded}/instances/{encoded}"
    paths = [e["path"] for e in admin.requests()]
    assert paths[0] == base
    assert paths[1] == paths[2] == base + "/tasks"
    assert paths[3] == f"{base}/tasks/{tasks[0].generation}"
    assert {e["status"] for e in admin.requests()} == {200}


def test_query_on_the_wire(client: OpenSearchFunctionClient, admin: EmulatorAdmin) -> None:
    client.list_function_tasks_page(
        Identity(APP, FN, INST),
        status="success",
        start_time=1000,
        end_time=2000,
        page_number=2,
        page_size=3,
    )
    (entry,) = admin.requests()
    assert entry["status"] == 200
    pairs = dict(p.split("=", 1) for p in entry["query"].split("&"))
    assert pairs == {
        "status": "success", "startTime": "1000", "endTime": "2000",
        "pageNumber": "2", "pageSize": "3",
    }  # fmt: skip


def test_paging_reads_total_count_in_both_casings(any_server: EmulatorServer) -> None:
    with any_server.admin() as admin:
        admin.add_tasks(APP, FN, INST, 4)
    with OpenSearchFunctionClient(
        endpoint=any_server.url, credentials=AK, retry=NO_RETRY
    ) as client:
        page = client.list_function_tasks_page(Identity(APP, FN, INST), page_size=2)
        assert page.total_count == 7
        assert len(list(client.list_function_tasks(Identity(APP, FN, INST), page_size=2))) == 7
    assert len(any_server.log.entries()) == 1 + 4
