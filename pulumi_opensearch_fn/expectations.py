"""`Expect` and `Wait`: what a deployment needs from a model, checked against a live read.

One implementation serves the resources, the data sources and `opensearch-fn check`.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .api.errors import InvalidInputError
from .api.numbers import MAX_SAFE_INTEGER, decimal_of, is_safe_float
from .api.validation import INSTANCE_STATUSES, TASK_STATUSES
from .durations import exact_duration, format_duration, parse_duration
from .printable import brief, printable
from .regression import RegressionLimit, parse_limits, per_metric

if TYPE_CHECKING:  # only annotations: the provider's check does not load the models
    from .api.models import FunctionInstance, FunctionTask

_OPERATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_OP = r"(>=|<=|==|!=|>|<)"
_THRESHOLD = re.compile(rf"^\s*([A-Za-z0-9_.\-]+)\s*{_OP}\s*(\S+)\s*$")
_BARE_THRESHOLD = re.compile(rf"^\s*{_OP}\s*(\S+)\s*$")
# A generation as text: ASCII digits, at most 19 (a 64-bit integer), as it crosses the engine.
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
MAX_WAIT = timedelta(hours=6)
# How far the service's clock may run ahead of ours: a task that ended further in the
# future than this has a time that cannot be right, and fails max_age.
CLOCK_SKEW = timedelta(minutes=5)
# Polling faster gains nothing (training takes minutes) and only loads the API.
MIN_INTERVAL = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class MetricThreshold:
    """`recall >= 90`: a bound on a numeric entry of a task's extendInfo, compared exactly
    (decimal, never rounded); `written` is the number as given, for messages."""

    name: str
    op: str
    value: Decimal
    written: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: object, name: str | None = None) -> MetricThreshold:
        if not isinstance(text, str):
            where = f"metric {brief(name)}" if name is not None else "metric threshold"
            raise InvalidInputError(
                f"{where} must be text such as 'recall >= 90',"
                f" got {type(text).__name__} {brief(text)}"
            )
        if name is not None:
            bare = _BARE_THRESHOLD.match(text)
            op, number = (bare.group(1), bare.group(2)) if bare else ("", "")
            problem = f"metric {brief(name)}: {brief(text)} is not a threshold; write e.g. '>= 90'"
        else:
            match = _THRESHOLD.match(text)
            name, op, number = match.groups() if match else ("", "", "")
            problem = f"metric threshold {brief(text)} is not of the form 'name >= number'"
        if not op:
            raise InvalidInputError(problem)
        try:
            value = decimal_of(number)
        except ValueError as exc:
            raise InvalidInputError(f"{problem} ({exc})") from None
        return cls(name, op, value, number)

    def holds(self, seen: Decimal | int | float) -> bool:
        """The exact comparison; never true for NaN or an infinity."""
        exact = seen if isinstance(seen, Decimal) else Decimal(seen)
        return exact.is_finite() and _OPERATORS[self.op](exact, self.value)

    @property
    def shown(self) -> str:
        return self.written or str(self.value)

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.shown}"


@dataclass(frozen=True)
class Expect:
    """What must hold for the run to pass.

    status          the instance's status (`available` / `unavailable`)
    task_status     the latest task's status (`success` / `failed` / `running`)
    min_generation  the latest successful task's generation is at least this (beyond
                    2**53 - 1 also as text, the form in which it crosses the engine)
    max_age         the latest successful task ended at most this long ago ('36h', '2d' ...)
    metrics         thresholds on that task's extendInfo, by metric name:
                    {"recall": ">= 90"} (in Python also ["recall >= 90"])
    no_task_errors  that task's `errors` list is empty
    enforce         false: unmet expectations warn and set ready=false instead of failing
    max_regression  how far a metric of that task may fall from the previous successful
                    generation, by metric name: {"auc": "0.01", "recall": "2%",
                    "loss": "5% lower"} (`lower`: lower is better; in Python also
                    ["auc 0.01", ...]); instances only
    """

    status: str | None = None
    task_status: str | None = None
    min_generation: int | None = None
    max_age: str | float | timedelta | None = None
    metrics: Mapping[str, str] | Iterable[str] | None = None
    no_task_errors: bool = False
    enforce: bool = True
    max_regression: Mapping[str, str] | Iterable[str] | None = None

    def __post_init__(self) -> None:
        # Numbers cross the Pulumi engine as doubles: generation 3 comes back as 3.0, and
        # one beyond 2**53 - 1 crosses as its text ('9007199254740993'). Only values read
        # exactly become ints; 3.9, rounded floats and other text stay for problems().
        value: Any = self.min_generation
        whole = isinstance(value, float) and value.is_integer() and is_safe_float(value)
        text = isinstance(value, str) and bool(_DIGITS.fullmatch(value))
        if whole or (text and int(value) > MAX_SAFE_INTEGER):
            object.__setattr__(self, "min_generation", int(value))

    # -- validation and (de)serialization -------------------------------------

    def problems(self) -> list[tuple[str, str]]:
        """Every bad field as (field, reason); empty when the expectation is usable."""
        found: list[tuple[str, str]] = []
        for name, check in (
            ("status", lambda: _choice("status", self.status, INSTANCE_STATUSES)),
            ("task_status", lambda: _choice("task_status", self.task_status, TASK_STATUSES)),
            ("min_generation", self._check_min_generation),
            ("max_age", lambda: self.max_age is None or parse_duration("max_age", self.max_age)),
            ("metrics", self.thresholds),
            ("max_regression", self.regression_limits),
            ("no_task_errors", lambda: _bool("no_task_errors", self.no_task_errors)),
            ("enforce", lambda: _bool("enforce", self.enforce)),
        ):
            try:
                check()
            except InvalidInputError as exc:
                found.append((name, exc.message))
        return found

    def validated(self) -> Expect:
        """Returns self, or raises InvalidInputError naming every bad field."""
        problems = self.problems()
        if problems:
            raise InvalidInputError("; ".join(f"expect.{k}: {why}" for k, why in problems))
        return self

    def _check_min_generation(self) -> None:
        value: Any = self.min_generation
        if value is None:
            return
        if isinstance(value, float) and value.is_integer() and not is_safe_float(value):
            raise InvalidInputError(
                f"min_generation {value!r} is a float beyond 2**53 - 1, so it may be rounded;"
                " give it as an int or as text"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInputError(
                f"min_generation must be a whole number >= 0, got {brief(value)}"
            )

    def thresholds(self) -> tuple[MetricThreshold, ...]:
        """The metric thresholds; raises InvalidInputError for anything else."""
        return per_metric(
            self.metrics,
            "metrics",
            lambda text, name: MetricThreshold.parse(text, name=name),
            "a dict such as {'recall': '>= 90'} or a list such as ['recall >= 90']",
        )

    def regression_limits(self) -> tuple[RegressionLimit, ...]:
        """The max_regression limits; raises InvalidInputError for anything else."""
        return parse_limits(self.max_regression)

    @property
    def is_empty(self) -> bool:
        return not (
            self.status
            or self.task_status
            or self.min_generation is not None
            or self.max_age is not None
            or self.metrics
            or self.no_task_errors
            or self.max_regression
        )

    @property
    def needs_success_task(self) -> bool:
        """Whether an expectation is about the latest *successful* task."""
        return bool(
            self.min_generation is not None
            or self.max_age is not None
            or self.metrics
            or self.no_task_errors
            or self.max_regression
        )

    @property
    def needs_previous_success(self) -> bool:
        """Whether the successful generation before the latest one must be read too."""
        return bool(self.max_regression)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for resource inputs; thresholds as 'name op value' strings."""
        out: dict[str, Any] = {"enforce": self.enforce, "no_task_errors": self.no_task_errors}
        for key in ("status", "task_status", "min_generation"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.max_age is not None:
            max_age = self.max_age
            out["max_age"] = exact_duration(max_age) if isinstance(max_age, timedelta) else max_age
        if self.metrics is not None:
            try:
                out["metrics"] = [str(t) for t in self.thresholds()]
            except InvalidInputError:
                out["metrics"] = self.metrics  # kept as given, so check can name the problem
        if self.max_regression is not None:
            try:
                out["max_regression"] = [str(limit) for limit in self.regression_limits()]
            except InvalidInputError:
                out["max_regression"] = self.max_regression
        return out

    @classmethod
    def from_value(cls, value: object) -> Expect | None:
        """An Expect from an Expect, a dict of its fields (snake or camel case), or None."""
        if value is None or isinstance(value, Expect):
            return value
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"expect must be an Expect or a dict, got {brief(value)}")
        known = {f.name for f in cls.__dataclass_fields__.values()}
        fields: dict[str, Any] = {}
        for key, item in value.items():
            snake = _snake(str(key))
            if snake not in known:
                raise InvalidInputError(
                    f"expect has no field {brief(key)}; known: {', '.join(sorted(known))}"
                )
            fields[snake] = item
        return cls(**fields)


