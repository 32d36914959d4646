"""One limiter per `opensearch-fn` run: 32 requests in flight by default and never
more (measured at the server); under the service's limit it backs off, grows back
once the throttling stops, and says each change once on the progress stream; Ctrl-C
leaves no thread behind, even one told by the service to come back later."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import pytest

from ..hostile import HostileServer, Reply, fleet, service_error
from .conftest import FN

BACKED_OFF = "OpenSearch API throttling: at most "
RECOVERED = "OpenSearch API no longer throttling: back to {} requests in flight"


@pytest.fixture
def server(hostile: HostileServer) -> HostileServer:
    fleet(hostile)
    return hostile


def listing(tmp_path: Path, count: int) -> str:
    path = tmp_path / "fleet.txt"
    path.write_text("".join(f"fleet {FN} model_{i:02d}\n" for i in range(count)))
    return str(path)


def test_the_default_ceiling_is_32_reached_and_never_exceeded(cli, server, tmp_path):
    """Answers wait until 32 are in flight (or a second passes)."""
    server.hold(1.0, until_in_flight=32)

    ran = cli("--endpoint", server.url, "--json", "check", "-f", listing(tmp_path, 64),
              "--status", "available")  # fmt: skip

    assert ran.code == 0, ran.err
    assert len(server.arrivals) == 2 * 64
    assert server.peak == 32


def test_it_backs_off_under_the_limit_and_grows_back_once_throttling_stops(cli, server, tmp_path):
    ceiling, limit, count = 8, 2, 60
    server.throttle_above(limit, at_most=10)
    server.hold(0.1, until_in_flight=ceiling)  # a slow service: sent at once, in flight at once

    ran = cli("--endpoint", server.url, "check", "-f", listing(tmp_path, count),
              "--status", "available", "--concurrency", str(ceiling),
              "--wait", "--timeout", "5m", "--interval", "1s")  # fmt: skip

    assert ran.code == 0, ran.err  # no read failed
    assert server.throttled == 10
    lines = ran.err.splitlines()
    backed_off = [line for line in lines if line.startswith(BACKED_OFF)]
    assert backed_off, ran.err
    assert len(backed_off) == len(set(backed_off))  # once per change, never per request
    assert all(line.endswith(f"(of {ceiling}); throttled requests are retried")
               for line in backed_off)  # fmt: skip
    assert lines.count(RECOVERED.format(ceiling)) == 1
    assert lines.index(RECOVERED.format(ceiling)) > lines.index(backed_off[-1])
    arrivals = server.arrivals
    last_throttled = max(i for i, a in enumerate(arrivals) if a.throttled)
    assert max(a.in_flight for a in arrivals[last_throttled + 1 :]) == ceiling, ran.err
    assert server.peak <= ceiling + 1  # the one beyond the limit's answer aside


def test_ctrl_c_leaves_no_thread_behind(cli, server, tmp_path):
    """Every read is throttled with `Retry-After: 30`: when Ctrl-C comes, each worker
    is pausing before its next try (or queued for a slot); every one ends now."""
    throttled = service_error("Throttling.User", "slow down", 400)
    again = Reply(throttled.status, throttled.body, (*throttled.headers, ("retry-after", "30")))
    for action in ("GetFunctionInstance", "ListFunctionTasks"):
        server.serve(again, action=action)
    before = set(threading.enumerate())

    def interrupt() -> None:
        for _ in range(1000):
            if len(server.requests) >= 4:
                break
            time.sleep(0.01)
        _thread.interrupt_main()

    helper = threading.Thread(target=interrupt, daemon=True)
    helper.start()
    ran = cli("--endpoint", server.url, "check", "-f", listing(tmp_path, 4),
              "--status", "available")  # fmt: skip
    helper.join(timeout=30)

    assert ran.code == 130, ran
    assert len(server.requests) >= 4
    started = [t for t in threading.enumerate() if t not in before and t is not helper]
    assert started  # the run's workers, whatever state they are in
    joined_by = time.monotonic() + 10  # well before a pause of 30 s could end
    for thread in started:
        thread.join(timeout=max(0.0, joined_by - time.monotonic()))
    assert [t.name for t in started if t.is_alive()] == []
