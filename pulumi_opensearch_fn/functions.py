"""Data sources: plain functions run in the program, in preview and up.

Each `get_x(...)` returns its result at once; each `get_x_output(...)` takes
Inputs and returns an Output, stays unknown while an input is unknown, and runs
its request in a worker thread so the calls of one program overlap.
Failures raise `DataSourceError`, a `pulumi.RunError`: the run ends with its
message and no traceback; `__cause__` holds the original error.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pulumi

from . import program_exit
from .api.errors import OpenSearchFnError
from .api.safe_text import safe
from .api.validation import check_generation
from .clients import client_for
from .config import resolve_settings
from .expectations import Expect, Observation, ParsedExpect
from .identity import Identity
from .observe import observe_instance, observe_task
from .outputs import (
    IdentityView,
    InstanceView,
    TaskView,
    VerdictView,
    instance_fields,
    task_fields,
)
from .verdict import Verdict, judge

if TYPE_CHECKING:
    from .api.client import OpenSearchFunctionClient

program_exit.install()  # a program the engine stops ends without tracebacks

R = TypeVar("R")


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
) -> GetFunctionInstanceResult:
    """GetFunctionInstance (detail); the latest tasks are read only when `expect` needs them."""
    subject = f"get_function_instance({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity.checked(app_group, function_name, instance_name)
        wanted = _expect(expect)
        client = _client(region, endpoint)
        if wanted is not None and (wanted.task_status or wanted.needs_success_task):
            seen = observe_instance(client, identity, wanted)
        else:
            instance = client.get_function_instance(
                app_group, function_name, instance_name, output="detail"
            )
            seen = Observation(instance=instance, task=None, success_task=None)
        assert seen.instance is not None
        return GetFunctionInstanceResult(
            id=identity.resource_id,
            **identity.fields(),
            **instance_fields(seen.instance),
            **_verdict(subject, wanted, seen),
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
) -> GetFunctionTaskResult:
    """GetFunctionTask for one generation."""
    subject = f"get_function_task({app_group}/{function_name}/{instance_name}/{generation})"
    with _failures_as(subject):
        identity = Identity.checked(
            app_group, function_name, instance_name, check_generation(generation)
        )
        wanted = _expect(expect)
        seen = observe_task(_client(region, endpoint), identity)
        return _task_result(identity, seen, subject, wanted)


def get_latest_function_task(
    app_group: str,
    function_name: str,
    instance_name: str,
    *,
    status: Literal["success", "failed", "running"] | None = None,
    expect: Expect | Mapping[str, Any] | None = None,
    region: str | None = None,
    endpoint: str | None = None,
) -> GetFunctionTaskResult | None:
    """The newest task (optionally the newest with `status`) in one request; None if none."""
    subject = f"get_latest_function_task({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity.checked(app_group, function_name, instance_name)
        wanted = _expect(expect)
        task = _client(region, endpoint).get_latest_function_task(
            app_group, function_name, instance_name, status=status
        )
        if task is None:
            _act(judge(subject, wanted, None))  # no task: unmet, if anything is expected
            return None
        seen = Observation(
            instance=None, task=task, success_task=task if task.status == "success" else None
        )
        return _task_result(identity, seen, subject, wanted)


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
) -> GetFunctionTasksResult:
    """ListFunctionTasks, every page (or the newest `limit`), newest first.

    `start_time` / `end_time` are epoch milliseconds."""
    subject = f"get_function_tasks({app_group}/{function_name}/{instance_name})"
    with _failures_as(subject):
        identity = Identity.checked(app_group, function_name, instance_name)
        tasks = _client(region, endpoint).list_function_tasks(
            app_group,
            function_name,
            instance_name,
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
) -> pulumi.Output[GetFunctionInstanceResult]:
    return _lift(get_function_instance, app_group, function_name, instance_name,
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
) -> pulumi.Output[GetFunctionTaskResult]:
    return _lift(get_function_task, app_group, function_name, instance_name,
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
) -> pulumi.Output[GetFunctionTaskResult | None]:
    return _lift(get_latest_function_task, app_group, function_name, instance_name,
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
) -> pulumi.Output[GetFunctionTasksResult]:
    return _lift(get_function_tasks, app_group, function_name, instance_name, status=status,
                 start_time=start_time, end_time=end_time, limit=limit,
                 region=region, endpoint=endpoint)  # fmt: skip


# -- plumbing --------------------------------------------------------------------


def _client(region: str | None, endpoint: str | None) -> OpenSearchFunctionClient:
    settings = resolve_settings(pulumi.runtime.get_config).with_overrides(
        region=region, endpoint=endpoint
    )
    return client_for(settings)


def _lift(fn: Callable[..., R], *args: Any, **kwargs: Any) -> pulumi.Output[R]:
    """Runs `fn` once every Input is known, in a worker thread."""
    names = list(kwargs)
    inputs = [*args, *(kwargs[n] for n in names if not isinstance(kwargs[n], Expect))]
    plain = {n: kwargs[n] for n in names if isinstance(kwargs[n], Expect)}
    dynamic = [n for n in names if n not in plain]

    def call(values: list[Any]) -> Any:
        resolved = dict(zip(dynamic, values[len(args) :], strict=True)) | plain
        bound = functools.partial(fn, *values[: len(args)], **resolved)
        # The worker thread needs the program's context: Pulumi keeps config set in-process
        # (Automation API inline programs) in a context variable.
        context = contextvars.copy_context()
        return asyncio.get_running_loop().run_in_executor(None, context.run, bound)

    return pulumi.Output.all(*inputs).apply(call)


def _expect(value: Expect | Mapping[str, Any] | None) -> ParsedExpect | None:
    expect = Expect.from_value(value)
    return expect.parse() if expect is not None else None


def _verdict(subject: str, expect: ParsedExpect | None, seen: Observation) -> dict[str, Any]:
    return _act(judge(subject, expect, seen)).fields()


def _act(verdict: Verdict) -> Verdict:
    """A data source's translation of the verdict: fail raises, warn logs."""
    if verdict.action == "fail":
        raise DataSourceError(str(verdict.message))
    if verdict.action == "warn":
        pulumi.log.warn(safe(str(verdict.message)))
    return verdict


def _task_result(
    identity: Identity, seen: Observation, subject: str, expect: ParsedExpect | None = None
) -> GetFunctionTaskResult:
    assert seen.task is not None
    return GetFunctionTaskResult(
        id=identity.at(seen.task.generation).resource_id,
        **identity.instance.fields(),
        **task_fields(seen.task),
        **_verdict(subject, expect, seen),
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
