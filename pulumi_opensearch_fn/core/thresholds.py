"""Per-metric settings, parsed: `metrics` thresholds and `max_regression` limits.

`recall >= 90` bounds a numeric entry of a task's extendInfo. `auc 0.01` lets auc fall
by at most 0.01 from the previous successful generation; `recall 2%` by at most 2% of
the previous value; `loss 5% lower` declares that lower is better, so loss may rise by
at most 5%. Values compare exactly (decimal arithmetic that refuses to round).
"""

from __future__ import annotations

import decimal
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from ..api.errors import InvalidInputError
from ..api.numbers import decimal_of
from .printable import brief

T = TypeVar("T")

if TYPE_CHECKING:
    from ..api.models import FunctionTask

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
_LIMIT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s+(\S+)(?:\s+(lower|higher))?\s*$")
_AMOUNT = re.compile(r"^\s*(\S+)(?:\s+(lower|higher))?\s*$")
# Enough digits for any sum of realistic metrics; beyond it the comparison says so
# instead of rounding.
_PRECISION = 2000


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


@dataclass(frozen=True, slots=True)
class RegressionLimit:
    """How far `metric` may move the wrong way from the previous successful generation."""

    metric: str
    amount: Decimal
    relative: bool = False
    lower_is_better: bool = False
    written: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: object, metric: str | None = None) -> RegressionLimit:
        """`auc 0.01`, `recall 2%`, `loss 5% lower`; with `metric`, just the amount part
        (`0.01`, `2%`, `5% lower`) or a number."""
        if metric is not None and isinstance(text, int | float) and not isinstance(text, bool):
            text = repr(text)  # the shortest decimal: what was written
        if not isinstance(text, str):
            where = f"max_regression {brief(metric)}" if metric else "max_regression"
            raise InvalidInputError(
                f"{where} must be text such as 'auc 0.01' or 'loss 5% lower',"
                f" got {type(text).__name__} {brief(text)}"
            )
        if metric is not None:
            bare = _AMOUNT.match(text)
            parts = (metric, *bare.groups()) if bare else None
            form = (
                f"max_regression {brief(metric)}: {brief(text)} is not an amount;"
                " write e.g. '0.01' or '2%'"
            )
        else:
            found = _LIMIT.match(text)
            parts = found.groups() if found else None
            form = f"max_regression {brief(text)} is not of the form 'metric amount[%] [lower]'"
        if parts is None:
            raise InvalidInputError(form)
        name, amount, direction = parts
        relative = amount.endswith("%")
        try:
            value = decimal_of(amount[:-1] if relative else amount)
        except ValueError as exc:
            raise InvalidInputError(f"{form} ({exc})") from None
        if value < 0:
            raise InvalidInputError(f"{form} (the amount must not be negative)")
        return cls(name, value, relative, direction == "lower", amount)

    @property
    def shown_amount(self) -> str:
        return self.written or (f"{self.amount}%" if self.relative else str(self.amount))

    def __str__(self) -> str:
        return f"{self.metric} {self.shown_amount}" + (" lower" if self.lower_is_better else "")

    def judge(
        self, latest: FunctionTask | None, previous: FunctionTask | None
    ) -> tuple[str, str, bool]:
        """(expected, seen, met) for the latest and the previous successful task."""
        sign, op = ("+", "<=") if self.lower_is_better else ("-", ">=")
        if latest is None or previous is None:
            expected = f"{op} the previous successful generation {sign} {self.shown_amount}"
            if latest is None:
                return expected, "no successful task", False
            first = f"gen {latest.generation} is the first successful generation"
            return expected, f"{first}; nothing to compare", True
        now = latest.extend_info.exact_metrics.get(self.metric)
        before = previous.extend_info.exact_metrics.get(self.metric)
        was = f"gen {previous.generation}"
        for task in (latest, previous):  # never decided by which key came last
            why = task.extend_info.ambiguous.get(self.metric)
            if why is not None:
                expected = f"{op} {was} {sign} {self.shown_amount}"
                return expected, f"gen {task.generation} {self.metric} is ambiguous: {why}", False
        if before is None:
            return (
                f"{op} {was} {sign} {self.shown_amount}",
                (f"{was} has no {self.metric}; nothing to compare"),
                True,
            )
        expected = f"{op} {was} {before} {sign} {self.shown_amount}"
        if now is None:
            return expected, f"gen {latest.generation} has no {self.metric}", False
        seen = f"gen {latest.generation} {now}"
        if not (now.is_finite() and before.is_finite()):
            return expected, f"{seen}, not a finite number to compare", False
        try:
            return expected, seen, self._holds(now, before)
        except decimal.DecimalException:
            return expected, f"{seen}, too far from {was} to compare exactly", False

    def _holds(self, now: Decimal, before: Decimal) -> bool:
        with decimal.localcontext() as context:
            context.prec = _PRECISION
            context.Emax, context.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
            context.traps[decimal.Inexact] = True  # never a rounded verdict
            allowed = abs(before) * self.amount / 100 if self.relative else self.amount
            if self.lower_is_better:
                return now <= before + allowed
            return now >= before - allowed


def parse_thresholds(value: object) -> tuple[MetricThreshold, ...]:
    """`metrics` as given: a dict, a list of 'name op number' texts, or one text."""
    return per_metric(
        value,
        "metrics",
        MetricThreshold,
        lambda text, name: MetricThreshold.parse(text, name=name),
        "a dict such as {'recall': '>= 90'} or a list such as ['recall >= 90']",
    )


def parse_limits(value: object) -> tuple[RegressionLimit, ...]:
    """`max_regression` as given: a dict, a list of 'metric amount' texts, or one text."""
    return per_metric(
        value,
        "max_regression",
        RegressionLimit,
        lambda text, metric: RegressionLimit.parse(text, metric=metric),
        "a dict such as {'auc': '0.01'} or a list such as ['auc 0.01', 'loss 5% lower']",
    )


def per_metric(
    value: object,
    field: str,
    kind: type[T],
    parse: Callable[[object, str | None], T],
    shapes: str,
) -> tuple[T, ...]:
    """A per-metric setting as given: one text, a list of texts naming their metric (or
    of values already parsed, as the command line's options are), or a dict from metric
    name to text; raises InvalidInputError for anything else."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (parse(value, None),)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise InvalidInputError(f"{field}: metric names must be text, got {brief(key)}")
        return tuple(parse(v, k) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(item if isinstance(item, kind) else parse(item, None) for item in value)
    raise InvalidInputError(f"{field} must be {shapes}, got {type(value).__name__} {brief(value)}")
