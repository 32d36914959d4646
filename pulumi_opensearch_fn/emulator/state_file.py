"""The state file: JSON, read by ``load_state_file`` and written by ``dump_state``.

Its records are ``state``'s, keyed by their fields in camelCase (``_keys`` are comments)::

    {"version": 1, "clock": {"offsetMs": 0}, "accessKeys": [AccessKey], "stsTokens": [StsToken],
     "appGroups": {APP: {"functions": {FN: {"instances": {NAME: Instance + "tasks": [Task]}}}}}}

Times are epoch ms, ISO 8601 (no zone: UTC) or relative to loading (``now``, ``now-3d``,
``now+90s``): task times on the simulated clock, token expirations on real time. An
instance's ``task`` defaults to its latest task's. Every problem is reported at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any

from .clock import SimClock
from .schema import MAX_STATE_BYTES, Check, InvalidInput, Reader, dump, kind, read_json
from .state import AccessKey, EmulatorState, Instance, StsToken, Task


class StateFileError(InvalidInput):
    """A state file (or a state sent to the admin API) that cannot be used."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"state file {source}", problems)


@dataclass
class Clock:
    offset_ms: Annotated[int, Check(low=0)] = 0


@dataclass
class Document:
    """The top level; ``appGroups`` are read on their own, once the clock is set."""

    version: Annotated[int, Check(low=1, high=1)] = 1
    clock: Clock = field(default_factory=Clock)
    access_keys: list[AccessKey] = field(default_factory=list)
    sts_tokens: list[StsToken] = field(default_factory=list)


def parse_state(data: Any, source: str = "<state>", clock: SimClock | None = None) -> EmulatorState:
    """A state from parsed JSON; StateFileError lists every problem."""
    state = EmulatorState(clock)
    read = Reader(state.now_ms())
    doc = read.record(Document, data, "", extra=("appGroups",))
    if doc is not None:  # else app groups are read all the same, for their problems
        state.clock.set_offset(doc.clock.offset_ms)
        read.now_ms = state.now_ms()
        state.access_keys = {k.access_key_id: k for k in doc.access_keys}
        state.sts_tokens = {t.token: t for t in doc.sts_tokens}
    top = data if isinstance(data, dict) else {}
    for app, functions in read.names(top.get("appGroups", {}), "appGroups").items():
        where = f"appGroups.{app}"
        state.app_groups[app] = {}
        for function, instances in _names(read, functions, where, "functions").items():
            here = f"{where}.functions.{function}"
            found = state.app_groups[app].setdefault(function, {})
            for name, value in _names(read, instances, here, "instances").items():
                inst = _instance(read, name, function, value, f"{here}.instances.{name}")
                if inst is not None:
                    found[name] = inst
    if read.problems:
        raise StateFileError(source, read.problems)
    return state


def _names(read: Reader, value: Any, where: str, key: str) -> dict[str, Any]:
    """The names map at ``value[key]``, in an object holding only that key."""
    return read.names((read.obj(value, where, (key,)) or {}).get(key, {}), f"{where}.{key}")


def _instance(read: Reader, name: str, function: str, value: Any, where: str) -> Instance | None:
    fields = read.fields(Instance, value, where, extra=("tasks",))
    raw = value.get("tasks", []) if isinstance(value, dict) else []
    if not isinstance(raw, list):
        read.fail(f"{where}.tasks", f"must be a list, got {kind(raw)}")
    tasks: dict[int, Task] = {}
    previous = 0  # a task's generation defaults to the previous one's plus 1
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        task = read.record(Task, item, f"{where}.tasks[{i}]")
        if task is not None:
            task.generation = task.generation or previous + 1
            if task.generation in tasks:
                problem = f"generation {task.generation} appears twice"
                read.fail(f"{where}.tasks[{i}].generation", problem)
            previous = tasks.setdefault(task.generation, task).generation
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
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_STATE_BYTES + 1)
        if len(raw) > MAX_STATE_BYTES:
            raise InvalidInput("", [f"larger than {MAX_STATE_BYTES // 2**20} MiB"])
        data = read_json(raw)
    except OSError as exc:
        raise StateFileError(str(path), [f"cannot read the file ({exc.strerror or exc})"]) from None
    except InvalidInput as exc:
        raise StateFileError(str(path), exc.problems) from None
    return parse_state(data, str(path), clock)


def sample_state_data() -> dict[str, Any]:
    """The bundled sample state file, as parsed JSON."""
    sample = resources.files("pulumi_opensearch_fn.emulator") / "sample_state.json"
    return dict(json.loads(sample.read_text(encoding="utf-8")))


def sample_state(clock: SimClock | None = None) -> EmulatorState:
    """A fresh state from the bundled sample (``my_app``/``ctr``/...)."""
    return parse_state(sample_state_data(), "sample_state.json", clock)


def dump_state(state: EmulatorState, *, secrets: bool = True) -> dict[str, Any]:
    """The state in the file format, which ``parse_state`` reads back unchanged. Without
    ``secrets``, key secrets and STS tokens are left out (it cannot be loaded back)."""
    with state.lock:
        state.advance_clock(0)  # settle finished runs first
        keys, tokens = list(state.access_keys.values()), list(state.sts_tokens.values())
        doc = dump(Document(1, Clock(state.clock.offset_ms), keys, tokens), secrets=secrets)
        doc["appGroups"] = {}
        for app, functions in state.app_groups.items():
            doc["appGroups"][app] = {"functions": {}}
            for function, instances in functions.items():
                entries = {name: _entry(inst) for name, inst in instances.items()}
                doc["appGroups"][app]["functions"][function] = {"instances": entries}
        return dict(doc)


def _entry(inst: Instance) -> dict[str, Any]:
    return {**dump(inst), "tasks": dump(sorted(inst.tasks.newest, key=attrgetter("generation")))}
