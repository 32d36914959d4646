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
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pulumi

from . import program_exit
from .api import OpenSearchFnError, OpenSearchFunctionClient
from .api.validation import check_generation
from .config import Settings, resolve_settings
from .expectations import Expect, Observation, describe_unmet, evaluate, unmet
from .ids import make_id
from .observe import observe_instance, observe_task
from .outputs import instance_fields, task_fields, verdict_fields

program_exit.install()  # a program the engine stops ends without tracebacks

R = TypeVar("R")


class DataSourceError(OpenSearchFnError, pulumi.RunError):
    """A data source failed: bad input, an API error, or unmet expectations."""


@dataclass(frozen=True)
class GetFunctionTaskResult:
    """One training task (generation)."""

    id: str
    app_group: str
    function_name: str
    instance_name: str
    generation: int
    status: str
    progress: int | None
    run_id: str
    start_time: str | None
    end_time: str | None
    metrics: Mapping[str, float]
    errors: list[str]
    extend_info: Mapping[str, Any] | None
    extend_info_raw: str
    ready: bool = True
    unmet: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GetFunctionInstanceResult:
    """An algorithm instance, with `ready`/`unmet` for the expectations given."""

    id: str
    app_group: str
    function_name: str
    instance_name: str
    status: str
    version_id: int | None
    function_type: str
    model_type: str
    source: str
    description: str
    cron: str
    create_time: str | None
    belongs: Mapping[str, str] | None
    create_parameters: list[Mapping[str, str]]
    usage_parameters: list[Mapping[str, str]]
    extend_info: Mapping[str, Any]
    extend_info_raw: str
    task_dag_status: str | None
    task_progress: int | None
    task_last_run_time: str | None
    ready: bool = True
    unmet: list[str] = field(default_factory=list)


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
        wanted = _expect(expect)
        client = _client(region, endpoint)
        needs_task = wanted is not None and (wanted.task_status or wanted.needs_success_task)
        if needs_task:
            seen = observe_instance(client, app_group, function_name, instance_name, wanted)
        else:
            instance = client.get_function_instance(
                app_group, function_name, instance_name, output="detail"
            )
            seen = Observation(instance=instance, task=None, success_task=None)
        assert seen.instance is not None
        return GetFunctionInstanceResult(
            id=make_id(app_group, function_name, instance_name),
            app_group=app_group,
            function_name=function_name,
            instance_name=instance_name,
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
        wanted = _expect(expect)
        number = check_generation(generation)
        seen = observe_task(
            _client(region, endpoint), app_group, function_name, instance_name, number
        )
        return _task_result(app_group, function_name, instance_name, seen, subject, wanted)


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
        wanted = _expect(expect)
        task = _client(region, endpoint).get_latest_function_task(
            app_group, function_name, instance_name, status=status
        )
        if task is None:
            if wanted is not None and not wanted.is_empty and wanted.enforce:
                raise DataSourceError(f"{subject}: expectations not met: the instance has no task")
            return None
        seen = Observation(
            instance=None, task=task, success_task=task if task.status == "success" else None
        )
        return _task_result(app_group, function_name, instance_name, seen, subject, wanted)


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
            id=make_id(app_group, function_name, instance_name),
            app_group=app_group,
            function_name=function_name,
            instance_name=instance_name,
            status=status,
            tasks=[
                _task_result(
                    app_group,
                    function_name,
                    instance_name,
                    Observation(instance=None, task=task, success_task=None),
                    subject,
                    None,
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

_clients: dict[Settings, OpenSearchFunctionClient] = {}
_clients_lock = threading.Lock()


def _client(region: str | None, endpoint: str | None) -> OpenSearchFunctionClient:
    settings = resolve_settings(pulumi.runtime.get_config).with_overrides(
        region=region, endpoint=endpoint
    )
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = settings.client()
        return client


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


def _expect(value: Expect | Mapping[str, Any] | None) -> Expect | None:
    expect = Expect.from_value(value)
    return expect.validated() if expect is not None else None


def _verdict(subject: str, expect: Expect | None, seen: Observation) -> dict[str, Any]:
    results = evaluate(expect, seen)
    failed = unmet(results)
    if failed and expect is not None:
        message = describe_unmet(subject, failed)
        if expect.enforce:
            raise DataSourceError(message)
        pulumi.log.warn(message)
    return verdict_fields(results)


def _task_result(
    app_group: str,
    function_name: str,
    instance_name: str,
    seen: Observation,
    subject: str,
    expect: Expect | None,
) -> GetFunctionTaskResult:
    assert seen.task is not None
    values = task_fields(seen.task)
    values.pop("function_name_seen")
    return GetFunctionTaskResult(
        id=make_id(app_group, function_name, instance_name, seen.task.generation),
        app_group=app_group,
        function_name=function_name,
        instance_name=instance_name,
        **values,
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
