"""Text for people (aligned tables, key/value blocks) and JSON for pipelines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from ..core.printable import json_safe, printable
from . import streams
from .logs import redact

MIN_COLUMN = 8
DEFAULT_WIDTH = 120
GAP = "  "


def clean(value: object) -> str:
    """One cell: None as '-'; names and bodies come from the service, so control and
    format characters are removed and newlines flattened (see printable)."""
    if value is None or value == "":
        return "-"
    return printable(str(value))


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, width: int | None = None
) -> str:
    """Left-aligned columns sized to their content; when `width` is given, the widest
    columns are clipped (never below MIN_COLUMN) until the table fits."""
    cells = [[clean(c) for c in row] for row in rows]
    sizes = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            sizes[i] = max(sizes[i], len(cell))
    if width is not None:
        while sum(sizes) + len(GAP) * (len(sizes) - 1) > width:
            widest = max(range(len(sizes)), key=lambda i: sizes[i])
            if sizes[widest] <= MIN_COLUMN:
                break
            sizes[widest] -= 1
    last = len(sizes) - 1

    def line(row: Sequence[str]) -> str:
        parts = [
            clip(cell, sizes[i]) if i == last else clip(cell, sizes[i]).ljust(sizes[i])
            for i, cell in enumerate(row)
        ]
        return GAP.join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(row) for row in cells)])


def key_values(pairs: Iterable[tuple[str, object]]) -> str:
    """`label   value` lines, labels aligned."""
    items = [(label, clean(value)) for label, value in pairs]
    size = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{label.ljust(size)}{GAP}{value}".rstrip() for label, value in items)


def to_json(document: object) -> str:
    return json_safe(
        json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    )


def emit(text: str, stream: TextIO | None = None) -> None:
    """Writes a block and a newline on stdout (or `stream`); a closed stdout (`>&-`) or a
    reader that went away (`| head`) is not an error (see streams)."""
    streams.put(stream if stream is not None else sys.stdout, redact(text) + "\n")


# -- values for people ----------------------------------------------------------


def when(value: datetime | str | None) -> str | None:
    """`2024-05-01 08:00:00Z`, seconds precision."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        parsed = value
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def span(start: datetime | None, end: datetime | None) -> str | None:
    if start is None or end is None:
        return None
    from ..core.durations import format_duration

    return format_duration(end - start) if end >= start else None


def ago(value: datetime | None, now: datetime | None = None) -> str | None:
    if value is None:
        return None
    from ..core.durations import format_duration

    delta = (now or datetime.now(UTC)) - value
    return f"{format_duration(delta)} ago" if delta >= timedelta(0) else "in the future"


def percent(value: int | None) -> str | None:
    return None if value is None else f"{value}%"


def metrics(values: Mapping[str, Decimal | float]) -> str:
    """`auc=0.8612 recall=91`: every value exactly as sent (never rounded)."""
    return " ".join(f"{name}={value}" for name, value in sorted(values.items()))


def parameters(values: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{p['name']}={p['value']}" for p in values)
