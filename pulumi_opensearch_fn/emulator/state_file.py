"""The state file: human-editable JSON, read by ``load_state_file``, written by ``dump_state``.

Its records are those of ``state``, their fields in camelCase (keys starting with ``_``
are comments)::

    {"version": 1, "clock": {"offsetMs": 0},
     "accessKeys": [AccessKey], "stsTokens": [StsToken],
     "appGroups": {APP: {"functions": {FN: {"instances": {NAME: Instance + "tasks": [Task]}}}}}}

Times are epoch ms, ISO 8601 (no zone: UTC) or relative to loading (``now``, ``now-3d``,
``now+90s``): task times on the simulated clock, token expirations on real time. An
instance's ``task`` defaults to its latest task's. Every problem is reported, each with
its location, in one :class:`StateFileError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from .clock import SimClock
from .schema import MAX_STATE_BYTES, Check, InvalidInput, Reader, dump, kind, read_json
from .state import AccessKey, EmulatorState, Instance, StsToken, Task

FORMAT_VERSION = 1


class StateFileError(InvalidInput):
    """A state file (or a state sent to the admin API) that cannot be used."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"state file {source}", problems)
        self.source = source


@dataclass
class Clock:
    offset_ms: Annotated[int, Check(low=0)] = 0


@dataclass
class Document:
    """The top level; app groups are read on their own, once the clock is set."""

    version: Annotated[int, Check(low=FORMAT_VERSION, high=FORMAT_VERSION)] = FORMAT_VERSION
    clock: Clock = field(default_factory=Clock)
    access_keys: list[AccessKey] = field(default_factory=list)
    sts_tokens: list[StsToken] = field(default_factory=list)
    app_groups: dict[str, Any] = field(default_factory=dict)


def parse_state(data: Any, source: str = "<state>", clock: SimClock | None = None) -> EmulatorState:
    """A state from parsed JSON; StateFileError lists every problem."""
    state = EmulatorState(clock)
    read = Reader(state.now_ms())
    doc = read.record(Document, data, "")
    if doc is not None:  # else app groups are still read, to report all problems at once
        state.clock.set_offset(doc.clock.offset_ms)
        read.now_ms = state.now_ms()
        state.access_keys = {k.access_key_id: k for k in doc.access_keys}
        state.sts_tokens = {t.token: t for t in doc.sts_tokens}
    groups = data.get("appGroups", {}) if isinstance(data, dict) else {}
    for app, functions in (
        read.names(groups, "appGroups") if isinstance(groups, dict) else {}
    ).items():
        where = f"appGroups.{app}.functions"
        state.app_groups[app] = {}
        for function, instances in read.names(_inner(read, functions, where), where).items():
            here = f"{where}.{function}.instances"
            found = state.app_groups[app].setdefault(function, {})
            for name, value in read.names(_inner(read, instances, here), here).items():
                inst = _instance(read, name, function, value, f"{here}.{name}")
                if inst is not None:
                    found[name] = inst
    if read.problems:
        raise StateFileError(source, read.problems)
    return state


def _inner(read: Reader, value: Any, where: str) -> Any:
    """``value[key]`` of an object holding only that key: ``functions``, ``instances``."""
    parent, key = where.rsplit(".", 1)
    return (read.obj(value, parent, (key,)) or {}).get(key, {})


def _instance(read: Reader, name: str, function: str, value: Any, where: str) -> Instance | None:
    fields = read.fields(Instance, value, where, extra=("tasks",))
    raw = value.get("tasks", []) if isinstance(value, dict) else []
    if not isinstance(raw, list):
        read.fail(f"{where}.tasks", f"must be a list, got {kind(raw)}")
        raw = []
    tasks: dict[int, Task] = {}
    previous = 0
    for i, item in enumerate(raw):
        task = read.record(Task, item, f"{where}.tasks[{i}]")
        if task is None:
            continue
        task.generation = task.generation or previous + 1
        if task.generation in tasks:
            read.fail(
                f"{where}.tasks[{i}].generation", f"generation {task.generation} appears twice"
            )
            continue
        tasks[task.generation] = task
        previous = task.generation
    if sum(t.status == "running" for t in tasks.values()) > 1:
        read.fail(f"{where}.tasks", "at most one task may be running")
    if fields is None:
        return None
    inst = Instance(name, function, **fields)
    inst.tasks.add(*tasks.values())
    if "task" not in value and inst.tasks.newest:
        inst.task = inst.tasks.newest[0].summary()
    return inst


def load_state_file(path: str | Path, clock: SimClock | None = None) -> EmulatorState:
    """Read and validate a state file; every problem becomes a StateFileError. At most
    MAX_STATE_BYTES are read (``/dev/zero`` ends there), see ``schema.read_json``."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise StateFileError(source, [f"cannot read the file ({exc.strerror or exc})"]) from None
    if len(raw) > MAX_STATE_BYTES:
        raise StateFileError(source, [f"larger than {MAX_STATE_BYTES // 2**20} MiB"])
    try:
        data = read_json(raw)
    except InvalidInput as exc:
        raise StateFileError(source, exc.problems) from None
    return parse_state(data, source, clock)


def sample_state_data() -> dict[str, Any]:
    """The bundled sample state file, as parsed JSON."""
    sample = resources.files("pulumi_opensearch_fn.emulator").joinpath("sample_state.json")
    data: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
    return data


def sample_state(clock: SimClock | None = None) -> EmulatorState:
    """A fresh state from the bundled sample (``my_app``/``ctr``/...)."""
    return parse_state(sample_state_data(), "sample_state.json", clock)


def dump_state(state: EmulatorState, *, secrets: bool = True) -> dict[str, Any]:
    """The state in the file format, which ``parse_state`` reads back unchanged. Without
    ``secrets``, key secrets and STS tokens are left out (it cannot be loaded back)."""
    with state.lock:
        state.advance_clock(0)  # settle finished runs first
        apps = {
            app: {
                "functions": {
                    fn: {
                        "instances": {
                            n: {
                                **dump(i),
                                "tasks": dump(
                                    sorted(
                                        i.tasks.by_generation.values(), key=lambda t: t.generation
                                    )
                                ),
                            }
                            for n, i in insts.items()
                        }
                    }
                    for fn, insts in functions.items()
                }
            }
            for app, functions in state.app_groups.items()
        }
        keys, tokens = list(state.access_keys.values()), list(state.sts_tokens.values())
        doc = Document(FORMAT_VERSION, Clock(state.clock.offset_ms), keys, tokens, apps)
        return dict(dump(doc, secrets=secrets))
