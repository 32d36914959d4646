"""`pulumi preview` and `pulumi up` of N `FunctionInstance` resources versus two floors.

Pulumi projects of the same shape run through the real Pulumi CLI (the one
`tests/e2e/harness.py` finds or builds), each in its own hermetic environment:

- ours: N `FunctionInstance` resources with `Expect(status="available",
  min_generation=1)`, each on its own instance in an emulator served from this
  process (loopback, sample state plus N instances with three successful tasks);
- same-shape: N `pulumi.dynamic.Resource` with a trivial provider, each registering
  exactly the inputs and outputs its `FunctionInstance` registers (the names and values
  come from the package's one output shape, `core/outputs.py`, filled by one read of
  each instance in this process before the runs): the engine's work for ours' data,
  and no request. Its provider, like ours, keeps its pickled blob out of the secrets;
- plain: N `pulumi.dynamic.Resource` with the same trivial provider and four inputs
  (identity and `expect`), its blob a secret as by default: no requests.
  Every provider is pickled by reference (the trivial one lives in a module of its project).

Each round times, for every kind in turn (the order alternates between rounds),
whole `pulumi` processes: `preview` on a new stack, `up --yes --skip-preview` on
that stack, then `preview --expect-no-changes` on the deployed stack; the stack is
then removed. Each program also writes its own peak RSS (VmHWM at exit) and CPU
seconds to a file of its project; the benchmark prints them beside the CPU seconds of
the whole `pulumi` process tree and of its own process meanwhile (the emulator's).
`--latency-ms N` makes the emulator answer every request N ms late (its latency fault: a
round trip to a distant API); `--rate-limit 20/1s` gives it a quota per access key and
action, as the service has (each phase starts with full buckets). It prints the least
time any program could take for the same reads at the limiter's ceiling (`reads`: its
first request's offset, then its requests at `opensearch-fn:maxConcurrentReads` in
flight, default from `core/config.py`), and the least time overall (`least`): the larger
of that and same-shape's, the engine's own time for the same registrations, which no
program making them beats.

Targets, per phase (exits 1 on FAIL): at 0 ms, ours at most 1.15x same-shape; with
latency, at most 1.15x the least time, and from 200 ms at most 1.6x plain; under a
quota, at most same-shape plus 1.3x the time the quota allows the busiest action's
requests, with at most 10% of answers throttled; with `--sizes`, a slope at most 1.2x
same-shape's.

`--sizes 10,50,200` runs every size in each round and prints, per phase, the slope
(seconds per added resource, least squares over the sizes' medians) of ours and
same-shape, their ratio, and the program's peak RSS per added resource.

    .venv/bin/python benchmarks/bench_stack.py [--resources 50 | --sizes 10,50,200]
        [--kinds ours,same-shape,plain] [--rounds 7] [--latency-ms 0]
        [--max-concurrent-reads N] [--timeout 180]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from harness import (
    PulumiCommandError,
    PulumiProject,
    compile_package,
    engine_bin_dir,
    hermetic_env,
)

from pulumi_opensearch_fn.api.identity import INSTANCE
from pulumi_opensearch_fn.core.clients import client_for, close_clients
from pulumi_opensearch_fn.core.config import (
    DEFAULT_MAX_CONCURRENT_READS,
    MAX_CONCURRENT_READS_KEY,
)
from pulumi_opensearch_fn.core.expectations import Expect
from pulumi_opensearch_fn.core.observe import observe
from pulumi_opensearch_fn.core.outputs import INSTANCE_OUTPUTS, for_engine
from pulumi_opensearch_fn.core.request import GATE, identity_inputs, parse_request
from pulumi_opensearch_fn.core.verdict import judge
from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state
from pulumi_opensearch_fn.emulator.quota import RateLimit, parse_rate
from pulumi_opensearch_fn.emulator.schema import InvalidInput
from pulumi_opensearch_fn.provider import SETTINGS_INPUTS

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
APP, FUNCTION = "my_app", "ctr"
OURS, SAME_SHAPE, PLAIN = "ours", "same-shape", "plain"
KINDS = (OURS, SAME_SHAPE, PLAIN)
PHASES = ("preview (new stack)", "up (new stack)", "preview (deployed)")
# What every program expects of its instance (ours as an `Expect`, the others as its dict).
EXPECT: dict[str, Any] = {"status": "available", "min_generation": 1}
RSS_LOG = "rss.log"  # in each project: one line per program run, peak RSS (KiB) and CPU (s)


# Targets: at 0 ms, ours against same-shape; with latency, ours against the least time
# (the reads' at the limiter's ceiling, or same-shape's when longer; from 200 ms, also
# against plain); under a quota, the least time the quota allows on top of same-shape,
# with few throttled answers.
TARGET_SAME_SHAPE = 1.15
TARGET_BOUND = 1.15
TARGET_PLAIN_AT_200_MS = 1.6
TARGET_QUOTA = 1.3
MOST_THROTTLED = 0.10
TARGET_SLOPE = 1.2


def instance_name(i: int) -> str:
    return f"bench_{i:03d}"


# Imported first by every program: its peak RSS and CPU time are written when its process
# exits, so the figures cover registering the outputs too, after the program's body has run.
# VmHWM, not ru_maxrss: a spawned process's ru_maxrss starts at its parent's RSS (the
# language host's).
RSS_MODULE = f'''"""Appends this program's peak RSS (KiB) and CPU seconds to {RSS_LOG} at exit."""

