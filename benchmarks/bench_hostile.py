"""The client under hostile answers: every call bounded, nothing lost.

    python benchmarks/bench_hostile.py [--calls N]

Mixed-fault load: N GetFunctionInstance calls from 4 threads against the hostile
test server (tests/hostile.py), each request answered at random (seeded) with a
good answer or one of ten faults: 503, throttling with Retry-After, a closed
connection, a dripping body, a gzip bomb, an endless body, an error code in a
200, a redirect, a null result, a NaN. A call is *lost* when it returns anything
but the right instance without raising the package's own error, or raises anything
else. A call is *bounded* when it ends within its deadline plus one read timeout
(the most a single read may block past it). Then three single attacks: a 1 byte/s
drip with a 5 s deadline, a 1 GiB gzip bomb, and a server announcing 10^12 tasks.

Prints each figure with its target and PASS/FAIL; exits 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from pulumi_opensearch_fn.api.identity import Identity

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_opensearch_fn.api import (  # noqa: E402
    BadResponseError,
    Credentials,
    DeadlineExceededError,
    OpenSearchFnError,
    OpenSearchFunctionClient,
    RetryPolicy,
)
from pulumi_opensearch_fn.api.client import MAX_PAGES  # noqa: E402
from tests.hostile import (  # noqa: E402
    INSTANCE,
    HostileServer,
    Pager,
    Reply,
    Seen,
    dripping,
    endless,
    envelope,
    good_instance,
    gzip_bomb,
    json_reply,
    redirect,
    service_error,
)

APP, FN, INST = "my_app", "ctr", "ctr_test"
KEY = Credentials("LTAI-bench-hostile", "bench-hostile-secret-value")
THREADS = 4
DEADLINE = 2.0
READ_TIMEOUT = 1.0
CAP = 1 << 20

results: list[bool] = []


def report(name: str, value: str, target: str, ok: bool) -> None:
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}  (target: {target})", flush=True)


def faults() -> dict[str, Reply]:
    busy = service_error("ServiceUnavailable", "busy", 503)
    throttled = service_error("Throttling.User", "slow down", 429)
    body = json.dumps(envelope(result=INSTANCE)).encode()
    return {
        "503": busy,
        "throttled+retry-after": Reply(
            429, throttled.body, (*throttled.headers, ("retry-after", "0.05"))
        ),
        "closed": Reply(interim=(100,), final=False),
        "drip": dripping(body, every=0.2),
        "gzip-bomb": gzip_bomb(64),
        "endless": endless(),
        "error-in-200": json_reply({"code": "InternalError", "message": "boom"}),
        "redirect": redirect("/elsewhere"),
        "null-result": json_reply(envelope(result=None)),
        "nan": Reply(200, body.replace(b'"versionId": 3', b'"versionId": NaN')),
    }


class MixedFaults:
    """Half the answers good, the rest one of the faults, chosen by a seeded draw."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.faults = faults()
        self.good = good_instance()
        self.served: collections.Counter[str] = collections.Counter()

    def __call__(self, _seen: Seen) -> Reply:
        with self.lock:
            name = "good" if self.random.random() < 0.5 else self.random.choice(list(self.faults))
            self.served[name] += 1
        return self.good if name == "good" else self.faults[name]


