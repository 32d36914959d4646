"""What a unit test's `Mocks.call` answers for a read, as the models the gates judge.

An answer is the outputs of the resource or data source read, in the schema's
camelCase (`latestGeneration`); snake_case (`latest_generation`) is accepted too.
Keys the package computes itself (`id`, `appGroup`, `ready`, `unmet` ...) are
ignored, so a mock may answer with a copy of real outputs. A missing, unknown or
ill-typed key fails the read with a message naming it. README.md ("Testing your
stack") lists the keys.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .api.errors import BadResponseError
from .api.identity import Identity
from .api.models import (
    MAX_TIME_MS,
    MAX_WHOLE,
    Belongs,
    ExtendInfo,
    FunctionInstance,
    FunctionTask,
    InstanceTask,
    Parameter,
)
from .api.numbers import is_safe_float
from .core.expectations import Expect, Observation
from .core.outputs import (
    IDENTITY_FIELDS,
    INSTANCE_FIELDS,
    LATEST_PREFIX,
    REQUESTED_GENERATION,
    TASK_FIELDS,
)
from .core.printable import brief


class MockAnswerError(BadResponseError):
    """A unit test's `Mocks.call` failed, or answered what a read cannot use."""


HINT = "see README.md, Testing your stack"
# Outputs the package computes itself, from the request and the expectations.
_COMPUTED = frozenset({"id", *IDENTITY_FIELDS, REQUESTED_GENERATION, "ready", "unmet"})
_TASK_KEYS = frozenset(TASK_FIELDS)
# The latest task, flat, under the FunctionInstance resource's output names.
_LATEST_KEYS = {
    "generation": "latest_generation",
    **{name: LATEST_PREFIX + name for name in TASK_FIELDS if name != "generation"},
}
_INSTANCE_KEYS = frozenset(
    {
        *INSTANCE_FIELDS,
        *_LATEST_KEYS.values(),
        "latest_success_generation",
        "latest_success_task",
        "previous_success_task",
    }
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def camel(key: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), key)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


