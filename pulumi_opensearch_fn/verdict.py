"""Unmet expectations: pass, warn or fail, decided in one place for every door.

Each door only translates the action: a resource's check fails or its program
warns, a data source raises or warns, a refresh warns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .expectations import Expect, Result, Wait, describe_unmet, unmet
from .outputs import verdict_fields

Action = Literal["pass", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The results of one read, what to do about them, and the line that says why.

    `note` is information only: what `up` would wait for, when a preview does not wait.
    """

    results: tuple[Result, ...]
    action: Action
    message: str | None = None
    note: str | None = None

    @property
    def ready(self) -> bool:
        return all(r.met for r in self.results)

    def fields(self) -> dict[str, Any]:
        """`ready` and `unmet`, as every door shows them."""
        return verdict_fields(list(self.results))


def judge(
    subject: str,
    expect: Expect | None,
    results: list[Result],
    *,
    wait: Wait | None = None,
    waited: bool = False,
    gate: bool = True,
) -> Verdict:
    """The action for `results`: fail when expectations are unmet and enforced.

    `wait` with `waited=False` is a preview: it never fails for what `up` would wait
    for. `gate=False` (a refresh) only ever warns.
    """
    failed = unmet(results)
    if not failed or expect is None:
        return Verdict(tuple(results), "pass")
    message = describe_unmet(subject, failed)
    if waited and wait is not None:
        message += f" (after waiting up to {wait.timeout})"
    if not gate or not expect.enforce:
        return Verdict(tuple(results), "warn", message)
    if wait is not None and not waited:
        note = f"{subject}: up will wait up to {wait.timeout} for: " + "; ".join(
            str(r) for r in failed
        )
        return Verdict(tuple(results), "pass", note=note)
    return Verdict(tuple(results), "fail", message)
