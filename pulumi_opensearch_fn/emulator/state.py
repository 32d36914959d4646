"""The model: app groups hold functions, functions instances, instances training tasks;
and credentials. Its records describe themselves (``schema``) to the state file and API.

A running task with ``duration_s`` is a training run: its progress is the elapsed share
of its duration (at most 99) on the simulated clock. Before every read, runs whose end
passed settle in end-time order, and the instance follows (task summary; on success
``versionId + 1`` and ``available``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from .clock import SimClock
from .schema import DURATION, HIDDEN, JSON_TEXT, METRICS, PERCENT, SECONDS, TIME, Check, dump

TASK_STATUSES = ("success", "failed", "running")
DAG_STATUSES = ("success", "failed", "untrained", "pending", "running")
OUTCOMES = ("success", "failed")
DEFAULT_DURATION_S = 600
MAX_GENERATION_DIGITS = 18  # a signed 64-bit integer, as the service stores it
KEY_ID = Check(key=",:;")
SECRET = Check(wire="accessKeySecret", not_empty=True, secret=True)


class OpenSearchError(Exception):
    """An error the OpenSearch service answers (camelCase body); the admin API's too."""

    def __init__(self, code: str, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def extend_info(metrics: Mapping[str, Any], errors: list[Any]) -> str:
    return json.dumps({**metrics, "errors": errors}, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Param:
    name: str
    value: str = ""


@dataclass
class Belongs:
    domain: str = ""
    category: str = ""
    language: str = ""


@dataclass
class TaskSummary:
    """An instance's ``task``; ``last_run_time`` is its run's end, or start while running."""

    dag_status: Annotated[str, Check(choices=DAG_STATUSES)]
    progress: Annotated[int, PERCENT] = 0
    last_run_time: Annotated[int, TIME] = 0


@dataclass
class Task:
    """A training task; a finished one ends ``duration_s`` (600) after its start, and its
    extendInfo is ``metrics`` plus ``errors`` unless given (``extend_info``)."""

    start_time: Annotated[int, TIME]
    generation: Annotated[int, Check(low=1, digits=True)] = 0  # 0: the previous one's + 1
    run_id: str = ""  # default from the start: trigger__2021-03-05T12:18:41
    status: Annotated[str, Check(choices=TASK_STATUSES)] = "success"
    progress: Annotated[int | None, PERCENT] = None  # default: 0 while running, else 100
    end_time: Annotated[int | None, TIME] = None
    duration_s: Annotated[float | None, DURATION] = None
    outcome: Annotated[str | None, Check(choices=OUTCOMES)] = None  # of a run; success
    metrics: Annotated[dict[str, Any], METRICS] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    extend_info: Annotated[str | None, JSON_TEXT] = None  # verbatim

    def __post_init__(self) -> None:
        stamp = datetime.fromtimestamp(self.start_time / 1000, tz=UTC)
        self.run_id = self.run_id or f"trigger__{stamp:%Y-%m-%dT%H:%M:%S}"
        running = self.status == "running"
        self.progress = (0 if running else 100) if self.progress is None else self.progress
        if self.end_time is None:
            duration = round((self.duration_s or DEFAULT_DURATION_S) * 1000)
            self.end_time = 0 if running else self.start_time + duration

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.outcome is not None and self.ends_at is None:
            yield "outcome", "only a running task with durationS has an outcome"
        if self.status == "running" and self.end_time:
            yield "endTime", "a running task has not ended (leave it out or 0)"

    @property
    def ends_at(self) -> int | None:
        """When a training run ends; None for any other task."""
        if self.status != "running" or self.duration_s is None:
            return None
        return self.start_time + round(self.duration_s * 1000)

    def effective(self, now_ms: int) -> tuple[str, int, int, str]:
        """(status, progress, endTime, extendInfo) as seen at ``now_ms``."""
        end, info = self.ends_at, extend_info(self.metrics, self.errors)
        if end is None:
            info = info if self.extend_info is None else self.extend_info
            return self.status, self.progress or 0, self.end_time or 0, info
        if now_ms >= end:
            return self.outcome or "success", 100, end, info
        progress = min(99, max(0, now_ms - self.start_time) * 100 // (end - self.start_time))
        return "running", progress, 0, extend_info({}, [])

    def settle(self) -> None:
        """A finished training run becomes a plain finished task."""
        if self.ends_at is not None:
            self.status, self.progress, self.end_time, _ = self.effective(self.ends_at)
            self.outcome = None

    def summary(self) -> TaskSummary:
        return TaskSummary(self.status, self.progress or 0, self.end_time or self.start_time)

    def to_wire(self, function_name: str, now_ms: int) -> dict[str, Any]:
        status, progress, end_time, info = self.effective(now_ms)
        return {
            "functionName": function_name, "generation": str(self.generation),
            "runId": self.run_id, "status": status, "progress": progress,
            "startTime": self.start_time, "endTime": end_time, "extendInfo": info,
        }  # fmt: skip


class TaskBook:
    """An instance's tasks, newest first, with filtered views cached until one changes:
    listing 10,000 tasks under load must not re-sort or re-filter on every request."""

    def __init__(self) -> None:
        self.by_generation: dict[int, Task] = {}
        self.newest: list[Task] = []
        self._views: dict[tuple[str | None, int | None, int | None], list[Task]] = {}

    def add(self, *tasks: Task) -> None:
        self.by_generation.update((t.generation, t) for t in tasks)
        by_start = sorted(self.by_generation.values(), key=lambda t: (t.start_time, t.generation))
        self.newest = by_start[::-1]
        self._views.clear()

    def next_generation(self) -> int:
        return max(self.by_generation, default=0) + 1

    def running(self) -> Task | None:
        return next(iter(self.query("running", None, None)), None)

    def query(self, status: str | None, after: int | None, before: int | None) -> list[Task]:
        """Newest first; ``startTime > after``, ``0 < endTime < before``."""
        key = (status, after, before)
        if key not in self._views:
            self._views[key] = [
                t
                for t in self.newest
                if (status is None or t.status == status)
                and (after is None or t.start_time > after)
                # A task that has not ended cannot have ended before anything.
                and (before is None or 0 < (t.end_time or 0) < before)
            ]
        return self._views[key]


@dataclass
class Instance:
    name: Annotated[str, HIDDEN] = ""
    function_name: Annotated[str, HIDDEN] = ""
    function_type: str = "PAAS"
    model_type: str = "tf_checkpoint"
    source: Annotated[str, Check(choices=("user", "builtin"))] = "user"
    status: Annotated[str, Check(choices=("unavailable", "available"))] = "unavailable"
    version_id: Annotated[int, Check(low=0)] = 0
    create_time: Annotated[int, TIME] = 0
    cron: str = ""
    description: str = ""
    belongs: Belongs = field(default_factory=Belongs)
    create_parameters: list[Param] = field(default_factory=list)
    usage_parameters: list[Param] = field(default_factory=list)
    extend_info: Annotated[str, JSON_TEXT] = '{"dataReport":{},"errors":{}}'
    task: TaskSummary | None = None
    tasks: Annotated[TaskBook, HIDDEN] = field(default_factory=TaskBook)

    def to_wire(self, now_ms: int) -> dict[str, Any]:
        """As the API shows it: its own fields, and its task summary if any."""
        wire = {"instanceName": self.name, "functionName": self.function_name, **dump(self)}
        run = self.tasks.running()
        if run is not None and run.ends_at is not None:
            wire["task"] = dump(TaskSummary("running", run.effective(now_ms)[1], run.start_time))
        return {k: v for k, v in wire.items() if k != "task" or v is not None}


@dataclass(frozen=True)
class AccessKey:
    access_key_id: Annotated[str, KEY_ID]
    secret: Annotated[str, SECRET]
    actions: frozenset[str] | None = None  # RAM: the actions it may call; None: all


@dataclass(frozen=True)
class StsToken:
    token: Annotated[str, Check(wire="securityToken", key="", secret=True)]
    access_key_id: Annotated[str, KEY_ID]
    secret: Annotated[str, SECRET]
    expires_ms: Annotated[int | None, Check(wire="expiration", time=True, real_time=True)] = None
    actions: frozenset[str] | None = None


@dataclass
class TaskBatch:
    """Finished tasks added at once; by default spread evenly between the latest task
    and now (hourly when there is none), so generation and start-time order agree."""

    count: Annotated[int, Check(low=1, high=1_000_000)] = 1
    status: Annotated[str, Check(choices=OUTCOMES)] = "success"
    start_time: Annotated[int | None, TIME] = None
    interval_s: Annotated[float | None, DURATION] = None
    duration_s: Annotated[float, SECONDS] = DEFAULT_DURATION_S
    metrics: Annotated[dict[str, Any], METRICS] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)


@dataclass
class Training:
    """A training run started now (see the module's docstring)."""

    duration_s: Annotated[float, DURATION]
    outcome: Annotated[str, Check(choices=OUTCOMES)] = "success"
    metrics: Annotated[dict[str, Any], METRICS] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    run_id: str = ""


class EmulatorState:
    """The whole emulated world, under one re-entrant ``lock``; changes take valid records."""

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock if clock is not None else SimClock()
        self.lock = threading.RLock()
        self.app_groups: dict[str, dict[str, dict[str, Instance]]] = {}
        self.access_keys: dict[str, AccessKey] = {}
        self.sts_tokens: dict[str, StsToken] = {}

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def advance_clock(self, seconds: float) -> int:
        with self.lock:
            self._settle(self.clock.advance(seconds))
            return self.now_ms()

    def instances(self) -> list[Instance]:
        return [i for fs in self.app_groups.values() for f in fs.values() for i in f.values()]

    def _settle(self, now_ms: int, only: Instance | None = None) -> None:
        """Ends the runs due by `now_ms`: `only`'s (each instance's runs are its own), or all."""
        found = self.instances() if only is None else [only]
        runs = [(t.ends_at, i.name, i, t) for i in found if (t := i.tasks.running())]
        due = [run for run in runs if run[0] is not None and run[0] <= now_ms]
        for _, _, inst, task in sorted(due, key=lambda run: run[:2]):
            task.settle()
            inst.tasks.add()  # its views are out of date
            inst.task = task.summary()
            if task.status == "success":
                inst.version_id, inst.status = inst.version_id + 1, "available"

    @contextmanager
    def instance(
        self, app: str, function: str, name: str, idle: bool = False
    ) -> Iterator[tuple[Instance, int]]:
        """The instance (else OpenSearchError; ``idle``: a 409 Conflict while it has a
        running task) and now, under the lock, runs settled."""
        with self.lock:
            now = self.now_ms()
            if app not in self.app_groups:
                raise OpenSearchError("App.NotFound", f"app group '{app}' not found")
            inst = self.app_groups[app].get(function, {}).get(name)
            if inst is None:
                raise OpenSearchError("Instance.NotExist", "instance not exist.")
            self._settle(now, inst)  # not every instance's: a read stays O(1) in their number
            if idle and inst.tasks.running() is not None:
                message = "the instance has a running task (add tasks before a run)"
                raise OpenSearchError("Conflict", message, 409)  # an admin request's
            yield inst, now

    def get_instance(self, app: str, function: str, name: str) -> dict[str, Any]:
        with self.instance(app, function, name) as (inst, now):
            return inst.to_wire(now)

    def get_task(self, app: str, function: str, name: str, generation: str) -> dict[str, Any]:
        with self.instance(app, function, name) as (inst, now):
            numeric = generation.isascii() and generation.isdecimal()
            if numeric and len(generation) > MAX_GENERATION_DIGITS:
                # int() of thousands of digits is slow or refused outright.
                message = f"generation must have at most {MAX_GENERATION_DIGITS} digits"
                raise OpenSearchError("InvalidParameter", message, 400)
            task = inst.tasks.by_generation.get(int(generation)) if numeric else None
            if task is None:
                raise OpenSearchError("Task.NotExist", "task not exist.")
            return task.to_wire(inst.function_name, now)

    def secret_values(self) -> tuple[str, ...]:
        """Every credential secret it accepts: what answers and logs must not show."""
        with self.lock:
            tokens = [part for t in self.sts_tokens.values() for part in (t.token, t.secret)]
            return (*(k.secret for k in self.access_keys.values()), *tokens)

    def add_credential(self, credential: AccessKey | StsToken) -> None:
        with self.lock:
            if isinstance(credential, StsToken):
                self.sts_tokens[credential.token] = credential
            else:
                self.access_keys[credential.access_key_id] = credential

    def add_app_group(self, app: str) -> None:
        with self.lock:
            self.app_groups.setdefault(app, {})

    def upsert_instance(
        self,
        app: str,
        function: str,
        name: str,
        fields: Mapping[str, Any] = {},
        create: bool = True,
    ) -> None:
        """Set ``fields`` (Instance attributes) of the instance, creating it (and its app
        group and function) unless ``create`` is false: then it must exist."""
        with self.lock:
            if create:
                instances = self.app_groups.setdefault(app, {}).setdefault(function, {})
                instances.setdefault(name, Instance(name, function, create_time=self.now_ms()))
            with self.instance(app, function, name) as (inst, _):
                for attr, value in fields.items():
                    setattr(inst, attr, value)

    def add_tasks(self, app: str, function: str, name: str, batch: TaskBatch) -> tuple[int, int]:
        """Append finished tasks; returns their (first, last) generation."""
        with self.instance(app, function, name, idle=True) as (inst, now):
            count, latest = batch.count, next(iter(inst.tasks.newest), None)
            step = 3_600_000 if batch.interval_s is None else round(batch.interval_s * 1000)
            if latest is not None and batch.start_time is None and batch.interval_s is None:
                room = now - max(latest.start_time, latest.end_time or 0)
                step = max(1, min(step, room // (count + 1)))
            start = now - count * step if batch.start_time is None else batch.start_time
            first, duration = inst.tasks.next_generation(), round(batch.duration_s * 1000)
            batch_tasks = [
                Task(at, first + i, status=batch.status, end_time=at + duration,
                     metrics=dict(batch.metrics), errors=list(batch.errors))
                for i, at in enumerate(range(start, start + count * step, step))
            ]  # fmt: skip
            inst.tasks.add(*batch_tasks)
            inst.task = inst.tasks.newest[0].summary()
            return first, first + count - 1

    def start_task(self, app: str, function: str, name: str, run: Training) -> int:
        """Start a training run now; returns its generation."""
        with self.instance(app, function, name, idle=True) as (inst, now):
            generation = inst.tasks.next_generation()  # a Training's fields are a Task's
            inst.tasks.add(Task(now, generation, status="running", **asdict(run)))
            inst.task = TaskSummary("running", 0, now)
            return generation

    def replace_with(self, other: EmulatorState) -> None:
        """Take over another state's contents, keeping this object (servers hold it)."""
        with self.lock, other.lock:
            self.app_groups, self.access_keys = other.app_groups, other.access_keys
            self.sts_tokens = other.sts_tokens
            self.clock.set_offset(other.clock.offset_ms)

    def counts(self) -> dict[str, int]:
        with self.lock:
            instances = self.instances()
            return {
                "appGroups": len(self.app_groups),
                "functions": sum(len(f) for f in self.app_groups.values()),
                "instances": len(instances),
                "tasks": sum(len(i.tasks.by_generation) for i in instances),
                "accessKeys": len(self.access_keys),
                "stsTokens": len(self.sts_tokens),
            }
