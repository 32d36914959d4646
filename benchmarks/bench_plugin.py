"""A YAML stack of 50 gated `FunctionInstance`s over the plugin versus a do-nothing plugin.

Two YAML projects of the same shape run through the real Pulumi CLI and the official
YAML language host (what `tests/e2e/harness.py` finds or builds):

- ours: N `opensearch-fn:FunctionInstance` components with `expect` (status available,
  minGeneration 1) over `pulumi-resource-opensearch-fn`, each on its own instance in an
  emulator served from this process (sample state plus N instances with three tasks);
- floor: the same program over a do-nothing plugin written by this script: it serves the
  same schema and makes the same registrations (each component and its state resource,
  with the same inputs), answering fixed outputs without a request.

Each round times, for both in turn (the order alternates between rounds), whole `pulumi`
processes: `preview` of a new stack, `up --yes --skip-preview` of it, then `preview
--expect-no-changes` of the deployed stack; the stack is then removed. `--latency-ms N`
makes the emulator answer every request N ms late. Targets: at 0 ms, ours at most 1.2x the
floor; with latency, ours at most 1.15x the least time: the larger of what its reads allow
(the first request's median offset, then ceil(requests / in flight) round trips: column
`reads`) and the floor's time (no plugin making the same registrations is faster; the
engine's own `up` of 100 resources takes longer than the reads). It also times cold
start: from starting the plugin process to its first answer (`GetSchema`), ours against
the floor's, and prints the CPU seconds of each command's process tree and of the
emulator. Exits 1 on FAIL.

    .venv/bin/python benchmarks/bench_plugin.py [--resources 50] [--rounds 3]
                                                [--latency-ms 0] [--timeout 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

import grpc
from bench_stack import (
    AK,
    APP,
    FUNCTION,
    PHASES,
    SECRET,
    Kind,
    cpu_cells,
    progress,
    read_bound,
    run_round,
)
from harness import (
    PulumiCommandError,
    PulumiProject,
    compile_package,
    engine_bin_dir,
    hermetic_env,
)
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

from pulumi_opensearch_fn.api.identity import INSTANCE
from pulumi_opensearch_fn.core.config import DEFAULT_MAX_CONCURRENT_READS
from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state
from pulumi_opensearch_fn.reads import begin_read

KINDS = ("ours", "floor")

PLUGIN = "pulumi-resource-opensearch-fn"
OURS_DIR = Path(sys.executable).parent  # the virtualenv's bin, which holds our plugin
TARGET_FLOOR = 1.2  # at 0 ms: against the do-nothing plugin
TARGET_BOUND = 1.15  # with latency: against the least time the reads allow

PROGRAM = """name: bench-{kind}
runtime: yaml
plugins:
  providers:
    - name: opensearch-fn
      path: {plugin_dir}
resources:
{resources}outputs:
  ids:
{ids}"""
RESOURCE = """  m{i:03d}:
    type: opensearch-fn:FunctionInstance
    properties:
      appGroup: {app}
      functionName: {function}
      instanceName: bench_{i:03d}
      expect:
        status: available
        minGeneration: 1