@dataclass(frozen=True)
class Wait:
    """Poll until the expectations hold (on `up` only, never in a preview or a refresh).

    timeout   how long to wait at most ('10m', or seconds; default 10m, capped at 6h)
    interval  how long between two reads ('15s', or seconds; default 10s, at least 1s)
    """

    timeout: str | float | timedelta = "10m"
    interval: str | float | timedelta = "10s"

    def problems(self) -> list[tuple[str, str]]:
        found = []
        for name in ("timeout", "interval"):
            try:
                parse_duration(name, getattr(self, name))
            except InvalidInputError as exc:
                found.append((name, exc.message))
        if not any(name == "interval" for name, _ in found) and (
            self.interval_delta < MIN_INTERVAL
        ):
            found.append(
                (
                    "interval",
                    f"interval must be at least {format_duration(MIN_INTERVAL)},"
                    f" got {brief(self.interval)}",
                )
            )
        if not found and self.timeout_delta < self.interval_delta:
            found.append(("interval", "interval must not be longer than timeout"))
        return found

    def validated(self) -> Wait:
        problems = self.problems()
        if problems:
            raise InvalidInputError("; ".join(f"wait.{k}: {why}" for k, why in problems))
        return self

    @property
    def timeout_delta(self) -> timedelta:
        return min(parse_duration("timeout", self.timeout), MAX_WAIT)

    @property
    def interval_delta(self) -> timedelta:
        return parse_duration("interval", self.interval)

    def to_dict(self) -> dict[str, Any]:
        return {
            name: exact_duration(value) if isinstance(value, timedelta) else value
            for name, value in (("timeout", self.timeout), ("interval", self.interval))
        }

    @classmethod
    def from_value(cls, value: object) -> Wait | None:
        if value is None or isinstance(value, Wait):
            return value
        if value is True:
            return cls()
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"wait must be a Wait or a dict, got {brief(value)}")
        unknown = set(value) - {"timeout", "interval"}
        if unknown:
            raise InvalidInputError(f"wait has no field {brief(sorted(unknown)[0])}")
        return cls(**{str(k): v for k, v in value.items()})


