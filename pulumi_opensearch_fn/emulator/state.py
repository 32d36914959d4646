"""The emulator's model, kept apart from HTTP, under one re-entrant lock (``lock``).

App groups hold functions, functions hold instances, instances hold training tasks;
access keys and STS tokens too. Each record is its own description (see ``schema``):
the state file and the admin API use its fields, in camelCase, as keys.

A running task with ``duration_s`` is a training run: its progress is the elapsed
share of its duration (at most 99) on the simulated clock. Once the clock passes its
end it is settled, in end-time order, and the instance follows (its task summary, and
on success ``versionId + 1`` and ``available``). Settling happens before every read,
so what is seen depends only on the clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from .clock import SimClock
from .schema import DURATION, HIDDEN, JSON_TEXT, METRICS, PERCENT, SECONDS, TIME, Check, dump

TASK_STATUSES = ("success", "failed", "running")
DAG_STATUSES = ("success", "failed", "untrained", "pending", "running")
INSTANCE_STATUSES = ("unavailable", "available")
SOURCES = ("user", "builtin")
OUTCOMES = ("success", "failed")
DEFAULT_DURATION_S = 600
MAX_GENERATION_DIGITS = 18  # a signed 64-bit integer, as the service stores it
KEY_ID = Check(key=",:;")
SECRET = Check(wire="accessKeySecret", not_empty=True, secret=True)


class OpenSearchError(Exception):
    """An error the OpenSearch service itself answers (camelCase body)."""

    def __init__(self, code: str, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class ConflictError(ValueError):
    """An admin request that contradicts the current state."""


def run_id_for(start_ms: int) -> str:
    """The service's run id style: ``trigger__2021-03-05T12:18:41``."""
    stamp = datetime.fromtimestamp(start_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"trigger__{stamp}"


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
    """A training task. Defaults: ``generation`` 0 is the previous one's plus 1 (see
    ``state_file``), a finished task ends ``duration_s`` (600) after it started,
    ``extend_info`` is ``metrics`` plus ``errors``, ``outcome`` of a run is success."""

    start_time: Annotated[int, TIME]
    generation: Annotated[int, Check(low=1, digits=True)] = 0
    run_id: str = ""
    status: Annotated[str, Check(choices=TASK_STATUSES)] = "success"
    progress: Annotated[int | None, PERCENT] = None  # 0 while running, else 100
    end_time: Annotated[int | None, TIME] = None
    duration_s: Annotated[float | None, DURATION] = None
    outcome: Annotated[str | None, Check(choices=OUTCOMES)] = None
    metrics: Annotated[dict[str, Any], METRICS] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    extend_info: Annotated[str | None, JSON_TEXT] = None  # verbatim

    def __post_init__(self) -> None:
        self.run_id = self.run_id or run_id_for(self.start_time)
        running = self.status == "running"
        if self.progress is None:
            self.progress = 0 if running else 100
        if self.end_time is None:
            duration = self.duration_s or DEFAULT_DURATION_S
            self.end_time = 0 if running else self.start_time + round(duration * 1000)

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
        end = self.ends_at
        if end is None:
            info = self.extend_info
            info = extend_info(self.metrics, self.errors) if info is None else info
            return self.status, self.progress or 0, self.end_time or 0, info
        if now_ms >= end:
            return self.outcome or "success", 100, end, extend_info(self.metrics, self.errors)
        progress = min(99, max(0, now_ms - self.start_time) * 100 // (end - self.start_time))
        return "running", progress, 0, extend_info({}, [])

    def settle(self) -> None:
        """Freeze a finished training run into a plain finished task."""
        if self.ends_at is not None:
            self.status, self.progress, self.end_time, _ = self.effective(self.ends_at)
            self.outcome = None

    def summary(self) -> TaskSummary:
        return TaskSummary(self.status, self.progress or 0, self.end_time or self.start_time)

    def to_wire(self, function_name: str, now_ms: int) -> dict[str, Any]:
        status, progress, end_time, info = self.effective(now_ms)
        return {
            "functionName": function_name,
            "generation": str(self.generation),
            "runId": self.run_id,
            "status": status,
            "progress": progress,
            "startTime": self.start_time,
            "endTime": end_time,
            "extendInfo": info,
        }


class TaskBook:
    """An instance's tasks, newest first, with cached filtered views: listing 10,000
    tasks under load must not re-sort or re-filter on every request."""

    def __init__(self) -> None:
        self._by_generation: dict[int, Task] = {}
        self._newest_first: list[Task] = []
        self._running: Task | None = None
        self._cache: dict[tuple[str | None, int | None, int | None], list[Task]] = {}

    def __len__(self) -> int:
        return len(self._by_generation)

    def __iter__(self) -> Iterator[Task]:
        """By ascending generation."""
        return iter(sorted(self._by_generation.values(), key=lambda t: t.generation))

    def get(self, generation: int) -> Task | None:
        return self._by_generation.get(generation)

    def add(self, *tasks: Task) -> None:
        for task in tasks:
            self._by_generation[task.generation] = task
        self._newest_first = sorted(
            self._by_generation.values(), key=lambda t: (t.start_time, t.generation), reverse=True
        )
        self.invalidate()

    def invalidate(self) -> None:
        """Forget cached views; call after any task changed status."""
        self._cache.clear()
        self._running = next((t for t in self._newest_first if t.status == "running"), None)

    def latest(self) -> Task | None:
        return self._newest_first[0] if self._newest_first else None

    def next_generation(self) -> int:
        return max(self._by_generation, default=0) + 1

    def running(self) -> Task | None:
        return self._running

    def query(self, status: str | None, after: int | None, before: int | None) -> list[Task]:
        """Newest first; ``startTime > after``, ``0 < endTime < before``."""
        key = (status, after, before)
        if key not in self._cache:
            self._cache[key] = [
                t
                for t in self._newest_first
                if (status is None or t.status == status)
                and (after is None or t.start_time > after)
                # A task that has not ended cannot have ended before anything.
                and (before is None or 0 < (t.end_time or 0) < before)
            ]
        return self._cache[key]


@dataclass
class Instance:
    name: Annotated[str, HIDDEN] = ""
    function_name: Annotated[str, HIDDEN] = ""
    function_type: str = "PAAS"
    model_type: str = "tf_checkpoint"
    source: Annotated[str, Check(choices=SOURCES)] = "user"
    status: Annotated[str, Check(choices=INSTANCE_STATUSES)] = "unavailable"
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
        wire = {"instanceName": self.name, "functionName": self.function_name, **dump(self)}
        running = self.tasks.running()
        if running is not None and running.ends_at is not None:
            wire["task"] = dump(
                TaskSummary("running", running.effective(now_ms)[1], running.start_time)
            )
        if wire["task"] is None:
            del wire["task"]
        return wire


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
    """The whole emulated world. Public methods take the lock; changes take records
    already validated (``schema.Reader``)."""

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
            now = self.clock.advance(seconds)
            self._settle(now)
            return now

    def instances(self) -> Iterator[Instance]:
        for functions in self.app_groups.values():
            for instances in functions.values():
                yield from instances.values()

    def _settle(self, now_ms: int) -> None:
        due = []
        for inst in self.instances():
            task = inst.tasks.running()
            end = task.ends_at if task is not None else None
            if task is not None and end is not None and end <= now_ms:
                due.append((end, inst.name, inst, task))
        for _, _, inst, task in sorted(due, key=lambda d: d[:2]):
            task.settle()
            inst.tasks.invalidate()
            inst.task = task.summary()
            if task.status == "success":
                inst.version_id += 1
                inst.status = "available"

    def _instance(self, app: str, function: str, name: str) -> tuple[Instance, int]:
        """The instance, after settling runs that ended by now; and now."""
        now = self.now_ms()
        self._settle(now)
        functions = self.app_groups.get(app)
        if functions is None:
            raise OpenSearchError("App.NotFound", f"app group '{app}' not found")
        inst = functions.get(function, {}).get(name)
        if inst is None:
            raise OpenSearchError("Instance.NotExist", "instance not exist.")
        return inst, now

    def get_instance(self, app: str, function: str, name: str) -> dict[str, Any]:
        """The instance as the API shows it (camelCase, every field, its task if any)."""
        with self.lock:
            inst, now = self._instance(app, function, name)
            return inst.to_wire(now)

    def list_tasks(
        self,
        app: str,
        function: str,
        name: str,
        *,
        status: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        page_number: int = 1,
        page_size: int = 1,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, one page of tasks newest first)."""
        with self.lock:
            inst, now = self._instance(app, function, name)
            found = inst.tasks.query(status, start_time, end_time)
            page = found[(page_number - 1) * page_size :][:page_size]
            return len(found), [t.to_wire(inst.function_name, now) for t in page]

    def get_task(self, app: str, function: str, name: str, generation: str) -> dict[str, Any]:
        with self.lock:
            inst, now = self._instance(app, function, name)
            numeric = generation.isascii() and generation.isdecimal()
            if numeric and len(generation) > MAX_GENERATION_DIGITS:
                # int() of thousands of digits is slow or refused outright.
                raise OpenSearchError(
                    "InvalidParameter",
                    f"generation must have at most {MAX_GENERATION_DIGITS} digits",
                    400,
                )
            task = inst.tasks.get(int(generation)) if numeric else None
            if task is None:
                raise OpenSearchError("Task.NotExist", "task not exist.")
            return task.to_wire(inst.function_name, now)

    def secret_values(self) -> tuple[str, ...]:
        """Every credential secret it accepts: what answers and logs must not show."""
        with self.lock:
            keys = [k.secret for k in self.access_keys.values()]
            tokens = [part for t in self.sts_tokens.values() for part in (t.token, t.secret)]
        return (*keys, *tokens)

    def access_key(self, access_key_id: str) -> AccessKey | None:
        with self.lock:
            return self.access_keys.get(access_key_id)

    def sts_token(self, token: str) -> StsToken | None:
        with self.lock:
            return self.sts_tokens.get(token)

    def is_sts_key_id(self, access_key_id: str) -> bool:
        with self.lock:
            return any(t.access_key_id == access_key_id for t in self.sts_tokens.values())

    def add_access_key(self, key: AccessKey) -> None:
        with self.lock:
            self.access_keys[key.access_key_id] = key

    def add_sts_token(self, token: StsToken) -> None:
        with self.lock:
            self.sts_tokens[token.token] = token

    def add_app_group(self, app: str) -> None:
        with self.lock:
            self.app_groups.setdefault(app, {})

    def upsert_instance(
        self,
        app: str,
        function: str,
        name: str,
        fields: Mapping[str, Any] | None = None,
        *,
        create: bool = True,
    ) -> None:
        """Set ``fields`` (Instance attributes) of the instance, creating it (and its app
        group and function) unless ``create`` is false: then it must exist."""
        with self.lock:
            if create:
                instances = self.app_groups.setdefault(app, {}).setdefault(function, {})
                if name not in instances:
                    instances[name] = Instance(name, function, create_time=self.now_ms())
            inst, _ = self._instance(app, function, name)
            for attr, value in (fields or {}).items():
                setattr(inst, attr, value)

    def _idle(self, app: str, function: str, name: str, conflict: str) -> tuple[Instance, int]:
        inst, now = self._instance(app, function, name)
        if inst.tasks.running() is not None:
            raise ConflictError(conflict)
        return inst, now

    def add_tasks(self, app: str, function: str, name: str, batch: TaskBatch) -> tuple[int, int]:
        """Append finished tasks; returns their (first, last) generation."""
        with self.lock:
            conflict = "the instance has a running task; add history before starting one"
            inst, now = self._idle(app, function, name, conflict)
            count, latest = batch.count, inst.tasks.latest()
            interval = 3_600_000 if batch.interval_s is None else round(batch.interval_s * 1000)
            if latest is not None and batch.start_time is None and batch.interval_s is None:
                room = now - max(latest.start_time, latest.end_time or 0)
                interval = max(1, min(interval, room // (count + 1)))
            start = now - count * interval if batch.start_time is None else batch.start_time
            first = inst.tasks.next_generation()
            duration = round(batch.duration_s * 1000)
            tasks = [
                Task(
                    start + i * interval,
                    first + i,
                    status=batch.status,
                    end_time=start + i * interval + duration,
                    metrics=dict(batch.metrics),
                    errors=list(batch.errors),
                )
                for i in range(count)
            ]
            inst.tasks.add(*tasks)
            inst.task = inst.tasks.latest().summary()  # type: ignore[union-attr]
            return first, first + count - 1

    def start_task(self, app: str, function: str, name: str, run: Training) -> int:
        """Start a training run now; returns its generation."""
        with self.lock:
            conflict = "the instance already has a running task"
            inst, now = self._idle(app, function, name, conflict)
            task = Task(
                now,
                inst.tasks.next_generation(),
                run.run_id,
                "running",
                duration_s=run.duration_s,
                outcome=run.outcome,
                metrics=dict(run.metrics),
                errors=list(run.errors),
            )
            inst.tasks.add(task)
            inst.task = TaskSummary("running", 0, now)
            return task.generation

    def replace_with(self, other: EmulatorState) -> None:
        """Take over another state's contents, keeping this object (servers hold it)."""
        with self.lock, other.lock:
            self.app_groups = other.app_groups
            self.access_keys = other.access_keys
            self.sts_tokens = other.sts_tokens
            self.clock.set_offset(other.clock.offset_ms)

    def counts(self) -> dict[str, int]:
        with self.lock:
            instances = list(self.instances())
            return {
                "appGroups": len(self.app_groups),
                "functions": sum(len(f) for f in self.app_groups.values()),
                "instances": len(instances),
                "tasks": sum(len(i.tasks) for i in instances),
                "accessKeys": len(self.access_keys),
                "stsTokens": len(self.sts_tokens),
            }
