"""What a read means: pass, warn or fail, decided in one place for every door.

`judge` is the only place that evaluates an observation for a door and decides what
unmet expectations (or a task that is not there) mean. Each door only translates the
action: a resource's check fails or its program warns, a data source raises or warns,
a refresh warns, the command line sets its exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..api.errors import OpenSearchFnError
from .expectations import (
    Observation,
    ParsedExpect,
    Result,
    Wait,
    all_met,
    describe_unmet,
    evaluate,
    hopeless,
    unmet,
)
from .outputs import for_engine, observation_fields, verdict_fields

Action = Literal["pass", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one read means: the observation judged, its `Result`s (one per expectation:
    the parts of the verdict), what to do about them, and the line that says why.

    A read that failed has `error` and no observation. `note` is information only: what
    `up` would wait for, when a preview does not wait. After a wait, `stopped` says why
    it ended before its timeout (a failed task) and `timed_out` whether the timeout did.
    """

    results: tuple[Result, ...] = ()
    action: Action = "pass"
    message: str | None = None
    note: str | None = None
    seen: Observation | None = None
    error: OpenSearchFnError | None = None
    stopped: str | None = None
    timed_out: bool = False
    elapsed: float = 0.0

    @property
    def ready(self) -> bool:
        return self.error is None and self.seen is not None and all_met(self.results)

    @property
    def gate(self) -> dict[str, Any]:
        """The action as a resource sends it to its provider's check."""
        return {"action": self.action, "message": self.message}

    def fields(self) -> dict[str, Any]:
        """`ready` and `unmet`, as every door shows them."""
        return verdict_fields(list(self.results))

    def outputs(self) -> dict[str, Any]:
        """What a resource shows: the fields read and the verdict's, as the engine
        carries them; nothing when the read failed."""
        if self.seen is None:
            return {}
        return for_engine(observation_fields(self.seen) | self.fields())


def failed(subject: str, error: OpenSearchFnError) -> Verdict:
    """A read (or its input) that failed: the run fails, naming what was read."""
    return Verdict(action="fail", message=f"{subject}: {error}", error=error)


def judge(
    subject: str,
    expect: ParsedExpect | None,
    seen: Observation | None,
    *,
    wait: Wait | None = None,
    waited: bool = False,
    gate: bool = True,
) -> Verdict:
    """What `seen` means for `expect`: fail when expectations are unmet and enforced.

    `seen=None` is a task that is not there (`get_latest_function_task` found none):
    unmet when anything is expected. `wait` with `waited=False` is a preview: it never
    fails for what `up` would wait for. `gate=False` (a refresh) only ever warns.
    """
    if seen is None:
        if expect is None or expect.is_empty:
            return Verdict()
        message = f"{subject}: expectations not met: the instance has no task"
        return Verdict(action="fail" if gate and expect.enforce else "warn", message=message)
    results = tuple(evaluate(expect, seen))
    failed_ = unmet(results)
    if not failed_ or expect is None:
        return Verdict(results, "pass", seen=seen)
    stopped = hopeless(expect, seen) if waited else None
    timed_out = waited and stopped is None
    message = describe_unmet(subject, failed_)
    if waited and wait is not None:
        message += f" (after waiting up to {wait.timeout})"
    if not gate or not expect.enforce:
        action: Action = "warn"
    elif wait is not None and not waited:
        note = f"{subject}: up will wait up to {wait.timeout} for: " + "; ".join(
            str(r) for r in failed_
        )
        return Verdict(results, "pass", note=note, seen=seen)
    else:
        action = "fail"
    return Verdict(results, action, message, seen=seen, stopped=stopped, timed_out=timed_out)
