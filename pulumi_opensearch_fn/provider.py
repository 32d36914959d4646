"""Dynamic providers behind `FunctionInstance` and `FunctionTask`.

They only ever read. How they meet the engine:

- `check` runs on every preview and up, for new and deployed resources alike, so
  the live read and the expectations happen there: unmet and enforced, the run
  fails with one message. On `up` (never in preview) it waits first when the
  resource has a `Wait`. The tracked fields it saw go into the checked inputs
  (`observed`), which is what makes drift visible to `diff`.
- `diff` compares tracked fields (never volatile ones) between the last outputs
  and what `check` saw; on refresh the engine calls it with the refreshed
  outputs against the stored inputs, so the same comparison shows refresh drift.
- `read` (refresh) never waits and never fails for expectations; it drops the
  resource only when the API says the instance or task does not exist.
- `delete` forgets. Nothing is ever written to the cloud.

The pickled provider holds no state but a format version: clients, credentials
and the read cache live in this module, per provider process.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

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

from .api import OpenSearchFnError, OpenSearchFunctionClient
from .api.endpoints import normalize_endpoint
from .api.errors import InstanceNotFoundError, InvalidInputError, TaskNotFoundError
from .api.validation import check_generation, check_name, check_region
from .config import CONFIG_KEYS, Settings, resolve_settings
from .expectations import (
    Expect,
    Observation,
    Wait,
    describe_unmet,
    evaluate,
    progress_line,
    unmet,
    wait_for,
)
from .ids import make_id, parse_instance_id, parse_task_id
from .observe import observe_instance, observe_task
from .outputs import (
    TRACKED_INSTANCE_FIELDS,
    TRACKED_TASK_FIELDS,
    VOLATILE_FIELDS,
    observation_fields,
    verdict_fields,
)
from .server_errors import install as _install_server_errors

log = logging.getLogger(__name__)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for unknown values
READ_CACHE_SECONDS = 120.0  # one run's check, diff and create share one read
# Which earlier read of this process an observation may use: none (a live read), one
# that refresh made just before (`up --refresh`), or any recent one (create, update).
Reuse = Literal["never", "refresh", "any"]
PROVIDER_FORMAT = 1


class _ProcessState:
    """What a provider process keeps between calls: settings, clients, recent reads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.config: Mapping[str, Any] = {}
        self.clients: dict[Settings, OpenSearchFunctionClient] = {}
        self.reads: dict[tuple[Any, ...], tuple[float, Observation, bool]] = {}
        # Tracked values a refresh in this run replaced, by (kind, id): `preview --refresh`
        # refreshes and then diffs in one process, and must still show the drift.
        self.refreshed_from: dict[tuple[str, str], dict[str, Any]] = {}

    def client(self, settings: Settings) -> OpenSearchFunctionClient:
        with self.lock:
            client = self.clients.get(settings)
            if client is None:
                # At most 4 calls run at once in a provider process.
                client = self.clients[settings] = settings.client(max_connections=4)
            return client

    def remember(self, key: tuple[Any, ...], seen: Observation, *, by_refresh: bool) -> None:
        with self.lock:
            self.reads[key] = (time.monotonic(), seen, by_refresh)

    def recall(self, key: tuple[Any, ...], reuse: Reuse) -> Observation | None:
        """A read of this run: any recent one, or one a refresh made (reused only once)."""
        with self.lock:
            found = self.reads.get(key)
            if found is None or time.monotonic() - found[0] >= READ_CACHE_SECONDS:
                return None
            at, seen, by_refresh = found
            if reuse == "refresh":
                if not by_refresh:
                    return None
                self.reads[key] = (at, seen, False)
            return seen


_PROCESS = _ProcessState()
_install_server_errors()


def say(message: str, *, warning: bool = False) -> None:
    """A line in the engine's output: provider stderr is shown to the user."""
    print(("warning: " if warning else "") + message, file=sys.stderr, flush=True)


class GateError(OpenSearchFnError):
    """Expectations unmet for a `.get` resource read in preview or up."""


