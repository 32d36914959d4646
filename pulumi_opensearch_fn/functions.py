"""Data sources: plain functions run in the program, in preview and up.

Each `get_x(...)` returns its result at once; each `get_x_output(...)` takes
Inputs and returns an Output, stays unknown while an input is unknown, and runs
its request in a worker thread so the calls of one program overlap.
Failures raise `DataSourceError`, a `pulumi.RunError`: the run ends with its
message and no traceback; `__cause__` holds the original error. Each takes `opts`
as generated functions do (`invoking`); under Pulumi's unit-test mocks each read is
a `Mocks.call` instead of a request (`mocked`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pulumi

from . import invoking, mocked, program_exit
from .api.errors import OpenSearchFnError
from .api.identity import Identity
from .api.safe_text import safe
from .api.validation import check_generation
from .core.clients import client_for
from .core.config import resolve_settings
from .core.expectations import Expect, Observation, ParsedExpect
from .core.observe import observe_instance, observe_task
from .core.outputs import (
    IdentityView,
    InstanceView,
    TaskView,
    VerdictView,
    instance_fields,
    task_fields,
)
from .core.verdict import Verdict, judge
from .reads import read_pool

if TYPE_CHECKING:
    from .api.client import OpenSearchFunctionClient
    from .api.models import FunctionTask

program_exit.install()  # a program the engine stops ends without tracebacks

R = TypeVar("R")
# The program's event loop, in the worker thread running an `_output` twin's read.
_PROGRAM_LOOP: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar(
    "opensearch_fn_program_loop", default=None
)


class DataSourceError(OpenSearchFnError, pulumi.RunError):
    """A data source failed: bad input, an API error, or unmet expectations."""


@dataclass(frozen=True)
class GetFunctionTaskResult(VerdictView, TaskView, IdentityView):
    """One training task (generation), with `ready`/`unmet` for the expectations given."""


@dataclass(frozen=True)
class GetFunctionInstanceResult(VerdictView, InstanceView, IdentityView):
    """An algorithm instance, with `ready`/`unmet` for the expectations given."""


@dataclass(frozen=True)
class GetFunctionTasksResult:
    """Every task that matched, newest first."""

    id: str
    app_group: str
    function_name: str
    instance_name: str
    status: str | None
    tasks: list[GetFunctionTaskResult]


# -- plain calls -----------------------------------------------------------------


def get_function_instance(
    app_group: str,
    function_name: str,
    instance_name: str,
    *,
    expect: Expect | Mapping[str, Any] | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> GetFunctionInstanceResult:
    """GetFunctionInstance (detail); the latest tasks are read only when `expect` needs them."""
    subject = f"get_function_instance({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity(app_group, function_name, instance_name)
        wanted = _expect(expect)
        opts = invoking.checked(opts, output=False)
        if mocked.active():  # a unit test: Mocks.call answers, no request leaves
            seen = mocked.instance(
                identity, Expect.from_value(expect), region=region, endpoint=endpoint, opts=opts
            )
        elif wanted is not None and (wanted.task_status or wanted.needs_success_task):
            seen = observe_instance(_client(region, endpoint), identity, wanted)
        else:
            instance = _client(region, endpoint).get_function_instance(identity, output="detail")
            seen = Observation(instance=instance, task=None, success_task=None)
        assert seen.instance is not None
        return GetFunctionInstanceResult(
            id=identity.resource_id,
            **identity.fields(),
            **instance_fields(seen.instance),
            **_verdict(subject, wanted, seen, opts),
        )


def get_function_task(
    app_group: str,
    function_name: str,
    instance_name: str,
    *,
    generation: int | str,
    expect: Expect | Mapping[str, Any] | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> GetFunctionTaskResult:
    """GetFunctionTask for one generation."""
    subject = f"get_function_task({app_group}/{function_name}/{instance_name}/{generation})"
    with _failures_as(subject):
        identity = Identity(app_group, function_name, instance_name, check_generation(generation))
        wanted = _expect(expect)
        opts = invoking.checked(opts, output=False)
        if mocked.active():
            seen = mocked.task(identity, region=region, endpoint=endpoint, opts=opts)
        else:
            seen = observe_task(_client(region, endpoint), identity)
        return _task_result(identity, seen, subject, wanted, opts)


def get_latest_function_task(
    app_group: str,
    function_name: str,
    instance_name: str,
    *,
    status: Literal["success", "failed", "running"] | None = None,
    expect: Expect | Mapping[str, Any] | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> GetFunctionTaskResult | None:
    """The newest task (optionally the newest with `status`) in one request; None if none."""
    subject = f"get_latest_function_task({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity(app_group, function_name, instance_name)
        wanted = _expect(expect)
        opts = invoking.checked(opts, output=False)
        if mocked.active():
            task = mocked.latest_task(identity, status, region=region, endpoint=endpoint, opts=opts)
        else:
            task = _client(region, endpoint).get_latest_function_task(identity, status=status)
        if task is None:
            _act(judge(subject, wanted, None))  # no task: unmet, if anything is expected
            return None
        seen = Observation(
            instance=None, task=task, success_task=task if task.status == "success" else None
        )
        return _task_result(identity, seen, subject, wanted, opts)


def get_function_tasks(
    app_group: str,
    function_name: str,
    instance_name: str,
    *,
    status: Literal["success", "failed", "running"] | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    limit: int | None = None,
    region: str | None = None,
    endpoint: str | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> GetFunctionTasksResult:
    """ListFunctionTasks, every page (or the newest `limit`), newest first.

    `start_time` / `end_time` are epoch milliseconds."""
    subject = f"get_function_tasks({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity(app_group, function_name, instance_name)
        opts = invoking.checked(opts, output=False)
        tasks: Iterable[FunctionTask]
        if mocked.active():
            tasks = mocked.tasks(identity, status=status, start_time=start_time,
                                 end_time=end_time, limit=limit, region=region,
                                 endpoint=endpoint, opts=opts)  # fmt: skip
        else:
            tasks = _client(region, endpoint).list_function_tasks(
                identity,
                status=status,
                start_time=start_time,
                end_time=end_time,
                page_size=100,
                limit=limit,
            )
        return GetFunctionTasksResult(
            id=identity.resource_id,
            **identity.fields(),
            status=status,
            tasks=[
                _task_result(
                    identity, Observation(instance=None, task=task, success_task=None), subject
                )
                for task in tasks
            ],
        )


# -- Output twins ----------------------------------------------------------------


def get_function_instance_output(
    app_group: pulumi.Input[str],
    function_name: pulumi.Input[str],
    instance_name: pulumi.Input[str],
    *,
    expect: Expect | Mapping[str, Any] | None = None,
    region: pulumi.Input[str] | None = None,
    endpoint: pulumi.Input[str] | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[GetFunctionInstanceResult]:
    return _lift(get_function_instance, app_group, function_name, instance_name, opts=opts,
                 expect=expect, region=region, endpoint=endpoint)  # fmt: skip


def get_function_task_output(
    app_group: pulumi.Input[str],
    function_name: pulumi.Input[str],
    instance_name: pulumi.Input[str],
    *,
    generation: pulumi.Input[int | str],
    expect: Expect | Mapping[str, Any] | None = None,
    region: pulumi.Input[str] | None = None,
    endpoint: pulumi.Input[str] | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[GetFunctionTaskResult]:
    return _lift(get_function_task, app_group, function_name, instance_name, opts=opts,
                 generation=generation, expect=expect,
                 region=region, endpoint=endpoint)  # fmt: skip


def get_latest_function_task_output(
    app_group: pulumi.Input[str],
    function_name: pulumi.Input[str],
    instance_name: pulumi.Input[str],
    *,
    status: pulumi.Input[str] | None = None,
    expect: Expect | Mapping[str, Any] | None = None,
    region: pulumi.Input[str] | None = None,
    endpoint: pulumi.Input[str] | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[GetFunctionTaskResult | None]:
    return _lift(get_latest_function_task, app_group, function_name, instance_name, opts=opts,
                 status=status, expect=expect, region=region, endpoint=endpoint)  # fmt: skip


def get_function_tasks_output(
    app_group: pulumi.Input[str],
    function_name: pulumi.Input[str],
    instance_name: pulumi.Input[str],
    *,
    status: pulumi.Input[str] | None = None,
    start_time: pulumi.Input[int] | None = None,
    end_time: pulumi.Input[int] | None = None,
    limit: pulumi.Input[int] | None = None,
    region: pulumi.Input[str] | None = None,
    endpoint: pulumi.Input[str] | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[GetFunctionTasksResult]:
    return _lift(get_function_tasks, app_group, function_name, instance_name, opts=opts,
                 status=status,
                 start_time=start_time, end_time=end_time, limit=limit,
                 region=region, endpoint=endpoint)  # fmt: skip


# -- plumbing --------------------------------------------------------------------


def _client(region: str | None, endpoint: str | None) -> OpenSearchFunctionClient:
    """A client whose requests take the program's slots, shared with its resources'
    reads (`reads.ReadPool`); outside a program's event loop, a client of its own."""
    settings = resolve_settings(pulumi.runtime.get_config).with_overrides(
        region=region, endpoint=endpoint
    )
    loop = _PROGRAM_LOOP.get()
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return client_for(settings)
    return read_pool(pulumi.runtime.get_config, loop).client(settings)


