"""The emulator's state file: human-editable JSON.

Layout (every key optional unless marked; keys starting with ``_`` are
comments, except inside the name maps)::

    {
      "version": 1,
      "clock": {"offsetMs": 0},
      "accessKeys": [
        {"accessKeyId": "LTAI-emulator-demo",          # required
         "accessKeySecret": "emulator-demo-secret",     # required
         "actions": ["GetFunctionInstance"]}            # RAM: allowed actions (default all)
      ],
      "stsTokens": [
        {"securityToken": "...", "accessKeyId": "STS.x", "accessKeySecret": "...",  # required
         "expiration": "2099-01-01T00:00:00Z",          # or epoch ms, or null = never
         "actions": [...]}
      ],
      "appGroups": {
        "my_app": {"functions": {"ctr": {"instances": {"ctr_test": {
          "functionType": "PAAS", "modelType": "tf_checkpoint", "source": "user|builtin",
          "status": "available|unavailable", "versionId": 3, "createTime": TIME,
          "cron": "0 3 * * *", "description": "...",
          "belongs": {"domain": "...", "category": "...", "language": "..."},
          "createParameters": [{"name": "...", "value": "..."}], "usageParameters": [...],
          "extendInfo": {...} or "JSON string",
          "task": {"dagStatus": "...", "progress": 100, "lastRunTime": TIME},  # default: from tasks
          "tasks": [
            {"generation": 1, "runId": "...", "status": "success|failed|running",
             "progress": 100, "startTime": TIME, "endTime": TIME, "durationS": 600,
             "metrics": {"recall": 91}, "errors": [], "extendInfo": "verbatim string"},
            {"status": "running", "startTime": "now-2m", "durationS": 600,
             "outcome": "success|failed", "metrics": {...}, "errors": [...]}
          ]}}}}}
      }
    }

TIME is epoch milliseconds, an ISO 8601 string (``2024-01-01T00:00:00Z``; no
zone means UTC) or a time relative to load: ``now``, ``now-3d``, ``now+90s``
(units s, m, h, d). Task times are on the simulated clock; token expirations
on real time.

Tasks: ``generation`` defaults to the previous one plus 1; a finished task's
``endTime`` defaults to ``startTime + durationS`` (600 s); ``extendInfo``
defaults to the metrics plus ``"errors"``. A running task with ``durationS``
is a training run: it progresses with the clock and ends with ``outcome``
(default success), its ``metrics`` and ``errors``; the instance then follows.

Problems are reported together, each with its location, as
:class:`StateFileError`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .clock import SimClock
from .core import depth_exceeds
from .state import (
    DAG_STATUSES,
    INSTANCE_FIELDS,
    INSTANCE_STATUSES,
    OUTCOMES,
    SOURCES,
    TASK_STATUSES,
    AccessKey,
    Belongs,
    EmulatorState,
    Instance,
    Param,
    Plan,
    StsToken,
    Task,
    TaskSummary,
)

FORMAT_VERSION = 1
_PACKAGE = "pulumi_opensearch_fn.emulator"
DEFAULT_DURATION_S = 600
_RELATIVE = re.compile(r"now(?:\s*([+-])\s*(\d+(?:\.\d+)?)\s*([smhd]))?")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_KEY_ID = re.compile(r"[\x21-\x7e]+")
_FORBIDDEN_IN_KEY_ID = set(",:;")


class StateFileError(ValueError):
    """A state file (or admin state payload) that cannot be used."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        if len(problems) == 1:  # one line
            super().__init__(f"invalid state file {source}: {problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid state file {source}:\n{lines}")