class _ReadOnlyProvider(ResourceProvider):
    kind: ClassVar[str]
    identity_inputs: ClassVar[tuple[str, ...]]
    tracked: ClassVar[tuple[str, ...]]

    serialize_as_secret_always = False  # the blob holds nothing secret

    def __init__(self) -> None:
        self.format = PROVIDER_FORMAT

    def __getstate__(self) -> dict[str, Any]:
        return {"format": PROVIDER_FORMAT}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.format = int(state.get("format", PROVIDER_FORMAT))

    # -- engine calls -------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        config = {key: req.config.get(key) for key in CONFIG_KEYS}
        with _PROCESS.lock:
            _PROCESS.config = {k: v for k, v in config.items() if v is not None}

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # `dry_run` only tells check whether it may wait; it is not kept, so never diffed.
        dry_run = news.get("dry_run", True)
        inputs = {k: v for k, v in news.items() if k not in ("observed", "__provider", "dry_run")}
        failures = [CheckFailure(prop, why) for prop, why in self.input_problems(inputs)]
        if failures or _has_unknown(inputs):
            return CheckResult(inputs, failures)
        subject = self.subject(inputs)
        expect = Expect.from_value(inputs.get("expect"))
        wait = Wait.from_value(inputs.get("wait"))
        waiting = wait is not None and not dry_run
        try:
            settings = self.settings(inputs)
            seen = self.observe(settings, inputs, reuse="refresh")
            results = evaluate(expect, seen)
            if unmet(results) and expect is not None and wait is not None:
                if waiting:
                    seen, results = self.wait(settings, inputs, expect, wait, seen, subject)
                else:  # preview never waits; it says what up would wait for
                    say(
                        f"{subject}: up will wait up to {wait.timeout} for: "
                        + "; ".join(str(r) for r in unmet(results))
                    )
        except OpenSearchFnError as error:
            return CheckResult(inputs, [CheckFailure("", f"{subject}: {error}")])
        failed = unmet(results)
        if failed and expect is not None:
            message = describe_unmet(subject, failed)
            if waiting and wait is not None:
                message += f" (after waiting up to {wait.timeout})"
            if not expect.enforce:
                say(message, warning=True)
            elif wait is None or waiting:
                return CheckResult(inputs, [CheckFailure("", message)])
        inputs["observed"] = self.tracked_values(observation_fields(seen)) | verdict_fields(results)
        return CheckResult(inputs, [])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [
            key
            for key in (*self.identity_inputs, "region", "endpoint")
            if _plain(olds.get(self.stored_name(key))) != _plain(news.get(key))
        ]
        changes = replaces + [
            key for key in ("expect", "wait") if _plain(olds.get(key)) != _plain(news.get(key))
        ]
        observed = news.get("observed")
        if isinstance(observed, Mapping):
            with _PROCESS.lock:
                refreshed_from = _PROCESS.refreshed_from.get((self.kind, id_), {})
            changes += [
                key
                for key in (*self.tracked, "ready")
                if _plain(olds.get(key)) != _plain(observed.get(key))
                or (key in refreshed_from and refreshed_from[key] != _plain(observed.get(key)))
            ]
        return DiffResult(
            changes=bool(changes), replaces=replaces, delete_before_replace=bool(replaces)
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self.outputs(props)
        return CreateResult(self.resource_id(outs), outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.outputs(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget only: the instance stays in the cloud."""

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        refreshing = "ready" in props  # prior outputs on refresh; only inputs on `.get`
        inputs = self.inputs_for_read(id_, props)
        subject = self.subject(inputs)
        settings = self.settings(inputs)
        try:
            seen = self.observe(settings, inputs, reuse="never", refreshing=refreshing)
        except (InstanceNotFoundError, TaskNotFoundError):
            say(f"{subject} no longer exists; removing it from the stack", warning=True)
            return ReadResult("", {})
        except OpenSearchFnError as error:  # state is kept; the message names the resource
            raise error.about(subject) from error
        expect = Expect.from_value(inputs.get("expect"))
        results = evaluate(expect, seen)
        failed = unmet(results)
        if failed:
            message = describe_unmet(subject, failed)
            if refreshing or (expect is not None and not expect.enforce):
                say(message, warning=True)
            else:
                raise GateError(message)
        outs = inputs | observation_fields(seen) | verdict_fields(results)
        outs.pop("observed", None)
        if refreshing:
            _keep_volatile(outs, props, self.tracked)
            self.remember_refresh(props, outs)
            new_inputs = {k: v for k, v in inputs.items() if k != "observed"}
            new_inputs["observed"] = self.tracked_values(outs) | verdict_fields(results)
            return ReadResult(self.resource_id(outs), outs, new_inputs)
        return ReadResult(self.resource_id(outs), outs)

    # -- shared plumbing ---------------------------------------------------------

    def settings(self, inputs: Mapping[str, Any]) -> Settings:
        with _PROCESS.lock:
            config = dict(_PROCESS.config)
        return resolve_settings(config).with_overrides(
            region=inputs.get("region") or None, endpoint=inputs.get("endpoint") or None
        )

    def observe(
        self,
        settings: Settings,
        inputs: Mapping[str, Any],
        *,
        reuse: Reuse,
        refreshing: bool = False,
    ) -> Observation:
        expect = Expect.from_value(inputs.get("expect"))
        key = (
            settings,
            self.kind,
            *(_plain(inputs.get(k)) for k in self.identity_inputs),
            bool(expect and expect.needs_success_task),
        )
        if reuse != "never" and (cached := _PROCESS.recall(key, reuse)) is not None:
            return cached
        seen = self.read_live(_PROCESS.client(settings), inputs, expect)
        _PROCESS.remember(key, seen, by_refresh=refreshing)
        return seen

    def wait(
        self,
        settings: Settings,
        inputs: Mapping[str, Any],
        expect: Expect,
        wait: Wait,
        first: Observation,
        subject: str,
    ) -> tuple[Observation, list[Any]]:
        def report(seen: Observation, _results: list[Any], elapsed: float) -> None:
            say(progress_line(subject, seen, elapsed))

        def read() -> Observation:
            return self.observe(settings, inputs, reuse="never")

        return wait_for(read, expect, wait, report=report, first=first)

    def outputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        settings = self.settings(inputs)
        seen = self.observe(settings, inputs, reuse="any")
        expect = Expect.from_value(inputs.get("expect"))
        outs = {k: v for k, v in inputs.items() if k not in ("observed", "__provider")}
        outs |= observation_fields(seen) | verdict_fields(evaluate(expect, seen))
        return self.rename_stored(outs, inputs)

    def tracked_values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return {key: fields.get(key) for key in self.tracked}

    def remember_refresh(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """Keeps what a refresh replaced, under the id the diff that follows will carry."""
        keys = (*self.tracked, "ready")
        old = {key: _plain(before.get(key)) for key in keys}
        if old != {key: _plain(after.get(key)) for key in keys}:
            with _PROCESS.lock:
                _PROCESS.refreshed_from.setdefault((self.kind, self.resource_id(after)), old)

    def input_problems(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for prop, label in (
            ("app_group", "app group"),
            ("function_name", "function name"),
            ("instance_name", "instance name"),
        ):
            _collect(problems, prop, check_name, label, inputs.get(prop))
        if inputs.get("region"):
            _collect(problems, "region", check_region, inputs["region"])
        if inputs.get("endpoint"):
            _collect(problems, "endpoint", normalize_endpoint, inputs["endpoint"])
        expect = wait = None
        try:
            expect = Expect.from_value(inputs.get("expect"))
        except InvalidInputError as exc:
            problems.append(("expect", exc.message))
        if expect is not None:
            problems += [("expect", f"{k}: {why}") for k, why in expect.problems()]
            problems += [("expect", why) for why in self.expect_problems(expect)]
        try:
            wait = Wait.from_value(inputs.get("wait"))
        except InvalidInputError as exc:
            problems.append(("wait", exc.message))
        if wait is not None:
            problems += [("wait", f"{k}: {why}") for k, why in wait.problems()]
            if expect is None or expect.is_empty:
                problems.append(("wait", "wait needs expectations to wait for; set expect="))
        if not problems:
            try:
                self.settings(inputs)
            except OpenSearchFnError as exc:
                problems.append(("", exc.message))
        return problems

    def expect_problems(self, _expect: Expect) -> list[str]:
        return []

    def subject(self, inputs: Mapping[str, Any]) -> str:
        parts = [str(_plain(inputs.get(k))) for k in self.identity_inputs]
        return f"{self.kind} {'/'.join(parts)}"

    # Hooks the two kinds fill in.
    def read_live(
        self, client: OpenSearchFunctionClient, inputs: Mapping[str, Any], expect: Expect | None
    ) -> Observation:
        raise NotImplementedError

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def stored_name(self, key: str) -> str:
        """Where an input is kept among the outputs (when an output shadows its name)."""
        return key

    def rename_stored(self, outs: dict[str, Any], _inputs: Mapping[str, Any]) -> dict[str, Any]:
        return outs


class FunctionInstanceProvider(_ReadOnlyProvider):
    kind = "FunctionInstance"
    identity_inputs = ("app_group", "function_name", "instance_name")
    tracked = TRACKED_INSTANCE_FIELDS

    def read_live(
        self, client: OpenSearchFunctionClient, inputs: Mapping[str, Any], expect: Expect | None
    ) -> Observation:
        return observe_instance(
            client,
            inputs["app_group"],
            inputs["function_name"],
            inputs["instance_name"],
            expect,
        )

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        return make_id(outs["app_group"], outs["function_name"], outs["instance_name"])

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        app, function, instance = parse_instance_id(id_)
        return _inputs_from(props, app_group=app, function_name=function, instance_name=instance)


class FunctionTaskProvider(_ReadOnlyProvider):
    kind = "FunctionTask"
    identity_inputs = ("app_group", "function_name", "instance_name", "generation")
    tracked = TRACKED_TASK_FIELDS

    def read_live(
        self, client: OpenSearchFunctionClient, inputs: Mapping[str, Any], _expect: Expect | None
    ) -> Observation:
        generation = inputs["generation"]
        seen = observe_task(
            client,
            inputs["app_group"],
            inputs["function_name"],
            inputs["instance_name"],
            "latest" if generation == "latest" else check_generation(generation),
        )
        if seen.task is None:
            raise TaskNotFoundError(f"{self.subject(inputs)}: the instance has no training task")
        return seen

    def input_problems(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = super().input_problems(inputs)
        if inputs.get("generation") != "latest":
            _collect(problems, "generation", check_generation, inputs.get("generation"))
        return problems

    def expect_problems(self, expect: Expect) -> list[str]:
        if expect.status is not None:
            return ["status is an instance's; use FunctionInstance, or task_status here"]
        return []

    def resource_id(self, outs: Mapping[str, Any]) -> str:
        return make_id(
            outs["app_group"], outs["function_name"], outs["instance_name"], outs["generation"]
        )

    def stored_name(self, key: str) -> str:
        # The output `generation` is the resolved number; the input may be "latest".
        return "requested_generation" if key == "generation" else key

    def rename_stored(self, outs: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        outs["requested_generation"] = inputs.get("generation")
        return outs

    def inputs_for_read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        app, function, instance, generation = parse_task_id(id_)
        requested = props.get("requested_generation", props.get("generation", generation))
        inputs = _inputs_from(props, app_group=app, function_name=function, instance_name=instance)
        inputs["generation"] = "latest" if requested == "latest" else generation
        return inputs

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        result = super().read(id_, props)
        if result.outs:
            self.rename_stored(
                result.outs, result.inputs or {"generation": props.get("generation")}
            )
            if result.inputs is not None:
                result.inputs["generation"] = result.outs["requested_generation"]
        return result


def _inputs_from(props: Mapping[str, Any], **identity: Any) -> dict[str, Any]:
    inputs = {k: props.get(k) for k in ("expect", "wait", "region", "endpoint")}
    return {k: v for k, v in inputs.items() if v is not None} | identity


def _keep_volatile(
    outs: dict[str, Any], before: Mapping[str, Any], tracked: tuple[str, ...]
) -> None:
    """Progress and run times only move with a tracked field, so they never make a diff."""
    if all(_plain(outs.get(k)) == _plain(before.get(k)) for k in tracked):
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


def _collect(
    problems: list[tuple[str, str]], prop: str, check: Callable[..., object], *args: Any
) -> None:
    try:
        check(*args)
    except OpenSearchFnError as exc:
        problems.append((prop, exc.message))
