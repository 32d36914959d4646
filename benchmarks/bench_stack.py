"""`pulumi preview` and `pulumi up` of 50 `FunctionInstance` resources versus the engine's floor.

Two Pulumi projects of the same shape run through the real Pulumi CLI (the one
`tests/e2e/harness.py` finds or builds), each in its own hermetic environment:

- ours: N `FunctionInstance` resources with `Expect(status="available",
  min_generation=1)`, each on its own instance in an emulator served from this
  process (loopback, sample state plus N instances with three successful tasks);
- floor: N `pulumi.dynamic.Resource` with a trivial provider (create returns an id
  and the inputs, diff reports no changes, read returns the inputs): no requests.
  Both providers are pickled by reference (the floor's lives in a module of its project).

Each round times, for both kinds in turn (the order alternates between rounds),
whole `pulumi` processes: `preview` on a new stack, `up --yes --skip-preview` on
that stack, then `preview --expect-no-changes` on the deployed stack; the stack is
then removed. `--latency-ms N` makes the emulator answer every request N ms late
(its latency fault: a round trip to a distant API). Targets, for each of the three
phases, the median of ours against the floor's: at most 1.15x at 0 ms, 1.25x up to
50 ms, 1.5x beyond (up to 200 ms). Exits 1 on FAIL. It also prints the least time any
program could take for the same reads (its first request's offset, then its requests
at 8 in flight), which says whether a target is reachable at that latency at all.

    .venv/bin/python benchmarks/bench_stack.py [--resources 50] [--rounds 7] [--latency-ms 0]
                                               [--max-concurrent-reads 8] [--timeout 180]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from harness import (
    PulumiCommandError,
    PulumiProject,
    engine_bin_dir,
    hermetic_env,
)

from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
APP, FUNCTION = "my_app", "ctr"
KINDS = ("ours", "floor")
DEFAULT_IN_FLIGHT = 32  # opensearch-fn:maxConcurrentReads by default
PHASES = ("preview (new stack)", "up (new stack)", "preview (deployed)")


def target_for(latency_ms: int) -> float:
    """The allowed ratio to the floor at that latency per request."""
    if latency_ms <= 0:
        return 1.15
    return 1.25 if latency_ms <= 50 else 1.5


OURS_PROGRAM = '''"""{count} FunctionInstance resources with expectations."""

import pulumi

from pulumi_opensearch_fn import Expect, FunctionInstance

resources = [
    FunctionInstance(
        f"model-{{i:03d}}",
        "{app}",
        "{function}",
        f"bench_{{i:03d}}",
        expect=Expect(status="available", min_generation=1),
    )
    for i in range({count})
]
pulumi.export("ids", [r.id for r in resources])
'''

# The trivial provider lives in a module of the project, so that, like ours, it is pickled by
# reference (a class in __main__ would be pickled by value, ~3 ms per resource in the program).
FLOOR_MODULE = '''"""A dynamic resource whose provider makes no request."""

import pulumi
import pulumi.dynamic


class TrivialProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        name = "/".join(props[k] for k in ("app_group", "function_name", "instance_name"))
        return pulumi.dynamic.CreateResult(name, props)

    def diff(self, _id: str, _olds: dict, _news: dict) -> pulumi.dynamic.DiffResult:
        return pulumi.dynamic.DiffResult(changes=False)

    def read(self, id_: str, props: dict) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, props)


class Trivial(pulumi.dynamic.Resource):
    def __init__(self, name: str, props: dict) -> None:
        super().__init__(TrivialProvider(), name, props)
'''

FLOOR_PROGRAM = '''"""{count} trivial dynamic resources: the same shape, no requests."""

import pulumi

from trivial import Trivial

resources = [
    Trivial(
        f"model-{{i:03d}}",
        {{
            "app_group": "{app}",
            "function_name": "{function}",
            "instance_name": f"bench_{{i:03d}}",
            "expect": {{"status": "available", "min_generation": 1}},
        }},
    )
    for i in range({count})
]
pulumi.export("ids", [r.id for r in resources])
'''


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Kind:
    name: str
    project: PulumiProject
    times: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    requests: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})
    # Seconds from the command's start to its first request reaching the emulator.
    first_request: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})


def make_kind(
    name: str, root: Path, program: str, timeout: float, files: dict[str, str] | None = None
) -> Kind:
    env = hermetic_env(root / name)
    # Nothing from the caller's environment may choose other credentials or a proxy.
    for key in list(env):
        if key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")):
            del env[key]
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    project = PulumiProject.write(
        root / name / "project",
        env,
        name=f"bench-{name}",
        program=program,
        files=files,
        timeout=timeout,
    )
    return Kind(name, project)


def run_round(kind: Kind, stack: str, server: EmulatorServer, count: int, in_flight: int) -> None:
    project = kind.project
    project.stack_init(stack)
    if in_flight != DEFAULT_IN_FLIGHT:
        project.config_set("opensearch-fn:maxConcurrentReads", str(in_flight))
    project.config_set("opensearch-fn:endpoint", server.url)
    project.config_set("opensearch-fn:accessKeyId", AK)
    project.config_set("opensearch-fn:accessKeySecret", SECRET, secret=True)
    steps: list[tuple[str, Callable[[], object]]] = [
        (PHASES[0], project.preview),
        (PHASES[1], project.up),
        (PHASES[2], lambda: project.preview(expect_no_changes=True)),
    ]
    line = []
    for phase, step in steps:
        server.log.clear()
        started, wall = time.perf_counter(), time.time()
        step()
        took = time.perf_counter() - started
        entries = server.log.entries()
        requests = len(entries)
        kind.times[phase].append(took)
        kind.requests[phase].append(requests)
        if entries:
            first = min(e.time - e.latency_ms / 1000 for e in entries)
            kind.first_request[phase].append(first - wall)
        line.append(f"{phase} {took:.2f}s/{requests} req")
    ids = project.outputs().get("ids")
    if not isinstance(ids, list) or len(ids) != count:
        raise SystemExit(f"{kind.name}: expected {count} ids in the outputs, got {ids!r}")
    project.run("stack", "rm", "--yes", "--force", "--stack", stack)
    project.stack = None
    progress(f"  {kind.name:5s} {stack}: " + ", ".join(line))


def print_read_bound(
    ours: Kind, floor: Kind, latency_ms: int, in_flight: int, target: float
) -> None:
    """The least any program could take: its requests, at most `in_flight` at once,
    cannot start before the program runs. Shown so a target below it reads as such."""
    print(
        f"  lower bound for ours: first request at its median offset, then"
        f" ceil(requests / {in_flight}) round trips of {latency_ms} ms"
    )
    for phase in PHASES:
        offsets = ours.first_request[phase]
        if not offsets:
            continue
        count = max(ours.requests[phase])
        bound = statistics.median(offsets) + math.ceil(count / in_flight) * latency_ms / 1000
        best = bound / statistics.median(floor.times[phase])
        reachable = "reachable" if best <= target else "NOT reachable"
        print(
            f"    {phase:22s} first request at {statistics.median(offsets):.2f}s, bound"
            f" {bound:.2f}s = {best:.2f}x the floor: target {target}x {reachable}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)  # fewer cannot decide on a noisy machine
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per pulumi command")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="the emulator answers every request this late"
    )
    parser.add_argument(
        "--max-concurrent-reads",
        type=int,
        default=DEFAULT_IN_FLIGHT,
        help="opensearch-fn:maxConcurrentReads for ours (requests in flight)",
    )
    options = parser.parse_args()
    if options.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    if options.max_concurrent_reads < 1:
        parser.error("--max-concurrent-reads must be at least 1")
    count = options.resources
    target = target_for(options.latency_ms)

    progress("finding the Pulumi CLI (scripts/pulumi-engine) ...")
    bin_dir = engine_bin_dir()
    fields = {"count": count, "app": APP, "function": FUNCTION}
    with (
        EmulatorServer(sample_state(), host="127.0.0.1", port=0) as server,
        server.admin() as admin,
        tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp,
    ):
        for i in range(count):
            name = f"bench_{i:03d}"
            admin.upsert_instance(APP, FUNCTION, name, status="available", version_id=1)
            admin.add_tasks(APP, FUNCTION, name, 3, metrics={"recall": 91})
        if options.latency_ms:
            admin.inject_fault("latency", latency_ms=options.latency_ms)  # every request
        root = Path(tmp)
        kinds = {
            "ours": make_kind("ours", root, OURS_PROGRAM.format(**fields), options.timeout),
            "floor": make_kind(
                "floor",
                root,
                FLOOR_PROGRAM.format(**fields),
                options.timeout,
                files={"trivial.py": FLOOR_MODULE},
            ),
        }
        progress(
            f"pulumi from {bin_dir}, emulator at {server.url} (+{options.latency_ms} ms per"
            f" request), {count} resources per stack"
        )
        try:
            for round_ in range(options.rounds):
                # Alternate the order so neither kind always runs on a warmer machine.
                order = KINDS if round_ % 2 == 0 else tuple(reversed(KINDS))
                progress(f"round {round_ + 1}/{options.rounds} ({' then '.join(order)})")
                for name in order:
                    run_round(
                        kinds[name], f"r{round_ + 1}", server, count, options.max_concurrent_reads
                    )
        except PulumiCommandError as error:
            progress(str(error))
            return 2

    ours, floor = kinds["ours"], kinds["floor"]
    print(
        f"{count} resources per stack, {options.rounds} rounds interleaved, median wall time of"
        f" whole `pulumi` processes (pulumi {bin_dir.parent.name}, emulator on loopback,"
        f" +{options.latency_ms} ms per request, ours with"
        f" {options.max_concurrent_reads} requests in flight)"
    )
    print(f"  {'figure':22s} {'ours':>8s} {'floor':>8s} {'ratio':>7s}  target    result")
    failed = 0
    for phase in PHASES:
        mine, base = statistics.median(ours.times[phase]), statistics.median(floor.times[phase])
        ratio = mine / base
        ok = ratio <= target
        failed += not ok
        verdict = "PASS" if ok else "FAIL"
        print(f"  {phase:22s} {mine:7.2f}s {base:7.2f}s {ratio:6.2f}x  <= {target}x   {verdict}")
    print("  runs (s):")
    for kind in (ours, floor):
        for phase in PHASES:
            runs = ", ".join(f"{t:.2f}" for t in kind.times[phase])
            print(f"    {kind.name:5s} {phase:22s} {runs}")
    requests = {p: sorted(set(ours.requests[p])) for p in PHASES}
    print(f"  emulator requests per command, ours: {json.dumps(requests)}")
    print_read_bound(ours, floor, options.latency_ms, options.max_concurrent_reads, target)
    print(f"  emulator requests per command, floor: {sum(sum(v) for v in floor.requests.values())}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