import atexit
import os
import pathlib
import resource


def _peak_kib() -> int:
    try:  # the high-water mark of this process's own memory since exec
        with open("/proc/self/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    except (OSError, StopIteration):  # no /proc: the rusage figure, an upper bound
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _write() -> None:
    with (pathlib.Path(__file__).parent / "{RSS_LOG}").open("a") as log:
        cpu = os.times()
        log.write(f"{{_peak_kib()}} {{cpu.user + cpu.system:.3f}}\\n")


atexit.register(_write)
'''

OURS_PROGRAM = '''"""{count} FunctionInstance resources with expectations."""

import bench_rss  # noqa: F401
import pulumi

from pulumi_opensearch_fn import Expect, FunctionInstance

resources = [
    FunctionInstance(
        f"model-{{i:03d}}",
        "{app}",
        "{function}",
        f"bench_{{i:03d}}",
        expect=Expect(**{expect!r}),
    )
    for i in range({count})
]
pulumi.export("ids", [r.id for r in resources])
'''

# The trivial provider lives in a module of the project, so that, like ours, it is pickled by
# reference (a class in __main__ would be pickled by value, ~3 ms per resource in the program).
TRIVIAL_MODULE = f'''"""A dynamic resource whose provider makes no request."""

import pulumi
import pulumi.dynamic


class TrivialProvider(pulumi.dynamic.ResourceProvider):
    # Like ours: the transient verdict input is neither stored as an input nor an output.
    def check(self, _olds: dict, news: dict) -> pulumi.dynamic.CheckResult:
        return pulumi.dynamic.CheckResult({{k: v for k, v in news.items() if k != "{GATE}"}}, [])

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


class ShapeProvider(TrivialProvider):
    serialize_as_secret_always = False  # like ours: its blob holds nothing secret


class SameShape(pulumi.dynamic.Resource):
    def __init__(self, name: str, props: dict) -> None:
        super().__init__(ShapeProvider(), name, props)
'''

PLAIN_PROGRAM = '''"""{count} trivial dynamic resources: identity and expectations, no requests."""

import bench_rss  # noqa: F401
import pulumi

from trivial import Trivial

resources = [
    Trivial(
        f"model-{{i:03d}}",
        {{
            "app_group": "{app}",
            "function_name": "{function}",
            "instance_name": f"bench_{{i:03d}}",
            "expect": {expect!r},
        }},
    )
    for i in range({count})
]
pulumi.export("ids", [r.id for r in resources])
'''

SAME_SHAPE_FILE = "same_shape.json"
SAME_SHAPE_PROGRAM = '''"""{count} trivial resources registering what FunctionInstance does."""

import bench_rss  # noqa: F401
import json
import pathlib

import pulumi

from trivial import SameShape

shapes = json.loads((pathlib.Path(__file__).parent / "{data}").read_text())
resources = [SameShape(f"model-{{i:03d}}", shapes[i]) for i in range({count})]
pulumi.export("ids", [r.id for r in resources])
'''


def same_shape_props(url: str, count: int) -> list[dict[str, Any]]:
    """What each of ours registers (its inputs, every output, the verdict it sends to its
    provider's check), from one read of its instance with the package's own pieces."""
    config = {
        "opensearch-fn:endpoint": url,
        "opensearch-fn:accessKeyId": AK,
        "opensearch-fn:accessKeySecret": SECRET,
    }
    expect = for_engine({"expect": Expect(**EXPECT).to_dict()})["expect"]
    wanted = {*identity_inputs(INSTANCE), *SETTINGS_INPUTS, *INSTANCE_OUTPUTS, GATE}
    shapes = []
    for i in range(count):
        names = dict(zip(identity_inputs(INSTANCE), (APP, FUNCTION, instance_name(i)), strict=True))
        inputs = names | dict.fromkeys(SETTINGS_INPUTS) | {"expect": expect}
        request, problems = parse_request(INSTANCE, inputs, config)
        if request is None:
            raise SystemExit(f"same-shape: {problems}")
        client = client_for(request.settings)
        seen = observe(client, request.identity, request.expect)
        verdict = judge(request.subject, request.expect, seen)
        props = for_engine(inputs) | verdict.outputs() | {GATE: verdict.gate}
        if set(props) != wanted or verdict.action != "pass":
            raise SystemExit(f"same-shape: {sorted(set(props) ^ wanted)}, {verdict.action}")
        shapes.append(props)
    close_clients(url)
    return shapes


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Kind:
    name: str
    count: int
    project: PulumiProject
    times: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    requests: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})
    # Seconds from the command's start to its first request reaching the emulator.
    first_request: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    # The program process's peak RSS (KiB) and CPU seconds, when it wrote them.
    rss_kib: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})
    program_cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    # CPU seconds of the whole `pulumi` process tree (every process it waited for), and of
    # this process meanwhile: the emulator's threads.
    tree_cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    emulator_cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    # Throttled answers, and the most requests one action had (a quota is per action).
    throttled: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})
    busiest_action: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PHASES})

    def median(self, phase: str) -> float:
        return statistics.median(self.times[phase])

    def rss_median(self, phase: str) -> float | None:
        values = self.rss_kib[phase]
        return statistics.median(values) if values else None


def make_kind(
    name: str, count: int, root: Path, timeout: float, shapes: Sequence[dict[str, Any]]
) -> Kind:
    fields = {"count": count, "app": APP, "function": FUNCTION, "expect": EXPECT}
    files = {"bench_rss.py": RSS_MODULE}
    if name == OURS:
        program = OURS_PROGRAM.format(**fields)
    elif name == PLAIN:
        program = PLAIN_PROGRAM.format(**fields)
        files["trivial.py"] = TRIVIAL_MODULE
    else:
        program = SAME_SHAPE_PROGRAM.format(**fields, data=SAME_SHAPE_FILE)
        files["trivial.py"] = TRIVIAL_MODULE
        files[SAME_SHAPE_FILE] = json.dumps(list(shapes[:count]))
    home = root / f"{name}-{count}"
    env = hermetic_env(home)
    # Nothing from the caller's environment may choose other credentials or a proxy.
    for key in list(env):
        if key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")):
            del env[key]
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    project = PulumiProject.write(
        home / "project",
        env,
        name=f"bench-{name}-{count}",
        program=program,
        files=files,
        timeout=timeout,
    )
    return Kind(name, count, project)


def last_program_figures(path: Path) -> tuple[int, float] | None:
    """The last program run's peak RSS (KiB) and CPU seconds, if it wrote them."""
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines:
        return None
    rss, cpu = lines[-1].split()
    return int(rss), float(cpu)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_round(
    kind: Kind, stack: str, server: EmulatorServer, in_flight: int, quota: RateLimit | None
) -> None:
    project = kind.project
    project.stack_init(stack)
    if in_flight != DEFAULT_MAX_CONCURRENT_READS:
        project.config_set(MAX_CONCURRENT_READS_KEY, str(in_flight))
    project.config_set("opensearch-fn:endpoint", server.url)
    project.config_set("opensearch-fn:accessKeyId", AK)
    project.config_set("opensearch-fn:accessKeySecret", SECRET, secret=True)
    steps: list[tuple[str, Callable[[], object]]] = [
        (PHASES[0], project.preview),
        (PHASES[1], project.up),
        (PHASES[2], lambda: project.preview(expect_no_changes=True)),
    ]
    rss_log = project.dir / RSS_LOG
    line = []
    for phase, step in steps:
        server.log.clear()
        if quota is not None:  # every phase starts with full buckets
            server.quota.set(quota)
        rss_log.unlink(missing_ok=True)
        started, wall = time.perf_counter(), time.time()
        tree, mine = cpu_seconds(resource.RUSAGE_CHILDREN), cpu_seconds(resource.RUSAGE_SELF)
        step()
        took = time.perf_counter() - started
        kind.tree_cpu[phase].append(cpu_seconds(resource.RUSAGE_CHILDREN) - tree)
        kind.emulator_cpu[phase].append(cpu_seconds(resource.RUSAGE_SELF) - mine)
        entries = server.log.entries()
        requests = len(entries)
        kind.times[phase].append(took)
        kind.requests[phase].append(requests)
        counts = server.log.counts()
        kind.throttled[phase].append(
            sum(v for k, v in counts.items() if k.startswith("throttled:"))
        )
        kind.busiest_action[phase].append(  # what the quota must let through: answers
            max((v for k, v in counts.items() if k.startswith("answered:")), default=0)
        )
        if entries:
            first = min(e.time - e.latency_ms / 1000 for e in entries)
            kind.first_request[phase].append(first - wall)
        figures = last_program_figures(rss_log)
        memory = ""
        if figures is not None:
            kind.rss_kib[phase].append(figures[0])
            kind.program_cpu[phase].append(figures[1])
            memory = f"/{figures[0] / 1024:.0f} MiB"
        line.append(f"{phase} {took:.2f}s/{requests} req{memory}")
    ids = project.outputs().get("ids")
    if not isinstance(ids, list) or len(ids) != kind.count:
        raise SystemExit(f"{kind.name}: expected {kind.count} ids in the outputs, got {ids!r}")
    project.run("stack", "rm", "--yes", "--force", "--stack", stack)
    project.stack = None
    progress(f"  {kind.name:10s} {kind.count:4d} {stack}: " + ", ".join(line))


def print_size(
    kinds: dict[str, Kind], rounds: int, latency_ms: int, in_flight: int, quota: RateLimit | None
) -> int:
    """The medians at one size, ours' ratios to the floors; returns how many phases FAIL."""
    ours, count = kinds[OURS], kinds[OURS].count
    floors = [k for k in (SAME_SHAPE, PLAIN) if k in kinds]
    print(
        f"\n{count} resources per stack, {rounds} rounds interleaved, median wall time of whole"
        f" `pulumi` processes (+{latency_ms} ms per request, ours with {in_flight} requests"
        " in flight)"
    )
    header = "".join(f" {name:>10s}" for name in kinds)
    ratios = "".join(f" {'ours/' + name:>16s}" for name in floors)
    print(f"  {'figure':22s}{header}{ratios}  targets")
    failed = 0
    for phase in PHASES:
        cells = "".join(f" {k.median(phase):9.2f}s" for k in kinds.values())
        cells += "".join(f" {ours.median(phase) / kinds[n].median(phase):15.2f}x" for n in floors)
        verdicts = targets(kinds, phase, latency_ms, in_flight, quota)
        failed += sum(not ok for _, ok in verdicts)
        shown = "; ".join(f"{what} {'PASS' if ok else 'FAIL'}" for what, ok in verdicts)
        print(f"  {phase:22s}{cells}  {shown or '-'}")
    print("  program peak RSS (MiB, median):")
    for phase in PHASES:
        cells = "".join(f" {mib(k.rss_median(phase)):>10s}" for k in kinds.values())
        print(f"  {phase:22s}{cells}")
    print("  CPU seconds (median): the program / the whole `pulumi` process tree / the emulator")
    for phase in PHASES:
        cells = "".join(f" {cpu_cells(k, phase):>22s}" for k in kinds.values())
        print(f"  {phase:22s}{cells}")
    print("  runs (s):")
    for kind in kinds.values():
        for phase in PHASES:
            runs = ", ".join(f"{t:.2f}" for t in kind.times[phase])
            print(f"    {kind.name:10s} {phase:22s} {runs}")
    requests = {p: sorted(set(ours.requests[p])) for p in PHASES}
    print(f"  emulator requests per command, ours: {json.dumps(requests)}")
    others = {n: sum(sum(v) for v in kinds[n].requests.values()) for n in floors}
    print(f"  emulator requests in all, floors: {json.dumps(others)}")
    print_read_bound(kinds, latency_ms, in_flight)
    if quota is not None:
        print_quota(ours, quota)
    return failed


def cpu_cells(kind: Kind, phase: str, *, program: bool = True) -> str:
    """Median CPU seconds: the program's (unless not), the process tree's, the emulator's."""
    figures = [kind.tree_cpu[phase], kind.emulator_cpu[phase]]
    if program:
        figures.insert(0, kind.program_cpu[phase])
    return " / ".join(f"{statistics.median(v):.2f}" if v else "n/a" for v in figures)


def mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def read_bound(ours: Kind, phase: str, latency_ms: int, in_flight: int) -> float | None:
    """The first request's median offset, then ceil(requests / in flight) round trips."""
    if not ours.first_request[phase]:
        return None
    count = max(ours.requests[phase])
    offset = statistics.median(ours.first_request[phase])
    return offset + math.ceil(count / in_flight) * latency_ms / 1000


def least_time(kinds: dict[str, Kind], phase: str, latency_ms: int, in_flight: int) -> float | None:
    """The larger of the reads' bound and same-shape's median (when it ran)."""
    bound = read_bound(kinds[OURS], phase, latency_ms, in_flight)
    if bound is None or SAME_SHAPE not in kinds:
        return bound
    return max(bound, kinds[SAME_SHAPE].median(phase))


def quota_time(ours: Kind, phase: str, quota: RateLimit) -> float:
    """The least time the quota allows: the busiest action's requests at its rate."""
    return max(ours.busiest_action[phase]) * quota.period_s / quota.requests


def targets(
    kinds: dict[str, Kind], phase: str, latency_ms: int, in_flight: int, quota: RateLimit | None
) -> list[tuple[str, bool]]:
    """Each target that applies to the phase, and whether ours meets it."""
    ours, found = kinds[OURS], []
    took = ours.median(phase)
    if quota is not None and SAME_SHAPE in kinds:
        least = kinds[SAME_SHAPE].median(phase) + TARGET_QUOTA * quota_time(ours, phase, quota)
        found.append((f"<= same-shape + {TARGET_QUOTA}x quota time", took <= least))
        runs = zip(ours.throttled[phase], ours.requests[phase], strict=True)
        most = max(throttled / max(requests, 1) for throttled, requests in runs)
        found.append((f"throttled <= {MOST_THROTTLED:.0%}", most <= MOST_THROTTLED))
    elif latency_ms <= 0 and SAME_SHAPE in kinds:
        ratio = took / kinds[SAME_SHAPE].median(phase)
        found.append((f"<= {TARGET_SAME_SHAPE}x same-shape", ratio <= TARGET_SAME_SHAPE))
    elif latency_ms > 0:
        fastest = least_time(kinds, phase, latency_ms, in_flight)
        if fastest is not None:
            found.append((f"<= {TARGET_BOUND}x least", took <= TARGET_BOUND * fastest))
        if latency_ms >= 200 and PLAIN in kinds:
            ratio = took / kinds[PLAIN].median(phase)
            found.append((f"<= {TARGET_PLAIN_AT_200_MS}x plain", ratio <= TARGET_PLAIN_AT_200_MS))
    return found


def print_quota(ours: Kind, quota: RateLimit) -> None:
    print(
        f"  under the quota ({quota.requests} per {quota.period_s:g} s per key and action), ours:"
    )
    for phase in PHASES:
        pairs = zip(ours.throttled[phase], ours.requests[phase], strict=True)
        runs = ", ".join(f"{t}/{r}" for t, r in pairs)
        print(
            f"    {phase:22s} throttled/requests per run {runs}; least time the quota allows"
            f" {quota_time(ours, phase, quota):.2f}s"
        )


def print_read_bound(kinds: dict[str, Kind], latency_ms: int, in_flight: int) -> None:
    """The least any program could take: its requests, at most `in_flight` at once (the
    limiter's ceiling), cannot start before the program runs (`reads`); nor can it beat
    the engine's time for the same registrations (same-shape). Shown so a target below
    it reads as such."""
    ours = kinds[OURS]
    default = " (the default)" if in_flight == DEFAULT_MAX_CONCURRENT_READS else ""
    print(
        f"  lower bound for ours at the limiter's ceiling, {MAX_CONCURRENT_READS_KEY} ="
        f" {in_flight}{default}: reads = first request at its median offset, then"
        f" ceil(requests / {in_flight}) round trips of {latency_ms} ms; least = the larger"
        " of reads and same-shape"
    )
    for phase in PHASES:
        bound = read_bound(ours, phase, latency_ms, in_flight)
        least = least_time(kinds, phase, latency_ms, in_flight)
        if bound is None or least is None:
            continue
        against = [
            f"{bound / kinds[n].median(phase):.2f}x {n}" for n in (SAME_SHAPE, PLAIN) if n in kinds
        ]
        print(
            f"    {phase:22s} first request at {statistics.median(ours.first_request[phase]):.2f}s,"
            f" {max(ours.requests[phase])} requests, reads {bound:.2f}s = {', '.join(against)};"
            f" ours {ours.median(phase) / bound:.2f}x reads, {ours.median(phase) / least:.2f}x"
            f" least ({least:.2f}s)"
        )


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least squares slope of ys over xs."""
    return statistics.linear_regression(xs, ys).slope


def print_slopes(by_size: dict[int, dict[str, Kind]]) -> int:
    """Slopes and memory per resource; returns how many phases FAIL the slope target."""
    failed = 0
    sizes = sorted(by_size)
    names = [n for n in (OURS, SAME_SHAPE, PLAIN) if n in by_size[sizes[0]]]
    print(
        f"\nper added resource, least squares over sizes {', '.join(map(str, sizes))}"
        " (medians): wall time (ms) and program peak RSS (KiB)"
    )
    header = "".join(f" {n + ' ms':>14s}" for n in names)
    print(f"  {'phase':22s}{header} {'ours/same-shape':>16s}")
    for phase in PHASES:
        slopes = {n: slope(sizes, [by_size[s][n].median(phase) for s in sizes]) for n in names}
        cells = "".join(f" {slopes[n] * 1000:14.2f}" for n in names)
        ratio = ""
        if SAME_SHAPE in slopes and slopes[SAME_SHAPE] > 0:
            ok = slopes[OURS] / slopes[SAME_SHAPE] <= TARGET_SLOPE
            failed += not ok
            ratio = f" {slopes[OURS] / slopes[SAME_SHAPE]:15.2f}x  <= {TARGET_SLOPE}x"
            ratio += " PASS" if ok else " FAIL"
        print(f"  {phase:22s}{cells}{ratio}")
    header = "".join(f" {n + ' KiB':>14s}" for n in names)
    print(f"  {'phase':22s}{header} {'ours/same-shape':>16s}")
    for phase in PHASES:
        rss: dict[str, float] = {}
        for n in names:
            values = [by_size[s][n].rss_median(phase) for s in sizes]
            if all(v is not None for v in values):
                rss[n] = slope(sizes, [float(v or 0) for v in values])
        cells = "".join(f" {rss[n]:14.1f}" if n in rss else f" {'n/a':>14s}" for n in names)
        ratio = (
            f" {rss[OURS] / rss[SAME_SHAPE]:15.2f}x"
            if OURS in rss and rss.get(SAME_SHAPE, 0) > 0
            else ""
        )
        print(f"  {phase:22s}{cells}{ratio}")
    return failed


def rate_limit(text: str) -> RateLimit:
    try:
        return parse_rate(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_ints(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("every size must be at least 1")
    return values


def kind_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    unknown = sorted(set(names) - set(KINDS))
    if unknown or OURS not in names:
        raise argparse.ArgumentTypeError(f"kinds among {', '.join(KINDS)}, ours included")
    return [n for n in KINDS if n in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument(
        "--sizes", type=positive_ints, help="several stack sizes, e.g. 10,50,200: prints slopes"
    )
    parser.add_argument(
        "--kinds",
        type=kind_list,
        help=f"which kinds run (default: {','.join(KINDS)}; with --sizes, ours,same-shape)",
    )
    parser.add_argument("--rounds", type=int, default=7)  # fewer cannot decide on a noisy machine
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per pulumi command")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="the emulator answers every request this late"
    )
    parser.add_argument(
        "--max-concurrent-reads",
        type=int,
        default=DEFAULT_MAX_CONCURRENT_READS,
        help=f"{MAX_CONCURRENT_READS_KEY} for ours (default {DEFAULT_MAX_CONCURRENT_READS},"
        " the package's)",
    )
    parser.add_argument(
        "--rate-limit",
        type=rate_limit,
        help="the emulator's quota, e.g. 20/1s (per access key and action)",
    )
    options = parser.parse_args()
    if options.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    if options.max_concurrent_reads < 1:
        parser.error("--max-concurrent-reads must be at least 1")
    if options.sizes is not None and len(options.sizes) < 2:
        parser.error("--sizes needs at least two sizes for a slope")
    sizes: list[int] = options.sizes or [options.resources]
    names: list[str] = options.kinds or ([OURS, SAME_SHAPE] if options.sizes else list(KINDS))

    progress("finding the Pulumi CLI (scripts/pulumi-engine) ...")
    compile_package()
    bin_dir = engine_bin_dir()
    most = max(sizes)
    with (
        EmulatorServer(sample_state(), host="127.0.0.1", port=0) as server,
        server.admin() as admin,
        tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp,
    ):
        for i in range(most):
            name = instance_name(i)
            admin.upsert_instance(APP, FUNCTION, name, status="available", version_id=1)
            admin.add_tasks(APP, FUNCTION, name, 3, metrics={"recall": 91})
        shapes = same_shape_props(server.url, most) if SAME_SHAPE in names else []
        if options.latency_ms:
            admin.inject_fault("latency", latency_ms=options.latency_ms)  # every request
        root = Path(tmp)
        by_size = {
            size: {n: make_kind(n, size, root, options.timeout, shapes) for n in names}
            for size in sizes
        }
        progress(
            f"pulumi from {bin_dir}, emulator at {server.url} (+{options.latency_ms} ms per"
            f" request), {', '.join(map(str, sizes))} resources per stack, kinds {names}"
        )
        try:
            for round_ in range(options.rounds):
                # Alternate the order so neither kind always runs on a warmer machine.
                order = names if round_ % 2 == 0 else names[::-1]
                progress(f"round {round_ + 1}/{options.rounds} ({' then '.join(order)})")
                for size in sizes:
                    for name in order:
                        kind = by_size[size][name]
                        run_round(
                            kind, f"r{round_ + 1}", server, options.max_concurrent_reads,
                            options.rate_limit,
                        )  # fmt: skip
        except PulumiCommandError as error:
            progress(str(error))
            return 2

    print(f"pulumi {bin_dir.parent.name}, emulator on loopback")
    failed = sum(
        print_size(
            by_size[size],
            options.rounds,
            options.latency_ms,
            options.max_concurrent_reads,
            options.rate_limit,
        )
        for size in sizes
    )
    if options.sizes:
        failed += print_slopes(by_size)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
