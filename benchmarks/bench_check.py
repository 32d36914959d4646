"""`opensearch-fn check` against the emulator: versus the official SDK, at scale, rate-limited.

Cases (`--cases`, comma separated; default `compare,check-1000`):

- compare: 50 instances (`--instances`), the same reads per instance on both sides
  (GetFunctionInstance, output=detail, and ListFunctionTasks with pageSize=1) against
  one emulator that adds 20 ms to every request, versus a sequential loop over the
  official SDK; both timed as whole processes (start-up and imports included).
  Target: the CLI's median wall time is at most 0.25 x the SDK loop's. Exits 1 on FAIL.
- check-1000: `opensearch-fn check` of 1,000 instances (every tenth) of an emulator
  holding 10,000, with the same added latency: the wall time, and the CPU time (wait4)
  and peak RSS (its VmHWM, written at its exit) of the CLI's process.
- rate-limited (with `--rate-limit 20/1s`): the emulator runs as `opensearch-fn
  emulator --rate-limit ...` and `opensearch-fn check` reads `--instances` instances
  through it: the wall time, the exit code, the requests and the throttled answers
  the emulator counted. An emulator without the option is named, and only this case
  skipped.

    .venv/bin/python benchmarks/bench_check.py [--cases compare,check-1000] [--instances 50]
        [--latency-ms 20] [--runs 5] [--concurrency N (default: the command's own default)]
        [--rate-limit N/Ps]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import secrets
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_opensearch_fn.cli.args import DEFAULT_CONCURRENCY
from pulumi_opensearch_fn.emulator import (
    EmulatorAdmin,
    EmulatorServer,
    FaultSpec,
    parse_state,
    sample_state,
    sample_state_data,
)
from pulumi_opensearch_fn.emulator.admin_api import TOKEN_ENV
from pulumi_opensearch_fn.emulator.quota import parse_rate

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulator.process import stop  # noqa: E402

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
APP, FUNCTION = "bench", "ctr"
TARGET = 0.25
COMPARE, CHECK_1000, RATE_LIMITED = "compare", "check-1000", "rate-limited"
CASES = (COMPARE, CHECK_1000, RATE_LIMITED)
DEFAULT_CASES = [COMPARE, CHECK_1000]  # and rate-limited, with --rate-limit
CHECKED, STORED = 1_000, 10_000  # check-1000: instances checked, instances the emulator holds
CLI = [sys.executable, "-m", "pulumi_opensearch_fn.cli"]
PROCESS_TIMEOUT = 600.0  # seconds for one timed process
START_TIMEOUT = 60.0  # seconds for the emulator process to print its URL

# Runs the CLI as `python -m` does, and at exit writes its peak RSS to the file named by its
# first argument: VmHWM, its own memory's high-water mark since exec. Not wait4's ru_maxrss:
# a spawned process's starts at its parent's RSS (this process, holding 10,000 instances).
MEASURED_CLI = """
import atexit, resource, runpy, sys

def peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # no /proc: the rusage figure, an upper bound
        kib = str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    with open(path, "w") as out:
        out.write(kib)

path = sys.argv.pop(1)
atexit.register(peak)
sys.argv[0] = "opensearch-fn"
runpy.run_module("pulumi_opensearch_fn.cli", run_name="__main__", alter_sys=True)
"""

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


@dataclass(frozen=True)
class Run:
    """One timed process: wall time, exit code, its CPU time (user and system), its peak
    RSS (when it reported one) and the tail of its stderr."""

    seconds: float
    code: int
    cpu: float
    peak_kib: int | None
    stderr: str


def run_process(argv: list[str], env: Mapping[str, str], peak: Path | None = None) -> Run:
    """Runs `argv` to its end; wait4 gives this child's own CPU time, which RUSAGE_CHILDREN,
    summed over every child ever waited for, would not. `peak`: where it writes its peak RSS."""
    if peak is not None:
        peak.unlink(missing_ok=True)
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        killer = threading.Timer(PROCESS_TIMEOUT, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        took = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    peak_kib = int(peak.read_text()) if peak is not None and peak.exists() else None
    return Run(took, proc.returncode, usage.ru_utime + usage.ru_stime, peak_kib, tail)


def timed(argv: list[str], env: Mapping[str, str]) -> float:
    run = run_process(argv, env)
    if run.code != 0:
        sys.exit(f"{argv[:4]} ... failed with {run.code}:\n{run.stderr}")
    return run.seconds


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_"))}  # fmt: skip
    env.update(ALIBABA_CLOUD_ACCESS_KEY_ID=AK, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
               NO_PROXY="127.0.0.1,localhost")  # fmt: skip
    return env


def names(count: int) -> list[str]:
    return [f"model_{i:05d}" for i in range(count)]


def state_data(count: int) -> dict[str, Any]:
    """The sample state plus `count` instances under APP/FUNCTION, each a copy of the
    sample's trained instance (three successful tasks)."""
    data = sample_state_data()
    template = data["appGroups"]["my_app"]["functions"]["ctr"]["instances"]["ctr_test"]
    instances = {name: copy.deepcopy(template) for name in names(count)}
    data["appGroups"][APP] = {"functions": {FUNCTION: {"instances": instances}}}
    return data


