"""Read-only resources: `FunctionInstance` and `FunctionTask`.

Constructing one starts its live read in the program (see `reads`); what it saw
reaches the provider as inputs named like the outputs they become, so a drift shows
as `[diff: ~latest_generation]`.

No `from __future__ import annotations` here: Pulumi resolves a resource class's
annotations on every construction, and evaluated ones resolve several times faster.
"""

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from . import mocked, program_exit
from .api.errors import OpenSearchFnError
from .api.identity import INSTANCE, TASK, Generation, Kind, keyed
from .core.expectations import Expect, Wait
from .core.outputs import (
    INSTANCE_OUTPUTS,
    REQUESTED_GENERATION,
    TASK_OUTPUTS,
    WHOLE_FIELDS,
    engine_whole,
    for_engine,
)
from .core.request import GATE, identity_inputs
from .core.verdict import Verdict
from .event_loop import program_loop
from .pickler_guard import pickle_restored
from .provider import FunctionInstanceProvider, FunctionTaskProvider
from .reads import LogTarget, begin_read

program_exit.install()  # a program the engine stops ends without tracebacks

OUTPUTS: dict[Kind, tuple[str, ...]] = {INSTANCE: INSTANCE_OUTPUTS, TASK: TASK_OUTPUTS}
_FILLING: set[asyncio.Future[None]] = set()


class GateFailedError(OpenSearchFnError, program_exit.ShownError):
    """A resource failed its expectations, its input or its read: it is not registered,
    so nothing that depends on it (by `depends_on`, `parent` or its outputs) can be.

    `reason` is the line its row shows: the unmet expectations, or the input or read
    error (`FunctionInstance my_app/ctr/ctr_test: expectations not met: ...`)."""

    reason: str = ""


def _settings_inputs(expect: Any, wait: Any, region: Any, endpoint: Any) -> dict[str, Any]:
    """The settings inputs; an `Expect` stays one (`_registered` makes it a dict) so the
    read parses the object whose parse `to_dict` made: once per resource."""
    return {
        "expect": expect,
        "wait": wait.to_dict() if isinstance(wait, Wait) else ({} if wait is True else wait),
        "region": region,
        "endpoint": endpoint,
    }


def _exact_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """`inputs` with whole numbers beyond 2**53 - 1 as text (`for_engine`), Outputs too:
    the engine would carry them as rounded floats."""
    out = for_engine(inputs)
    for key in (*WHOLE_FIELDS, "expect"):
        value = out.get(key)
        if isinstance(value, pulumi.Output):
            out[key] = value.apply(functools.partial(_exact_one, key))
    expect = out.get("expect")
    if isinstance(expect, Mapping):
        out["expect"] = {
            k: v.apply(engine_whole) if isinstance(v, pulumi.Output) else v
            for k, v in expect.items()
        }
    return out


def _exact_one(key: str, value: Any) -> Any:
    return for_engine({key: value})[key]


def _with_reading(
    kind: Kind, resource_name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions | None
) -> dict[str, Any]:
    """`inputs` plus every output field, each a future of the read that starts now.

    Plain inputs send the read's first requests at once; inputs that are Outputs wait
    for their values, and while one is unknown (preview) the fields stay unknown. Under
    Pulumi's unit-test mocks the read is a `Mocks.call` (`mocked`). With no running
    loop (a program imported by a unit test) the read ends when the loop runs.
    """
    loop = program_loop(f"{kind} {resource_name!r}")
    inputs = _exact_inputs(inputs)
    expect = inputs.get("expect")
    parent = opts.parent if opts is not None else None
    log = LogTarget(resource_name, f"pulumi-python:dynamic/opensearch:{kind}", parent)
    dry_run = pulumi.runtime.is_dry_run()
    read = mocked.begin_read if mocked.active() else begin_read
    found: Awaitable[Verdict | Any]
    secret: Awaitable[bool] | bool
    if _is_plain(inputs):
        found, secret = read(kind, inputs, dry_run=dry_run, log=log, loop=loop), False
    else:

        async def start(values: dict[str, Any]) -> Verdict:
            if isinstance(expect, Expect):  # the object itself: its parse is made once
                values = values | {"expect": expect}
            return await read(kind, values, dry_run=dry_run, log=log, loop=loop)

        reading: pulumi.Output[Verdict] = pulumi.Output.all(**_registered(inputs)).apply(start)
        found, secret = reading.future(with_unknowns=True), reading.is_secret()
    names = [name for name in (*OUTPUTS[kind], GATE) if name not in inputs]
    # One future per field, all set when the read ends: much cheaper than an Output each.
    fields = {name: loop.create_future() for name in names}
    filling = asyncio.ensure_future(
        _fill(found, secret, fields, log, f"{kind} {resource_name!r}"), loop=loop
    )
    _FILLING.add(filling)  # the loop keeps only a weak reference to a task
    filling.add_done_callback(_FILLING.discard)
    return {**_sendable(_registered(inputs)), **fields}


