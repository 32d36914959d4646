"""Paging request counts (counted at the emulator) and the debug log."""

from __future__ import annotations

import logging
import math

import pytest

from pulumi_opensearch_fn.api import OpenSearchFunctionClient
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.emulator import EmulatorAdmin

from .conftest import APP, FN, INST, STS, MakeClient


def api_requests(admin: EmulatorAdmin) -> list[dict[str, object]]:
    return admin.requests()


@pytest.mark.parametrize(("extra", "page_size"), [(0, 50), (97, 10), (100, 25), (247, 100)])
def test_full_listing_request_count(
    client: OpenSearchFunctionClient, admin: EmulatorAdmin, extra: int, page_size: int
) -> None:
    if extra:
        admin.add_tasks(APP, FN, INST, extra)
    admin.clear_requests()
    tasks = list(client.list_function_tasks(Identity(APP, FN, INST), page_size=page_size))
    n = len(tasks)
    assert n >= 3 + extra
    assert len({t.generation for t in tasks}) == n
    log = admin.requests()
    assert len(log) == max(1, math.ceil(n / page_size))
    assert {e["status"] for e in log} == {200}
    assert all(f"pageSize={page_size}" in str(e["query"]) for e in log)


def test_latest_task_is_one_request_with_10000_tasks(
    client: OpenSearchFunctionClient, admin: EmulatorAdmin
) -> None:
    _, last = admin.add_tasks(APP, FN, INST, 10_000)
    admin.clear_requests()
    latest = client.get_latest_function_task(Identity(APP, FN, INST))
    assert latest is not None
    assert latest.generation == last
    (entry,) = admin.requests()
    assert "pageSize=1" in str(entry["query"])
    assert entry["status"] == 200


@pytest.mark.parametrize(("limit", "page_size", "pages"), [(1, 50, 1), (7, 3, 3), (120, 50, 3)])
def test_limit_bounds_requests(
    client: OpenSearchFunctionClient, admin: EmulatorAdmin, limit: int, page_size: int, pages: int
) -> None:
    admin.add_tasks(APP, FN, INST, 1000)
    admin.clear_requests()
    tasks = list(
        client.list_function_tasks(Identity(APP, FN, INST), page_size=page_size, limit=limit)
    )
    assert len(tasks) == limit
    assert len(admin.requests()) == pages


def test_lazy_listing_sends_nothing_until_iterated(
    client: OpenSearchFunctionClient, admin: EmulatorAdmin
) -> None:
    iterator = client.list_function_tasks(Identity(APP, FN, INST))
    assert admin.requests() == []
    next(iterator)
    assert len(admin.requests()) == 1


@pytest.mark.parametrize("signature", ["v3", "roa"])
def test_debug_log(
    make_client: MakeClient,
    admin: EmulatorAdmin,
    caplog: pytest.LogCaptureFixture,
    signature: str,
) -> None:
    from .conftest import FAST

    admin.inject_fault("error", count=1, status=503)
    client = make_client(credentials=STS, signature=signature, retry=FAST)
    with caplog.at_level(logging.DEBUG, logger="pulumi_opensearch_fn.api"):
        inst = client.get_function_instance(Identity(APP, FN, INST))
    records = [r for r in caplog.records if r.name.startswith("pulumi_opensearch_fn.api")]
    text = "\n".join(r.getMessage() for r in records)
    path = f"/v4/openapi/app-groups/{APP}/functions/{FN}/instances/{INST}"
    assert f"GetFunctionInstance {path} -> 503" in text
    assert f"GetFunctionInstance {path} -> 200 request_id={inst.request_id} attempt=2" in text
    assert "attempt=1" in text
    assert "latency=" in text
    assert "retrying" in text
    full = caplog.text + text
    for secret in (STS.access_key_secret, STS.security_token or ""):
        assert secret not in full
