"""The live reads behind resources, data sources and the gate command."""

from __future__ import annotations

from typing import Literal

from .api import OpenSearchFunctionClient
from .expectations import Expect, Observation

Latest = Literal["latest"]


def observe_instance(
    client: OpenSearchFunctionClient,
    app_group: str,
    function_name: str,
    instance_name: str,
    expect: Expect | None = None,
) -> Observation:
    """GetFunctionInstance (detail) and the latest task (pageSize=1), plus the latest
    successful task only when an expectation needs it and the latest did not succeed,
    or the two latest successful tasks (pageSize=2) when max_regression needs them."""
    instance = client.get_function_instance(
        app_group, function_name, instance_name, output="detail"
    )
    latest = client.get_latest_function_task(app_group, function_name, instance_name)
    success = latest if latest is not None and latest.status == "success" else None
    if latest is not None and expect is not None and expect.needs_previous_success:
        two = client.list_function_tasks_page(
            app_group, function_name, instance_name, status="success", page_size=2
        ).tasks
        return Observation(
            instance=instance,
            task=latest,
            success_task=two[0] if two else None,
            previous_success_task=two[1] if len(two) > 1 else None,
            previous_read=True,
        )
    if success is None and latest is not None and expect is not None and expect.needs_success_task:
        success = client.get_latest_function_task(
            app_group, function_name, instance_name, status="success"
        )
    return Observation(instance=instance, task=latest, success_task=success)


def observe_task(
    client: OpenSearchFunctionClient,
    app_group: str,
    function_name: str,
    instance_name: str,
    generation: int | Latest,
) -> Observation:
    """One task: a given generation (GetFunctionTask) or the latest (ListFunctionTasks, 1)."""
    if generation == "latest":
        task = client.get_latest_function_task(app_group, function_name, instance_name)
    else:
        task = client.get_function_task(app_group, function_name, instance_name, generation)
    return Observation(
        instance=None,
        task=task,
        success_task=task if task is not None and task.status == "success" else None,
    )
