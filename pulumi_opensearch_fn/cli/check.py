"""`check`: the same expectations for every instance, read concurrently, optionally
waiting until they hold; a table or one JSON document; the exit code says it all."""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..api.identity import Identity
from ..core.expectations import Expect, Result, Wait, unmet
from ..core.observe import observe_instance
from ..core.outputs import observation_fields
from ..core.verdict import Verdict
from . import audit, exit_codes, render, streams
from .progress import LiveDisplay, LogLines, Silent, is_terminal
from .runner import exit_code, run_checks, state
from .targets import load

DEFAULT_TIMEOUT = "10m"
DEFAULT_INTERVAL = "10s"

if TYPE_CHECKING:
    from ..api import OpenSearchFunctionClient
    from ..api.limiter import AdaptiveLimiter


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


def targets_of(args: argparse.Namespace) -> list[Identity]:
    return load(args.target, args.instances_file)


def run(
    args: argparse.Namespace,
    client: OpenSearchFunctionClient,
    expect: Expect,
    wait: Wait | None,
    targets: list[Identity],
    limiter: AdaptiveLimiter | None = None,
) -> int:
    """Checks `targets`; `limiter`, the slots of `client`'s requests, tells the progress
    shown when it backs off or recovers."""
    stop = threading.Event()
    checked_at = datetime.now(UTC)
    if wait is None or sys.stderr is None:  # nothing to show, or nowhere to show it
        reporter: Silent = Silent()
    elif is_terminal(sys.stderr):
        reporter = LiveDisplay(sys.stderr, targets, wait.timeout_delta.total_seconds())
    else:
        reporter = LogLines(sys.stderr)
    parsed = expect.parse()  # parsed once (and cached) by `expectations` above
    if limiter is not None:
        limiter.on_change = reporter.note
    try:
        verdicts = run_checks(
            targets,
            lambda target: observe_instance(client, target, parsed),
            parsed,
            wait,
            reporter=reporter,
            stop=stop,
        )
    finally:
        if limiter is not None:
            limiter.on_change = Silent().note
        reporter.close()
    code = max((exit_code(v) for v in verdicts), default=exit_codes.OK)
    checked = list(zip(targets, verdicts, strict=True))
    if args.json:
        record = audit.header(expect, wait, checked_at) | document(checked, code)
        render.emit(render.to_json(record))
    else:
        # Not clipped to the terminal: the details are the point of the table.
        headers = ("INSTANCE", "STATE", "STATUS", "TASK", "DETAILS")
        render.emit(render.table(headers, [row(t, v) for t, v in checked]))
    summary = summarize(verdicts)
    if code != exit_codes.OK:  # on stderr only: with --json, stdout is one document
        streams.err(f"opensearch-fn: {summary}")
    return code


def summarize(verdicts: list[Verdict]) -> str:
    ready = sum(v.ready for v in verdicts)
    errors = sum(v.error is not None for v in verdicts)
    text = f"{ready} of {len(verdicts)} instance{'s' * (len(verdicts) != 1)} ready"
    return text + (f", {errors} with errors" if errors else "")


def row(target: Identity, verdict: Verdict) -> tuple[object, ...]:
    seen = verdict.seen
    status = seen.instance.status if seen and seen.instance else None
    task = seen.task if seen else None
    task_text = (
        f"gen {task.generation} {task.status}"
        + (f" {task.progress}%" if task.progress is not None and task.status == "running" else "")
        if task
        else ("no task" if seen else None)
    )
    if verdict.error is not None:
        details = str(verdict.error)
    else:
        failed = unmet(verdict.results)
        count = len(verdict.results)
        if failed:
            details = "; ".join(str(r) for r in failed)
        elif count:
            details = f"{count} expectation{'s' * (count != 1)} met"
        else:
            details = "read; no expectations given"
        if verdict.stopped:
            details = f"{verdict.stopped}; {details}"
        elif verdict.timed_out:
            details = f"timed out after {_seconds(verdict.elapsed)}; {details}"
    return (target.path, state(verdict), status, task_text, details)


def document(checked: list[tuple[Identity, Verdict]], code: int) -> dict[str, Any]:
    """The --json document: stable keys, snake_case like the resources' outputs."""
    states = [state(v) for _, v in checked]
    return {
        "ready": all(v.ready for _, v in checked),
        "exit_code": code,
        "counts": {
            "total": len(checked),
            **{
                s.replace(" ", "_"): states.count(s)
                for s in ("ready", "not met", "failed", "timed out", "error")
            },
        },
        "instances": [instance_document(t, v) for t, v in checked],
    }


def instance_document(target: Identity, verdict: Verdict) -> dict[str, Any]:
    error = verdict.error
    seen = verdict.seen
    ids = audit.request_ids(seen) if seen else {}
    return {
        "id": target.resource_id,
        **target.fields(),
        "ready": verdict.ready,
        "state": state(verdict).replace(" ", "_"),
        "reason": verdict.stopped,
        "timed_out": verdict.timed_out,
        "elapsed_seconds": round(verdict.elapsed, 3),
        "expectations": [expectation_document(r, ids) for r in verdict.results],
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
        "observation": observation_fields(seen) if seen else None,
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

    from ..core.durations import format_duration

    return format_duration(timedelta(seconds=value))