def _lift(fn: Callable[..., R], *args: Any, opts: object = None, **kwargs: Any) -> pulumi.Output[R]:
    """Runs `fn` once every Input is known and every resource of `opts.depends_on` exists,
    in a worker thread (under mocks, in the program's, where `Mocks.call` answers)."""
    try:
        options = invoking.checked(opts, output=True)
    except OpenSearchFnError as error:
        raise error.about(f"{fn.__name__}_output", DataSourceError) from None
    names = list(kwargs)
    inputs = [*args, *(kwargs[n] for n in names if not isinstance(kwargs[n], Expect))]
    plain = {n: kwargs[n] for n in names if isinstance(kwargs[n], Expect)}
    dynamic = [n for n in names if n not in plain]
    ready = invoking.dependencies(options)
    gates = [ready] if ready is not None else []
    passed = invoking.plain(options)

    async def call(values: list[Any]) -> Any:
        values = values[len(gates) :]
        resolved = dict(zip(dynamic, values[len(args) :], strict=True)) | plain
        bound = functools.partial(fn, *values[: len(args)], **resolved, opts=passed)
        if mocked.active():
            return bound()
        context = await invoking.worker_context(passed)
        loop = asyncio.get_running_loop()
        context.run(_PROGRAM_LOOP.set, loop)
        return await loop.run_in_executor(None, context.run, bound)

    return pulumi.Output.all(*gates, *inputs).apply(call)