def write_listing(path: Path, instances: list[str]) -> Path:
    path.write_text("".join(f"{APP} {FUNCTION} {n}\n" for n in instances))
    return path


def check_argv(
    endpoint: str, listing: Path, concurrency: int, peak: Path | None = None
) -> list[str]:
    """`opensearch-fn check` of the listed instances; with `peak`, run to write its peak RSS."""
    cli = CLI if peak is None else [*CLI[:1], "-c", MEASURED_CLI, str(peak)]
    argv = [*cli, "--endpoint", endpoint, "check", "--instances-file", str(listing),
            "--status", "available"]  # fmt: skip
    if concurrency != DEFAULT_CONCURRENCY:
        argv += ["--concurrency", str(concurrency)]
    return argv


def runs_line(runs: list[Run]) -> str:
    return ", ".join(f"{r.seconds:.3f}" for r in runs)


def mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def compare(options: argparse.Namespace, env: dict[str, str], tmp: Path) -> bool:
    """The CLI against the SDK's sequential loop; True when it meets its target."""
    # PascalCase: what the SDK's models read; our client reads either casing.
    with EmulatorServer(sample_state(), host="127.0.0.1", casing="pascal") as server, \
            server.admin() as admin:  # fmt: skip
        instances = [f"model_{i:03d}" for i in range(options.instances)]
        for name in instances:
            admin.upsert_instance(APP, FUNCTION, name, status="available", version_id=1)
            admin.add_tasks(APP, FUNCTION, name, 3, metrics={"recall": 91})
        listing = write_listing(tmp / "compare.txt", instances)
        server.faults.add(FaultSpec("latency", latency_ms=options.latency_ms))

        ours = check_argv(server.url, listing, options.concurrency)
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
    print(f"{COMPARE}: {options.instances} instances, 2 reads each, {options.latency_ms} ms added"
          f" per request, {options.runs} runs (median wall time of whole processes)")  # fmt: skip
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
    return verdict == "PASS"


