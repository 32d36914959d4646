"""The line a drift check prints for each drifted resource: which tracked fields
moved, from what to what (`latest_generation 3 → 4, latest_task_status success → running`).

The values are the server's text: the line goes through the package's one rule for text
shown to a person (`api.safe_text.safe`), so a status cannot clear the screen, set a
window title or reverse the line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.safe_text import safe


def moved(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: tuple[str, ...]
) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for each of `fields` whose value differs, in that order."""
    return [(key, before.get(key), after.get(key)) for key in fields
            if before.get(key) != after.get(key)]  # fmt: skip


def drift_line(subject: str, changes: list[tuple[str, Any, Any]]) -> str:
    """`FunctionInstance my_app/ctr/ctr_test drifted: latest_generation 3 → 4`."""
    return safe(
        f"{subject} drifted: "
        + ", ".join(f"{key} {_shown(old)} → {_shown(new)}" for key, old, new in changes)
    )


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)
