"""Benchmarks for the dynamic providers, driven over gRPC as the engine drives them.

    .venv/bin/python benchmarks/bench_provider.py [--reads 100] [--threads 16] [--rounds 11]

Each provider process is a real `python -m pulumi.dynamic` server (tests/provider/harness.py)
talking to an in-process emulator on 127.0.0.1; one provider process is one engine run.

1. Requests per resource per run, counted at the emulator, for the program's read (which
   `tests/provider/harness.program_inputs` runs as the program does) and the provider's
   calls together: at most 1 GetFunctionInstance and 1 ListFunctionTasks (pageSize=1); one
   more ListFunctionTasks (the latest successful task) only when a success-based
   expectation needs it and the latest task did not succeed; twice that with --refresh
   (the refresh reads in the provider, the program reads again).
2. Connections: --reads Read calls in one provider process open at most 4 TCP
   connections, counted as connections accepted by the emulator's listening socket and
   cross-checked against the provider's sockets in /proc; Check calls open none.
3. Cold start: provider process start to first Check answered, ours vs a provider whose
   `check` returns its inputs, medians of --rounds fresh processes each, interleaved
   (Check is what every preview and up calls; the first Read is reported beside it).

Prints each figure with its target and PASS/FAIL; exits 1 on any FAIL.
"""

# The module top level stays light: the baseline provider processes import this module.
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pulumi.dynamic import CheckResult, ReadResult, ResourceProvider

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP, FN, INST = "my_app", "ctr", "ctr_test"
FAILED_INST = "ctr_latest_failed"  # three successful tasks, then a failed one
AK_ID, AK_SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
ECHO_TYPE = "pulumi-python:dynamic/bench:Echo"
MAX_CONNECTIONS = 4
COLD_START_TARGET = 1.2

results: list[bool] = []


class EchoProvider(ResourceProvider):
    """The baseline: a dynamic provider whose `check` and `read` return their inputs."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


def report(name: str, value: str, target: str, ok: bool) -> None:
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}  (target: {target})", flush=True)


def need(ok: bool, problem: str) -> None:
    if not ok:
        raise RuntimeError(problem)


def note(text: str) -> None:
    print(f"      {text}", flush=True)


# -- plumbing ------------------------------------------------------------------------


def harness_module() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.provider import harness

    return harness


def provider_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}


class AcceptCounter:
    """Wraps the emulator's listening socket: records the peer of every accepted connection."""

    def __init__(self, server: Any) -> None:
        httpd = server._httpd  # the running socketserver; its get_request does accept()
        if httpd is None:
            raise RuntimeError("the emulator is not started")
        self._lock = threading.Lock()
        self._peers: list[tuple[str, int]] = []
        accept = httpd.get_request

        def get_request() -> tuple[Any, Any]:
            conn, addr = accept()
            with self._lock:
                self._peers.append((str(addr[0]), int(addr[1])))
            return conn, addr

        httpd.get_request = get_request

    def reset(self) -> None:
        with self._lock:
            self._peers.clear()

    def peers(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._peers)