def _expect(value: Expect | Mapping[str, Any] | None) -> ParsedExpect | None:
    expect = Expect.from_value(value)
    return expect.parse() if expect is not None else None


def _verdict(
    subject: str,
    expect: ParsedExpect | None,
    seen: Observation,
    opts: pulumi.InvokeOptions | None = None,
) -> dict[str, Any]:
    return _act(judge(subject, expect, seen), opts).fields()


def _act(verdict: Verdict, opts: pulumi.InvokeOptions | None = None) -> Verdict:
    """A data source's translation of the verdict: fail raises, warn logs."""
    if verdict.action == "fail":
        raise DataSourceError(str(verdict.message))
    if verdict.action == "warn":
        invoking.warn(safe(str(verdict.message)), opts)
    return verdict


def _task_result(
    identity: Identity,
    seen: Observation,
    subject: str,
    expect: ParsedExpect | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> GetFunctionTaskResult:
    assert seen.task is not None
    return GetFunctionTaskResult(
        id=identity.at(seen.task.generation).resource_id,
        **identity.instance.fields(),
        **task_fields(seen.task),
        **_verdict(subject, expect, seen, opts),
    )


@contextmanager
def _failures_as(subject: str) -> Iterator[None]:
    """Re-raises any package error as a DataSourceError naming the call."""
    try:
        yield
    except DataSourceError:
        raise
    except OpenSearchFnError as error:
        raise error.about(subject, DataSourceError) from error