@dataclass(frozen=True, slots=True)
class Observation:
    """One live read: the instance (absent for a task resource), the latest or selected
    task, and the latest successful task (the same object when the latest succeeded)."""

    instance: FunctionInstance | None
    task: FunctionTask | None
    success_task: FunctionTask | None
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The successful task before success_task, when max_regression asked for it
    # (`previous_read`; None then means there is none).
    previous_success_task: FunctionTask | None = None
    previous_read: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """One expectation, with what was expected and what was seen."""

    name: str
    expected: str
    seen: str
    met: bool

    def __str__(self) -> str:
        # `seen` is server text (statuses, task errors): printable, on one line.
        return printable(f"{self.name}: expected {self.expected}, saw {self.seen}")


def evaluate(expect: Expect | None, seen: Observation) -> list[Result]:
    """Every expectation set in `expect`, judged against `seen`."""
    if expect is None:
        return []
    results: list[Result] = []
    if expect.status is not None:
        status = seen.instance.status if seen.instance else "no instance"
        results.append(Result("status", expect.status, status, status == expect.status))
    if expect.task_status is not None:
        status = seen.task.status if seen.task else "no task"
        results.append(
            Result("task_status", expect.task_status, status, status == expect.task_status)
        )
    success = seen.success_task
    none_yet = "no successful task"
    if expect.min_generation is not None:
        generation = success.generation if success else None
        results.append(
            Result(
                "min_generation",
                f">= {expect.min_generation}",
                none_yet if generation is None else str(generation),
                # Never truncated: a (refused) 3.9 must not pass generation 3.
                generation is not None and generation >= expect.min_generation,
            )
        )
    if expect.max_age is not None:
        limit = parse_duration("max_age", expect.max_age)
        shown, met = _age(limit, success, seen.read_at)
        results.append(Result("max_age", f"<= {format_duration(limit)}", shown, met))
    for threshold in expect.thresholds():
        value = success.extend_info.exact_metrics.get(threshold.name) if success else None
        ambiguous = success.extend_info.ambiguous.get(threshold.name) if success else None
        if success is None:
            shown = none_yet
        elif ambiguous is not None:  # never decided by which key came last
            shown = f"ambiguous: {ambiguous}"
        elif value is None:
            shown = "no such metric" if success.extend_info.valid else "unparseable extendInfo"
        elif not value.is_finite():
            shown = f"{value}, not a finite number"
        else:
            shown = str(value)  # exactly as sent
        results.append(
            Result(
                f"metrics.{threshold.name}",
                f"{threshold.op} {threshold.shown}",
                shown,
                value is not None and threshold.holds(value),
            )
        )
    for regression in expect.regression_limits():
        if seen.previous_read:
            expected, shown, met = regression.judge(success, seen.previous_success_task)
        else:
            expected = "a comparison with the previous successful generation"
            shown, met = "judged only for an instance (its latest successful task)", False
        results.append(Result(f"max_regression.{regression.metric}", expected, shown, met))
    if expect.no_task_errors:
        errors = success.errors if success else ()
        results.append(
            Result(
                "no_task_errors",
                "no errors",
                none_yet if success is None else (f"{'; '.join(errors)}" if errors else "none"),
                success is not None and not errors,
            )
        )
    return results


