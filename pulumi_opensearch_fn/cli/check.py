"""`check`: the same expectations for every instance, read concurrently, optionally
waiting until they hold; a table or one JSON document; the exit code says it all."""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..expectations import Expect, Result, Wait, unmet
from ..identity import Identity
from ..observe import observe_instance
from ..outputs import observation_fields
from . import audit, exit_codes, render, streams
from .progress import LiveDisplay, LogLines, Silent, is_terminal
from .runner import Outcome, run_checks
from .targets import Target, load

DEFAULT_TIMEOUT = "10m"
DEFAULT_INTERVAL = "10s"

if TYPE_CHECKING:
    from ..api import OpenSearchFunctionClient


def expectations(args: argparse.Namespace) -> tuple[Expect, Wait | None]:
    """Raises InvalidInputError (a usage error) naming the options that do not fit."""
    from ..api.errors import InvalidInputError

    expect = Expect(
        status=args.status,
        task_status=args.task_status,
        min_generation=args.min_generation,
        max_age=args.max_age,
        metrics=args.metric,
        no_task_errors=args.no_task_errors,
        max_regression=args.max_regression,
    )
    problems = expect.problems()
    wait = None
    if args.wait:
        wait = Wait(
            timeout=args.timeout or DEFAULT_TIMEOUT, interval=args.interval or DEFAULT_INTERVAL
        )
        problems += wait.problems()
    elif args.timeout or args.interval:
        problems.append(("timeout" if args.timeout else "interval", "only applies with --wait"))
    if problems:
        raise InvalidInputError("; ".join(f"{_flag(name)}: {why}" for name, why in problems))
    return expect, wait


def _flag(field_name: str) -> str:
    return "--metric" if field_name == "metrics" else "--" + field_name.replace("_", "-")


def targets_of(args: argparse.Namespace) -> list[Target]:
    return load(args.target, args.instances_file)


def run(
    args: argparse.Namespace,
    client: OpenSearchFunctionClient,
    expect: Expect,
    wait: Wait | None,
    targets: list[Target],
) -> int:
    stop = threading.Event()
    checked_at = datetime.now(UTC)
    if wait is None or sys.stderr is None:  # nothing to show, or nowhere to show it
        reporter: Silent = Silent()
    elif is_terminal(sys.stderr):
        reporter = LiveDisplay(sys.stderr, targets, wait.timeout_delta.total_seconds())
    else:
        reporter = LogLines(sys.stderr)
    try:
        outcomes = run_checks(
            targets,
            lambda t: observe_instance(client, Identity(t.app, t.function, t.instance), expect),
            expect,
            wait,
            concurrency=args.concurrency,
            reporter=reporter,
            stop=stop,
        )
    finally:
        reporter.close()
    code = max((o.exit_code for o in outcomes), default=exit_codes.OK)
    if args.json:
        record = audit.header(expect, wait, checked_at) | document(outcomes, code)
        render.emit(render.to_json(record))
    else:
        # Not clipped to the terminal: the details are the point of the table.
        headers = ("INSTANCE", "STATE", "STATUS", "TASK", "DETAILS")
        render.emit(render.table(headers, [row(o) for o in outcomes]))
    summary = summarize(outcomes)
    if code != exit_codes.OK:  # on stderr only: with --json, stdout is one document
        streams.err(f"opensearch-fn: {summary}")
    return code


def summarize(outcomes: list[Outcome]) -> str:
    ready = sum(o.ready for o in outcomes)
    errors = sum(o.error is not None for o in outcomes)
    text = f"{ready} of {len(outcomes)} instance{'s' * (len(outcomes) != 1)} ready"
    return text + (f", {errors} with errors" if errors else "")


def row(outcome: Outcome) -> tuple[object, ...]:
    seen = outcome.seen
    status = seen.instance.status if seen and seen.instance else None
    task = seen.task if seen else None
    task_text = (
        f"gen {task.generation} {task.status}"
        + (f" {task.progress}%" if task.progress is not None and task.status == "running" else "")
        if task
        else ("no task" if seen else None)
    )
    if outcome.error is not None:
        details = str(outcome.error)
    else:
        failed = unmet(outcome.results)
        count = len(outcome.results)
        if failed:
            details = "; ".join(str(r) for r in failed)
        elif count:
            details = f"{count} expectation{'s' * (count != 1)} met"
        else:
            details = "read; no expectations given"
        if outcome.reason:
            details = f"{outcome.reason}; {details}"
        elif outcome.timed_out:
            details = f"timed out after {_seconds(outcome.elapsed)}; {details}"
    return (outcome.target.label, outcome.state, status, task_text, details)


def document(outcomes: list[Outcome], code: int) -> dict[str, Any]:
    """The --json document: stable keys, snake_case like the resources' outputs."""
    states = [o.state for o in outcomes]
    return {
        "ready": all(o.ready for o in outcomes),
        "exit_code": code,
        "counts": {
            "total": len(outcomes),
            **{
                s.replace(" ", "_"): states.count(s)
                for s in ("ready", "not met", "failed", "timed out", "error")
            },
        },
        "instances": [instance_document(o) for o in outcomes],
    }


def instance_document(outcome: Outcome) -> dict[str, Any]:
    error = outcome.error
    seen = outcome.seen
    ids = audit.request_ids(seen) if seen else {}
    return {
        "id": outcome.target.id,
        "app_group": outcome.target.app,
        "function_name": outcome.target.function,
        "instance_name": outcome.target.instance,
        "ready": outcome.ready,
        "state": outcome.state.replace(" ", "_"),
        "reason": outcome.reason,
        "timed_out": outcome.timed_out,
        "elapsed_seconds": round(outcome.elapsed, 3),
        "expectations": [expectation_document(r, ids) for r in outcome.results],
        "judged": audit.judged(seen) if seen else None,
        "request_ids": ids or None,
        "error": None
        if error is None
        else {
            "code": error.code or type(error).__name__,
            "type": type(error).__name__,
            "message": error.message,
            "request_id": error.request_id or None,
            "http_status": error.http_status,
            "exit_code": exit_codes.for_error(error),
        },
        "observation": observation_fields(outcome.seen) if outcome.seen else None,
    }


def expectation_document(result: Result, ids: dict[str, str | None]) -> dict[str, Any]:
    return {
        "name": result.name,
        "expected": result.expected,
        "seen": result.seen,
        "met": result.met,
        "request_id": audit.decided_by(result, ids),
    }


def _seconds(value: float) -> str:
    from datetime import timedelta

    from ..durations import format_duration

    return format_duration(timedelta(seconds=value))
