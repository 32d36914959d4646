"""Dynamic providers behind `FunctionInstance` and `FunctionTask`.

They only ever read, and in preview and up they do not even do that: the program
reads (see `reads`) and sends what it saw, and its verdict, as inputs.

- `check` validates the inputs and translates the program's verdict: unmet and
  enforced, the run fails with one message naming the resource and each expectation.
- `diff` compares tracked fields (never volatile ones) between the last outputs and
  what the program saw; on refresh the engine calls it with the refreshed outputs
  against the stored inputs, so the same comparison shows refresh drift.
- `create` / `update` return the inputs: they hold every output already.
- `read` (refresh, `.get`) reads live. It never waits; a refresh never fails for
  expectations and drops the resource only when the API says it does not exist.
- `delete` forgets. Nothing is ever written to the cloud.

No network I/O happens outside `read`, and the HTTP client is imported only there.
The pickled provider holds no state but a format version: settings, clients and
what a refresh replaced live in this module, per provider process.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .api.errors import InstanceNotFoundError, OpenSearchFnError, TaskNotFoundError
from .api.identity import INSTANCE, TASK, Identity, Kind
from .api.limiter import AdaptiveLimiter
from .api.safe_text import safe
from .api.validation import check_generation
from .core.config import CONFIG_KEYS, MAX_CONCURRENT_READS_KEY, max_concurrent_reads
from .core.drift import drift_line, moved
from .core.outputs import (
    REQUESTED_GENERATION,
    TRACKED_INSTANCE_FIELDS,
    TRACKED_TASK_FIELDS,
    VOLATILE_FIELDS,
    for_engine,
)
from .core.request import GATE, check_inputs, identity_inputs, parse_request
from .core.verdict import judge
from .server_errors import install as _install_server_errors

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for unknown values
PROVIDER_FORMAT = 1
# Inputs of earlier releases, dropped wherever they are found.
LEGACY_INPUTS = ("observed", "dry_run")
SETTINGS_INPUTS = ("expect", "wait", "region", "endpoint")


class _ProcessState:
    """What a provider process keeps between calls: config, and what refreshes replaced."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.config: Mapping[str, Any] = {}
        # Tracked values a refresh in this run replaced, by (kind, id): `preview --refresh`
        # refreshes and then diffs in one process, and must still show the drift.
        self.refreshed_from: dict[tuple[str, str], dict[str, Any]] = {}
        # The process's one limiter for its reads (refresh, get, import), as a program
        # has one: the engine calls `Read` for every resource of a refresh at once.
        self.slots: AdaptiveLimiter | None = None

    def read_slots(self) -> AdaptiveLimiter:
        with self.lock:
            if self.slots is None:
                self.slots = AdaptiveLimiter(max_concurrent_reads(self.config), on_change=say)
            return self.slots


_PROCESS = _ProcessState()
_install_server_errors()


def say(message: str, *, warning: bool = False) -> None:
    """A line in the engine's output: provider stderr is shown to the user, so the
    line (server text in it) goes through the one rule for text a person sees."""
    print(("warning: " if warning else "") + safe(message), file=sys.stderr, flush=True)


class GateError(OpenSearchFnError):
    """Expectations unmet for a `.get` resource read in preview or up."""


