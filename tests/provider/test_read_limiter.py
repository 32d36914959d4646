"""A provider process's reads (refresh, `get`, import) hold slots of one limiter, as a
program's do: the engine calls `Read` for every resource of a refresh at once, and
at most `opensearch-fn:maxConcurrentReads` requests are in flight (measured at the
server); under the service's limit they back off, and none fails."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ..hostile import HostileServer, healthy
from .conftest import KEY_ID, KEY_SECRET
from .harness import INSTANCE_TYPE, ProviderProcess, program_inputs, strip_provider

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
READS = 12


@pytest.fixture
def server(hostile: HostileServer) -> HostileServer:
    healthy(hostile)
    return hostile


def refresh_all_at_once(server: HostileServer, ceiling: int) -> list[tuple]:
    config = {"opensearch-fn:endpoint": server.url, "opensearch-fn:accessKeyId": KEY_ID,
              "opensearch-fn:accessKeySecret": KEY_SECRET,
              "opensearch-fn:maxConcurrentReads": str(ceiling)}  # fmt: skip
    with ProviderProcess() as process:
        process.configure(config)
        checked, failures = process.check(INSTANCE_TYPE, program_inputs(INSTANCE_TYPE, CTR, config))
        assert failures == []
        id_, outs = process.create(INSTANCE_TYPE, strip_provider(checked))
        server.arrivals.clear()
        with ThreadPoolExecutor(READS) as engine:
            reads = [
                engine.submit(process.read, INSTANCE_TYPE, id_, strip_provider(outs))
                for _ in range(READS)
            ]
            return [read.result(timeout=120) for read in reads]


def test_refresh_reads_in_a_provider_process_share_its_ceiling(server: HostileServer):
    """Answers wait until four are in flight (or a moment passes): twelve reads at once
    would get there, a ceiling of three does not."""
    server.hold(0.3, until_in_flight=4)

    refreshed = refresh_all_at_once(server, 3)

    assert [id_ for id_, _, _ in refreshed] == ["my_app/ctr/ctr_test"] * READS
    assert len(server.arrivals) == 2 * READS
    assert server.peak == 3


def test_refresh_reads_back_off_under_the_services_limit_and_none_fails(server: HostileServer):
    server.throttle_above(2)
    server.hold(0.2)  # what the engine asks at once is in flight together

    refreshed = refresh_all_at_once(server, 8)

    assert len(refreshed) == READS  # every read succeeded
    assert server.throttled > 0
    arrivals = server.arrivals
    assert max(a.in_flight for a in arrivals[len(arrivals) // 2 :]) <= 3
