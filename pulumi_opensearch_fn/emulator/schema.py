"""The one description of what the emulator holds and is told, and its one validator.

Records are dataclasses: a field's name in camelCase is its key in the state file and
in admin bodies and answers; a ``Check`` in its ``Annotated`` type says what else its
value must be. :class:`Reader` validates (state file, admin bodies, command line, fault
specs), :func:`dump` writes, :func:`body` builds an admin client's body.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
import types
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")
# Inputs are a few instances and tasks: far below these bounds on what parsing may cost.
MAX_STATE_BYTES = 16 * 2**20
MAX_STATE_DEPTH = 64
MAX_NUMBER_DIGITS = 100
MAX_SECONDS = 100 * 365 * 24 * 3600  # longer durations and clock steps are mistakes
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last time datetime holds


@dataclasses.dataclass(frozen=True)
class Check:
    """What a value must be beyond its type; ``wire`` renames its key."""

    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    time: bool = False  # epoch ms, ISO 8601 or now[+-]N[smhd] on the simulated clock
    real_time: bool = False  # ... on real time
    json: bool = False  # text holding JSON; an object is serialized
    key: str | None = None  # printable ASCII without spaces nor any of these characters
    not_empty: bool = False
    no_errors: bool = False  # metrics: errors have their own field
    digits: bool = False  # an integer may be written as decimal text
    secret: bool = False  # left out of dumps unless asked
    wire: str = ""
    hidden: bool = False  # neither input nor dumped: kept by the record's owner
    readonly: bool = False  # dumped, not input


NONE, TIME, PERCENT = Check(), Check(time=True), Check(low=0, high=100)
SECONDS, DURATION = Check(low=0, high=MAX_SECONDS), Check(low=0.001, high=MAX_SECONDS)
JSON_TEXT, METRICS = Check(json=True), Check(no_errors=True)
HIDDEN, READONLY = Check(hidden=True), Check(readonly=True)


class InvalidInput(ValueError):
    """Input that cannot be used; ``problems`` names each with its location."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        lines = ["", *(f"  - {p}" for p in problems)] if len(problems) > 1 else problems
        super().__init__(f"invalid {source}: " + "\n".join(lines))


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    key: str
    hint: Any
    check: Check
    optional: bool = False
    required: bool = True


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def fields_of(cls: type) -> tuple[Field, ...]:
    hints, found = get_type_hints(cls, include_extras=True), []
    for f in dataclasses.fields(cls):
        hint, check = hints[f.name], NONE
        if get_origin(hint) is Annotated:
            hint, check = get_args(hint)[:2]
        args = get_args(hint)
        optional = get_origin(hint) in (Union, types.UnionType) and type(None) in args
        hint = next(a for a in args if a is not type(None)) if optional else hint
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        found.append(Field(f.name, check.wire or camel(f.name), hint, check, optional, required))
    return tuple(found)


def inputs(cls: type) -> list[Field]:
    return [f for f in fields_of(cls) if not (f.check.hidden or f.check.readonly)]


class _Bad(Exception):
    """One value's problem; empty when its parts were reported already."""


def kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def at(where: str, key: str) -> str:
    return f"{where}.{key}" if where and key else where or key


