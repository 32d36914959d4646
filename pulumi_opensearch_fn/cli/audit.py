"""What makes `check --json` an audit record: the schema version, when the check ran,
the expectations as given, and for each instance what was judged and the request ids
of the reads that decided each verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.expectations import Expect, Observation, Result, Wait
from ..core.outputs import iso

# Bumped only when a key changes meaning or goes away; new keys keep the version.
SCHEMA_VERSION = 1

# Which read decided an expectation, by the expectation's name (or its prefix).
_SOURCE = {
    "status": "instance",
    "task_status": "latest_task",
    "min_generation": "success_task",
    "max_age": "success_task",
    "metrics": "success_task",
    "no_task_errors": "success_task",
    "max_regression": "success_tasks",
}


def header(expect: Expect, wait: Wait | None, checked_at: datetime) -> dict[str, Any]:
    """The document's leading keys."""
    given = expect.to_dict()
    given.pop("enforce", None)  # the command always enforces: its exit code says
    return {
        "schema_version": SCHEMA_VERSION,
        "checked_at": iso(checked_at),
        "expect": given,
        "wait": wait.to_dict() if wait is not None else None,
    }


def request_ids(seen: Observation) -> dict[str, str | None]:
    """The request id of each read the observation is made of (None: not read)."""
    success_read = seen.success_task.request_id if seen.success_task else None
    return {
        "instance": seen.instance.request_id if seen.instance else None,
        "latest_task": seen.task.request_id if seen.task else None,
        "success_task": success_read,
        "success_tasks": success_read if seen.previous_read else None,
    }


def judged(seen: Observation) -> dict[str, Any]:
    """The generations and runs the verdicts are about."""
    task, success, previous = seen.task, seen.success_task, seen.previous_success_task
    return {
        "read_at": iso(seen.read_at),
        "task_generation": task.generation if task else None,
        "task_run_id": task.run_id or None if task else None,
        "success_generation": success.generation if success else None,
        "success_run_id": success.run_id or None if success else None,
        "previous_success_generation": previous.generation if previous else None,
        "previous_success_run_id": previous.run_id or None if previous else None,
    }


def decided_by(result: Result, ids: dict[str, str | None]) -> str | None:
    """The request id of the read that decided `result`."""
    return ids.get(_SOURCE.get(result.name.split(".", 1)[0], ""))
