"""Typed, immutable results, parsed from camelCase or PascalCase bodies."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import BadResponseError
from .metric_names import TooDeepError, metric_names, object_pairs, unrepeated
from .numbers import is_safe_float, json_constant, json_float, to_float

JsonObject = Mapping[str, Any]


def field_of(body: JsonObject, camel: str, default: Any = None) -> Any:
    """Reads a key in either casing: the service documents camelCase, the SDKs PascalCase."""
    if camel in body:
        return body[camel]
    return body.get(camel[:1].upper() + camel[1:], default)


def ms_to_datetime(ms: int | None) -> datetime | None:
    return None if not ms else datetime.fromtimestamp(ms / 1000, tz=UTC)


# Whole numbers the API sends fit 64 bits; times (ms) must be dates a datetime can hold.
MAX_WHOLE = 2**63 - 1
MAX_TIME_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def _int(body: JsonObject, key: str, *, what: str, maximum: int = MAX_WHOLE) -> int | None:
    """A whole number from a JSON number or a decimal string; None when absent or "".

    Anything else (a fraction, NaN, an out-of-range or non-numeric value) is a
    BadResponseError: a number read wrong would move a gate or a drift check.
    """
    value = field_of(body, key)
    if value is None or value == "":
        return None
    number = _whole_number(value)
    if number is None:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise BadResponseError(f"{what}: {key} is {shown}, expected a whole number")
    if not 0 <= number <= maximum:
        digits = str(number)
        shown = digits if len(digits) <= 24 else f"{digits[:20]}... ({len(digits)} digits)"
        raise BadResponseError(f"{what}: {key} is {shown}, out of range (0 to {maximum})")
    if isinstance(value, float) and not is_safe_float(value):
        raise BadResponseError(
            f"{what}: {key} is {value!r}, a float beyond 2**53 - 1 that may be rounded;"
            " expected an integer or decimal text"
        )
    return number


def _time(body: JsonObject, key: str, *, what: str) -> int | None:
    """Epoch milliseconds; 0 stays 0 (the API's "not set")."""
    return _int(body, key, what=what, maximum=MAX_TIME_MS)


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 20:
            return int(text)
        if len(text) > 40:
            return None
        try:
            exact = Decimal(text)  # as written: a float would round beyond 2**53
        except InvalidOperation:
            return None
        if exact.is_finite() and exact.adjusted() <= 20 and exact == exact.to_integral_value():
            return int(exact)
        try:
            value = float(text)  # a fraction, or too large for range anyway
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _str(body: JsonObject, key: str) -> str:
    value = field_of(body, key)
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class ExtendInfo:
    """The `extendInfo` JSON string, parsed; the raw text is always kept.

    Numbers are read exactly (`exact_metrics`, decimals as sent) for gates; `data` and
    `metrics` carry them as doubles for outputs, with None (or no entry) where no finite
    double can (NaN, Infinity, beyond about 1.8e308). A name meaning more than one value
    (`ambiguous`, see metric_names) is in neither `exact_metrics` nor `metrics`, and a
    repeated key is left out of `data`."""

    raw: str
    data: Mapping[str, Any] | None = None
    parse_error: str | None = None
    exact_metrics: Mapping[str, Decimal] = field(default_factory=dict)
    ambiguous: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: object) -> ExtendInfo:
        if raw is None or raw == "":
            return cls(raw="", data={})
        if isinstance(raw, Mapping):  # tolerate an already-decoded object
            try:
                tree = _exact(raw, 0)
            except _TooDeep:
                return cls(raw="", parse_error=f"nested more than {MAX_EXTEND_DEPTH} levels")
            return cls._of(json.dumps(raw, sort_keys=True), tree)
        text = str(raw)
        try:
            tree = json.loads(
                text,
                parse_float=json_float,
                parse_constant=json_constant,
                object_pairs_hook=object_pairs,
            )
        except RecursionError:
            return cls(raw=text, parse_error="not JSON: nested too deeply")
        except ValueError as exc:
            return cls(raw=text, parse_error=f"not JSON: {exc}")
        if not isinstance(tree, dict):
            return cls(raw=text, parse_error=f"a JSON {type(tree).__name__}, not an object")
        return cls._of(text, tree)

    @classmethod
    def _of(cls, text: str, tree: Mapping[str, Any]) -> ExtendInfo:
        try:
            data = _plain(tree, 0)
            names = metric_names(tree, MAX_EXTEND_DEPTH)
        except (_TooDeep, TooDeepError):
            return cls(raw=text, parse_error=f"nested more than {MAX_EXTEND_DEPTH} levels")
        return cls(raw=text, data=data, exact_metrics=names.exact, ambiguous=names.ambiguous)

    @property
    def valid(self) -> bool:
        return self.data is not None

    @property
    def metrics(self) -> dict[str, float]:
        """Numeric entries, nested objects flattened with dots (`dataReport.auc`), as
        doubles; entries no finite double can carry are left out (see exact_metrics)."""
        found: dict[str, float] = {}
        for name, exact in self.exact_metrics.items():
            value = to_float(exact)
            if value is not None:
                found[name] = value
        return found

    @property
    def errors(self) -> tuple[str, ...]:
        """The `errors` entry as messages; an empty list or object means none. A repeated
        `errors` key is an error itself: which copy holds is unclear."""
        if "errors" in self.ambiguous:
            return (f"errors: ambiguous, {self.ambiguous['errors']}",)
        value = (self.data or {}).get("errors")
        if not value:
            return ()
        if isinstance(value, Mapping):
            return tuple(f"{k}: {v}" for k, v in value.items())
        if isinstance(value, list):
            return tuple(v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in value)
        return (str(value),)