def sockets_to(pid: int, port: int) -> dict[int, str]:
    """Local port -> TCP state of the process's sockets whose remote port is `port`."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    states = {"01": "ESTABLISHED", "06": "TIME_WAIT", "08": "CLOSE_WAIT"}
    found: dict[int, str] = {}
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], cols[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == port:
                found[int(local.rsplit(":", 1)[1], 16)] = states.get(state, state)
    return found


def request_counts(server: Any) -> tuple[int, int, list[str], int]:
    """(GetFunctionInstance, ListFunctionTasks, the List queries, other requests)."""
    entries = server.log.entries()
    gets = sum(1 for e in entries if e.action == "GetFunctionInstance")
    lists = [e.query for e in entries if e.action == "ListFunctionTasks"]
    return gets, len(lists), lists, len(entries) - gets - len(lists)


# -- 1. requests per resource per run ------------------------------------------------


def bench_request_counts(server: Any, config: dict[str, str]) -> None:
    from urllib.parse import parse_qs

    h = harness_module()
    env = provider_env()
    strip = h.strip_provider
    instance = {"app_group": APP, "function_name": FN}
    t_inst, t_task = h.INSTANCE_TYPE, h.TASK_TYPE
    plan: list[tuple[str, str, str, dict[str, Any], bool]] = [
        # (type, label, instance, expect, whether the latest *successful* task needs a read)
        (t_inst, "no expectation", INST, {}, False),
        (t_inst, "status only", INST, {"status": "available"}, False),
        (t_inst, "min_generation, latest task succeeded", INST, {"min_generation": 3}, False),
        (t_inst, "status only, latest task failed", FAILED_INST, {"status": "available"}, False),
        (t_inst, "min_generation, latest task failed", FAILED_INST, {"min_generation": 3}, True),
        (t_task, 'generation "latest"', INST, {}, False),
    ]

    def inputs_of(type_: str, name: str, expect: dict[str, Any]) -> dict[str, Any]:
        if type_ == h.TASK_TYPE:
            return {**instance, "instance_name": name, "requested_generation": "latest"}
        return {**instance, "instance_name": name, **({"expect": expect} if expect else {})}

    def program(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """What the program registers: its read runs here, as in `pulumi up`."""
        return dict(h.program_inputs(type_, inputs, config))

    def deploy(process: Any, type_: str, inputs: dict[str, Any]) -> tuple[str, dict, dict]:
        checked, failures = process.check(type_, program(type_, inputs))
        if failures:
            raise RuntimeError(f"check failed: {failures}")
        id_, outs = process.create(type_, strip(checked))
        return id_, strip(checked), strip(outs)

    def new(process: Any, type_: str, inputs: dict[str, Any], _stored: Any) -> None:
        deploy(process, type_, inputs)

    def up(process: Any, type_: str, inputs: dict[str, Any], stored: Any) -> None:
        id_, stored_inputs, outs = stored
        checked, failures = process.check(type_, program(type_, inputs), stored_inputs)
        need(not failures, f"Check failed: {failures}")
        process.diff(type_, id_, outs, strip(checked))

    def refresh(process: Any, type_: str, _inputs: dict[str, Any], stored: Any) -> None:
        id_, stored_inputs, outs = stored
        new_id, refreshed, _ = process.read(type_, id_, outs)
        need(new_id == id_, f"Read {id_} answered {new_id!r}")
        process.diff(type_, id_, strip(refreshed), stored_inputs)

    def up_refresh(process: Any, type_: str, inputs: dict[str, Any], stored: Any) -> None:
        refresh(process, type_, inputs, stored)
        up(process, type_, inputs, stored)

    sequences = [  # (name, run, reads allowed)
        ("new (program, Check, Create)", new, 1),
        ("up, existing (program, Check, Diff)", up, 1),
        ("refresh (Read, Diff)", refresh, 1),
        ("up/preview --refresh (Read, Diff, program, Check, Diff)", up_refresh, 2),
    ]
    # The state a previous run left: deployed once, in a process of its own.
    stored: list[tuple[str, dict, dict]] = []
    with h.ProviderProcess(env) as process:
        process.configure(config)
        for type_, _, name, expect, _ in plan:
            stored.append(deploy(process, type_, inputs_of(type_, name, expect)))

    for (type_, label, name, expect, needs_success), state in zip(plan, stored, strict=True):
        kind = type_.rsplit(":", 1)[1]
        for seq_name, run, reads in sequences:
            gets_allowed = 0 if type_ == h.TASK_TYPE else reads
            lists_allowed = (2 if needs_success else 1) * reads
            server.log.clear()
            with h.ProviderProcess(env) as process:  # one engine run
                process.configure(config)
                run(process, type_, inputs_of(type_, name, expect), state)
            gets, lists, queries, others = request_counts(server)
            params = [parse_qs(q) for q in queries]
            page_one = all(p.get("pageSize") == ["1"] for p in params)
            success_lists = sum(1 for p in params if p.get("status") == ["success"])
            ok = (
                gets <= gets_allowed
                and lists <= lists_allowed
                and page_one
                and success_lists <= (reads if needs_success else 0)
                and others == 0
            )
            value = f"{gets} Get, {lists} List"
            if success_lists:
                value += f" ({success_lists} with status=success)"
            if not page_one:
                value += f", pageSize not 1: {queries}"
            if others:
                value += f", {others} other request(s)"
            target = f"<= {gets_allowed} Get, <= {lists_allowed} List, pageSize=1"
            report(f"{kind} {seq_name}, {label}", value, target, ok)


# -- 2. connections -------------------------------------------------------------------


def bench_connections(server: Any, admin: Any, config: dict[str, str], reads: int,
                      threads: int) -> None:  # fmt: skip
    from concurrent.futures import ThreadPoolExecutor

    h = harness_module()
    env = provider_env()
    counter = AcceptCounter(server)
    names = [f"conn_{i:03d}" for i in range(reads)]
    for name in names:
        admin.upsert_instance(APP, FN, name, status="available", version_id=1)
        admin.add_tasks(APP, FN, name, 1, metrics={"recall": 91})

    def read(process: Any, name: str) -> None:
        id_ = f"{APP}/{FN}/{name}"
        new_id, outs, _ = process.read(h.INSTANCE_TYPE, id_, None, inputs={})
        need(new_id == id_ and outs["status"] == "available", f"Read {id_}: {new_id!r}")

    sent = {
        name: h.program_inputs(
            h.INSTANCE_TYPE, {"app_group": APP, "function_name": FN, "instance_name": name}, config
        )
        for name in names
    }

    def check(process: Any, name: str) -> None:
        _, failures = process.check(h.INSTANCE_TYPE, sent[name])
        need(not failures, f"Check failed: {failures}")

    for label, call, workers, per_call in (
        ("Read calls, one after another", read, 1, 2),
        (f"Read calls from {threads} threads", read, threads, 2),
        (f"Check calls on {reads} resources from {threads} threads", check, threads, 0),
    ):
        with h.ProviderProcess(env) as process:
            process.configure(config)
            server.log.clear()
            counter.reset()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda n, p=process, c=call: c(p, n), names))
            took = time.perf_counter() - started
            peers = counter.peers()
            held = sockets_to(process.proc.pid, server.port)
            requests = server.log.counts().get("total", 0)
        ours = all(port in held for _, port in peers)
        note(
            f"{label}: {requests} requests in {took:.2f} s; the provider process holds"
            f" {len(held)} socket(s) to the emulator ({', '.join(sorted(set(held.values())))});"
            f" every accepted peer is one of them: {'yes' if ours else 'no'}"
        )
        allowed = MAX_CONNECTIONS if per_call else 0
        ok = len(peers) <= allowed and requests == per_call * reads
        report(
            f"TCP connections for {reads} {label}",
            f"{len(peers)} accepted by the emulator",
            f"<= {allowed}, {per_call * reads} requests",
            ok,
        )


# -- 3. cold start --------------------------------------------------------------------


def bench_cold_start(config: dict[str, str], rounds: int) -> None:
    import statistics

    # This file as an importable module, so the provider class pickles by name.
    import bench_provider
    from pulumi.dynamic.dynamic import serialize_provider

    h = harness_module()
    h.BLOBS[ECHO_TYPE] = serialize_provider(bench_provider.EchoProvider())
    env = provider_env()
    instance_id = f"{APP}/{FN}/{INST}"

    def once(type_: str, id_: str, inputs: dict[str, Any]) -> tuple[float, float, float]:
        """Seconds to the port line, to the first Check answered, to the first Read answered."""
        started = time.perf_counter()
        process = h.ProviderProcess(env)
        listening = time.perf_counter() - started
        try:
            process.configure(config)
            checked, failures = process.check(type_, inputs)
            checked_at = time.perf_counter() - started
            new_id, _, _ = process.read(type_, id_, None, inputs={})
            answered = time.perf_counter() - started
        finally:
            process.close()
        if failures or new_id != id_ or (type_ == ECHO_TYPE and checked.get("echo") != "yes"):
            raise RuntimeError(f"unexpected answers from {type_}: {failures} {new_id!r}")
        return listening, checked_at, answered

    ours_inputs = h.program_inputs(
        h.INSTANCE_TYPE,
        {"app_group": APP, "function_name": FN, "instance_name": INST,
         "expect": {"status": "available", "min_generation": 1}},
        config,
    )  # fmt: skip
    sides: dict[str, tuple[str, str, dict[str, Any]]] = {
        "ours": (h.INSTANCE_TYPE, instance_id, ours_inputs),
        "echo": (ECHO_TYPE, "echo-1", {**ours_inputs, "echo": "yes"}),
    }
    for side in sides.values():  # warm the file cache and bytecode; not counted
        once(*side)
    times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in sides}
    for i in range(rounds):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            times[name].append(once(*sides[name]))
    med = {
        name: tuple(statistics.median(t[i] for t in values) for i in range(3))
        for name, values in times.items()
    }
    for name, label in (("ours", "FunctionInstance provider"), ("echo", "echo provider")):
        note(
            f"{label}: port printed after {med[name][0] * 1000:.0f} ms, first Check answered"
            f" after {med[name][1] * 1000:.0f} ms, first Read after {med[name][2] * 1000:.0f} ms"
            " (medians; Check runs: " + ", ".join(f"{t[1] * 1000:.0f}" for t in times[name]) + ")"
        )
    ratio = med["ours"][1] / med["echo"][1]
    report(
        f"cold start to first Check, medians of {rounds} fresh processes each, interleaved",
        f"{med['ours'][1] * 1000:.0f} ms vs {med['echo'][1] * 1000:.0f} ms = {ratio:.2f}x",
        f"<= {COLD_START_TARGET}x",
        ratio <= COLD_START_TARGET,
    )
    note(
        f"first Read (refresh; imports the HTTP client): {med['ours'][2] / med['echo'][2]:.2f}x"
        " the echo provider's (no target)"
    )


def main() -> int:
    import argparse

    from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=100, help="reads in the connection test")
    parser.add_argument("--threads", type=int, default=16, help="client threads for those")
    parser.add_argument("--rounds", type=int, default=11, help="cold starts per side")
    options = parser.parse_args()
    if options.reads < 1 or options.threads < 1 or options.rounds < 1:
        parser.error("--reads, --threads and --rounds must be at least 1")
    # Only the stack config below may supply settings to the provider processes.
    for key in list(os.environ):
        if key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")):
            del os.environ[key]

    with EmulatorServer(sample_state(), host="127.0.0.1", port=0) as server, \
            server.admin() as admin:  # fmt: skip
        admin.upsert_instance(APP, FN, FAILED_INST, status="available", version_id=3)
        admin.add_tasks(APP, FN, FAILED_INST, 3, metrics={"recall": 91})
        admin.add_tasks(APP, FN, FAILED_INST, 1, status="failed")
        config = {
            "opensearch-fn:endpoint": server.url,
            "opensearch-fn:accessKeyId": AK_ID,
            "opensearch-fn:accessKeySecret": AK_SECRET,
        }
        bench_request_counts(server, config)
        bench_connections(server, admin, config, options.reads, options.threads)
        bench_cold_start(config, options.rounds)
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