def _age(limit: timedelta, task: FunctionTask | None, now: datetime) -> tuple[str, bool]:
    """(seen, met) for max_age. Times that cannot be right never pass: an end before the
    start, or an end further in the future than the clocks may differ (CLOCK_SKEW)."""
    ended = task.end_time if task else None
    if ended is None:
        return "no successful task", False
    started = task.start_time if task else None
    if started is not None and ended < started:
        return f"ended {_when(ended)}, before it started {_when(started)}", False
    if ended - now > CLOCK_SKEW:
        ahead = f"{format_duration(ended - now)} ahead of now ({_when(now)})"
        return f"ended {_when(ended)}, in the future: {ahead}", False
    age = max(now - ended, timedelta(0))  # within the skew allowance: just now
    return f"{format_duration(age)} old", age <= limit


def _when(moment: datetime) -> str:
    """`2036-01-01T00:00:00Z`, to the second (milliseconds when it has them)."""
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def unmet(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if not r.met]


def describe_unmet(subject: str, failed: Iterable[Result]) -> str:
    """One line, whatever the API put in what was seen (a task's errors may span lines)."""
    return printable(f"{subject}: expectations not met: " + "; ".join(str(r) for r in failed))


def hopeless(expect: Expect | None, seen: Observation) -> str | None:
    """A reason waiting cannot help: the latest task failed (and failure was not expected)."""
    if expect is None or seen.task is None or seen.task.status != "failed":
        return None
    if expect.task_status == "failed":
        return None
    return f"training task generation {seen.task.generation} failed"


def wait_for(
    read: Callable[[], Observation],
    expect: Expect,
    wait: Wait,
    *,
    report: Callable[[Observation, list[Result], float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    first: Observation | None = None,
) -> tuple[Observation, list[Result]]:
    """Reads until every expectation holds, a task fails, or the timeout passes.

    Returns the last observation and its results; the caller decides what an unmet
    result means. `report` is called after every read with the elapsed seconds.
    """
    started = clock()
    deadline = started + wait.timeout_delta.total_seconds()
    interval = wait.interval_delta.total_seconds()
    seen = first or read()
    while True:
        results = evaluate(expect, seen)
        if report:
            report(seen, results, clock() - started)
        if not unmet(results) or hopeless(expect, seen):
            return seen, results
        remaining = deadline - clock()
        if remaining <= 0:
            return seen, results
        sleep(min(interval, remaining))
        seen = read()


def progress_line(subject: str, seen: Observation, elapsed: float) -> str:
    """`ctr_test: instance unavailable, task gen 4 running 40%, 1m20s elapsed`."""
    parts = []
    if seen.instance is not None:
        parts.append(f"instance {seen.instance.status or '?'}")
    if seen.task is not None:
        progress = f" {seen.task.progress}%" if seen.task.progress is not None else ""
        parts.append(f"task gen {seen.task.generation} {seen.task.status}{progress}")
    else:
        parts.append("no task")
    parts.append(f"{format_duration(timedelta(seconds=elapsed))} elapsed")
    return printable(f"{subject}: " + ", ".join(parts))


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {brief(value)}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be true or false, got {brief(value)}")


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
