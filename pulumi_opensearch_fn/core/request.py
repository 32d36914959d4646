"""One read request per door: identity, `Expect`, `Wait` and settings, parsed once.

`parse_request` takes a resource's raw inputs (what the program registers, what the
engine hands the provider) and returns the request, or every problem with them as
(input, reason) pairs: bad input is reported before any request is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..api.errors import OpenSearchFnError
from ..api.identity import KEYS, TASK, Identity, Kind, check_segment, parse_generation
from ..api.validation import check_region
from .config import Settings, resolve_settings
from .expectations import Expect, ParsedExpect, Wait
from .outputs import REQUESTED_GENERATION

ConfigSource = Mapping[str, object] | Callable[[str], object | None]
# The transient input that carries the program's verdict to the provider's check
# (read there, never stored).
GATE = "gate"
Problem = tuple[str, str]


@dataclass(frozen=True)
class ReadRequest:
    """Everything one read needs, parsed; `subject` names it in every message."""

    identity: Identity
    expect: ParsedExpect | None
    wait: Wait | None
    settings: Settings

    @property
    def subject(self) -> str:
        return self.identity.subject


def identity_inputs(kind: Kind) -> tuple[str, ...]:
    names = tuple(key for key, _ in KEYS)
    return (*names, REQUESTED_GENERATION) if kind == TASK else names


@dataclass(frozen=True)
class CheckedInputs:
    """Inputs found usable without settings: what a provider's `check` can judge alone."""

    identity: Identity | None
    expect: ParsedExpect | None
    wait: Wait | None
    problems: list[Problem]


def check_inputs(kind: Kind, inputs: Mapping[str, Any]) -> CheckedInputs:
    """Every problem with the identity, `expect`, `wait` and `region` inputs.

    Needs neither settings nor the HTTP client; the endpoint and the credentials are
    judged with the settings (`parse_request`), where the program reads."""
    problems: list[Problem] = []
    names = [_checked(problems, key, check_segment, key, inputs.get(key)) for key, _ in KEYS]
    generation = None
    if kind == TASK:
        generation = _checked(
            problems, REQUESTED_GENERATION, parse_generation, inputs.get(REQUESTED_GENERATION)
        )
    if inputs.get("region"):
        _checked(problems, "region", check_region, inputs["region"])
    expect = _checked(problems, "expect", Expect.from_value, inputs.get("expect"))
    if expect is not None:
        problems += [("expect", f"{k}: {why}") for k, why in expect.problems()]
        if kind == TASK and expect.status is not None:
            problems.append(
                ("expect", "status is an instance's; use FunctionInstance, or task_status here")
            )
    wait = _checked(problems, "wait", Wait.from_value, inputs.get("wait"))
    if wait is not None:
        problems += [("wait", f"{k}: {why}") for k, why in wait.problems()]
        if expect is None or expect.is_empty:
            problems.append(("wait", "wait needs expectations to wait for; set expect="))
    if problems:
        return CheckedInputs(None, None, None, problems)
    identity = Identity(names[0], names[1], names[2], generation)
    return CheckedInputs(identity, expect.parse() if expect is not None else None, wait, [])


def parse_request(
    kind: Kind, inputs: Mapping[str, Any], config: ConfigSource
) -> tuple[ReadRequest | None, list[Problem]]:
    """The request for `inputs`, or None and every problem found (none is a request)."""
    from ..api.endpoints import normalize_endpoint  # imports the HTTP client's URL parser

    checked = check_inputs(kind, inputs)
    problems = list(checked.problems)
    if inputs.get("endpoint"):
        _checked(problems, "endpoint", normalize_endpoint, inputs["endpoint"])
    if problems:
        return None, problems
    assert checked.identity is not None
    try:
        settings = resolve_settings(config).with_overrides(
            region=inputs.get("region") or None, endpoint=inputs.get("endpoint") or None
        )
    except OpenSearchFnError as exc:
        return None, [("", exc.message)]
    return ReadRequest(checked.identity, checked.expect, checked.wait, settings), []


def _checked(problems: list[Problem], prop: str, check: Callable[..., Any], *args: Any) -> Any:
    try:
        return check(*args)
    except OpenSearchFnError as exc:
        problems.append((prop, exc.message))
        return None
