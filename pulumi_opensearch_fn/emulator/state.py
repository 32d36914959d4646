"""The emulator's model, kept apart from HTTP.

App groups hold functions, functions hold instances, instances hold their
training tasks. Access keys and STS tokens live here too. Everything is
guarded by one re-entrant lock (``EmulatorState.lock``).

Training tasks started with a plan (duration, outcome, final metrics) are
derived from the simulated clock: while running, their progress is the
elapsed fraction of the planned duration (at most 99); when the clock passes
their end they are *settled* once, in end-time order, and the instance
follows (task summary, and on success ``versionId + 1`` and ``available``).
Settling happens before every read, so the result only depends on the clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .clock import SimClock

TASK_STATUSES = ("success", "failed", "running")
DAG_STATUSES = ("success", "failed", "untrained", "pending", "running")
INSTANCE_STATUSES = ("unavailable", "available")
SOURCES = ("user", "builtin")
OUTCOMES = ("success", "failed")
DEFAULT_INSTANCE_EXTEND_INFO = '{"dataReport":{},"errors":{}}'


MAX_GENERATION_DIGITS = 18  # a signed 64-bit integer, as the service stores it


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


def task_extend_info(metrics: Mapping[str, Any], errors: list[Any]) -> str:
    return json.dumps({**metrics, "errors": errors}, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Param:
    name: str
    value: str

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


@dataclass
class Belongs:
    domain: str = ""
    category: str = ""
    language: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {"domain": self.domain, "category": self.category, "language": self.language}


@dataclass
class TaskSummary:
    """The instance's ``task`` field."""

    dag_status: str
    progress: int
    # Timestamp (ms) of the last run: its end when finished, its start while running.
    # The public samples pair it with the task's endTime.
    last_run_time: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "dagStatus": self.dag_status,
            "progress": self.progress,
            "lastRunTime": self.last_run_time,
        }


@dataclass
class Plan:
    """How a running task will end, once the clock passes start + duration."""

    duration_ms: int
    outcome: str = "success"
    metrics: dict[str, Any] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)