def _registered(inputs: dict[str, Any]) -> dict[str, Any]:
    """`inputs` as registered: an `Expect` as its dict (from the parse the read uses)."""
    expect = inputs.get("expect")
    if not isinstance(expect, Expect):
        return inputs
    return inputs | for_engine({"expect": expect.to_dict()})


def _sendable(value: Any) -> Any:
    """`value` as the engine's wire can carry it. A name read from a non-UTF-8 byte of
    argv or the environment holds lone surrogates, which no UTF-8 message can carry:
    registering it would fail with a traceback. It is sent escaped instead (`\\udcff`),
    and the read, which saw it as it is, makes the provider's check fail saying why."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, Mapping):
        return {_sendable(k): _sendable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sendable(v) for v in value]
    return value


def _is_plain(value: Any) -> bool:
    """No Output or awaitable anywhere inside: the value is known now."""
    if isinstance(value, Mapping):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    return not isinstance(value, pulumi.Output) and not inspect.isawaitable(value)


async def _fill(
    found: Awaitable[Verdict | Any],
    secret: Awaitable[bool] | bool,
    fields: dict[str, asyncio.Future[Any]],
    log: LogTarget,
    resource: str,
) -> None:
    """Sets each field from the reading: unknown while it is (preview), secret if it is.

    A failing reading fails every field instead, so the resource is never registered and
    nothing waiting on it goes ahead. The engine's `Check` alone would not hold: the
    engine skips it for a resource left out by `--target`/`--exclude`, and under
    `--continue-on-error` resolves a failed resource's dependents anyway.
    """
    try:
        reading = await found
        is_secret = secret if isinstance(secret, bool) else await secret
    except Exception as error:  # an input failed: the resource's registration reports it
        _fail(fields, error)
        return
    if isinstance(reading, Verdict) and reading.action == "fail":
        await log.error(str(reading.message))  # on the resource's row, as a failed check shows
        why = "failed (see above): nothing that depends on it goes ahead"
        failed = GateFailedError(f"{resource} {why}")
        failed.reason = str(reading.message)
        _fail(fields, failed)
        _quiet_unread_copies(asyncio.get_running_loop())
        return
    outputs = reading.outputs() if isinstance(reading, Verdict) else {}
    for name, future in fields.items():
        if not isinstance(reading, Verdict):
            future.set_result(pulumi.output.UNKNOWN)
            continue
        value = reading.gate if name == GATE else outputs.get(name)
        future.set_result(pulumi.Output.secret(value) if is_secret and value is not None else value)


def _fail(fields: dict[str, asyncio.Future[Any]], error: BaseException) -> None:
    for future in fields.values():
        future.set_exception(error)
        future.exception()  # retrieved: registration reports the first field's error once


def _quiet_unread_copies(loop: asyncio.AbstractEventLoop) -> None:
    """The SDK fails every output of a resource whose registration failed; the ones no one
    reads would each log the gate's error again, with a traceback, when collected."""
    previous = loop.get_exception_handler()
    if getattr(previous, "drops_gate_copies", False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), GateFailedError) and "future" in context:
            return  # already shown on the resource's row
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.drops_gate_copies = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


