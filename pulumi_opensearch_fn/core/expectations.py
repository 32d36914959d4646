"""`Expect` and `Wait`: what a deployment needs from a model, checked against a live read.

One implementation serves the resources, the data sources and `opensearch-fn check`.
Each door parses an `Expect` once (`Expect.parse`, cached on the object) into a
`ParsedExpect`, the only form `evaluate` takes: polls never parse again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..api.errors import InvalidInputError
from ..api.numbers import MAX_SAFE_INTEGER, is_safe_float
from ..api.validation import INSTANCE_STATUSES, TASK_STATUSES
from .durations import exact_duration, format_duration, parse_duration
from .printable import brief, printable
from .thresholds import MetricThreshold, RegressionLimit, parse_limits, parse_thresholds

if TYPE_CHECKING:  # only annotations: the provider's check does not load the models
    from ..api.models import FunctionInstance, FunctionTask

# A generation as text: ASCII digits, at most 19 (a 64-bit integer), as it crosses the engine.
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
MAX_WAIT = timedelta(hours=6)
# How far the service's clock may run ahead of ours: a task that ended further in the
# future than this has a time that cannot be right, and fails max_age.
CLOCK_SKEW = timedelta(minutes=5)
# Polling faster gains nothing (training takes minutes) and only loads the API.
MIN_INTERVAL = timedelta(seconds=1)


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
    metrics: Mapping[str, str] | Iterable[str | MetricThreshold] | None = None
    no_task_errors: bool = False
    enforce: bool = True
    max_regression: Mapping[str, str] | Iterable[str | RegressionLimit] | None = None

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

    @cached_property
    def _parsed(self) -> Parsing:
        # Once per object: problems(), parse() and to_dict() all read this.
        return parse_expect(self)

    def problems(self) -> list[tuple[str, str]]:
        """Every bad field as (field, reason); empty when the expectation is usable."""
        return list(self._parsed.problems)

    def parse(self) -> ParsedExpect:
        """The parsed form `evaluate` takes, or InvalidInputError naming every bad field."""
        parsing = self._parsed
        if parsing.parsed is None:
            raise InvalidInputError("; ".join(f"expect.{k}: {why}" for k, why in parsing.problems))
        return parsing.parsed

    def validated(self) -> Expect:
        """Returns self, or raises InvalidInputError naming every bad field."""
        self.parse()
        return self

    def thresholds(self) -> tuple[MetricThreshold, ...]:
        """The metric thresholds; raises InvalidInputError for anything else."""
        return self.parse().thresholds

    def regression_limits(self) -> tuple[RegressionLimit, ...]:
        """The max_regression limits; raises InvalidInputError for anything else."""
        return self.parse().limits

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
        # Normalized when valid; kept as given otherwise, so check can name the problem.
        thresholds, limits = self._parsed.thresholds, self._parsed.limits
        if self.metrics is not None:
            out["metrics"] = self.metrics if thresholds is None else [str(t) for t in thresholds]
        if self.max_regression is not None:
            out["max_regression"] = (
                self.max_regression if limits is None else [str(limit) for limit in limits]
            )
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


@dataclass(frozen=True, slots=True)
class ParsedExpect:
    """An `Expect` validated, in the form it is judged in: thresholds and regression
    limits as exact values, `max_age` as a duration."""

    status: str | None = None
    task_status: str | None = None
    min_generation: int | None = None
    max_age: timedelta | None = None
    thresholds: tuple[MetricThreshold, ...] = ()
    limits: tuple[RegressionLimit, ...] = ()
    no_task_errors: bool = False
    enforce: bool = True

    @property
    def is_empty(self) -> bool:
        return not (self.status or self.task_status or self.needs_success_task)

    @property
    def needs_success_task(self) -> bool:
        """Whether an expectation is about the latest *successful* task."""
        return bool(
            self.min_generation is not None
            or self.max_age is not None
            or self.thresholds
            or self.no_task_errors
            or self.limits
        )

    @property
    def needs_previous_success(self) -> bool:
        """Whether the successful generation before the latest one must be read too."""
        return bool(self.limits)


@dataclass(frozen=True, slots=True)
class Parsing:
    """What parsing an `Expect` found: the parsed form (None when a field is bad), every
    problem, and the per-metric fields that parsed (for `to_dict`)."""

    parsed: ParsedExpect | None
    problems: tuple[tuple[str, str], ...]
    thresholds: tuple[MetricThreshold, ...] | None
    limits: tuple[RegressionLimit, ...] | None


def parse_expect(expect: Expect) -> Parsing:
    """The one parse of an `Expect` (`Expect.parse` caches it): every field checked."""
    found: list[tuple[str, str]] = []

    def attempt(name: str, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except InvalidInputError as exc:
            found.append((name, exc.message))
            return None

    attempt("status", lambda: _choice("status", expect.status, INSTANCE_STATUSES))
    attempt("task_status", lambda: _choice("task_status", expect.task_status, TASK_STATUSES))
    attempt("min_generation", lambda: _check_min_generation(expect.min_generation))
    max_age = attempt(
        "max_age",
        lambda: None if expect.max_age is None else parse_duration("max_age", expect.max_age),
    )
    thresholds = attempt("metrics", lambda: parse_thresholds(expect.metrics))
    limits = attempt("max_regression", lambda: parse_limits(expect.max_regression))
    attempt("no_task_errors", lambda: _bool("no_task_errors", expect.no_task_errors))
    attempt("enforce", lambda: _bool("enforce", expect.enforce))
    parsed = None
    if not found:
        parsed = ParsedExpect(
            status=expect.status,
            task_status=expect.task_status,
            min_generation=expect.min_generation,
            max_age=max_age,
            thresholds=thresholds,
            limits=limits,
            no_task_errors=expect.no_task_errors,
            enforce=expect.enforce,
        )
    return Parsing(parsed, tuple(found), thresholds, limits)


@dataclass(frozen=True)
class Wait:
    """Poll until the expectations hold (on `up` only, never in a preview or a refresh).

    timeout   how long to wait at most ('10m', or seconds; default 10m, capped at 6h)
    interval  how long between two reads ('15s', or seconds; default 10s, at least 1s)
    """

    timeout: str | float | timedelta = "10m"
    interval: str | float | timedelta = "10s"

    @cached_property
    def _parsed(self) -> tuple[dict[str, timedelta], tuple[tuple[str, str], ...]]:
        """The durations that parsed, and every problem; once per object."""
        found = []
        deltas: dict[str, timedelta] = {}
        for name in ("timeout", "interval"):
            try:
                deltas[name] = parse_duration(name, getattr(self, name))
            except InvalidInputError as exc:
                found.append((name, exc.message))
        interval = deltas.get("interval")
        if interval is not None and interval < MIN_INTERVAL:
            found.append(
                (
                    "interval",
                    f"interval must be at least {format_duration(MIN_INTERVAL)},"
                    f" got {brief(self.interval)}",
                )
            )
        if not found and min(deltas["timeout"], MAX_WAIT) < deltas["interval"]:
            found.append(("interval", "interval must not be longer than timeout"))
        return deltas, tuple(found)

    def problems(self) -> list[tuple[str, str]]:
        return list(self._parsed[1])

    def validated(self) -> Wait:
        problems = self.problems()
        if problems:
            raise InvalidInputError("; ".join(f"wait.{k}: {why}" for k, why in problems))
        return self

    @property
    def timeout_delta(self) -> timedelta:
        return min(self._delta("timeout"), MAX_WAIT)

    @property
    def interval_delta(self) -> timedelta:
        return self._delta("interval")

    def _delta(self, name: str) -> timedelta:
        deltas, problems = self._parsed
        if name not in deltas:
            raise InvalidInputError(next(why for key, why in problems if key == name))
        return deltas[name]

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


def evaluate(expect: ParsedExpect | None, seen: Observation) -> list[Result]:
    """Every expectation set in `expect`, judged against `seen`; nothing is parsed here."""
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
        limit = expect.max_age
        shown, met = _age(limit, success, seen.read_at)
        results.append(Result("max_age", f"<= {format_duration(limit)}", shown, met))
    for threshold in expect.thresholds:
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
    for regression in expect.limits:
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


def all_met(results: Iterable[Result]) -> bool:
    """The one "ready" predicate: every expectation held (true when there are none)."""
    return all(r.met for r in results)


def describe_unmet(subject: str, failed: Iterable[Result]) -> str:
    """One line, whatever the API put in what was seen (a task's errors may span lines)."""
    return printable(f"{subject}: expectations not met: " + "; ".join(str(r) for r in failed))


def hopeless(expect: ParsedExpect | None, seen: Observation) -> str | None:
    """A reason waiting cannot help: the latest task failed (and failure was not expected)."""
    if expect is None or seen.task is None or seen.task.status != "failed":
        return None
    if expect.task_status == "failed":
        return None
    return f"training task generation {seen.task.generation} failed"


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


def _check_min_generation(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, float) and value.is_integer() and not is_safe_float(value):
        raise InvalidInputError(
            f"min_generation {value!r} is a float beyond 2**53 - 1, so it may be rounded;"
            " give it as an int or as text"
        )
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"min_generation must be a whole number >= 0, got {brief(value)}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {brief(value)}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be true or false, got {brief(value)}")


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