class _Checker:
    """Collects problems with their location instead of stopping at the first."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def obj(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {_kind(value)}")
            return None
        for key in value:
            if not isinstance(key, str) or (key not in allowed and not key.startswith("_")):
                self.fail(f"{where}.{key}", f"unknown key (allowed: {', '.join(allowed)})")
        return value

    def names(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object keyed by name, got {_kind(value)}")
            return {}
        for key in value:
            if key == "":
                self.fail(where, "names must not be empty")
        return {k: v for k, v in value.items() if k != ""}

    def text(self, value: Any, where: str, choices: tuple[str, ...] = ()) -> str | None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, got {_kind(value)}")
            return None
        if choices and value not in choices:
            self.fail(where, f"must be one of {', '.join(choices)} (got {value!r})")
            return None
        return value

    def integer(self, value: Any, where: str, low: int = 0, high: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be an integer, got {_kind(value)}")
            return None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.fail(where, f"must be {bound} (got {value})")
            return None
        return value

    def number(self, value: Any, where: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(where, f"must be a positive number of seconds, got {value!r}")
            return None
        return float(value)

    def time(self, value: Any, where: str, now_ms: int | None = None) -> int | None:
        base = self.now_ms if now_ms is None else now_ms
        result = parse_time(value, base)
        if result is None:
            self.fail(where, f"must be epoch ms, ISO 8601 or now[+-]N[smhd], got {value!r}")
        return result

    def json_object(self, value: Any, where: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {_kind(value)}")
            return None
        return value

    def json_list(self, value: Any, where: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.fail(where, f"must be a list, got {_kind(value)}")
            return None
        return value

    def json_text(self, value: Any, where: str) -> str | None:
        """extendInfo: an object (serialized here) or a string holding JSON."""
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if isinstance(value, str):
            try:
                _STATE_DECODER.decode(value)
            except ValueError as exc:
                self.fail(where, f"must hold JSON ({exc})")
                return None
            except RecursionError:
                self.fail(where, "must hold JSON (nested too deeply)")
                return None
            return value
        self.fail(where, f"must be an object or a JSON string, got {_kind(value)}")
        return None

    def actions(self, value: Any, where: str) -> frozenset[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            self.fail(where, "must be a list of action names")
            return None
        return frozenset(value)


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def parse_time(value: Any, now_ms: int) -> int | None:
    """Epoch ms, ISO 8601 or ``now[+-]N[smhd]`` -> epoch ms; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > MAX_NUMBER_DIGITS:
        return None
    if text.isascii() and text.isdecimal():
        return int(text)
    match = _RELATIVE.fullmatch(text)
    if match:
        sign, amount, unit = match.groups()
        if sign is None:
            return now_ms
        delta = round(float(amount) * _UNIT_MS[unit])
        return now_ms + delta if sign == "+" else max(0, now_ms - delta)
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return max(0, round(stamp.timestamp() * 1000))


# -- instances and tasks ---------------------------------------------------------


def _params(check: _Checker, value: Any, where: str) -> list[Param]:
    items = check.json_list(value, where) or []
    out: list[Param] = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        entry = check.obj(item, here, ("name", "value"))
        if entry is None:
            continue
        name = check.text(entry.get("name"), f"{here}.name")
        val = check.text(entry.get("value", ""), f"{here}.value")
        if name is not None and val is not None:
            out.append(Param(name, val))
    return out


def _summary(check: _Checker, value: Any, where: str) -> TaskSummary | None:
    entry = check.obj(value, where, ("dagStatus", "progress", "lastRunTime"))
    if entry is None:
        return None
    status = check.text(entry.get("dagStatus"), f"{where}.dagStatus", DAG_STATUSES)
    progress = check.integer(entry.get("progress", 0), f"{where}.progress", 0, 100)
    last = check.time(entry.get("lastRunTime", 0), f"{where}.lastRunTime")
    if status is None or progress is None or last is None:
        return None
    return TaskSummary(status, progress, last)


