"""The `opensearch-fn` provider: `FunctionInstance`, `FunctionTask` and four functions, on
the core the Python door uses, reaching the same verdicts with the same messages.

- `check` judges the inputs against the schema and the core's rules (one failure per
  problem, naming the property), then reads live and judges the expectations, on every
  preview and up, for new and deployed resources alike: unmet and enforced, it fails;
  with `enforce: false` it warns; with `wait`, it notes what `up` will wait for.
- `diff` names exactly the tracked fields that moved since the last outputs (a detailed
  diff), never a volatile one, and prints one line per drifted resource. A refresh's
  diff compares what the refresh read with what it replaced.
- `create` / `update` return what `check` read; on `up` (not in preview) with `wait`,
  they poll until the expectations hold, every resource in parallel.
- `read` (refresh, `get`, import) reads live, never waits; a refresh keeps the state
  unless the API says the object does not exist (a 4xx NotExist), and only warns.
- `delete` forgets. Nothing is ever written to the cloud; credentials never reach state.

What a run learns (what check read, what a refresh replaced) is kept in this process,
by URN: the engine runs one provider process per run.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi.runtime.config
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    ConstructRequest,
    ConstructResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.runtime.rpc import UNKNOWN

from ..api.errors import (
    InstanceNotFoundError,
    InvalidInputError,
    OpenSearchFnError,
    TaskNotFoundError,
)
from ..api.identity import INSTANCE, TASK, Identity, Kind
from ..api.validation import check_generation
from ..core.clients import client_for
from ..core.config import max_concurrent_reads, resolve_settings
from ..core.drift import drift_line, moved
from ..core.expectations import Expect, Wait
from ..core.observe import observe
from ..core.outputs import (
    IDENTITY_FIELDS,
    REQUESTED_GENERATION,
    TRACKED_INSTANCE_FIELDS,
    TRACKED_TASK_FIELDS,
    VOLATILE_FIELDS,
    for_engine,
    observation_fields,
)
from ..core.request import check_inputs, identity_inputs, parse_request
from ..core.verdict import judge
from ..reads import begin_read, read_pool
from . import schema
from .checking import shape_problems
from .component import component_urn, invalid_properties, register
from .engine_log import EngineLog
from .values import PropertyMap, comparable, has_unknown, plain, wrap


class GateError(OpenSearchFnError):
    """A resource read by id (`get`) failed its expectations in a preview or an up."""


@dataclass(frozen=True)
class _Kind:
    """What differs between the two resources."""

    kind: Kind
    resource: schema.Resource
    tracked: tuple[str, ...]
    gone: type[OpenSearchFnError]  # the only error that drops it from the stack on refresh

    def core_inputs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs by schema name, by the core's name (`generation` -> requested_generation)."""
        props = self.resource.inputs.by_key()
        core = {props[key].name: value for key, value in values.items() if key in props}
        if self.kind == TASK:
            core.setdefault(REQUESTED_GENERATION, "latest")
        return core

    def state(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Stored outputs by schema name, by the core's name."""
        names = {p.key: p.name for p in self.resource.outputs.props}
        return {names[key]: value for key, value in outputs.items() if key in names}

    def outputs(self, core: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
        """Identity, what was read and the verdict, and the settings as given: by schema name."""
        shown = {key: core[key] for key in (*IDENTITY_FIELDS, REQUESTED_GENERATION) if key in core}
        values = for_engine(shown | dict(fields))
        echoed = {key: core[key] for key in schema.ECHOED if core.get(key) is not None}
        return {schema.camel(key): value for key, value in (values | echoed).items()}

    def resource_id(self, core: Mapping[str, Any], fields: Mapping[str, Any]) -> str:
        identity = Identity.from_fields(core)
        if self.kind == TASK:
            # Exactly: text beyond 2**53 - 1, never a float that may have been rounded.
            return identity.at(check_generation(fields["generation"])).resource_id
        return identity.resource_id

    def for_read(self, resource_id: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """The core's inputs for reading `resource_id`: its identity, and the settings in
        `given` (stored outputs on refresh, the program's inputs for `get`)."""
        identity = Identity.from_id(self.kind, resource_id)
        core = self.core_inputs({k: v for k, v in given.items() if k in schema.ECHOED})
        core |= identity.fields()
        if self.kind == TASK:
            asked = given.get(schema.camel(REQUESTED_GENERATION), given.get("generation"))
            core[REQUESTED_GENERATION] = "latest" if asked == "latest" else identity.generation
        return core

    def subject(self, resource_id: str, stored: Mapping[str, Any]) -> str:
        """How messages name the resource: a task by what it asked for (`.../latest`)."""
        identity = Identity.from_id(self.kind, resource_id)
        if self.kind == TASK and stored.get(REQUESTED_GENERATION) == "latest":
            identity = identity.at("latest")
        return identity.subject

    def inputs_of(self, core: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs a program would give for `core`: what `get` and import record."""
        return {
            p.key: core[p.name] for p in self.resource.inputs.props if core.get(p.name) is not None
        }


_KINDS = {
    schema.INSTANCE: (INSTANCE, TRACKED_INSTANCE_FIELDS, InstanceNotFoundError),
    schema.TASK: (TASK, TRACKED_TASK_FIELDS, TaskNotFoundError),
}
_COMPONENT_OF = {state: component for component, state in schema.STATE_OF.items()}
# Only a 4xx Task.NotExist from GetFunctionTask proves a task gone: an instance read
# failing says nothing certain about a generation recorded in state.


@functools.cache
def _kind(type_token: str) -> _Kind:
    """The kind of a component (`FunctionInstance`) or of its state resource (the SDK
    names a child's type as its URN does, after its parent's: `parent$child`)."""
    own = type_token.rpartition("$")[2]
    component = _COMPONENT_OF.get(own, own)
    if component not in _KINDS:
        raise InvalidInputError(f"unknown resource type {type_token!r}")
    kind, tracked, gone = _KINDS[component]
    return _Kind(kind, schema.resources()[component], tracked, gone)


def _door_functions() -> dict[str, Callable[..., Any]]:
    """The Python door's data sources, by function token (loaded on the first invoke)."""
    from .. import functions

    return {
        schema.GET_INSTANCE: functions.get_function_instance,
        schema.GET_TASK: functions.get_function_task,
        schema.GET_LATEST_TASK: functions.get_latest_function_task,
        schema.GET_TASKS: functions.get_function_tasks,
    }


# Snake-case names in the core's messages, as the schema names them.
_FIELD_NAMES = re.compile(
    r"\b("
    + "|".join(f.name for cls in (Expect, Wait) for f in dataclasses.fields(cls) if "_" in f.name)
    + r")\b"
)
_SECRET_CONFIG = tuple(p.key for p in schema.config().props if p.secret)


def _camelized(text: str) -> str:
    return _FIELD_NAMES.sub(lambda m: schema.camel(m.group(1)), text)


def _input_failures(kind: _Kind, news: Mapping[str, Any]) -> list[CheckFailure]:
    """Every problem with a resource's inputs, each naming its schema property: their
    shape by the schema first, then the core's rules."""
    problems = shape_problems(kind.resource.inputs, news)
    if problems:
        return [CheckFailure(prop, why) for prop, why in problems]
    checked = check_inputs(kind.kind, kind.core_inputs(news))
    keys = {REQUESTED_GENERATION: "generation"}  # the core's name for the input
    return [_failure(keys.get(name, schema.camel(name)), why) for name, why in checked.problems]


def _failure(key: str, why: str) -> CheckFailure:
    head, sep, rest = why.partition(": ")
    if sep and key in ("expect", "wait") and re.fullmatch(r"[a-z_]+", head):
        return CheckFailure(key, f"{key}.{schema.camel(head)}: {_camelized(rest)}")
    return CheckFailure(key, f"{key}: {_camelized(why)}" if key else why)


@dataclass(frozen=True)
class _Seen:
    """What a state resource's component (or its own `check`) read in this run, and for
    which inputs; `wait`: `up` is still to wait for them (a check that did not wait)."""

    core: Mapping[str, Any]
    outputs: Mapping[str, Any]
    wait: bool


class OpenSearchFnProvider(Provider):
    def __init__(self, log: EngineLog) -> None:
        self.log = log
        self.config: dict[str, Any] = {}  # `opensearch-fn:*` keys, as the core reads them
        self.checked: dict[str, _Seen] = {}  # by URN
        self.replaced: dict[str, dict[str, Any]] = {}  # by URN: tracked values a refresh replaced

    # -- schema and configuration -------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema.schema_text())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        """Marks the key secret and the STS token secret, whatever the config said, and
        refuses settings no request could use (one set of credentials, a sane endpoint)."""
        inputs = {
            key: value.with_secret(True) if key in _SECRET_CONFIG else value
            for key, value in request.new_inputs.items()
        }
        config = _namespaced(plain(request.new_inputs)[0])
        failures = []
        if not has_unknown(config):
            try:
                resolve_settings(config)
                max_concurrent_reads(config)
            except OpenSearchFnError as error:
                failures.append(CheckFailure("", error.message))
        return CheckResponse(inputs, failures)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        self.config = _namespaced(plain(request.args)[0])
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    # -- components -----------------------------------------------------------------

    async def construct(self, request: ConstructRequest) -> ConstructResponse:
        """The gate, on every registration whatever the engine's flags: bad input or a
        failing gate fails the registration (so nothing depending on it is registered);
        else the component and its state resource are registered with what was read."""
        if request.resource_type not in schema.STATE_OF:
            raise InvalidInputError(f"unknown component type {request.resource_type!r}")
        kind = _kind(request.resource_type)
        news, secret = plain(request.inputs)
        news.pop(schema.OBSERVED_INPUT, None)
        if not any(key in news for key in map(schema.camel, IDENTITY_FIELDS)):
            # What YAML registers for `get:` on a component: no input, not even the id.
            raise InvalidInputError(_by_id(request.resource_type))
        failures = _input_failures(kind, news)
        if failures:
            raise invalid_properties([(f.property, f.reason) for f in failures])
        core = kind.core_inputs(news)
        state_inputs, outputs = dict(news), _unknown_outputs(kind, news)
        if not (has_unknown(core) or has_unknown(self.config)):  # else a preview: unknown
            urn = await component_urn(request.options, request.resource_type, request.name)
            log = self.log.on(urn)
            preview = pulumi.runtime.is_dry_run()
            reading = await begin_read(kind.kind, core, dry_run=preview, log=log,
                                       config=self.config)  # fmt: skip
            if reading.action == "fail":
                raise GateError(str(reading.message))
            fields = reading.outputs()
            state_inputs[schema.OBSERVED_INPUT] = fields
            outputs = kind.outputs(core, fields)
        urn = await register(
            request.resource_type,
            request.name,
            request.options,
            state_type=schema.STATE_OF[request.resource_type],
            state_inputs=state_inputs,
            secret=secret,
        )
        return ConstructResponse(urn, wrap(outputs, secret=secret), {})

    # -- state resources ----------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        kind = _kind(request.type)
        news, _ = plain(request.new_inputs)
        observed = news.pop(schema.OBSERVED_INPUT, None)
        failures = _input_failures(kind, news)
        if failures:
            return CheckResponse(request.new_inputs, failures)
        core = kind.core_inputs(news)
        self.checked.pop(request.urn, None)
        if has_unknown(core) or has_unknown(self.config):  # a preview: outputs stay unknown
            return CheckResponse(request.new_inputs, [])
        if isinstance(observed, Mapping):  # its component read and judged: nothing to read
            self.checked[request.urn] = _Seen(core, observed, wait=False)
            return CheckResponse(request.new_inputs, [])
        # Declared on its own, as import prints it: read here, one resource at a time.
        log = self.log.on(request.urn)
        reading = await begin_read(kind.kind, core, dry_run=True, log=log, config=self.config)
        if reading.action == "fail":
            return CheckResponse(request.new_inputs, [CheckFailure("", str(reading.message))])
        wait = core.get("wait") is not None
        self.checked[request.urn] = _Seen(core, reading.outputs(), wait)
        return CheckResponse(request.new_inputs, [])

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = _kind(request.type)
        olds = kind.state(plain(request.old_state)[0])
        news, _ = plain(request.new_inputs)
        core = kind.core_inputs(news)
        keys = {p.name: p.key for p in kind.resource.inputs.props}
        details: dict[str, PropertyDiff] = {}
        for name in (*identity_inputs(kind.kind), "region", "endpoint", "expect", "wait"):
            if comparable(olds.get(name)) != comparable(core.get(name)):
                replace = name not in ("expect", "wait")
                change = PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE
                details[keys[name]] = PropertyDiff(change, input_diff=True)
        replaces = [key for key, d in details.items() if d.kind == PropertyDiffKind.UPDATE_REPLACE]
        seen = self.checked.get(request.urn)
        replaced = self.replaced.get(request.urn)
        before = _tracked(olds, kind.tracked)
        if seen is not None:  # a preview or an up: what check read, against the last outputs
            after = _tracked(seen.outputs, kind.tracked)
            drifted = moved(before, after, kind.tracked)
            # `preview --refresh`: the refresh stored what it read; drift is also against
            # what it replaced.
            since_refresh = moved(replaced, after, kind.tracked) if replaced else []
            if drifted and not replaces and replaced is None:
                subject = kind.subject(request.resource_id, olds)
                self.log.on(request.urn).info(drift_line(subject, _named(drifted)))
            ready = comparable(seen.outputs.get("ready"))
            if comparable(olds.get("ready")) != ready or (seen.wait and ready is False):
                details["ready"] = PropertyDiff(PropertyDiffKind.UPDATE, input_diff=False)
        else:  # a refresh's diff: what it read (the stored outputs now) against what it replaced
            drifted, since_refresh = moved(replaced, before, kind.tracked) if replaced else [], []
        for name, _, _ in (*drifted, *since_refresh):
            details[schema.camel(name)] = PropertyDiff(PropertyDiffKind.UPDATE, input_diff=False)
        if has_unknown(news):
            for key, value in news.items():
                if has_unknown(value) and key not in details:
                    details[key] = PropertyDiff(PropertyDiffKind.UPDATE, input_diff=True)
        return DiffResponse(
            changes=bool(details),
            replaces=replaces,
            delete_before_replace=bool(replaces),
            diffs=list(details),
            detailed_diff=details,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = _kind(request.type)
        outputs, core, fields = await self._outputs(request.urn, kind, request.properties,
                                                    preview=request.preview)  # fmt: skip
        resource_id = "" if fields is None else kind.resource_id(core, fields)
        return CreateResponse(resource_id, outputs)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = _kind(request.type)
        outputs, _, _ = await self._outputs(
            request.urn, kind, request.news, preview=request.preview
        )
        return UpdateResponse(outputs)

    async def delete(self, request: DeleteRequest) -> None:
        """Forget only: the instance stays in the cloud."""

    async def read(self, request: ReadRequest) -> ReadResponse:
        if request.type in schema.STATE_OF:  # import: a component is no custom resource
            raise InvalidInputError(_by_id(request.type))
        kind = _kind(request.type)
        props, secret = plain(request.properties)
        inputs, inputs_secret = plain(request.inputs)
        refreshing = "ready" in props  # stored outputs on refresh; none (or the inputs) on get
        core = kind.for_read(request.resource_id, props if refreshing else inputs)
        parsed, problems = parse_request(kind.kind, core, self.config)
        if parsed is None:
            raise InvalidInputError("; ".join(_camelized(why) for _, why in problems))
        log = self.log.on(request.urn)
        pool = read_pool(self.config)
        client = client_for(parsed.settings, max_connections=pool.limit, request_slots=pool.slots)
        read = functools.partial(observe, client, parsed.identity, parsed.expect, both=pool.both)
        try:
            seen = await pool.start(read)
        except kind.gone:
            log.warn(f"{parsed.subject} no longer exists; removing it from the stack")
            return ReadResponse("", {}, {})
        except OpenSearchFnError as error:  # state is kept; the message names the resource
            raise error.about(parsed.subject) from error
        expect = parsed.expect
        verdict = judge(parsed.subject, expect, seen, gate=not refreshing)
        if verdict.action == "fail":
            raise GateError(str(verdict.message))
        if verdict.action == "warn":
            log.warn(str(verdict.message))
        fields = for_engine(observation_fields(seen) | verdict.fields())
        if refreshing:
            stored = kind.state(props)
            _keep_volatile(fields, stored, kind.tracked)
            drifted = moved(_tracked(stored, kind.tracked), _tracked(fields, kind.tracked),
                            kind.tracked)  # fmt: skip
            if drifted:
                self.replaced.setdefault(request.urn, _tracked(stored, kind.tracked))
                log.info(drift_line(parsed.subject, _named(drifted)))
            new_inputs = request.inputs  # the program's, as they were
        else:
            new_inputs = wrap(kind.inputs_of(core), secret=inputs_secret)
        outputs = wrap(kind.outputs(core, fields), secret=secret or inputs_secret)
        return ReadResponse(kind.resource_id(core, fields), outputs, new_inputs)

    async def _outputs(
        self, urn: str, kind: _Kind, properties: PropertyMap, *, preview: bool
    ) -> tuple[PropertyMap, dict[str, Any], Mapping[str, Any] | None]:
        """Outputs for the checked inputs: what check read, or (on `up`, with a `wait` whose
        expectations did not hold) what a read that waited saw."""
        news, secret = plain(properties)
        core = kind.core_inputs(news)
        if has_unknown(core) or has_unknown(self.config):  # a preview: unknown, but the settings
            return wrap(_unknown_outputs(kind, news)), core, None
        seen = self.checked.get(urn)
        fields = seen.outputs if seen is not None and seen.core == core else None
        waits = seen is not None and seen.wait and fields is not None and not preview
        if fields is None or (waits and fields.get("ready") is False):
            log = self.log.on(urn)
            reading = await begin_read(
                kind.kind, core, dry_run=preview, log=log, config=self.config
            )
            if reading.action == "fail":
                raise GateError(str(reading.message))
            fields = reading.outputs()
        return wrap(kind.outputs(core, fields), secret=secret), core, fields

    # -- functions --------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        function = schema.functions().get(request.tok)
        if function is None:
            return InvokeResponse(failures=[CheckFailure("", f"unknown function {request.tok!r}")])
        args, secret = plain(request.args)
        problems = shape_problems(function.inputs, args)
        if problems:
            return InvokeResponse(failures=[CheckFailure(p, why) for p, why in problems])
        props = function.inputs.by_key()
        kwargs = {props[key].name: _whole(props[key].spec, value) for key, value in args.items()}
        call = functools.partial(_door_functions()[request.tok], **kwargs)
        config = dict(self.config)

        def run() -> Any:
            # The door reads its settings from the program's config: give it the provider's.
            pulumi.runtime.config.set_all_config(config)
            return call()

        try:
            result = await read_pool(config).start(lambda: contextvars.Context().run(run))
        except OpenSearchFnError as error:
            return InvokeResponse(failures=[CheckFailure("", str(error))])
        return InvokeResponse(wrap(_result(result, args), secret=secret))


def _namespaced(values: Mapping[str, Any]) -> dict[str, Any]:
    """Provider inputs as the stack config keys the core reads (`opensearch-fn:region`)."""
    return {
        f"{schema.PACKAGE}:{key}": int(value) if isinstance(value, float) and value.is_integer()
        else value
        for key, value in values.items()
        if key in schema.config().by_key()
    }  # fmt: skip


def _by_id(component: str) -> str:
    name, state = component.rpartition(":")[2], schema.STATE_OF[component]
    return (
        f"{name} needs appGroup, functionName and instanceName; to read an existing one by"
        f" id (`get`, import), use {state}"
    )


def _unknown_outputs(kind: _Kind, news: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs before a read: unknown, but the settings as given."""
    unknown = dict.fromkeys((p.key for p in kind.resource.outputs.props), UNKNOWN)
    return unknown | {key: value for key, value in news.items() if key in schema.ECHOED}


def _tracked(values: Mapping[str, Any], tracked: tuple[str, ...]) -> dict[str, Any]:
    return {key: comparable(values.get(key)) for key in tracked}


def _named(changes: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """Drift as the schema names its fields."""
    return [(schema.camel(key), old, new) for key, old, new in changes]


def _keep_volatile(
    fields: dict[str, Any], stored: Mapping[str, Any], tracked: tuple[str, ...]
) -> None:
    """Progress and run times only move with a tracked field: a refresh that finds no
    tracked field moved keeps them as stored, so they never make a change."""
    if _tracked(fields, tracked) == _tracked(stored, tracked):
        for key in VOLATILE_FIELDS:
            if key in stored:
                fields[key] = stored[key]


def _whole(spec: Mapping[str, Any], value: Any) -> Any:
    """An integer argument as an int (the engine sends every number as a double)."""
    if spec.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _result(value: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    """A data source's result by schema names; none (no task yet) as its identity alone."""
    if value is None:  # as the door's verdict would put it, had it one to give
        keys = [schema.camel(name) for name in IDENTITY_FIELDS]
        expect = Expect.from_value(args.get("expect"))
        unmet = [] if expect is None or expect.is_empty else ["the instance has no task"]
        return {key: args[key] for key in keys} | {"ready": not unmet, "unmet": unmet}
    fields = for_engine(dataclasses.asdict(value))
    if isinstance(fields.get("tasks"), list):
        fields["tasks"] = [_result_item(task) for task in fields["tasks"]]
    return {schema.camel(key): item for key, item in fields.items()}


def _result_item(task: Mapping[str, Any]) -> dict[str, Any]:
    return {schema.camel(key): item for key, item in for_engine(task).items()}


__all__ = ["GateError", "OpenSearchFnProvider"]
