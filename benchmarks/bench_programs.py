"""1,000 Pulumi programs one after another in one process: threads and descriptors.

The Automation API runs an inline program in the process that calls it, on a fresh
event loop that it closes at the end (`pulumi.automation._server`). This runs N such
programs the same way, without the Pulumi CLI: the engine is mocked
(`tests/program/harness.py`), and each program constructs one `FunctionInstance`,
whose read goes to an emulator served from this process over loopback. After 1, 10,
100, 1000 ... programs it prints the threads and open file descriptors of the process
(counted after `gc.collect()`: the mocked engine leaves garbage event loops in its
worker threads), the clients in the client cache and the requests per program.
Exits 1 when the counts grow after the first 10 programs (by more than 8), or a
program sends anything but its two requests.

    .venv/bin/python benchmarks/bench_programs.py [--programs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulumi

from pulumi_opensearch_fn import FunctionInstance
from pulumi_opensearch_fn.core import clients
from pulumi_opensearch_fn.emulator import EmulatorServer, SimClock, sample_state
from tests.program.harness import (
    AK,
    APP,
    FN,
    READY,
    SECRET,
    SECRET_KEYS,
    Program,
    RecordingMocks,
)

SLACK = 8


def counts() -> tuple[int, int]:
    gc.collect()
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


def run_one(program: Program, index: int) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    program.mocks = RecordingMocks()
    try:
        program.run(lambda: FunctionInstance(f"model-{index}", APP, FN, READY))
    finally:
        loop.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    args = parser.parse_args()
    marks = {1, *(10**k for k in range(1, 7) if 10**k <= args.programs), args.programs}
    logger = logging.getLogger("bench.programs")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    clock = SimClock(frozen_ms=int(time.time() * 1000))
    failed = False
    with EmulatorServer(sample_state(clock), host="127.0.0.1") as server, server.admin() as admin:
        os.environ["PULUMI_CONFIG"] = json.dumps(
            {
                "opensearch-fn:endpoint": server.url,
                "opensearch-fn:accessKeyId": AK,
                "opensearch-fn:accessKeySecret": SECRET,
            }
        )
        os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(SECRET_KEYS)
        program = Program(RecordingMocks(), logger)
        print(f"{'programs':>8} {'threads':>7} {'fds':>5} {'clients':>7} {'requests':>8} {'s':>6}")
        started = time.perf_counter()
        first: tuple[int, int] | None = None
        for index in range(1, args.programs + 1):
            run_one(program, index)
            if index in marks:
                threads, fds = counts()
                requests = admin.counts()["requests"].get("total", 0)
                cached = len(clients._clients)
                took = time.perf_counter() - started
                print(f"{index:>8} {threads:>7} {fds:>5} {cached:>7} {requests:>8} {took:>6.1f}")
                if index >= 10:
                    first = first or (threads, fds)
                    grew = threads > first[0] + SLACK or fds > first[1] + SLACK
                    failed = failed or grew or cached > 1 or requests != 2 * index
        pulumi.runtime.reset_options()
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