def check_1000(options: argparse.Namespace, env: dict[str, str], tmp: Path) -> None:
    """1,000 of 10,000 instances: time and the CLI's peak memory."""
    started = time.perf_counter()
    state = parse_state(state_data(STORED), "bench state")
    built = time.perf_counter() - started
    listing = write_listing(tmp / "check-1000.txt", names(STORED)[:: STORED // CHECKED])
    runs: list[Run] = []
    with EmulatorServer(state, host="127.0.0.1") as server:
        server.faults.add(FaultSpec("latency", latency_ms=options.latency_ms))
        peak = tmp / "check-1000.peak"
        argv = check_argv(server.url, listing, options.concurrency, peak)
        for _ in range(options.runs):
            server.log.clear()
            run = run_process(argv, env, peak)
            requests = server.log.counts().get("total", 0)
            if run.code != 0 or requests != 2 * CHECKED:
                sys.exit(f"{CHECK_1000}: exit {run.code}, {requests} requests (expected"
                         f" {2 * CHECKED}):\n{run.stderr}")  # fmt: skip
            runs.append(run)
    print(
        f"{CHECK_1000}: opensearch-fn check of {CHECKED} instances, the emulator holding"
        f" {STORED} (state built in {built:.1f} s), 2 reads each, {options.latency_ms} ms"
        f" added per request, concurrency {options.concurrency}, {options.runs} runs"
    )
    print(
        f"  wall time: median {statistics.median(r.seconds for r in runs):.3f} s"
        f" (runs: {runs_line(runs)})"
    )
    peaks = [r.peak_kib for r in runs if r.peak_kib is not None]
    print(
        f"  peak RSS of the CLI process (VmHWM): median"
        f" {mib(statistics.median(peaks) if peaks else None)}"
        f" (runs: {', '.join(mib(r.peak_kib) for r in runs)})"
    )
    cpu = [r.cpu for r in runs]
    print(
        f"  CPU time of the CLI process (user + system): median {statistics.median(cpu):.3f} s"
        f" (runs: {', '.join(f'{c:.3f}' for c in cpu)})"
    )


def emulator_has_rate_limit(env: dict[str, str]) -> bool:
    usage = subprocess.run(
        [*CLI, "emulator", "--help"], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    return "--rate-limit" in usage.stdout


@contextmanager
def emulator_process(
    env: dict[str, str], tmp: Path, state_file: Path, rate_limit: str
) -> Iterator[tuple[str, EmulatorAdmin]]:
    """`opensearch-fn emulator --rate-limit ...` as a child: its URL and an admin client.
    The admin token goes through the environment, never the process list."""
    token = secrets.token_urlsafe(24)
    argv = [*CLI, "emulator", "--host", "127.0.0.1", "--port", "0", "--state", str(state_file),
            "--rate-limit", rate_limit]  # fmt: skip
    # Its log goes to a file: a pipe no one reads would stall it once full.
    log = tmp / "emulator.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            argv,
            env={**env, TOKEN_ENV: token},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        url = proc.stdout.readline().strip() if ready else ""
        if not url.startswith("http://"):
            proc.kill()
            sys.exit(f"the emulator did not start (exit {proc.wait()}):\n{log.read_text()}")
        with EmulatorAdmin(url, token) as admin:
            yield url, admin
    finally:
        stop(proc)


def throttled(counts: Mapping[str, Any]) -> int:
    """Answers the emulator logged with a throttling code (`code:Throttling...`)."""
    requests = counts.get("requests") or {}
    return sum(v for k, v in requests.items() if k.startswith("code:Throttling"))


def rate_limited(options: argparse.Namespace, env: dict[str, str], tmp: Path) -> None:
    """`check` through an emulator that throttles past `--rate-limit`."""
    if not emulator_has_rate_limit(env):
        print(f"{RATE_LIMITED}: skipped: the emulator lacks --rate-limit"
              " (`opensearch-fn emulator --help` does not list it)")  # fmt: skip
        return
    state_file = tmp / "rate-limited-state.json"
    state_file.write_text(json.dumps(state_data(options.instances)))
    listing = write_listing(tmp / "rate-limited.txt", names(options.instances))
    runs: list[tuple[Run, int, int, dict[str, Any]]] = []
    least: list[float] = []  # the time the quota allows the busiest action's requests
    with emulator_process(env, tmp, state_file, options.rate_limit) as (url, admin):
        if options.latency_ms:
            admin.inject_fault("latency", latency_ms=options.latency_ms)
        peak = tmp / "rate-limited.peak"
        argv = check_argv(url, listing, options.concurrency, peak)
        quota = parse_rate(options.rate_limit)
        for _ in range(options.runs):
            admin.clear_requests()
            admin.set_rate_limit(quota.requests, quota.period_s)  # each run starts full
            run = run_process(argv, env, peak)
            counts = admin.counts()
            # Any other figure the emulator's admin API gives about throttling, as it is.
            extra = {k: v for k, v in counts.items() if "throttl" in k.lower()}
            requests = counts.get("requests") or {}
            total = int(requests.get("total", 0))
            # What the quota must let through (answers, not the throttled tries).
            busiest = max((v for k, v in requests.items() if k.startswith("answered:")), default=0)
            runs.append((run, total, throttled(counts), extra))
            least.append(busiest * quota.period_s / quota.requests)
    print(
        f"{RATE_LIMITED}: opensearch-fn check of {options.instances} instances, emulator"
        f" --rate-limit {options.rate_limit}, {options.latency_ms} ms added per request,"
        f" concurrency {options.concurrency}, {options.runs} runs"
    )
    print(
        f"  wall time: median {statistics.median(r.seconds for r, *_ in runs):.3f} s"
        f" (runs: {runs_line([r for r, *_ in runs])})"
    )
    for i, (run, total, count, extra) in enumerate(runs, 1):
        also = f", admin API: {json.dumps(extra)}" if extra else ""
        bound = least[i - 1]
        ok = run.code == 0 and count <= 0.1 * total and run.seconds <= 1.3 * bound
        print(
            f"  run {i}: exit {run.code}, {total} requests, {count} throttled answers"
            f" ({count / max(total, 1):.1%}), {run.seconds:.2f} s = {run.seconds / bound:.2f}x"
            f" the {bound:.2f} s the quota allows, peak RSS {mib(run.peak_kib)}{also}:"
            f" exit 0, <= 10% throttled, <= 1.3x {'PASS' if ok else 'FAIL'}"
        )
        if run.code != 0:
            print("    " + "\n    ".join(run.stderr.strip().splitlines()[-3:]))


def case_list(text: str) -> list[str]:
    cases = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown or not cases:
        raise argparse.ArgumentTypeError(f"cases among {', '.join(CASES)}, got {text!r}")
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=case_list, default=DEFAULT_CASES)
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument(
        "--rate-limit", metavar="N/Ps", help="the rate-limited case's quota (also runs it)"
    )
    options = parser.parse_args()
    if options.instances < 1 or options.runs < 1 or options.latency_ms < 0:
        parser.error("--instances and --runs must be at least 1, --latency-ms not negative")

    env = clean_env()
    passed = True
    with tempfile.TemporaryDirectory() as tmp:
        if COMPARE in options.cases:
            passed = compare(options, env, Path(tmp))
        if CHECK_1000 in options.cases:
            check_1000(options, env, Path(tmp))
        if options.rate_limit or RATE_LIMITED in options.cases:
            options.rate_limit = options.rate_limit or "20/1s"
            rate_limited(options, env, Path(tmp))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
