"""Read-only resources: `FunctionInstance` and `FunctionTask`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pulumi.dynamic

from . import program_exit
from .expectations import Expect, Wait
from .provider import FunctionInstanceProvider, FunctionTaskProvider

program_exit.install()  # a program the engine stops ends without tracebacks

Generation = int | Literal["latest"]

_TASK_OUTPUTS = (
    "status",
    "progress",
    "run_id",
    "start_time",
    "end_time",
    "metrics",
    "errors",
    "extend_info",
    "extend_info_raw",
)
_INSTANCE_OUTPUTS = (
    "status",
    "version_id",
    "function_type",
    "model_type",
    "source",
    "description",
    "cron",
    "create_time",
    "belongs",
    "create_parameters",
    "usage_parameters",
    "extend_info",
    "extend_info_raw",
    "task_dag_status",
    "task_progress",
    "task_last_run_time",
    "latest_generation",
    "latest_success_generation",
    *(f"latest_task_{name}" for name in _TASK_OUTPUTS if name != "status"),
    "latest_task_status",
)
_COMMON_OUTPUTS = ("ready", "unmet")


def _shared_inputs(expect: Any, wait: Any, region: Any, endpoint: Any) -> dict[str, Any]:
    return {
        "expect": expect.to_dict() if isinstance(expect, Expect) else expect,
        "wait": wait.to_dict() if isinstance(wait, Wait) else ({} if wait is True else wait),
        "region": region,
        "endpoint": endpoint,
    }


def _declared(names: tuple[str, ...]) -> dict[str, None]:
    # An output exists on the resource only when it is passed as None here.
    return dict.fromkeys((*names, *_COMMON_OUTPUTS))


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
        props = {
            "app_group": app_group,
            "function_name": function_name,
            "instance_name": instance_name,
            **_shared_inputs(expect, wait, region, endpoint),
            # Lets check() wait on up but never in preview.
            "dry_run": pulumi.runtime.is_dry_run(),
            **_declared(_INSTANCE_OUTPUTS),
        }
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
    ) -> FunctionInstance:
        """Reads an existing instance by id `app/function/instance` (percent-encoded segments).

        Its expectations are checked on every preview and up; refresh only warns.
        """
        instance = FunctionInstance.__new__(FunctionInstance)
        props = {
            **_shared_inputs(expect, None, region, endpoint),
            **dict.fromkeys(("app_group", "function_name", "instance_name")),
            **_declared(_INSTANCE_OUTPUTS),
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
    """A training task (generation) of an instance: a given number or `"latest"`."""

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
        props = {
            "app_group": app_group,
            "function_name": function_name,
            "instance_name": instance_name,
            "generation": generation,
            **_shared_inputs(expect, wait, region, endpoint),
            "dry_run": pulumi.runtime.is_dry_run(),
            "requested_generation": None,
            **_declared(_TASK_OUTPUTS),
        }
        super().__init__(FunctionTaskProvider(), resource_name, props, opts)
