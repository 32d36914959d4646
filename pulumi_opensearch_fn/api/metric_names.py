"""Metric names in an extendInfo object, each meaning one value or refused.

Nested objects flatten with dots, so `{"dataReport": {"auc": 0.3}, "dataReport.auc": 0.9}`
names `dataReport.auc` twice; a repeated key (`{"auc": 0.1, "auc": 0.9}`) does too, and
JSON readers keep its last value. Either way key order would pick the value. Such a
name is ambiguous: it is never gated on and never a metric output. Under a repeated key
every name is ambiguous, since readers disagree on which copy holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class Repeats(dict[str, Any]):
    """A JSON object with a repeated key: each key's last value, as JSON readers keep it,
    and in `copies` every value of each repeated key."""

    def __init__(self, last: dict[str, Any], copies: dict[str, list[Any]]) -> None:
        super().__init__(last)
        self.copies = copies


def object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook` for json.loads: a repeated key is remembered, not overwritten."""
    last = dict(pairs)
    if len(last) == len(pairs):  # the usual case, at the speed of dict()
        return last
    last = {}
    copies: dict[str, list[Any]] = {}
    for key, value in pairs:
        if key in last:
            copies.setdefault(key, [last[key]]).append(value)
        last[key] = value
    return Repeats(last, copies) if copies else last


def unrepeated(node: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The entries whose key was sent once: a repeated key has no one value to show."""
    copies = node.copies if isinstance(node, Repeats) else {}
    return ((key, value) for key, value in node.items() if key not in copies)


class TooDeepError(ValueError):
    pass


@dataclass
class MetricNames:
    """Numeric values by dotted name (`exact`), and names that mean more than one value,
    with why (`ambiguous`); no name is in both."""

    exact: dict[str, Decimal] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)


@dataclass
class _Walk:
    """Every name met, in order (a parent before what is under it), by index."""

    names: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # -1 at the top
    counts: Counter[str] = field(default_factory=Counter)
    repeated: set[str] = field(default_factory=set)
    numbers: list[tuple[int, Decimal]] = field(default_factory=list)


def metric_names(tree: Mapping[str, Any], max_depth: int) -> MetricNames:
    """Every name in `tree`, judged; TooDeepError beyond `max_depth` levels. What it
    finds does not depend on the order of keys."""
    walk = _Walk()
    _visit("", -1, tree, walk, 0, max_depth)
    # A repeated key taints every name under it (the outermost one names why); a
    # collision only the name itself.
    under: list[str | None] = []
    reasons: dict[str, set[str]] = {}
    for name, parent in zip(walk.names, walk.parents, strict=True):
        above = under[parent] if parent >= 0 else None
        under.append(above or (name if name in walk.repeated else None))
        if under[-1] is not None:
            why = f"extendInfo repeats the key {under[-1]}"
        elif (count := walk.counts[name]) > 1:
            why = f"{count} values in extendInfo have this name (dotted and nested keys)"
        else:
            continue
        reasons.setdefault(name, set()).add(why)
    found = MetricNames(ambiguous={n: "; ".join(sorted(r)) for n, r in reasons.items()})
    for index, value in walk.numbers:
        name = walk.names[index]
        if name not in found.ambiguous:
            found.exact[name] = value
    return found


def _visit(
    prefix: str, parent: int, node: Mapping[str, Any], walk: _Walk, depth: int, max_depth: int
) -> None:
    if depth > max_depth:
        raise TooDeepError(f"nested more than {max_depth} levels")
    copies = node.copies if isinstance(node, Repeats) else {}
    for key, last in node.items():
        name = f"{prefix}{key}"
        here = len(walk.names)
        walk.names.append(name)
        walk.parents.append(parent)
        walk.counts[name] += 1
        if key in copies:
            walk.repeated.add(name)
        for value in copies.get(key, [last]):
            if isinstance(value, Mapping):
                _visit(f"{name}.", here, value, walk, depth + 1, max_depth)
            elif isinstance(value, Decimal):
                walk.numbers.append((here, value))
            elif isinstance(value, int) and not isinstance(value, bool):
                walk.numbers.append((here, Decimal(value)))
