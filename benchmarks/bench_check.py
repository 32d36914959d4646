"""`opensearch-fn check` of 50 instances versus a sequential loop over the official SDK.

Both sides do the same reads per instance (GetFunctionInstance, output=detail, and
ListFunctionTasks with pageSize=1) against one emulator that adds 20 ms to every
request, and both are timed as whole processes (start-up and imports included).
Target: the CLI's median wall time is at most 0.25 x the SDK loop's. Exits 1 on FAIL.

    .venv/bin/python benchmarks/bench_check.py [--instances 50] [--latency-ms 20] [--runs 5]
        [--concurrency N (default: the command's own default)]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pulumi_opensearch_fn.cli.args import DEFAULT_CONCURRENCY
from pulumi_opensearch_fn.emulator import EmulatorServer, FaultSpec, sample_state

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
APP, FUNCTION = "bench", "ctr"
TARGET = 0.25

SDK_LOOP = """
import sys
from alibabacloud_opensearch20171225 import models
from alibabacloud_opensearch20171225.client import Client
from alibabacloud_tea_openapi.models import Config

endpoint, path = sys.argv[1], sys.argv[2]
client = Client(Config(access_key_id=sys.argv[3], access_key_secret=sys.argv[4],
                       endpoint=endpoint, protocol="http"))
ready = 0
for line in open(path):
    app, function, instance = line.split()
    got = client.get_function_instance(
        app, function, instance, models.GetFunctionInstanceRequest(output="detail"))
    tasks = client.list_function_tasks(
        app, function, instance, models.ListFunctionTasksRequest(page_size=1))
    ready += got.body.result.status == "available" and len(tasks.body.result) == 1
sys.exit(0 if ready == sum(1 for _ in open(path)) else 1)
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{argv[:4]} ... failed with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    options = parser.parse_args()

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_"))}  # fmt: skip
    env.update(ALIBABA_CLOUD_ACCESS_KEY_ID=AK, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
               NO_PROXY="127.0.0.1,localhost")  # fmt: skip
    # PascalCase: what the SDK's models read; our client reads either casing.
    with EmulatorServer(sample_state(), host="127.0.0.1", casing="pascal") as server, \
            server.admin() as admin, tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        names = [f"model_{i:03d}" for i in range(options.instances)]
        for name in names:
            admin.upsert_instance(APP, FUNCTION, name, status="available", version_id=1)
            admin.add_tasks(APP, FUNCTION, name, 3, metrics={"recall": 91})
        listing = Path(tmp) / "instances.txt"
        listing.write_text("".join(f"{APP} {FUNCTION} {n}\n" for n in names))
        server.faults.add(FaultSpec("latency", latency_ms=options.latency_ms))

        ours = [sys.executable, "-m", "pulumi_opensearch_fn.cli", "--endpoint", server.url,
                "check", "--instances-file", str(listing), "--status", "available"]  # fmt: skip
        if options.concurrency != DEFAULT_CONCURRENCY:
            ours += ["--concurrency", str(options.concurrency)]
        sdk = [sys.executable, "-c", SDK_LOOP, server.endpoint, str(listing), AK, SECRET]
        cli_times: list[float] = []
        sdk_times: list[float] = []
        for run in range(options.runs):
            # Alternate the order so neither side always runs on a warmer machine.
            pair = [(ours, cli_times), (sdk, sdk_times)]
            for argv, into in pair if run % 2 == 0 else reversed(pair):
                server.log.clear()
                into.append(timed(argv, env))
                requests = server.log.counts().get("total", 0)
                if requests != 2 * options.instances:
                    sys.exit(f"expected {2 * options.instances} requests, the emulator saw"
                             f" {requests}")  # fmt: skip

    cli_median, sdk_median = statistics.median(cli_times), statistics.median(sdk_times)
    ratio = cli_median / sdk_median
    print(f"{options.instances} instances, 2 reads each, {options.latency_ms} ms added per"
          f" request, {options.runs} runs (median wall time of whole processes)")  # fmt: skip
    print(
        f"  opensearch-fn check (concurrency {options.concurrency}): {cli_median:6.3f} s     "
        f"(runs: {', '.join(f'{t:.3f}' for t in cli_times)})"
    )
    print(
        f"  official SDK, sequential loop:         {sdk_median:6.3f} s  "
        f"(runs: {', '.join(f'{t:.3f}' for t in sdk_times)})"
    )
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"  ratio {ratio:.3f} (target <= {TARGET}): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