def instance_fields(check: _Checker, data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validated instance fields (wire names in, Instance attribute names out)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        here = f"{where}.{key}"
        attr = INSTANCE_FIELDS.get(key)
        if attr is None:
            continue
        parsed: Any
        if key in ("functionType", "modelType", "cron", "description"):
            parsed = check.text(value, here)
        elif key == "source":
            parsed = check.text(value, here, SOURCES)
        elif key == "status":
            parsed = check.text(value, here, INSTANCE_STATUSES)
        elif key == "versionId":
            parsed = check.integer(value, here)
        elif key == "createTime":
            parsed = check.time(value, here)
        elif key == "belongs":
            allowed = ("domain", "category", "language")
            entry = check.obj(value, here, allowed)
            found = entry or {}
            parts = {k: check.text(found[k], f"{here}.{k}") or "" for k in allowed if k in found}
            parsed = None if entry is None else Belongs(**parts)
        elif key in ("createParameters", "usageParameters"):
            parsed = _params(check, value, here)
        elif key == "extendInfo":
            parsed = check.json_text(value, here)
        elif value is None:  # task: null clears the summary
            out[attr] = None
            continue
        else:
            parsed = _summary(check, value, here)
        if parsed is not None:
            out[attr] = parsed
    return out


_TASK_KEYS = (
    "generation",
    "runId",
    "status",
    "progress",
    "startTime",
    "endTime",
    "durationS",
    "outcome",
    "metrics",
    "errors",
    "extendInfo",
)


def _task(check: _Checker, value: Any, where: str, default_generation: int) -> Task | None:
    entry = check.obj(value, where, _TASK_KEYS)
    if entry is None:
        return None
    start_problems = len(check.problems)
    generation: int | None = default_generation
    if "generation" in entry:
        raw = entry["generation"]
        generation = check.integer(
            int(raw) if isinstance(raw, str) and raw.isdecimal() else raw, f"{where}.generation", 1
        )
    status = check.text(entry.get("status", "success"), f"{where}.status", TASK_STATUSES)
    start = (
        check.time(entry.get("startTime"), f"{where}.startTime") if "startTime" in entry else None
    )
    if "startTime" not in entry:
        check.fail(f"{where}.startTime", "is required")
    run_id = check.text(entry.get("runId", ""), f"{where}.runId")
    metrics = check.json_object(entry.get("metrics", {}), f"{where}.metrics")
    errors = check.json_list(entry.get("errors", []), f"{where}.errors")
    if metrics is not None and "errors" in metrics:
        check.fail(f"{where}.metrics", "put errors in 'errors', not in 'metrics'")
    duration = (
        check.number(entry["durationS"], f"{where}.durationS") if "durationS" in entry else None
    )
    extend_info = (
        check.json_text(entry["extendInfo"], f"{where}.extendInfo")
        if "extendInfo" in entry
        else None
    )
    planned = status == "running" and duration is not None
    if "outcome" in entry and not planned:
        check.fail(f"{where}.outcome", "only a running task with durationS has an outcome")
    outcome = check.text(entry.get("outcome", "success"), f"{where}.outcome", OUTCOMES)
    default_progress = 0 if status == "running" else 100
    progress = check.integer(entry.get("progress", default_progress), f"{where}.progress", 0, 100)
    end: int | None = 0
    if "endTime" in entry:
        end = check.time(entry["endTime"], f"{where}.endTime")
        if status == "running" and end:
            check.fail(f"{where}.endTime", "a running task has not ended (leave it out or 0)")
    elif status != "running" and start is not None:
        end = start + round((duration or DEFAULT_DURATION_S) * 1000)
    if len(check.problems) > start_problems:
        return None
    if generation is None or status is None or start is None:
        return None
    if progress is None or end is None or outcome is None:
        return None
    if planned:
        plan = Plan(round((duration or 0) * 1000), outcome, metrics or {}, errors or [])
        return Task(generation, start, "running", 0, 0, run_id or "", plan=plan)
    return Task(
        generation,
        start,
        status,
        progress,
        end,
        run_id or "",
        metrics or {},
        errors or [],
        extend_info,
    )


def _instance(check: _Checker, name: str, function: str, value: Any, where: str) -> Instance | None:
    entry = check.obj(value, where, (*INSTANCE_FIELDS, "tasks"))
    if entry is None:
        return None
    inst = Instance(name=name, function_name=function)
    for attr, parsed in instance_fields(check, entry, where).items():
        setattr(inst, attr, parsed)
    tasks: list[Task] = []
    for i, item in enumerate(check.json_list(entry.get("tasks", []), f"{where}.tasks") or []):
        task = _task(check, item, f"{where}.tasks[{i}]", (tasks[-1].generation + 1) if tasks else 1)
        if task is None:
            continue
        if any(t.generation == task.generation for t in tasks):
            check.fail(
                f"{where}.tasks[{i}].generation", f"generation {task.generation} appears twice"
            )
            continue
        tasks.append(task)
    running = [t for t in tasks if t.status == "running"]
    if len(running) > 1:
        check.fail(f"{where}.tasks", "at most one task may be running")
    inst.tasks.add_many(tasks)
    latest = inst.tasks.latest()
    if "task" not in entry and latest is not None and latest.plan is None:
        inst.task = TaskSummary(
            latest.status, latest.progress, latest.end_time or latest.start_time
        )
    elif "task" not in entry and latest is not None:
        inst.task = TaskSummary("running", 0, latest.start_time)
    return inst


# -- whole files -----------------------------------------------------------------


def _credentials(check: _Checker, data: Mapping[str, Any], state: EmulatorState) -> None:
    real_now = int(time.time() * 1000)
    for i, item in enumerate(check.json_list(data.get("accessKeys", []), "accessKeys") or []):
        where = f"accessKeys[{i}]"
        entry = check.obj(item, where, ("accessKeyId", "accessKeySecret", "actions"))
        if entry is None:
            continue
        key_id = _key_id(check, entry.get("accessKeyId"), f"{where}.accessKeyId")
        secret = _secret(check, entry.get("accessKeySecret"), f"{where}.accessKeySecret")
        actions = check.actions(entry.get("actions"), f"{where}.actions")
        if key_id and secret:
            state.access_keys[key_id] = AccessKey(key_id, secret, actions)
    for i, item in enumerate(check.json_list(data.get("stsTokens", []), "stsTokens") or []):
        where = f"stsTokens[{i}]"
        allowed = ("securityToken", "accessKeyId", "accessKeySecret", "expiration", "actions")
        entry = check.obj(item, where, allowed)
        if entry is None:
            continue
        token = _key_id(check, entry.get("securityToken"), f"{where}.securityToken", token=True)
        key_id = _key_id(check, entry.get("accessKeyId"), f"{where}.accessKeyId")
        secret = _secret(check, entry.get("accessKeySecret"), f"{where}.accessKeySecret")
        expiry = entry.get("expiration")
        expires = None if expiry is None else check.time(expiry, f"{where}.expiration", real_now)
        actions = check.actions(entry.get("actions"), f"{where}.actions")
        if token and key_id and secret and (expiry is None or expires is not None):
            state.sts_tokens[token] = StsToken(token, key_id, secret, expires, actions)


def _key_id(check: _Checker, value: Any, where: str, *, token: bool = False) -> str | None:
    text = check.text(value, where)
    if text is None:
        return None
    if not _KEY_ID.fullmatch(text) or (not token and _FORBIDDEN_IN_KEY_ID & set(text)):
        extra = "" if token else ", ',', ':' or ';'"
        check.fail(where, f"must be printable ASCII without spaces{extra}")
        return None
    return text


def _secret(check: _Checker, value: Any, where: str) -> str | None:
    text = check.text(value, where)
    if text == "":
        check.fail(where, "must not be empty")
        return None
    return text


def parse_state(data: Any, source: str = "<state>", clock: SimClock | None = None) -> EmulatorState:
    """Build a state from parsed JSON; raises StateFileError listing every problem."""
    state = EmulatorState(clock)
    check = _Checker(state.now_ms())
    top = check.obj(
        data, "(top level)", ("version", "clock", "accessKeys", "stsTokens", "appGroups")
    )
    if top is None:
        raise StateFileError(source, check.problems)
    if "version" in top and top["version"] != FORMAT_VERSION:
        check.fail("version", f"must be {FORMAT_VERSION} (got {top['version']!r})")
    if "clock" in top:
        clock_entry = check.obj(top["clock"], "clock", ("offsetMs",))
        offset = check.integer((clock_entry or {}).get("offsetMs", 0), "clock.offsetMs")
        if offset is not None:
            state.clock.set_offset(offset)
            check.now_ms = state.now_ms()
    _credentials(check, top, state)
    for app, app_value in check.names(top.get("appGroups", {}), "appGroups").items():
        app_where = f"appGroups.{app}"
        app_entry = check.obj(app_value, app_where, ("functions",))
        functions = state.app_groups.setdefault(app, {})
        if app_entry is None:
            continue
        fn_map = check.names(app_entry.get("functions", {}), f"{app_where}.functions")
        for function, fn_value in fn_map.items():
            fn_where = f"{app_where}.functions.{function}"
            fn_entry = check.obj(fn_value, fn_where, ("instances",))
            instances = functions.setdefault(function, {})
            if fn_entry is None:
                continue
            inst_map = check.names(fn_entry.get("instances", {}), f"{fn_where}.instances")
            for name, inst_value in inst_map.items():
                inst = _instance(check, name, function, inst_value, f"{fn_where}.instances.{name}")
                if inst is not None:
                    instances[name] = inst
    if check.problems:
        raise StateFileError(source, check.problems)
    return state


def parse_instance_update(data: Any, now_ms: int, where: str = "instance") -> dict[str, Any]:
    """Validate admin instance fields (wire names); returns Instance attributes."""
    check = _Checker(now_ms)
    entry = check.obj(data, where, tuple(INSTANCE_FIELDS))
    fields = instance_fields(check, entry or {}, where)
    if check.problems:
        raise StateFileError("(request)", check.problems)
    return fields


def load_state_file(path: str | Path, clock: SimClock | None = None) -> EmulatorState:
    """Read and validate a state file; every problem becomes a StateFileError.

    Bounded before it is parsed: at most MAX_STATE_BYTES are read (`/dev/zero` ends
    there), nesting at most MAX_STATE_DEPTH deep, numbers at most MAX_NUMBER_DIGITS long."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise StateFileError(source, [f"cannot read the file ({exc.strerror or exc})"]) from None
    if len(raw) > MAX_STATE_BYTES:
        raise StateFileError(source, [f"larger than {MAX_STATE_BYTES // 2**20} MiB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateFileError(source, [f"not UTF-8 text (byte {exc.start + 1})"]) from None
    return parse_state(read_json(text, source), source, clock)


def read_json(text: str, source: str) -> Any:
    """`text` parsed, or StateFileError: invalid JSON, too deep, or too long a number."""
    try:
        data = _STATE_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(
            source, [f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]
        ) from None
    except RecursionError:
        raise StateFileError(source, [f"nested deeper than {MAX_STATE_DEPTH} levels"]) from None
    except ValueError as exc:  # from the number hooks
        raise StateFileError(source, [str(exc)]) from None
    if depth_exceeds(data, MAX_STATE_DEPTH):
        raise StateFileError(source, [f"nested deeper than {MAX_STATE_DEPTH} levels"])
    return data


def _number(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_DIGITS:
            raise ValueError(
                f"a number of {len(text)} characters ({text[:20]}...); at most {MAX_NUMBER_DIGITS}"
            )
        return kind(text)

    return parse


# A state file is a few instances and tasks: far below these.
MAX_STATE_BYTES = 16 * 2**20
MAX_STATE_DEPTH = 64
MAX_NUMBER_DIGITS = 100
_STATE_DECODER = json.JSONDecoder(parse_int=_number(int), parse_float=_number(float))


def sample_state_data() -> dict[str, Any]:
    """The bundled sample state file, as parsed JSON."""
    text = resources.files(_PACKAGE).joinpath("sample_state.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def sample_state(clock: SimClock | None = None) -> EmulatorState:
    """A fresh state from the bundled sample (``my_app``/``ctr``/...)."""
    return parse_state(sample_state_data(), "sample_state.json", clock)


# -- dumping ---------------------------------------------------------------------


def _dump_task(task: Task) -> dict[str, Any]:
    out: dict[str, Any] = {
        "generation": task.generation,
        "runId": task.run_id,
        "status": task.status,
        "startTime": task.start_time,
    }
    if task.plan is not None:
        out.update(
            durationS=task.plan.duration_ms / 1000,
            outcome=task.plan.outcome,
            metrics=task.plan.metrics,
            errors=task.plan.errors,
        )
        return out
    out.update(progress=task.progress, endTime=task.end_time)
    if task.extend_info is not None:
        out["extendInfo"] = task.extend_info
    else:
        out.update(metrics=task.metrics, errors=task.errors)
    return out


def _dump_instance(inst: Instance) -> dict[str, Any]:
    return {
        **inst.stored_fields(),
        "task": inst.task.to_wire() if inst.task is not None else None,
        "tasks": [_dump_task(t) for t in inst.tasks],
    }


def _actions(actions: frozenset[str] | None) -> dict[str, Any]:
    return {} if actions is None else {"actions": sorted(actions)}


def dump_state(state: EmulatorState) -> dict[str, Any]:
    """The state in the file format; ``parse_state`` reads it back unchanged."""
    with state.lock:
        state.advance_clock(0)  # settle finished runs first
        return {
            "version": FORMAT_VERSION,
            "clock": {"offsetMs": state.clock.offset_ms},
            "accessKeys": [
                {"accessKeyId": k.access_key_id, "accessKeySecret": k.secret, **_actions(k.actions)}
                for k in state.access_keys.values()
            ],
            "stsTokens": [
                {
                    "securityToken": t.token,
                    "accessKeyId": t.access_key_id,
                    "accessKeySecret": t.secret,
                    "expiration": t.expires_ms,
                    **_actions(t.actions),
                }
                for t in state.sts_tokens.values()
            ],
            "appGroups": {
                app: {
                    "functions": {
                        fn: {"instances": {n: _dump_instance(i) for n, i in insts.items()}}
                        for fn, insts in functions.items()
                    }
                }
                for app, functions in state.app_groups.items()
            },
        }