class Reader:
    """Reads records from parsed JSON, collecting every problem with its location."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms  # what ``now`` means in times on the simulated clock
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where or '(top level)'}: {problem}")

    def obj(self, value: Any, where: str, keys: Iterable[str]) -> dict[str, Any] | None:
        """``value`` if it is an object with only these keys (and ``_comments``)."""
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {kind(value)}")
            return None
        allowed = tuple(keys)
        for key in value:
            if key not in allowed and not key.startswith("_"):
                problem = f"unknown key (allowed: {', '.join(allowed)})"
                self.fail(at(where or "(top level)", key), problem)
        return value

    def names(self, value: Any, where: str) -> dict[str, Any]:
        """An object keyed by name (app groups, functions, instances)."""
        if not isinstance(value, dict):
            self.fail(where, f"must be an object keyed by name, got {kind(value)}")
            return {}
        if "" in value:
            self.fail(where, "names must not be empty")
        return {k: v for k, v in value.items() if k != ""}

    def fields(
        self, cls: type, value: Any, where: str, partial: bool = False, extra: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        """The fields of ``cls`` in ``value`` by attribute name, or None on a problem.
        ``partial``: an update, missing required fields are fine."""
        before, table = len(self.problems), inputs(cls)
        entry = self.obj(value, where, [*(f.key for f in table), *extra])
        if entry is None:
            return None
        for f in table:
            if f.required and not partial and f.key not in entry:
                self.fail(at(where, f.key), "is required")
        given = [f for f in table if f.key in entry]
        found = {f.name: self.value_at(f, entry[f.key], at(where, f.key)) for f in given}
        return found if len(self.problems) == before else None

    def record(self, cls: type[T], value: Any, where: str, **options: Any) -> T | None:
        """A ``cls`` from ``value``; its ``problems()`` (across fields) are checked too."""
        found = self.fields(cls, value, where, **options)
        made = None if found is None else cls(**found)
        problems = list(getattr(made, "problems", tuple)())
        for key, problem in problems:
            self.fail(at(where, key), problem)
        return None if problems else made

    def value_at(self, f: Field, value: Any, where: str) -> Any:
        """``value`` read as field ``f``; a problem is reported (and None returned)."""
        try:
            return self.value(f, value, where)
        except _Bad as bad:
            if str(bad):
                self.fail(where, str(bad))
            return None

    def value(self, f: Field, value: Any, where: str) -> Any:
        hint, check, origin = f.hint, f.check, get_origin(f.hint)
        if value is None and f.optional:
            return None
        if dataclasses.is_dataclass(hint):
            made = self.record(hint, value, where)  # type: ignore[arg-type]
            if made is None:
                raise _Bad("")
            return made
        if origin in (list, frozenset) and isinstance(value, list):
            before, item = len(self.problems), Field("", "", get_args(hint)[0], NONE)
            if item.hint is not Any:
                value = [self.value_at(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
            if len(self.problems) > before:
                raise _Bad("")
            return origin(value)
        if origin is dict and isinstance(value, dict):
            if check.no_errors and "errors" in value:
                raise _Bad("put errors in 'errors', not in 'metrics'")
            return value
        if origin is not None:
            raise _Bad(f"must be {'an object' if origin is dict else 'a list'}, got {kind(value)}")
        if hint is str:
            return _text(check, value)
        if check.time:
            found = parse_time(value, int(time.time() * 1000) if check.real_time else self.now_ms)
            if found is None:
                raise _Bad(f"must be epoch ms, ISO 8601 or now[+-]N[smhd], got {short(value)}")
            return found
        if hint is int:
            if check.digits and isinstance(value, str) and value.isascii() and value.isdecimal():
                value = int(value) if len(value) <= MAX_NUMBER_DIGITS else value
            if isinstance(value, bool) or not isinstance(value, int):
                raise _Bad(f"must be an integer, got {kind(value)}")
            return _bounded(check, value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            raise _Bad(f"must be a number, got {short(value)}")
        return float(_bounded(check, value))


def _text(check: Check, value: Any) -> str:
    if check.json and isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if not isinstance(value, str):
        wanted = "an object or a JSON string" if check.json else "a string"
        raise _Bad(f"must be {wanted}, got {kind(value)}")
    if check.choices and value not in check.choices:
        raise _Bad(f"must be one of {', '.join(check.choices)} (got {short(value)})")
    if check.not_empty and not value:
        raise _Bad("must not be empty")
    if check.key is not None and (not PRINTABLE.fullmatch(value) or set(check.key) & set(value)):
        unwanted = f" nor any of {check.key!r}" if check.key else ""
        raise _Bad(f"must be printable ASCII without spaces{unwanted}")
    if check.json:
        try:
            read_json(value)
        except InvalidInput as exc:
            raise _Bad(f"must hold JSON ({exc.problems[0]})") from None
    return value


def _bounded(check: Check, value: float) -> float:
    low, high = check.low, check.high
    if (low is None or value >= low) and (high is None or value <= high):
        return value
    wanted = f"at least {low}" if high is None else f"from {low} to {high}"
    raise _Bad(f"must be {low if low == high else wanted} (got {short(value)})")


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


PRINTABLE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
AMOUNT = r"(\d+(?:\.\d+)?)\s*([smhd])"  # of time: 90s, 1.5h (UNIT_MS)
UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_RELATIVE = re.compile(rf"now(?:\s*([+-])\s*{AMOUNT})?")


def parse_time(value: Any, now_ms: int) -> int | None:
    """Epoch ms, ISO 8601 (no zone: UTC) or ``now[+-]N[smhd]`` -> epoch ms; None when
    unreadable or outside years 1970 to 9999."""
    found = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and len(value) <= MAX_NUMBER_DIGITS:
        text, match = value.strip(), _RELATIVE.fullmatch(value.strip())
        if text.isascii() and text.isdecimal():
            found = int(text)
        elif match:
            sign, amount, unit = match.groups()
            delta = 0 if sign is None else round(float(amount) * UNIT_MS[unit])
            found = now_ms + delta if sign != "-" else max(0, now_ms - delta)
        else:
            try:
                stamp = datetime.fromisoformat(text)
            except ValueError:
                return None
            stamp = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
            found = max(0, round(stamp.timestamp() * 1000))
    return found if found is not None and 0 <= found <= MAX_TIME_MS else None


def read_json(text: str | bytes) -> Any:
    """Parsed JSON, or InvalidInput: not UTF-8 or JSON, NaN or infinity, nested deeper
    than MAX_STATE_DEPTH, or a number longer than MAX_NUMBER_DIGITS."""
    deep = f"nested deeper than {MAX_STATE_DEPTH} levels"
    try:
        data = _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start + 1})"
    except json.JSONDecodeError as exc:
        problem = f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
    except RecursionError:
        problem = deep
    except ValueError as exc:  # from the hooks below
        problem = str(exc)
    else:
        if _shallow(data):
            return data
        problem = deep
    raise InvalidInput("JSON", [problem])


def _shallow(value: Any, levels: int = MAX_STATE_DEPTH) -> bool:
    """Recurses at most ``levels`` deep, so the check itself cannot overflow the stack."""
    items = value.values() if isinstance(value, dict) else value
    if not isinstance(value, dict | list):
        return True
    return levels > 0 and all(_shallow(v, levels - 1) for v in items)


def _number(convert: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_DIGITS:
            wanted = f"at most {MAX_NUMBER_DIGITS}"
            raise ValueError(f"a number of {len(text)} characters ({text[:20]}...); {wanted}")
        return convert(text)

    return parse


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(
    parse_int=_number(int), parse_float=_number(float), parse_constant=_no_constant
)


def dump(value: Any, *, secrets: bool = True) -> Any:
    """Records as their wire keys (hidden fields, and secrets unless asked, left out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = [f for f in fields_of(type(value)) if not f.check.hidden]
        shown = [f for f in shown if secrets or not f.check.secret]
        return {f.key: dump(getattr(value, f.name), secrets=secrets) for f in shown}
    if isinstance(value, list | tuple):
        return [dump(v, secrets=secrets) for v in value]
    return sorted(value) if isinstance(value, frozenset) else value


def body(cls: type, **values: Any) -> dict[str, Any]:
    """A ``cls`` as an admin client sends it: keyword arguments by field name (or key).
    None leaves out a field that cannot be null (its default applies)."""
    table = {name: f for f in inputs(cls) for name in (f.name, f.key)}
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    return {table[k].key: v for k, v in values.items() if v is not None or table[k].optional}


def parse(cls: type[T], data: Any, now_ms: int, source: str = "request body") -> T:
    """One record from parsed JSON, or InvalidInput naming every problem."""
    reader = Reader(now_ms)
    made = reader.record(cls, data, "")
    if made is None:
        raise InvalidInput(source, reader.problems)
    return made
