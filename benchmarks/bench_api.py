"""Benchmarks for the API client, measured side by side in one run.

    python benchmarks/bench_api.py

Prints each figure with its target and PASS/FAIL; exits 1 on any FAIL.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from pulumi_opensearch_fn.api.identity import Identity

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.emulator.process import RunningEmulator

IMPORT_ROUNDS = 9
CPU_BATCHES = 21
CPU_BATCH_SIZE = 100
HISTORY = 10_000
APP, FN, INST = "my_app", "ctr", "ctr_test"
AK_ID, AK_SECRET = "LTAI-emulator-demo", "emulator-demo-secret"

results: list[bool] = []


def report(name: str, value: str, target: str, ok: bool) -> None:
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}  (target: {target})", flush=True)


def import_seconds(module: str) -> float:
    code = (
        "import time; t = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return float(out.stdout.strip())


def bench_import() -> None:
    ours: list[float] = []
    sdk: list[float] = []
    for _ in range(IMPORT_ROUNDS):  # interleaved fresh interpreters
        ours.append(import_seconds("pulumi_opensearch_fn.api"))
        sdk.append(import_seconds("alibabacloud_opensearch20171225.client"))
    mine, theirs = statistics.median(ours), statistics.median(sdk)
    ratio = mine / theirs
    print(
        f"      import pulumi_opensearch_fn.api median {mine * 1000:.1f} ms,"
        f" import alibabacloud_opensearch20171225.client median {theirs * 1000:.1f} ms"
        f" ({IMPORT_ROUNDS} fresh subprocesses each, interleaved)"
    )
    report("import time ratio", f"{ratio:.3f}x", "<= 0.4x", ratio <= 0.4)


@contextmanager
def emulator(casing: str) -> Iterator[RunningEmulator]:
    """The emulator in its own process, so its CPU time is not counted here."""
    from tests.emulator.process import emulator_process

    with emulator_process("--port", "0", "--casing", casing) as running:
        if not running.url.startswith("http://"):
            raise RuntimeError(f"the emulator did not start: {running.url!r}")
        yield running


def cpu_per_call(fn: Callable[[], object], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - started) / n


def bench_cpu() -> None:
    from alibabacloud_opensearch20171225 import models as sdk_models
    from alibabacloud_opensearch20171225.client import Client as SdkClient
    from alibabacloud_tea_openapi.models import Config

    from pulumi_opensearch_fn.api import NO_RETRY, Credentials, OpenSearchFunctionClient

    with emulator("camel") as camel, emulator("pascal") as pascal:
        url, pascal_url = camel.url, pascal.url
        transport = httpx.HTTPTransport()
        client = OpenSearchFunctionClient(
            endpoint=url,
            credentials=Credentials(AK_ID, AK_SECRET),
            retry=NO_RETRY,
            transport=transport,
        )
        bare = httpx.Client(transport=transport)
        instance_url = (
            f"{url}/v4/openapi/app-groups/{APP}/functions/{FN}/instances/{INST}?output=detail"
        )
        sdk = SdkClient(
            Config(
                access_key_id=AK_ID,
                access_key_secret=AK_SECRET,
                endpoint=pascal_url.removeprefix("http://"),
                protocol="http",
            )
        )
        request = sdk_models.GetFunctionInstanceRequest(output="detail")

        def ours() -> object:
            return client.get_function_instance(Identity(APP, FN, INST), output="detail")

        def raw() -> object:
            return bare.get(instance_url).content

        def official() -> object:
            answer = sdk.get_function_instance(APP, FN, INST, request)
            assert answer.body.result.instance_name == INST
            return answer

        # Warm up and check every path answers.
        assert ours().version_id == 3  # type: ignore[attr-defined]
        status = bare.get(instance_url).status_code
        official()
        for fn in (ours, raw, official):
            cpu_per_call(fn, 20)
        mine: list[float] = []
        plain: list[float] = []
        theirs: list[float] = []
        for _ in range(CPU_BATCHES):  # interleaved batches
            mine.append(cpu_per_call(ours, CPU_BATCH_SIZE))
            plain.append(cpu_per_call(raw, CPU_BATCH_SIZE))
            theirs.append(cpu_per_call(official, CPU_BATCH_SIZE))
        client.close()
        bare.close()
        transport.close()
    m, p, t = (statistics.median(x) * 1e6 for x in (mine, plain, theirs))
    print(
        f"      CPU per GetFunctionInstance (median of {CPU_BATCHES} interleaved batches of"
        f" {CPU_BATCH_SIZE}): client {m:.0f} us, bare httpx.Client.get {p:.0f} us"
        f" (unsigned, emulator answers {status}), official SDK {t:.0f} us"
        f" ({t / p:.2f}x bare, {t / m:.2f}x client)"
    )
    report("client CPU vs bare httpx", f"{m / p:.2f}x", "<= 1.5x", m / p <= 1.5)


def bench_request_counts() -> None:
    from pulumi_opensearch_fn.api import NO_RETRY, Credentials, OpenSearchFunctionClient

    with (
        emulator("camel") as running,
        running.admin() as admin,
        OpenSearchFunctionClient(
            endpoint=running.url, credentials=Credentials(AK_ID, AK_SECRET), retry=NO_RETRY
        ) as client,
    ):
        _, last = admin.add_tasks(APP, FN, INST, HISTORY)
        admin.clear_requests()
        latest = client.get_latest_function_task(Identity(APP, FN, INST))
        sent = admin.counts()["requests"].get("total", 0)
        ok = sent == 1 and latest is not None and latest.generation == last
        report(f"latest task with {HISTORY} tasks of history", f"{sent} request(s)", "1", ok)
        for page_size in (50, 100):
            admin.clear_requests()
            n = sum(
                1 for _ in client.list_function_tasks(Identity(APP, FN, INST), page_size=page_size)
            )
            sent = admin.counts()["requests"].get("total", 0)
            want = math.ceil(n / page_size)
            report(
                f"full listing of {n} tasks, page size {page_size}",
                f"{sent} requests",
                f"ceil(n / page size) = {want}",
                sent == want,
            )


def main() -> int:
    bench_import()
    bench_cpu()
    bench_request_counts()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