@dataclass(frozen=True)
class _Object:
    """One object of an answer, its keys in snake_case; `shown` names a key in messages."""

    token: str
    values: Mapping[str, Any]
    shown: Callable[[str], str]

    @classmethod
    def of(cls, token: str, value: object, where: str = "") -> _Object:
        if not isinstance(value, Mapping):
            what = f"`{where.rstrip('.')}`" if where else "the answer"
            raise _error(token, f"{what} is {brief(value)}, expected an object")
        values: dict[str, Any] = {}
        for key, item in value.items():
            name = _snake(str(key))
            if name in values:
                raise _error(token, f"`{where}{camel(name)}` is given twice ({brief(key)})")
            values[name] = item
        return cls(token, values, lambda name: f"{where}{camel(name)}")

    def given(self, name: str) -> bool:
        return self.values.get(name) is not None

    def only(self, known: frozenset[str]) -> None:
        """Refuses a key the shape does not have (a typo would otherwise be ignored)."""
        for name in sorted(set(self.values) - known - _COMPUTED):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean `{self.shown(close[0])}`?)" if close else f"; {HINT}"
            raise self.error(f"`{self.shown(name)}` is not a key of this answer{hint}")

    def error(self, problem: str) -> MockAnswerError:
        return _error(self.token, problem)

    def text(self, name: str, *, example: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            if example is not None:
                raise self.error(f"has no `{self.shown(name)}` (text such as {example!r}); {HINT}")
            return None
        if not isinstance(value, str):
            raise self.error(f"`{self.shown(name)}` is {brief(value)}, expected text")
        return value

    def whole(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        number = _whole(value)
        if number is None:
            raise self.error(
                f"`{self.shown(name)}` is {brief(value)}, expected a whole number >= 0"
                " (beyond 2**53 - 1, as decimal text)"
            )
        return number

    def time_ms(self, name: str) -> int | None:
        """An ISO 8601 time (UTC when it names no zone) or epoch milliseconds."""
        value = self.values.get(name)
        if value is None:
            return None
        ms = _whole(value)
        if isinstance(value, str) and ms is None:
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
            if moment is not None:
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                ms = (moment - _EPOCH) // timedelta(milliseconds=1)
        if ms is None or not 0 <= ms <= MAX_TIME_MS:
            raise self.error(
                f"`{self.shown(name)}` is {brief(value)}, expected an ISO 8601 time such as"
                " '2026-01-01T00:00:00Z', or epoch milliseconds"
            )
        return ms

    def texts(self, name: str) -> list[str] | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.error(f"`{self.shown(name)}` is {brief(value)}, expected a list of texts")
        return list(value)

    def metrics(self, name: str) -> dict[str, Any] | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(f"`{self.shown(name)}` is {brief(value)}, expected an object")
        for key, number in value.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.error(
                    f"`{self.shown(name)}.{key}` is {brief(number)}, expected a number"
                )
        return {str(k): _number(v) for k, v in value.items()}

    def extend_info(self, prefix: str = "") -> ExtendInfo:
        """`extendInfo` (an object or its JSON text); without it, `metrics` and `errors`
        make one. With it, they must say what it says: one truth for the gates."""
        name = f"{prefix}extend_info"
        given = self.values.get(name)
        if given is None and self.given(f"{name}_raw"):
            name = f"{name}_raw"
            given = self.text(name)
        metrics = self.metrics(f"{prefix}metrics")
        errors = self.texts(f"{prefix}errors")
        if given is None:
            data: dict[str, Any] = dict(metrics or {})
            if errors:
                data["errors"] = errors
            return ExtendInfo.parse(data or None)  # none given: as the API's empty text
        if not isinstance(given, str | Mapping):
            raise self.error(
                f"`{self.shown(name)}` is {brief(given)}, expected an object or its JSON text"
            )
        info = ExtendInfo.parse(given if isinstance(given, str) else _number(given))
        for key, same in (
            (f"{prefix}metrics", metrics is None or info.metrics == _floats(metrics)),
            (f"{prefix}errors", errors is None or list(info.errors) == errors),
        ):
            if not same:
                raise self.error(
                    f"`{self.shown(key)}` differs from what `{self.shown(name)}` holds;"
                    " give one of them"
                )
        return info


def _error(token: str, problem: str) -> MockAnswerError:
    return MockAnswerError(f"Mocks.call answer to {token}: {problem}")


def _whole(value: object) -> int | None:
    """A whole number from an int, a float that holds one exactly (numbers cross the
    mocks as doubles) or decimal text; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and is_safe_float(value):
        value = int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return value if isinstance(value, int) and 0 <= value <= MAX_WHOLE else None


def _number(value: Any) -> Any:
    """A double that holds a whole number as that int, everywhere in `value`: numbers
    cross the mocks as doubles, and `91` must read back (and show) as 91, not 91.0."""
    if isinstance(value, float) and value.is_integer() and is_safe_float(value):
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_number(v) for v in value]
    return value


def _floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in metrics.items()}


# -- tasks -----------------------------------------------------------------------


def _task(answer: _Object, function_name: str, asked: int | None = None) -> FunctionTask:
    """A task from the keys of `answer` (`asked`: the generation a getFunctionTask named)."""
    generation = answer.whole("generation")
    if generation is None and asked is None:
        raise answer.error(f"has no `{answer.shown('generation')}` (a whole number); {HINT}")
    if generation is not None and asked is not None and generation != asked:
        raise answer.error(
            f"`{answer.shown('generation')}` is {generation}, but generation {asked} was asked for"
        )
    status = answer.text("status", example="success")
    assert status is not None
    whole = asked if generation is None else generation
    assert whole is not None
    return FunctionTask(
        function_name=function_name,
        generation=whole,
        run_id=answer.text("run_id") or "",
        status=status,
        progress=answer.whole("progress"),
        start_time_ms=answer.time_ms("start_time") or None,
        end_time_ms=answer.time_ms("end_time") or None,
        extend_info=answer.extend_info(),
    )


def _nested_task(parent: _Object, name: str, function_name: str) -> FunctionTask | None:
    if not parent.given(name):
        return None
    answer = _Object.of(parent.token, parent.values[name], f"{parent.shown(name)}.")
    answer.only(_TASK_KEYS)
    return _task(answer, function_name)


def task_answer(
    token: str, value: object, identity: Identity, *, asked: int | None = None
) -> FunctionTask | None:
    """One task (getFunctionTask, getLatestFunctionTask); None for an empty answer, which
    says the instance has no task (as an empty ListFunctionTasks page does)."""
    answer = _Object.of(token, value)
    answer.only(_TASK_KEYS)
    if asked is None and not any(answer.given(name) for name in _TASK_KEYS):
        return None
    return _task(answer, identity.function_name, asked)


def tasks_answer(token: str, value: object, identity: Identity) -> list[FunctionTask]:
    """getFunctionTasks: `{"tasks": [task, ...]}`, newest first, as the API lists them."""
    answer = _Object.of(token, value)
    answer.only(frozenset({"tasks", "status"}))
    tasks = answer.values.get("tasks")
    if not isinstance(tasks, list | tuple):
        raise answer.error(f"`tasks` is {brief(tasks)}, expected a list of tasks; {HINT}")
    found = []
    for index, item in enumerate(tasks):
        one = _Object.of(token, item, f"tasks[{index}].")
        one.only(_TASK_KEYS)
        found.append(_task(one, identity.function_name))
    return found


# -- instances -------------------------------------------------------------------


def instance_answer(
    token: str, value: object, identity: Identity, expect: Expect | None
) -> Observation:
    """An instance with its latest task(s), judged as a live read of it would be.

    The latest task is given flat, under the resource's output names (`latestGeneration`,
    `latestTaskStatus`, `latestTaskMetrics` ...). The latest successful task is the latest
    when it succeeded, else `latestSuccessTask` (a task object) or just its
    `latestSuccessGeneration`; `previousSuccessTask` is the one before (max_regression)."""
    answer = _Object.of(token, value)
    answer.only(_INSTANCE_KEYS)
    status = answer.text("status", example="available")
    assert status is not None
    fn = identity.function_name
    instance = FunctionInstance(
        instance_name=identity.instance_name,
        function_name=fn,
        function_type=answer.text("function_type") or "",
        model_type=answer.text("model_type") or "",
        source=answer.text("source") or "",
        status=status,
        version_id=answer.whole("version_id"),
        create_time_ms=answer.time_ms("create_time"),
        cron=answer.text("cron") or "",
        description=answer.text("description") or "",
        belongs=_belongs(answer),
        create_parameters=_parameters(answer, "create_parameters"),
        usage_parameters=_parameters(answer, "usage_parameters"),
        extend_info=answer.extend_info(),
        task=_instance_task(answer),
    )
    latest = _latest(answer, fn)
    success = _nested_task(answer, "latest_success_task", fn)
    if success is None and latest is not None and latest.status == "success":
        success = latest
    success_generation = answer.whole("latest_success_generation")
    if success is None and success_generation is not None:
        success = FunctionTask(function_name=fn, generation=success_generation, status="success")
    if success is not None and success_generation not in (None, success.generation):
        raise answer.error(
            f"`{answer.shown('latest_success_generation')}` is {success_generation}, but"
            f" the latest successful task is generation {success.generation}"
        )
    previous = expect is not None and expect.needs_previous_success and latest is not None
    return Observation(
        instance=instance,
        task=latest,
        success_task=success,
        previous_success_task=_nested_task(answer, "previous_success_task", fn),
        previous_read=previous,
    )


def _latest(answer: _Object, function_name: str) -> FunctionTask | None:
    flat = _Object(
        answer.token,
        {task: answer.values.get(key) for task, key in _LATEST_KEYS.items()},
        lambda name: answer.shown(_LATEST_KEYS.get(name, name)),
    )
    if not (flat.given("generation") or flat.given("status")):
        described = [key for key in _LATEST_KEYS.values() if answer.values.get(key)]
        if described:
            raise answer.error(
                f"`{answer.shown(described[0])}` describes a latest task: give"
                f" `{answer.shown('latest_generation')}` and"
                f" `{answer.shown('latest_task_status')}` too"
            )
        return None  # no task yet
    return _task(flat, function_name)


def _instance_task(answer: _Object) -> InstanceTask | None:
    names = ("task_dag_status", "task_progress", "task_last_run_time")
    if not any(answer.given(name) for name in names):
        return None
    return InstanceTask(
        dag_status=answer.text("task_dag_status") or "",
        progress=answer.whole("task_progress"),
        last_run_time_ms=answer.time_ms("task_last_run_time"),
    )


def _belongs(answer: _Object) -> Belongs | None:
    if not answer.given("belongs"):
        return None
    belongs = _Object.of(answer.token, answer.values["belongs"], "belongs.")
    belongs.only(frozenset({"domain", "category", "language"}))
    return Belongs(
        domain=belongs.text("domain") or "",
        category=belongs.text("category") or "",
        language=belongs.text("language") or "",
    )


def _parameters(answer: _Object, name: str) -> tuple[Parameter, ...]:
    value = answer.values.get(name)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise answer.error(
            f"`{answer.shown(name)}` is {brief(value)}, expected a list of {{name, value}}"
        )
    found = []
    for index, item in enumerate(value):
        one = _Object.of(answer.token, item, f"{answer.shown(name)}[{index}].")
        one.only(frozenset({"name", "value"}))
        found.append(Parameter(name=one.text("name") or "", value=one.text("value") or ""))
    return tuple(found)
