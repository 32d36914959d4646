"""Observations as plain output values (snake_case, JSON-friendly), shared by the
resources and the data sources."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .api.models import FunctionInstance, FunctionTask
from .expectations import Observation, Result

# Fields whose change is drift; everything else either follows them or is volatile.
TRACKED_INSTANCE_FIELDS = (
    "status",
    "version_id",
    "task_dag_status",
    "latest_generation",
    "latest_task_status",
)
TRACKED_TASK_FIELDS = ("generation", "status")
# Fields that move on their own (progress, run times) and never make a diff.
VOLATILE_FIELDS = (
    "task_progress",
    "task_last_run_time",
    "latest_task_progress",
    "progress",
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def task_fields(task: FunctionTask | None, prefix: str = "") -> dict[str, Any]:
    """A task's outputs; with a prefix (`latest_task_`) for the instance resource."""
    values: dict[str, Any] = {
        "generation": task.generation if task else None,
        "status": task.status if task else None,
        "progress": task.progress if task else None,
        "run_id": task.run_id if task else None,
        "start_time": iso(task.start_time) if task else None,
        "end_time": iso(task.end_time) if task else None,
        "metrics": task.metrics if task else {},
        "errors": list(task.errors) if task else [],
        "extend_info": dict(task.extend_info.data or {}) if task else None,
        "extend_info_raw": task.extend_info.raw if task else None,
    }
    if not prefix:
        values["function_name_seen"] = task.function_name if task else None
        return values
    renamed = {f"{prefix}{k}": v for k, v in values.items() if k != "generation"}
    renamed["latest_generation"] = values["generation"]
    return renamed


def instance_fields(instance: FunctionInstance) -> dict[str, Any]:
    return {
        "status": instance.status,
        "version_id": instance.version_id,
        "function_type": instance.function_type,
        "model_type": instance.model_type,
        "source": instance.source,
        "description": instance.description,
        "cron": instance.cron,
        "create_time": iso(instance.create_time),
        "belongs": (
            {
                "domain": instance.belongs.domain,
                "category": instance.belongs.category,
                "language": instance.belongs.language,
            }
            if instance.belongs
            else None
        ),
        "create_parameters": [
            {"name": p.name, "value": p.value} for p in instance.create_parameters
        ],
        "usage_parameters": [{"name": p.name, "value": p.value} for p in instance.usage_parameters],
        "extend_info": dict(instance.extend_info.data or {}),
        "extend_info_raw": instance.extend_info.raw,
        "task_dag_status": instance.task.dag_status if instance.task else None,
        "task_progress": instance.task.progress if instance.task else None,
        "task_last_run_time": iso(instance.task.last_run_time) if instance.task else None,
    }


def observation_fields(seen: Observation) -> dict[str, Any]:
    """Everything read, for an instance (with its latest task) or a single task."""
    if seen.instance is not None:
        values = instance_fields(seen.instance)
        values.update(task_fields(seen.task, prefix="latest_task_"))
        values["latest_success_generation"] = (
            seen.success_task.generation if seen.success_task else None
        )
        return values
    values = task_fields(seen.task)
    values.pop("function_name_seen")
    return values


def verdict_fields(results: list[Result]) -> dict[str, Any]:
    failed = [str(r) for r in results if not r.met]
    return {"ready": not failed, "unmet": failed}
