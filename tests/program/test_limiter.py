"""One limiter per program: its resources' reads and its data sources share the
requests in flight (`opensearch-fn:maxConcurrentReads`, the ceiling, never exceeded
at the server); under the service's limit it backs off to it and no read fails,
saying so once per change on the engine's log; closing the program's pool ends every
thread it had, even one told by the service to come back later."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import FunctionInstance
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.core.config import resolve_settings
from pulumi_opensearch_fn.reads import ReadPool

from ..hostile import HostileServer, Reply, fleet, service_error
from .harness import AK, APP, FN, SECRET, settle

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
BACKED_OFF = "OpenSearch API throttling: at most "


@pytest.fixture
def server(hostile: HostileServer) -> HostileServer:
    fleet(hostile)
    return hostile


@pytest.fixture
def configure(bare_program, set_stack_config, server: HostileServer):
    def apply(ceiling: int) -> None:
        set_stack_config(
            {
                "opensearch-fn:endpoint": server.url,
                "opensearch-fn:accessKeyId": AK,
                "opensearch-fn:accessKeySecret": SECRET,
                "opensearch-fn:maxConcurrentReads": str(ceiling),
            }
        )

    return apply


def test_resources_and_data_sources_share_the_programs_ceiling(
    bare_program, configure, mocks, server: HostileServer
):
    """Answers wait until five are in flight (or a moment passes): four resources'
    reads and four data sources would get there, one ceiling of four does not."""
    configure(4)
    server.hold(0.3, until_in_flight=5)

    async def body() -> list:
        resources = [FunctionInstance(f"model-{i}", APP, FN, f"inst_{i}") for i in range(4)]
        sources = [fn.get_function_instance_output(APP, FN, f"src_{i}") for i in range(4)]
        return [resources, [await settle(source) for source in sources]]

    _, sources = bare_program.run(body, preview=True)

    assert [s.value.instance_name for s in sources] == [f"src_{i}" for i in range(4)]
    assert len(mocks.registered(INSTANCE_TYPE)) == 4
    assert len(server.arrivals) == 4 * 2 + 4
    assert server.peak == 4  # shared, and used to the full


def test_under_the_services_limit_reads_back_off_to_it_and_none_fails(
    bare_program, configure, mocks, engine_log, server: HostileServer
):
    limit, ceiling, count = 3, 16, 20
    configure(ceiling)
    server.throttle_above(limit)
    server.hold(0.2)  # what the program sends at once is in flight together

    bare_program.run(
        lambda: [FunctionInstance(f"model-{i}", APP, FN, f"inst_{i}") for i in range(count)],
        preview=True,
    )

    registered = mocks.registered(INSTANCE_TYPE)
    assert len(registered) == count
    assert all(r.inputs["gate"] == {"action": "pass"} for r in registered)
    assert server.throttled > 0
    assert server.peak <= ceiling
    # Backed off in a few halvings: by the second half of the run, it probes at most
    # one above the limit before it is cut again.
    arrivals = server.arrivals
    assert max(a.in_flight for a in arrivals[len(arrivals) // 2 :]) <= limit + 1
    lines = [m for m in engine_log.messages(logging.INFO) if m.startswith(BACKED_OFF)]
    assert lines, engine_log.messages()
    assert len(lines) == len(set(lines))  # once per change, never per request
    lowest = min(int(line.removeprefix(BACKED_OFF).split()[0]) for line in lines)
    assert lowest <= limit


def test_closing_a_programs_pool_leaves_no_thread_behind(server: HostileServer):
    """Every read is throttled with `Retry-After: 30`, so each thread is pausing (or
    queued for a slot) when the pool closes, as when the next program starts after a
    failing one: every one of them ends now, not 30 seconds later."""
    throttled = service_error("Throttling.User", "slow down", 400)
    server.serve(Reply(throttled.status, throttled.body, (*throttled.headers,
                                                          ("retry-after", "30"))),
                 action="GetFunctionInstance")  # fmt: skip
    before = set(threading.enumerate())
    pool = ReadPool(4)
    client = pool.client(
        resolve_settings(
            {
                "opensearch-fn:endpoint": server.url,
                "opensearch-fn:accessKeyId": AK,
                "opensearch-fn:accessKeySecret": SECRET,
            },
            {},
        )
    )
    loop = asyncio.new_event_loop()
    try:
        for i in range(8):
            pool.start(
                lambda i=i: client.get_function_instance(Identity(APP, FN, f"inst_{i}")), loop
            )
        for _ in range(500):  # every slot taken and answered: the threads now pause
            if len(server.requests) >= 4:
                break
            time.sleep(0.01)
        assert len(server.requests) >= 4
        pool.close()
        started = [t for t in threading.enumerate() if t not in before]
        assert started
        joined_by = time.monotonic() + 10  # well before a pause of 30 s could end
        for thread in started:
            thread.join(timeout=max(0.0, joined_by - time.monotonic()))
        assert [t.name for t in started if t.is_alive()] == []
    finally:
        pool.close()
        loop.close()