class FunctionInstance(pulumi.dynamic.Resource, module="opensearch", name="FunctionInstance"):
    """A trained algorithm instance (e.g. a CTR model), read live on every preview and up.

    With `expect=`, the run fails (or warns, with `Expect(enforce=False)`) when the
    instance is not ready; with `wait=`, `up` polls until it is. Nothing is ever
    created, changed or deleted in the cloud; `pulumi destroy` only forgets it.
    """

    app_group: pulumi.Output[str]
    function_name: pulumi.Output[str]
    instance_name: pulumi.Output[str]
    status: pulumi.Output[str]
    version_id: pulumi.Output[int | None]
    function_type: pulumi.Output[str]
    model_type: pulumi.Output[str]
    source: pulumi.Output[str]
    description: pulumi.Output[str]
    cron: pulumi.Output[str]
    create_time: pulumi.Output[str | None]
    belongs: pulumi.Output[Mapping[str, str] | None]
    create_parameters: pulumi.Output[list[Mapping[str, str]]]
    usage_parameters: pulumi.Output[list[Mapping[str, str]]]
    extend_info: pulumi.Output[Mapping[str, Any]]
    extend_info_raw: pulumi.Output[str]
    task_dag_status: pulumi.Output[str | None]
    task_progress: pulumi.Output[int | None]
    task_last_run_time: pulumi.Output[str | None]
    latest_generation: pulumi.Output[int | None]
    latest_success_generation: pulumi.Output[int | None]
    latest_task_status: pulumi.Output[str | None]
    latest_task_progress: pulumi.Output[int | None]
    latest_task_run_id: pulumi.Output[str | None]
    latest_task_start_time: pulumi.Output[str | None]
    latest_task_end_time: pulumi.Output[str | None]
    latest_task_metrics: pulumi.Output[Mapping[str, float]]
    latest_task_errors: pulumi.Output[list[str]]
    latest_task_extend_info: pulumi.Output[Mapping[str, Any] | None]
    latest_task_extend_info_raw: pulumi.Output[str | None]
    ready: pulumi.Output[bool]
    unmet: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        app_group: pulumi.Input[str],
        function_name: pulumi.Input[str],
        instance_name: pulumi.Input[str],
        *,
        expect: Expect | pulumi.Input[Mapping[str, Any]] | None = None,
        wait: Wait | bool | pulumi.Input[Mapping[str, Any]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            **keyed(app_group, function_name, instance_name),
            **_settings_inputs(expect, wait, region, endpoint),
        }
        props = _with_reading(INSTANCE, resource_name, inputs, opts)
        with pickle_restored():  # pulumi.dynamic leaves pickle changed (see pickler_guard)
            super().__init__(FunctionInstanceProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],  # the name generated providers use
        *,
        expect: Expect | pulumi.Input[Mapping[str, Any]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> "FunctionInstance":
        """Reads an existing instance by id `app/function/instance` (percent-encoded segments).

        The provider reads it (and checks its expectations) on every preview and up;
        refresh only warns.
        """
        program_loop(f"{INSTANCE} {resource_name!r}")  # a clear error in a thread with none
        instance = FunctionInstance.__new__(FunctionInstance)
        props = {
            **_exact_inputs(_registered(_settings_inputs(expect, None, region, endpoint))),
            # An output exists on the resource only when it is passed (as None) here.
            **dict.fromkeys((*identity_inputs(INSTANCE), *INSTANCE_OUTPUTS)),
        }
        pulumi.dynamic.Resource.__init__(
            instance,
            FunctionInstanceProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id)),
        )
        return instance


class FunctionTask(pulumi.dynamic.Resource, module="opensearch", name="FunctionTask"):
    """A training task (generation) of an instance: a given number or `"latest"`.

    `requested_generation` is what was asked for; `generation` the number it is. Beyond
    2**53 - 1 both are decimal text: the engine carries numbers as doubles.
    """

    app_group: pulumi.Output[str]
    function_name: pulumi.Output[str]
    instance_name: pulumi.Output[str]
    requested_generation: pulumi.Output[int | str]
    generation: pulumi.Output[int]
    status: pulumi.Output[str]
    progress: pulumi.Output[int | None]
    run_id: pulumi.Output[str]
    start_time: pulumi.Output[str | None]
    end_time: pulumi.Output[str | None]
    metrics: pulumi.Output[Mapping[str, float]]
    errors: pulumi.Output[list[str]]
    extend_info: pulumi.Output[Mapping[str, Any] | None]
    extend_info_raw: pulumi.Output[str]
    ready: pulumi.Output[bool]
    unmet: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        app_group: pulumi.Input[str],
        function_name: pulumi.Input[str],
        instance_name: pulumi.Input[str],
        generation: pulumi.Input[Generation] = "latest",
        *,
        expect: Expect | pulumi.Input[Mapping[str, Any]] | None = None,
        wait: Wait | bool | pulumi.Input[Mapping[str, Any]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            **keyed(app_group, function_name, instance_name),
            # Sent under its own key: the output `generation` is the number it resolves to.
            REQUESTED_GENERATION: generation,
            **_settings_inputs(expect, wait, region, endpoint),
        }
        props = _with_reading(TASK, resource_name, inputs, opts)
        with pickle_restored():  # pulumi.dynamic leaves pickle changed (see pickler_guard)
            super().__init__(FunctionTaskProvider(), resource_name, props, opts)
