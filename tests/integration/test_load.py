"""Bounded load: 50 threads, 10,000 signed requests, retries off, nothing lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.api import NO_RETRY, OpenSearchFunctionClient
from pulumi_opensearch_fn.api.identity import Identity

from ..emulator.process import RunningEmulator, emulator_process
from .conftest import AK, APP, FN, INST, STS

THREADS = 50
TOTAL = 10_000
PER_THREAD = TOTAL // THREADS


@pytest.fixture
def external() -> Iterator[RunningEmulator]:
    """The emulator in its own process, so client and server do not share one GIL."""
    with emulator_process("--port", "0") as running:
        assert running.url.startswith("http://127.0.0.1:")
        yield running


def test_50_threads_10000_requests(external: RunningEmulator) -> None:
    external_url = external.url
    shared = OpenSearchFunctionClient(
        endpoint=external_url, credentials=AK, retry=NO_RETRY, max_connections=THREADS
    )
    failures: list[str] = []
    done = [0] * THREADS
    lock = threading.Lock()

    def worker(index: int) -> None:
        # Even threads share one client; odd threads have their own (STS, ROA on some).
        own = None
        if index % 2:
            own = OpenSearchFunctionClient(
                endpoint=external_url,
                credentials=STS if index % 4 == 1 else AK,
                signature="roa" if index % 4 == 3 else "v3",
                retry=NO_RETRY,
                max_connections=1,
            )
        client = own or shared
        try:
            for i in range(PER_THREAD):
                kind = i % 3
                if kind == 0:
                    inst = client.get_function_instance(Identity(APP, FN, INST), output="detail")
                    ok = inst.instance_name == INST and inst.version_id == 3
                elif kind == 1:
                    task = client.get_function_task(Identity(APP, FN, INST, 2))
                    ok = task.generation == 2 and task.function_name == FN
                else:
                    latest = client.get_latest_function_task(Identity(APP, FN, INST))
                    ok = latest is not None and latest.generation == 3
                if not ok:
                    raise AssertionError(f"thread {index} request {i}: wrong answer")
                done[index] += 1
        except Exception as exc:
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            if own is not None:
                own.close()

    with external.admin() as admin:
        admin.clear_requests()
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.monotonic() - started
        shared.close()
        assert not any(t.is_alive() for t in threads), "worker threads hung"
        assert failures == []
        assert sum(done) == TOTAL
        counts = admin.counts()["requests"]
    print(f"{TOTAL} requests from {THREADS} threads in {elapsed:.1f}s")
    assert counts["total"] == TOTAL
    assert counts["status:200"] == TOTAL