"""

# The floor: the same schema, the same registrations, no request, fixed outputs.
FLOOR_PLUGIN = '''#!{python}
"""A plugin serving the opensearch-fn schema that reads nothing (bench_plugin's floor)."""

import json
import sys
from pathlib import Path

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.server import main

from pulumi_opensearch_fn.plugin import schema
from pulumi_opensearch_fn.plugin.component import register
from pulumi_opensearch_fn.plugin.values import plain, wrap

# What a real read of one instance saw (written beside it): outputs of the same size.
SEEN = json.loads((Path(__file__).parent / "seen.json").read_text(encoding="utf-8"))
OUTPUTS = {{schema.camel(key): value for key, value in SEEN.items()}}
IDENTITY = ("appGroup", "functionName", "instanceName")


class Floor(p.Provider):
    async def get_schema(self, request):
        return p.GetSchemaResponse(schema.schema_text())

    async def check_config(self, request):
        return p.CheckResponse(request.new_inputs, [])

    async def configure(self, request):
        return p.ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def construct(self, request):  # the plugin's registrations, with fixed values
        news, _ = plain(request.inputs)
        outputs = {{**news, **OUTPUTS}}
        urn = await register(
            request.resource_type, request.name, request.options,
            state_type=schema.STATE_OF[request.resource_type],
            state_inputs={{**news, schema.OBSERVED_INPUT: SEEN}}, secret=False,
        )
        return p.ConstructResponse(urn, wrap(outputs), {{}})

    async def check(self, request):
        return p.CheckResponse(request.new_inputs, [])

    async def diff(self, request):
        return p.DiffResponse(changes=False)

    async def create(self, request):
        news, _ = plain(request.properties)
        return p.CreateResponse("/".join(news[k] for k in IDENTITY), request.properties)

    async def read(self, request):
        return p.ReadResponse(request.resource_id, request.properties, request.inputs)


if __name__ == "__main__":
    main(sys.argv[1:], schema.package_version(), Floor())
'''


def write_floor_plugin(directory: Path, seen: dict[str, Any]) -> Path:
    directory.mkdir(parents=True)
    (directory / "seen.json").write_text(json.dumps(seen), encoding="utf-8")
    path = directory / PLUGIN
    path.write_text(FLOOR_PLUGIN.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return directory


def one_read(endpoint: str) -> dict[str, Any]:
    """What the plugin reads of one bench instance: the floor answers it for every one."""
    config = {"opensearch-fn:endpoint": endpoint, "opensearch-fn:accessKeyId": AK,
              "opensearch-fn:accessKeySecret": SECRET}  # fmt: skip
    inputs = {"app_group": APP, "function_name": FUNCTION, "instance_name": "bench_000",
              "expect": {"status": "available", "min_generation": 1}}  # fmt: skip

    async def read() -> dict[str, Any]:
        verdict = await begin_read(INSTANCE, inputs, dry_run=True, log=_Quiet(), config=config)
        return verdict.outputs()

    return asyncio.run(read())


class _Quiet:
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...


def make_kind(name: str, root: Path, plugin_dir: Path, count: int, timeout: float) -> Kind:
    env = hermetic_env(root / name)
    for key in list(env):  # nothing from the caller may choose credentials or a proxy
        if key.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")):
            del env[key]
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    directory = root / name / "project"
    directory.mkdir(parents=True)
    fields = {"app": APP, "function": FUNCTION}
    program = PROGRAM.format(
        kind=name,
        plugin_dir=plugin_dir,
        resources="".join(RESOURCE.format(i=i, **fields) for i in range(count)),
        ids="".join(f"    - ${{m{i:03d}.instanceName}}\n" for i in range(count)),
    )
    (directory / "Pulumi.yaml").write_text(program, encoding="utf-8")
    return Kind(name, count, PulumiProject(directory, env, timeout=timeout))


def cold_start(plugin_dir: Path) -> float:
    """Seconds from starting the plugin to its first answer (GetSchema)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(plugin_dir / PLUGIN), "127.0.0.1:1"],  # an engine address nothing answers on
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.GetSchema(proto.GetSchemaRequest(version=0), timeout=60)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per pulumi command")
    parser.add_argument("--latency-ms", type=int, default=0, help="the emulator's delay")
    options = parser.parse_args()
    if options.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    count, in_flight = options.resources, DEFAULT_MAX_CONCURRENT_READS

    progress("finding the Pulumi CLI (scripts/pulumi-engine) ...")
    compile_package()
    bin_dir = engine_bin_dir()
    with (
        EmulatorServer(sample_state(), host="127.0.0.1", port=0) as server,
        server.admin() as admin,
        tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp,
    ):
        for i in range(count):
            name = f"bench_{i:03d}"
            admin.upsert_instance(APP, FUNCTION, name, status="available", version_id=1)
            admin.add_tasks(APP, FUNCTION, name, 3, metrics={"recall": 91})
        if options.latency_ms:
            admin.inject_fault("latency", latency_ms=options.latency_ms)  # every request
        root = Path(tmp)
        floor_dir = write_floor_plugin(root / "floor-bin", one_read(server.url))
        dirs = {"ours": OURS_DIR, "floor": floor_dir}
        kinds = {k: make_kind(k, root, dirs[k], count, options.timeout) for k in KINDS}
        starts: dict[str, list[float]] = {k: [] for k in KINDS}
        progress(
            f"pulumi from {bin_dir}, emulator at {server.url} (+{options.latency_ms} ms per"
            f" request), {count} resources per stack"
        )
        try:
            for round_ in range(options.rounds):
                order = KINDS if round_ % 2 == 0 else tuple(reversed(KINDS))
                progress(f"round {round_ + 1}/{options.rounds} ({' then '.join(order)})")
                for name in order:
                    run_round(kinds[name], f"r{round_ + 1}", server, in_flight, None)
                for name in order:
                    starts[name].append(cold_start(dirs[name]))
        except PulumiCommandError as error:
            progress(str(error))
            return 2

    ours, floor = kinds["ours"], kinds["floor"]
    print(
        f"YAML, {count} gated FunctionInstances per stack, {options.rounds} rounds interleaved,"
        f" median wall time of whole `pulumi` processes (pulumi {bin_dir.parent.name},"
        f" +{options.latency_ms} ms per request, {in_flight} requests in flight)"
    )
    print(f"  {'figure':22s} {'ours':>8s} {'floor':>8s} {'ratio':>7s} {'reads':>8s} {'/reads':>7s}"
          f" {'least':>8s} {'/least':>7s}  target          result")  # fmt: skip
    failed = 0
    for phase in PHASES:
        mine, base = statistics.median(ours.times[phase]), statistics.median(floor.times[phase])
        bound = read_bound(ours, phase, options.latency_ms, in_flight)
        if bound is None:  # no request: only the floor bounds it
            bound = 0.0
        least = max(bound, base)
        if options.latency_ms == 0:
            ok, target = mine / base <= TARGET_FLOOR, f"<= {TARGET_FLOOR}x floor"
        else:
            ok, target = mine / least <= TARGET_BOUND, f"<= {TARGET_BOUND}x least"
        failed += not ok
        print(f"  {phase:22s} {mine:7.2f}s {base:7.2f}s {mine / base:6.2f}x {bound:7.2f}s"
              f" {mine / bound if bound else 0:6.2f}x {least:7.2f}s {mine / least:6.2f}x"
              f"  {target:15s} {'PASS' if ok else 'FAIL'}")  # fmt: skip
    mine, base = statistics.median(starts["ours"]), statistics.median(starts["floor"])
    print(f"  {'cold start':22s} {mine:7.2f}s {base:7.2f}s {mine / base:6.2f}x  (first answer)")
    print("  CPU seconds (median): the whole `pulumi` process tree / the emulator")
    for phase in PHASES:
        cells = "".join(f" {cpu_cells(k, phase, program=False):>14s}" for k in (ours, floor))
        print(f"    {phase:22s}{cells}")
    print("  runs (s):")
    for kind in (ours, floor):
        for phase in PHASES:
            runs = ", ".join(f"{t:.2f}" for t in kind.times[phase])
            print(f"    {kind.name:5s} {phase:22s} {runs}")
    requests = {p: sorted(set(ours.requests[p])) for p in PHASES}
    print(f"  emulator requests per command, ours: {requests}")
    print(f"  emulator requests, floor: {sum(sum(v) for v in floor.requests.values())}")
    print(
        f"  reads: the least time the reads allow, the first request's median offset, then"
        f" ceil(requests / {in_flight}) round trips of {options.latency_ms} ms; least: the"
        f" larger of that and the floor (the engine's own time for the same registrations)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
