"""`opensearch-fn check` against the emulator's quota (requests per second, per access
key and action, as the service enforces it): every read succeeds, the run never has
more requests in flight than its ceiling (measured at the emulator, from each
request's arrival to its answer), and it says once that it backed off (the pace it learned)."""

from __future__ import annotations

from pathlib import Path

from pulumi_opensearch_fn.emulator import EmulatorServer
from pulumi_opensearch_fn.emulator.faults import LogEntry

from .conftest import APP, FN

# Said once per change, on the debug log without `--wait`: the pace learned.
BACKED_OFF = "OpenSearch API throttling GetFunctionInstance: at most "


def most_in_flight(entries: list[LogEntry]) -> int:
    """The most requests the emulator served at once: each from its arrival (its end less
    the time it took) to its answer; an answer at the instant another arrives comes first."""
    events = sorted(
        [(e.time - e.latency_ms / 1000, 1) for e in entries] + [(e.time, -1) for e in entries]
    )
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_under_a_quota_every_read_succeeds_within_the_ceiling(
    cli, server: EmulatorServer, tmp_path: Path
) -> None:
    count, ceiling = 30, 6
    for i in range(count):
        server.state.upsert_instance(APP, FN, f"q_{i:02d}", {"status": "available"})
    listing = tmp_path / "fleet.txt"
    listing.write_text("".join(f"{APP} {FN} q_{i:02d}\n" for i in range(count)))
    with server.admin() as admin:
        admin.inject_fault("latency", latency_ms=20)  # every request: overlaps are seen
        admin.set_rate_limit(10, 1.0)  # 60 requests, 30 per action, at 10 per second each
    server.log.clear()

    ran = cli("--endpoint", server.url, "--debug", "check", "-f", str(listing),
              "--status", "available", "--concurrency", str(ceiling))  # fmt: skip

    assert ran.code == 0, ran.err[-2000:]  # no read failed
    counts = server.log.counts()
    assert counts["answered:GetFunctionInstance"] == count
    assert counts["answered:ListFunctionTasks"] + counts.get("throttled:ListFunctionTasks", 0) > 0
    throttled = sum(v for k, v in counts.items() if k.startswith("throttled:"))
    assert throttled > 0  # the quota was reached: what the limiter answered
    assert most_in_flight(server.log.entries()) <= ceiling
    said = [line.partition(": ")[2] for line in ran.err.splitlines() if " DEBUG " in line]
    limits = [line for line in said if line.startswith("OpenSearch API throttling")]
    assert any(line.startswith(BACKED_OFF) for line in limits), ran.err[-2000:]
    assert len(limits) == len(set(limits))  # once per change, never per request
