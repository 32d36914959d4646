"""Reads under Pulumi's unit-test mocks: each is answered by `Mocks.call`, and no
request leaves the process.

The package is *under mocks* exactly when the resource monitor is Pulumi's
`pulumi.runtime.mocks.MockMonitor` (what `pulumi.runtime.set_mocks` installs) or a
subclass of it; under any other monitor (the engine's, a test harness's own) reads
are live. A read is then one `Mocks.call` of the token the provider package's schema
gives the data source, with the schema's camelCase arguments:

| read                                            | token                                     |
|-------------------------------------------------|-------------------------------------------|
| `FunctionInstance`, `get_function_instance`     | `opensearch-fn:index:getFunctionInstance` |
| `FunctionTask(..., N)`, `get_function_task`     | `opensearch-fn:index:getFunctionTask`     |
| `FunctionTask(..., "latest")`, `get_latest_...` | `opensearch-fn:index:getLatestFunctionTask` |
| `get_function_tasks`                            | `opensearch-fn:index:getFunctionTasks`    |

The answer (`mock_answers`) is judged as a live read's would be, with the same
messages. `Wait` never polls a mock: its answer is where the wait ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

from . import invoking
from .api.errors import OpenSearchFnError
from .api.identity import INSTANCE, Identity, Kind
from .api.models import FunctionTask
from .api.validation import (
    TASK_STATUSES,
    check_choice,
    check_positive,
    check_region,
    check_time_range,
    to_epoch_ms,
)
from .core.expectations import Expect, Observation
from .core.observe import NoTaskYetError
from .core.outputs import engine_whole
from .core.request import check_inputs
from .core.verdict import Verdict, failed, judge
from .mock_answers import MockAnswerError, camel, instance_answer, task_answer, tasks_answer
from .reads import Log, announced, invalid_input

PACKAGE = "opensearch-fn"
GET_FUNCTION_INSTANCE = f"{PACKAGE}:index:getFunctionInstance"
GET_FUNCTION_TASK = f"{PACKAGE}:index:getFunctionTask"
GET_LATEST_FUNCTION_TASK = f"{PACKAGE}:index:getLatestFunctionTask"
GET_FUNCTION_TASKS = f"{PACKAGE}:index:getFunctionTasks"


def active() -> bool:
    """Whether reads are answered by the mocks (see the module's docstring)."""
    return isinstance(settings.get_monitor(), MockMonitor)


# -- data sources (plain calls: the answer is awaited where they are called) --------


def instance(
    identity: Identity,
    expect: Expect | None,
    *,
    region: str | None,
    endpoint: str | None,
    opts: pulumi.InvokeOptions | None,
) -> Observation:
    args = _args(identity, expect=expect, region=region, endpoint=endpoint)
    answer = _answer(GET_FUNCTION_INSTANCE, args, opts)
    return instance_answer(GET_FUNCTION_INSTANCE, answer, identity, expect)


def task(
    identity: Identity,
    *,
    region: str | None,
    endpoint: str | None,
    opts: pulumi.InvokeOptions | None,
) -> Observation:
    """One task: `identity.generation` (a number; "latest" is `latest_task`)."""
    assert isinstance(identity.generation, int)
    args = _args(identity, generation=identity.generation, region=region, endpoint=endpoint)
    answer = _answer(GET_FUNCTION_TASK, args, opts)
    found = task_answer(GET_FUNCTION_TASK, answer, identity, asked=identity.generation)
    assert found is not None
    return _task_observation(found)


def latest_task(
    identity: Identity,
    status: str | None,
    *,
    region: str | None,
    endpoint: str | None,
    opts: pulumi.InvokeOptions | None,
) -> FunctionTask | None:
    if status is not None:
        check_choice("status", status, TASK_STATUSES)
    args = _args(identity, status=status, region=region, endpoint=endpoint)
    answer = _answer(GET_LATEST_FUNCTION_TASK, args, opts)
    return task_answer(GET_LATEST_FUNCTION_TASK, answer, identity)


def tasks(
    identity: Identity,
    *,
    status: str | None,
    start_time: int | None,
    end_time: int | None,
    limit: int | None,
    region: str | None,
    endpoint: str | None,
    opts: pulumi.InvokeOptions | None,
) -> list[FunctionTask]:
    """The tasks as the mock lists them (its answer is the API's: filters are its job)."""
    if status is not None:
        check_choice("status", status, TASK_STATUSES)
    start, end = to_epoch_ms("start_time", start_time), to_epoch_ms("end_time", end_time)
    check_time_range(start, end)
    if limit is not None:
        check_positive("limit", limit)
    args = _args(identity, status=status, start_time=start, end_time=end, limit=limit,
                 region=region, endpoint=endpoint)  # fmt: skip
    return tasks_answer(GET_FUNCTION_TASKS, _answer(GET_FUNCTION_TASKS, args, opts), identity)


# -- resources (the read starts at construction, and ends when the loop runs) -------


def begin_read(
    kind: Kind,
    inputs: Mapping[str, Any],
    *,
    dry_run: bool,
    log: Log,
    loop: asyncio.AbstractEventLoop | None = None,
) -> asyncio.Future[Verdict]:
    """`reads.begin_read` under mocks: the same Verdict, from a `Mocks.call`."""
    return asyncio.ensure_future(_read(kind, dict(inputs), dry_run=dry_run, log=log), loop=loop)


async def _read(kind: Kind, inputs: dict[str, Any], *, dry_run: bool, log: Log) -> Verdict:
    checked = check_inputs(kind, inputs)
    problems = list(checked.problems)
    region, endpoint = inputs.get("region") or None, inputs.get("endpoint") or None
    try:
        _check_settings(None, endpoint)
    except OpenSearchFnError as error:
        problems.append(("endpoint", error.message))
    if problems or checked.identity is None:
        return invalid_input(problems)
    identity, expect, wait = checked.identity, checked.expect, checked.wait
    given = Expect.from_value(inputs.get("expect"))  # as written, for the mock's arguments
    try:
        seen = await _resource_observation(kind, identity, given, region, endpoint)
    except OpenSearchFnError as error:
        return failed(identity.subject, error)
    # As a live read that polled until its wait ended: a preview only notes what up
    # would wait for, an up judges the answer as final.
    waited = wait is not None and not dry_run
    return announced(judge(identity.subject, expect, seen, wait=wait, waited=waited), log)


async def _resource_observation(
    kind: Kind,
    identity: Identity,
    expect: Expect | None,
    region: str | None,
    endpoint: str | None,
) -> Observation:
    if kind == INSTANCE:
        args = _args(identity, expect=expect, region=region, endpoint=endpoint)
        answer = await _answer_async(GET_FUNCTION_INSTANCE, args)
        return instance_answer(GET_FUNCTION_INSTANCE, answer, identity, expect)
    if identity.generation == "latest":
        args = _args(identity, region=region, endpoint=endpoint)
        answer = await _answer_async(GET_LATEST_FUNCTION_TASK, args)
        latest = task_answer(GET_LATEST_FUNCTION_TASK, answer, identity)
        if latest is None:
            raise NoTaskYetError(f"{identity.instance} has no training task yet")
        return _task_observation(latest)
    assert isinstance(identity.generation, int)
    args = _args(identity, generation=identity.generation, region=region, endpoint=endpoint)
    answer = await _answer_async(GET_FUNCTION_TASK, args)
    found = task_answer(GET_FUNCTION_TASK, answer, identity, asked=identity.generation)
    assert found is not None
    return _task_observation(found)


# -- plumbing --------------------------------------------------------------------


def _task_observation(found: FunctionTask) -> Observation:
    success = found if found.status == "success" else None
    return Observation(instance=None, task=found, success_task=success)


def _args(identity: Identity, *, expect: Expect | None = None, **extra: Any) -> dict[str, Any]:
    """The call's arguments, as the schema names them; None is left out."""
    args: dict[str, Any] = {
        "appGroup": identity.app_group,
        "functionName": identity.function_name,
        "instanceName": identity.instance_name,
    }
    if expect is not None:
        args["expect"] = {camel(k): engine_whole(v) for k, v in expect.to_dict().items()}
    for key, value in extra.items():
        if value is not None:
            args[camel(key)] = engine_whole(value) if key == "generation" else value
    _check_settings(extra.get("region"), extra.get("endpoint"))
    return args


def _check_settings(region: str | None, endpoint: str | None) -> None:
    """A bad `region` or `endpoint` argument is refused as in a live read, though none
    is used: a unit test shows what `up` would say."""
    if region:
        check_region(region)
    if endpoint:
        from .api.endpoints import normalize_endpoint

        normalize_endpoint(endpoint)


def _answer(token: str, args: dict[str, Any], opts: pulumi.InvokeOptions | None) -> Any:
    try:
        # A copy of the options: the SDK's invoke fills in the object it is given.
        return pulumi.runtime.invoke(token, args, invoking.plain(opts)).value
    except Exception as error:
        raise MockAnswerError(f"Mocks.call of {token} failed: {error}") from error


async def _answer_async(token: str, args: dict[str, Any]) -> Any:
    try:
        return await pulumi.runtime.invoke_async(token, args)
    except Exception as error:
        raise MockAnswerError(f"Mocks.call of {token} failed: {error}") from error