def bench_mixed_faults(calls: int) -> None:
    route = MixedFaults()
    outcomes: collections.Counter[str] = collections.Counter()
    lost: list[str] = []
    slowest = 0.0
    lock = threading.Lock()
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.1, deadline=DEADLINE)
    with HostileServer() as server:
        server.serve(route)
        client = OpenSearchFunctionClient(
            endpoint=server.url,
            credentials=KEY,
            retry=policy,
            read_timeout=READ_TIMEOUT,
            max_response_bytes=CAP,
            max_connections=THREADS,
        )
        todo = iter(range(calls))

        def work() -> None:
            nonlocal slowest
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                started = time.monotonic()
                try:
                    found = client.get_function_instance(Identity(APP, FN, INST))
                    outcome = "ok" if found.version_id == 3 else "WRONG RESULT"
                except OpenSearchFnError as error:
                    outcome = type(error).__name__
                except Exception as error:  # anything else is a loss
                    outcome = f"UNEXPECTED {type(error).__name__}"
                took = time.monotonic() - started
                with lock:
                    outcomes[outcome] += 1
                    slowest = max(slowest, took)
                    if outcome.isupper() or outcome.startswith("UNEXPECTED"):
                        lost.append(outcome)

        started = time.monotonic()
        threads = [threading.Thread(target=work, daemon=True) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=calls * (DEADLINE + READ_TIMEOUT))
        wall = time.monotonic() - started
        client.close()
        requests = len(server.requests)
    done = sum(outcomes.values())
    bound = DEADLINE + READ_TIMEOUT
    print(
        f"      {calls} calls, {THREADS} threads, {requests} requests in {wall:.1f} s;"
        f" answers served: {dict(sorted(route.served.items()))}"
    )
    print(f"      outcomes: {dict(sorted(outcomes.items()))}")
    report("mixed-fault calls finished", f"{done} of {calls}", "all", done == calls)
    report("mixed-fault calls lost", str(len(lost)), "0", not lost)
    report(
        "slowest call vs its bound",
        f"{slowest:.2f} s / {bound:.1f} s = {slowest / bound:.2f}",
        "<= 1",
        slowest <= bound,
    )


def bench_drip() -> None:
    with HostileServer() as server:
        body = json.dumps(envelope(result=INSTANCE)).encode()
        server.serve(dripping(body, every=1.0))
        deadline = 5.0
        client = OpenSearchFunctionClient(
            endpoint=server.url,
            credentials=KEY,
            retry=RetryPolicy(deadline=deadline),
        )
        started = time.monotonic()
        try:
            client.get_function_instance(Identity(APP, FN, INST))
            outcome = "answered"
        except DeadlineExceededError:
            outcome = "DeadlineExceededError"
        took = time.monotonic() - started
        client.close()
    report(
        "1 byte/s drip, 5 s deadline",
        f"{outcome} after {took:.2f} s ({took / deadline:.2f}x the deadline)",
        "DeadlineExceededError within 1.25x",
        outcome == "DeadlineExceededError" and took <= 1.25 * deadline,
    )


def bench_gzip_bomb() -> None:
    with HostileServer() as server:
        bomb = gzip_bomb(1024)
        server.serve(bomb)
        client = OpenSearchFunctionClient(endpoint=server.url, credentials=KEY)
        tracemalloc.start()
        try:
            client.get_function_instance(Identity(APP, FN, INST))
            outcome = "answered"
        except BadResponseError:
            outcome = "BadResponseError"
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        cap = client.max_response_bytes
        client.close()
    report(
        f"gzip bomb, {len(bomb.body) / 1e6:.1f} MB inflating to 1 GiB",
        f"{outcome}, peak {peak / 2**20:.1f} MiB traced vs a {cap / 2**20:.0f} MiB cap"
        f" ({peak / cap:.2f}x)",
        "BadResponseError, peak <= 4x the cap",
        outcome == "BadResponseError" and peak <= 4 * cap,
    )


def bench_endless_paging() -> None:
    with HostileServer() as server:
        pager = Pager(total=10**12)
        server.serve(pager)
        client = OpenSearchFunctionClient(endpoint=server.url, credentials=KEY)
        listed = 0
        try:
            for _ in client.list_function_tasks(Identity(APP, FN, INST), page_size=100):
                listed += 1
            outcome = "ended"
        except BadResponseError:
            outcome = "BadResponseError"
        client.close()
    report(
        "listing a server announcing 10^12 tasks",
        f"{outcome} after {len(pager.pages)} pages ({listed} tasks)",
        f"BadResponseError after {MAX_PAGES} pages",
        outcome == "BadResponseError" and len(pager.pages) == MAX_PAGES,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    bench_mixed_faults(args.calls)
    bench_drip()
    bench_gzip_bomb()
    bench_endless_paging()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