@dataclass
class Task:
    generation: int
    start_time: int
    status: str = "success"
    progress: int = 100
    end_time: int = 0
    run_id: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    # Verbatim extendInfo string, when a state file wants full control of it.
    extend_info: str | None = None
    plan: Plan | None = None

    def __post_init__(self) -> None:
        if not self.run_id:
            self.run_id = run_id_for(self.start_time)

    @property
    def ends_at(self) -> int | None:
        return None if self.plan is None else self.start_time + self.plan.duration_ms

    def effective(self, now_ms: int) -> tuple[str, int, int, str]:
        """(status, progress, endTime, extendInfo) as seen at ``now_ms``."""
        plan = self.plan
        if plan is None:
            info = self.extend_info
            if info is None:
                info = task_extend_info(self.metrics, self.errors)
            return self.status, self.progress, self.end_time, info
        end = self.start_time + plan.duration_ms
        if now_ms >= end:
            return plan.outcome, 100, end, task_extend_info(plan.metrics, plan.errors)
        elapsed = max(0, now_ms - self.start_time)
        progress = min(99, elapsed * 100 // plan.duration_ms)
        return "running", progress, 0, task_extend_info({}, [])

    def settle(self) -> None:
        """Freeze a finished planned task into plain fields."""
        plan = self.plan
        if plan is None:
            return
        self.status, self.progress, self.end_time, _ = self.effective(
            self.start_time + plan.duration_ms
        )
        self.metrics, self.errors, self.extend_info = dict(plan.metrics), list(plan.errors), None
        self.plan = None

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


def _sort_key(task: Task) -> tuple[int, int]:
    return (task.start_time, task.generation)


class TaskBook:
    """An instance's tasks, ordered by start time, with cached filtered views.

    Listing 10,000 tasks under load must not re-sort or re-filter on every
    request, so filtered lists are cached until the book changes.
    """

    def __init__(self) -> None:
        self._by_generation: dict[int, Task] = {}
        self._newest_first: list[Task] = []
        self._running: Task | None = None
        self._cache: dict[tuple[str | None, int | None, int | None], list[Task]] = {}

    def __len__(self) -> int:
        return len(self._by_generation)

    def __iter__(self) -> Iterator[Task]:
        """Tasks by ascending generation."""
        return iter(sorted(self._by_generation.values(), key=lambda t: t.generation))

    def get(self, generation: int) -> Task | None:
        return self._by_generation.get(generation)

    def add_many(self, tasks: list[Task]) -> None:
        for task in tasks:
            self._by_generation[task.generation] = task
        self._newest_first = sorted(self._by_generation.values(), key=_sort_key, reverse=True)
        self.invalidate()

    def add(self, task: Task) -> None:
        self.add_many([task])

    def invalidate(self) -> None:
        """Forget cached views; call after any task changed status."""
        self._cache.clear()
        self._running = next((t for t in self._newest_first if t.status == "running"), None)

    def latest(self) -> Task | None:
        return self._newest_first[0] if self._newest_first else None

    def max_generation(self) -> int:
        return max(self._by_generation, default=0)

    def running(self) -> Task | None:
        """The newest running task (kept up to date by ``invalidate``)."""
        return self._running

    def query(
        self, status: str | None, start_after: int | None, end_before: int | None
    ) -> list[Task]:
        """Newest first; ``startTime > start_after``, ``0 < endTime < end_before``."""
        key = (status, start_after, end_before)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        found = [
            t
            for t in self._newest_first
            if (status is None or t.status == status)
            and (start_after is None or t.start_time > start_after)
            # A task that has not ended cannot have ended before anything.
            and (end_before is None or 0 < t.end_time < end_before)
        ]
        self._cache[key] = found
        return found


@dataclass
class Instance:
    name: str
    function_name: str
    function_type: str = "PAAS"
    model_type: str = "tf_checkpoint"
    source: str = "user"
    status: str = "unavailable"
    version_id: int = 0
    create_time: int = 0
    cron: str = ""
    description: str = ""
    belongs: Belongs = field(default_factory=Belongs)
    create_parameters: list[Param] = field(default_factory=list)
    usage_parameters: list[Param] = field(default_factory=list)
    extend_info: str = DEFAULT_INSTANCE_EXTEND_INFO
    task: TaskSummary | None = None
    tasks: TaskBook = field(default_factory=TaskBook)

    def summary(self, now_ms: int) -> TaskSummary | None:
        running = self.tasks.running()
        if running is not None and running.plan is not None:
            _, progress, _, _ = running.effective(now_ms)
            return TaskSummary("running", progress, running.start_time)
        return self.task

    def to_wire(self, now_ms: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instanceName": self.name,
            "functionName": self.function_name,
            **self.stored_fields(),
        }
        summary = self.summary(now_ms)
        if summary is not None:
            out["task"] = summary.to_wire()
        return out

    def stored_fields(self) -> dict[str, Any]:
        """Its own fields by wire name, as the API and the state file both spell them."""
        return {
            "functionType": self.function_type,
            "modelType": self.model_type,
            "source": self.source,
            "status": self.status,
            "versionId": self.version_id,
            "createTime": self.create_time,
            "cron": self.cron,
            "description": self.description,
            "belongs": self.belongs.to_wire(),
            "createParameters": [p.to_wire() for p in self.create_parameters],
            "usageParameters": [p.to_wire() for p in self.usage_parameters],
            "extendInfo": self.extend_info,
        }


# Instance attributes an admin or a state file may set, by wire name.
INSTANCE_FIELDS: dict[str, str] = {
    "functionType": "function_type",
    "modelType": "model_type",
    "source": "source",
    "status": "status",
    "versionId": "version_id",
    "createTime": "create_time",
    "cron": "cron",
    "description": "description",
    "belongs": "belongs",
    "createParameters": "create_parameters",
    "usageParameters": "usage_parameters",
    "extendInfo": "extend_info",
    "task": "task",
}


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret: str
    # RAM: the actions this key may call; None allows all.
    actions: frozenset[str] | None = None


@dataclass(frozen=True)
class StsToken:
    token: str
    access_key_id: str
    secret: str
    expires_ms: int | None = None
    actions: frozenset[str] | None = None


Functions = dict[str, dict[str, Instance]]


class EmulatorState:
    """The whole emulated world. All public methods take the lock."""

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock if clock is not None else SimClock()
        self.lock = threading.RLock()
        self.app_groups: dict[str, Functions] = {}
        self.access_keys: dict[str, AccessKey] = {}
        self.sts_tokens: dict[str, StsToken] = {}

    # -- clock -------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def advance_clock(self, seconds: float) -> int:
        with self.lock:
            now = self.clock.advance(seconds)
            self._settle(now)
            return now

    def _settle(self, now_ms: int) -> None:
        due: list[tuple[int, Instance, Task]] = []
        for functions in self.app_groups.values():
            for instances in functions.values():
                for inst in instances.values():
                    task = inst.tasks.running()
                    end = task.ends_at if task is not None else None
                    if task is not None and end is not None and end <= now_ms:
                        due.append((end, inst, task))
        for end, inst, task in sorted(due, key=lambda d: (d[0], d[1].name)):
            outcome = task.plan.outcome if task.plan is not None else task.status
            task.settle()
            inst.tasks.invalidate()
            inst.task = TaskSummary(outcome, 100, end)
            if outcome == "success":
                inst.version_id += 1
                inst.status = "available"

    # -- lookups -------------------------------------------------------------

    def _instance(self, app: str, function: str, name: str) -> Instance:
        functions = self.app_groups.get(app)
        if functions is None:
            raise OpenSearchError("App.NotFound", f"app group '{app}' not found")
        inst = functions.get(function, {}).get(name)
        if inst is None:
            raise OpenSearchError("Instance.NotExist", "instance not exist.")
        return inst

    def get_instance(self, app: str, function: str, name: str) -> dict[str, Any]:
        """The instance as the wire shows it (camelCase, every field, task if any)."""
        with self.lock:
            now = self.now_ms()
            self._settle(now)
            return self._instance(app, function, name).to_wire(now)

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
            now = self.now_ms()
            self._settle(now)
            inst = self._instance(app, function, name)
            found = inst.tasks.query(status, start_time, end_time)
            first = (page_number - 1) * page_size
            page = found[first : first + page_size]
            return len(found), [t.to_wire(inst.function_name, now) for t in page]

    def get_task(self, app: str, function: str, name: str, generation: str) -> dict[str, Any]:
        with self.lock:
            now = self.now_ms()
            self._settle(now)
            inst = self._instance(app, function, name)
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
        """Every credential secret the emulator accepts: what answers and logs must not show."""
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

    # -- changes -------------------------------------------------------------

    def add_access_key(self, key: AccessKey) -> None:
        with self.lock:
            self.access_keys[key.access_key_id] = key

    def add_sts_token(self, token: StsToken) -> None:
        with self.lock:
            self.sts_tokens[token.token] = token

    def upsert_instance(
        self, app: str, function: str, name: str, fields: Mapping[str, Any] | None = None
    ) -> None:
        """Create the instance (and its app group and function) or update it.

        ``fields`` are attribute names of :class:`Instance` (``version_id`` ...)
        with already-validated values.
        """
        with self.lock:
            instances = self.app_groups.setdefault(app, {}).setdefault(function, {})
            inst = instances.get(name)
            if inst is None:
                inst = Instance(name=name, function_name=function, create_time=self.now_ms())
                instances[name] = inst
            self._apply(inst, fields or {})

    def set_instance_fields(
        self, app: str, function: str, name: str, fields: Mapping[str, Any]
    ) -> None:
        """Update an existing instance; raises OpenSearchError when it does not exist."""
        with self.lock:
            self._apply(self._instance(app, function, name), fields)

    @staticmethod
    def _apply(inst: Instance, fields: Mapping[str, Any]) -> None:
        allowed = set(INSTANCE_FIELDS.values())
        for attr, value in fields.items():
            if attr not in allowed:
                raise ValueError(f"unknown instance field {attr!r}")
            setattr(inst, attr, value)

    def add_app_group(self, app: str) -> None:
        with self.lock:
            self.app_groups.setdefault(app, {})

    def add_tasks(
        self,
        app: str,
        function: str,
        name: str,
        count: int,
        *,
        status: str = "success",
        start_ms: int | None = None,
        interval_ms: int | None = None,
        duration_ms: int = 600_000,
        metrics: Mapping[str, Any] | None = None,
        errors: list[Any] | None = None,
    ) -> tuple[int, int]:
        """Append ``count`` finished tasks; returns (first, last) generation.

        By default they are spread evenly between the latest existing task and
        now (hourly when the instance has none), so generation order and
        start-time order agree.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if status not in OUTCOMES:
            raise ValueError(f"status must be one of {', '.join(OUTCOMES)}")
        with self.lock:
            now = self.now_ms()
            self._settle(now)
            inst = self._instance(app, function, name)
            if inst.tasks.running() is not None:
                raise ConflictError(
                    "the instance has a running task; add history before starting one"
                )
            latest = inst.tasks.latest()
            if interval_ms is None:
                interval_ms = 3_600_000
                if latest is not None and start_ms is None:
                    room = now - max(latest.start_time, latest.end_time)
                    interval_ms = max(1, min(interval_ms, room // (count + 1)))
            if start_ms is None:
                start_ms = now - count * interval_ms
            first = inst.tasks.max_generation() + 1
            tasks = [
                Task(
                    generation=first + i,
                    start_time=start_ms + i * interval_ms,
                    status=status,
                    progress=100,
                    end_time=start_ms + i * interval_ms + duration_ms,
                    metrics=dict(metrics or {}),
                    errors=list(errors or []),
                )
                for i in range(count)
            ]
            inst.tasks.add_many(tasks)
            newest = inst.tasks.latest()
            if newest is not None:
                inst.task = TaskSummary(
                    newest.status, newest.progress, newest.end_time or newest.start_time
                )
            return first, first + count - 1

    def start_task(
        self,
        app: str,
        function: str,
        name: str,
        duration_ms: int,
        *,
        outcome: str = "success",
        metrics: Mapping[str, Any] | None = None,
        errors: list[Any] | None = None,
        run_id: str = "",
    ) -> int:
        """Start a training run now; returns its generation."""
        if duration_ms < 1:
            raise ValueError("duration must be positive")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.lock:
            now = self.now_ms()
            self._settle(now)
            inst = self._instance(app, function, name)
            if inst.tasks.running() is not None:
                raise ConflictError("the instance already has a running task")
            generation = inst.tasks.max_generation() + 1
            plan = Plan(duration_ms, outcome, dict(metrics or {}), list(errors or []))
            task = Task(generation, now, "running", 0, 0, run_id, plan=plan)
            inst.tasks.add(task)
            inst.task = TaskSummary("running", 0, now)
            return generation

    def replace_with(self, other: EmulatorState) -> None:
        """Take over another state's contents, keeping this object (servers hold it)."""
        with self.lock, other.lock:
            self.app_groups = other.app_groups
            self.access_keys = other.access_keys
            self.sts_tokens = other.sts_tokens
            self.clock.set_offset(other.clock.offset_ms)

    def counts(self) -> dict[str, int]:
        with self.lock:
            functions = [f for fs in self.app_groups.values() for f in fs.values()]
            instances = [i for f in functions for i in f.values()]
            return {
                "appGroups": len(self.app_groups),
                "functions": len(functions),
                "instances": len(instances),
                "tasks": sum(len(i.tasks) for i in instances),
                "accessKeys": len(self.access_keys),
                "stsTokens": len(self.sts_tokens),
            }