# Real extendInfo objects are a few levels deep; the bound keeps walking them cheap
# and free of recursion limits.
MAX_EXTEND_DEPTH = 64


class _TooDeep(Exception):
    pass


def _plain(node: Any, depth: int) -> Any:
    """The tree with exact numbers as doubles (None where no finite double fits)."""
    if depth > MAX_EXTEND_DEPTH:
        raise _TooDeep
    if isinstance(node, Decimal) or (isinstance(node, int) and not isinstance(node, bool)):
        plain = to_float(node)
        return node if isinstance(node, int) and plain is not None else plain
    if isinstance(node, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in unrepeated(node)}
    if isinstance(node, list):
        return [_plain(v, depth + 1) for v in node]
    return node


def _exact(node: Any, depth: int) -> Any:
    """An already-decoded object's floats as the decimals their shortest text spells."""
    if depth > MAX_EXTEND_DEPTH:
        raise _TooDeep
    if isinstance(node, float):
        return Decimal(repr(node)) if math.isfinite(node) else Decimal(str(node))
    if isinstance(node, Mapping):
        return {str(k): _exact(v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_exact(v, depth + 1) for v in node]
    return node


@dataclass(frozen=True, slots=True)
class Belongs:
    domain: str = ""
    category: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class InstanceTask:
    """The `task` summary of an instance (output=detail)."""

    dag_status: str
    progress: int | None
    last_run_time_ms: int | None

    @property
    def last_run_time(self) -> datetime | None:
        return ms_to_datetime(self.last_run_time_ms)


@dataclass(frozen=True, slots=True)
class FunctionInstance:
    instance_name: str
    function_name: str
    function_type: str = ""
    model_type: str = ""
    source: str = ""
    status: str = ""
    version_id: int | None = None
    create_time_ms: int | None = None
    cron: str = ""
    description: str = ""
    belongs: Belongs | None = None
    create_parameters: tuple[Parameter, ...] = ()
    usage_parameters: tuple[Parameter, ...] = ()
    extend_info: ExtendInfo = field(default_factory=lambda: ExtendInfo(raw="", data={}))
    task: InstanceTask | None = None
    request_id: str = ""

    @property
    def create_time(self) -> datetime | None:
        return ms_to_datetime(self.create_time_ms)

    @classmethod
    def from_body(cls, result: object, request_id: str = "") -> FunctionInstance:
        what = "GetFunctionInstance result"
        body = _object(result, what)
        belongs = field_of(body, "belongs")
        task = field_of(body, "task")
        return cls(
            instance_name=_str(body, "instanceName"),
            function_name=_str(body, "functionName"),
            function_type=_str(body, "functionType"),
            model_type=_str(body, "modelType"),
            source=_str(body, "source"),
            status=_str(body, "status"),
            version_id=_int(body, "versionId", what=what),
            create_time_ms=_time(body, "createTime", what=what),
            cron=_str(body, "cron"),
            description=_str(body, "description"),
            belongs=(
                Belongs(
                    domain=_str(belongs, "domain"),
                    category=_str(belongs, "category"),
                    language=_str(belongs, "language"),
                )
                if isinstance(belongs, Mapping)
                else None
            ),
            create_parameters=_parameters(field_of(body, "createParameters")),
            usage_parameters=_parameters(field_of(body, "usageParameters")),
            extend_info=ExtendInfo.parse(field_of(body, "extendInfo")),
            task=(
                InstanceTask(
                    dag_status=_str(task, "dagStatus"),
                    progress=_int(task, "progress", what=what),
                    last_run_time_ms=_time(task, "lastRunTime", what=what),
                )
                if isinstance(task, Mapping) and task
                else None
            ),
            request_id=request_id,
        )


@dataclass(frozen=True, slots=True)
class FunctionTask:
    function_name: str
    generation: int
    run_id: str = ""
    status: str = ""
    progress: int | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None  # None while running (the API sends 0)
    extend_info: ExtendInfo = field(default_factory=lambda: ExtendInfo(raw="", data={}))
    request_id: str = ""

    @property
    def start_time(self) -> datetime | None:
        return ms_to_datetime(self.start_time_ms)

    @property
    def end_time(self) -> datetime | None:
        return ms_to_datetime(self.end_time_ms)

    @property
    def metrics(self) -> dict[str, float]:
        return self.extend_info.metrics

    @property
    def errors(self) -> tuple[str, ...]:
        return self.extend_info.errors

    @classmethod
    def from_body(cls, result: object, request_id: str = "") -> FunctionTask:
        what = "task"
        body = _object(result, what)
        generation = _int(body, "generation", what=what)
        if generation is None:
            raise BadResponseError("task without a generation")
        return cls(
            function_name=_str(body, "functionName"),
            generation=generation,
            run_id=_str(body, "runId"),
            status=_str(body, "status"),
            progress=_int(body, "progress", what=what),
            start_time_ms=_time(body, "startTime", what=what) or None,
            end_time_ms=_time(body, "endTime", what=what) or None,
            extend_info=ExtendInfo.parse(field_of(body, "extendInfo")),
            request_id=request_id,
        )


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of ListFunctionTasks."""

    tasks: tuple[FunctionTask, ...]
    total_count: int | None  # None when the answer does not say
    page_number: int
    page_size: int
    request_id: str = ""


def _object(value: object, what: str) -> JsonObject:
    if not isinstance(value, Mapping):
        raise BadResponseError(f"{what} is {type(value).__name__}, expected a JSON object")
    return value


def _parameters(value: object) -> tuple[Parameter, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        Parameter(name=_str(item, "name"), value=_str(item, "value"))
        for item in value
        if isinstance(item, Mapping)
    )