class _ReadOnlyProvider(ResourceProvider):
    kind: ClassVar[Kind]
    tracked: ClassVar[tuple[str, ...]]
    # The only errors that drop it on refresh.
    gone: ClassVar[type[OpenSearchFnError] | tuple[type[OpenSearchFnError], ...]]

    serialize_as_secret_always = False  # the blob holds nothing secret

    def __init__(self) -> None:
        self.format = PROVIDER_FORMAT

    def __getstate__(self) -> dict[str, Any]:
        return {"format": PROVIDER_FORMAT}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.format = int(state.get("format", PROVIDER_FORMAT))

    # -- engine calls -------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        config = {key: req.config.get(key) for key in (*CONFIG_KEYS, MAX_CONCURRENT_READS_KEY)}
        with _PROCESS.lock:
            _PROCESS.config = {k: v for k, v in config.items() if v is not None}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        gate = news.get(GATE)
        inputs = _without(news, "__provider", GATE, *LEGACY_INPUTS)
        # The program judged the settings (endpoint, credentials) where it read; its
        # verdict says if they were wrong. What is left needs no HTTP client.
        checked = check_inputs(self.kind, inputs)
        if checked.problems:
            return CheckResult(inputs, [CheckFailure(p, why) for p, why in checked.problems])
        if _has_unknown(inputs) or gate == UNKNOWN:  # preview: outputs stay unknown
            return CheckResult(inputs, [])
        assert checked.identity is not None
        if not isinstance(gate, Mapping) or gate.get("action") not in ("pass", "warn", "fail"):
            why = "no observation was sent with the inputs; construct it with its class"
            return CheckResult(inputs, [CheckFailure("", f"{checked.identity.subject}: {why}")])
        if gate["action"] == "fail":
            # The program's message carries server text; the engine prints it as it is.
            return CheckResult(inputs, [CheckFailure("", safe(str(gate.get("message"))))])
        _keep_volatile(inputs, olds, self.tracked)
        return CheckResult(inputs, [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        news = _upgraded(self.kind, news)  # a refresh diffs against stored inputs
        replaces = [
            key
            for key in (*identity_inputs(self.kind), "region", "endpoint")
            if _plain(olds.get(key)) != _plain(news.get(key))
        ]
        changes = replaces + [
            key for key in ("expect", "wait") if _plain(olds.get(key)) != _plain(news.get(key))
        ]
        seen = {key: _plain(news.get(key)) for key in self.tracked}
        with _PROCESS.lock:
            refreshed = _PROCESS.refreshed_from.get((self.kind, id_))
        before = {key: _plain(olds.get(key)) for key in self.tracked}
        drifted = moved(before, seen, self.tracked)
        # `preview --refresh`: the refresh already stored what the program saw; the drift is
        # against what it replaced.
        since_refresh = moved(refreshed, seen, self.tracked) if refreshed else []
        changes += [key for key, _, _ in (*drifted, *since_refresh)]
        if _plain(olds.get("ready")) != _plain(news.get("ready")):
            changes.append("ready")
        if drifted and not replaces and refreshed is None and not _has_unknown(seen):
            # With a refresh in this run, its read said it already (its diff runs backwards).
            say(drift_line(self.subject_of(olds, id_), drifted))
        return DiffResult(
            changes=bool(changes), replaces=replaces, delete_before_replace=bool(replaces)
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _without(props, "__provider", GATE, *LEGACY_INPUTS)
        return CreateResult(self.resource_id(outs), outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_without(news, "__provider", GATE, *LEGACY_INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget only: the instance stays in the cloud."""

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from .core.clients import client_for
        from .core.observe import observe

        refreshing = "ready" in props  # prior outputs on refresh; only inputs on `.get`
        inputs = self.inputs_for_read(id_, props)
        request, problems = parse_request(self.kind, inputs, self.config())
        if request is None:
            raise OpenSearchFnError("; ".join(why for _, why in problems))
        subject = request.subject
        slots = _PROCESS.read_slots()
        client = client_for(request.settings, max_connections=slots.ceiling, request_slots=slots)
        try:
            seen = observe(client, request.identity, request.expect)
        except self.gone:
            say(f"{subject} no longer exists; removing it from the stack", warning=True)
            return ReadResult("", {})
        except OpenSearchFnError as error:  # state is kept; the message names the resource
            raise error.about(subject) from error
        verdict = judge(subject, request.expect, seen, gate=not refreshing)
        if verdict.action == "fail":
            raise GateError(str(verdict.message))
        if verdict.action == "warn":
            say(str(verdict.message), warning=True)
        outs = for_engine(inputs) | verdict.outputs()
        if not refreshing:
            return ReadResult(self.resource_id(outs), outs)
        _keep_volatile(outs, props, self.tracked)
        self.remember_refresh(props, outs)
        before = {key: _plain(props.get(key)) for key in self.tracked}
        drifted = moved(before, {key: _plain(outs.get(key)) for key in self.tracked}, self.tracked)
        if drifted:
            say(drift_line(subject, drifted))
        # The refreshed inputs hold the same values: the next refresh diff starts clean.
        return ReadResult(self.resource_id(outs), outs, dict(outs))

    # -- shared plumbing ---------------------------------------------------------

    def config(self) -> dict[str, Any]:
        with _PROCESS.lock:
            return dict(_PROCESS.config)

    def remember_refresh(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """Keeps what a refresh replaced, under the id the diff that follows will carry."""
        keys = (*self.tracked, "ready")
        old = {key: _plain(before.get(key)) for key in keys}
        if old != {key: _plain(after.get(key)) for key in keys}:
            with _PROCESS.lock:
                _PROCESS.refreshed_from.setdefault((self.kind, self.resource_id(after)), old)

    def subject_of(self, olds: Mapping[str, Any], id_: str) -> str:
        """How messages name the resource whose last outputs are `olds`."""
        inputs = self.inputs_for_read(id_, olds)
        asked = inputs.get(REQUESTED_GENERATION) if self.kind == TASK else None
        return Identity.from_fields(inputs, asked).subject

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class FunctionInstanceProvider(_ReadOnlyProvider):
    kind = INSTANCE
    tracked = TRACKED_INSTANCE_FIELDS
    gone = InstanceNotFoundError

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        return Identity.from_fields(outs).resource_id

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        return _settings_of(props) | Identity.from_id(INSTANCE, id_).fields()


class FunctionTaskProvider(_ReadOnlyProvider):
    kind = TASK
    tracked = TRACKED_TASK_FIELDS
    # Only GetFunctionTask's 4xx Task.NotExist proves a task gone: an instance read
    # failing says nothing certain about a generation recorded in state.
    gone = TaskNotFoundError

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        identity = Identity.from_fields(outs)
        # Exactly: text beyond 2**53 - 1, and never a float that may have been rounded.
        return identity.at(check_generation(outs["generation"])).resource_id

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        identity = Identity.from_id(TASK, id_)
        # Earlier releases stored the request as the input `generation`.
        requested = props.get(REQUESTED_GENERATION, props.get("generation", identity.generation))
        asked = "latest" if requested == "latest" else identity.generation
        return _settings_of(props) | identity.fields() | {REQUESTED_GENERATION: asked}


def _settings_of(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: props[k] for k in SETTINGS_INPUTS if props.get(k) is not None}


def _without(props: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


def _upgraded(kind: Kind, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs stored by 0.1.x in today's shape: the tracked fields were under `observed`,
    and a task's requested generation was the input `generation`."""
    observed = inputs.get("observed")
    if not isinstance(observed, Mapping):
        return inputs
    upgraded = _without(inputs, *LEGACY_INPUTS, "generation") | dict(observed)
    if kind == TASK:
        upgraded[REQUESTED_GENERATION] = inputs.get("generation")
    return upgraded


def _keep_volatile(
    outs: dict[str, Any], before: Mapping[str, Any], tracked: tuple[str, ...]
) -> None:
    """Progress and run times only move with a tracked field, so they never make a diff."""
    if before and all(_plain(outs.get(k)) == _plain(before.get(k)) for k in tracked):
        for key in VOLATILE_FIELDS:
            if key in before:
                outs[key] = before[key]


def _plain(value: Any) -> Any:
    """Values as they compare across the engine, where every number becomes a float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _has_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False
