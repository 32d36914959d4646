"""The output shape, defined once: what every door (resources, data sources, the
command line, the provider) shows for an instance, a task and a verdict.

The dataclasses below are the shape; the names each resource declares, the
data-source result classes and the JSON the command line prints derive from them.
Values are plain (snake_case keys, JSON-friendly): numbers the API sent as text of
arbitrary precision stay exact in `extend_info_raw`. Every text is masked (`masked`):
a server that echoes the STS token or the key secret into a field (a description,
extendInfo) gets it into no state, output or JSON document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..api.numbers import MAX_SAFE_INTEGER
from ..api.safe_text import redact, safe
from .expectations import all_met

if TYPE_CHECKING:  # only annotations: the provider's check does not load the models
    from ..api.models import FunctionInstance, FunctionTask
    from .expectations import Observation, Result


@dataclass(frozen=True)
class TaskView:
    """One training task (generation).

    generation       the task's generation number (beyond 2**53 - 1, its decimal text)
    status           the task's status: `success`, `failed` or `running`
    progress         how far the task has run, 0 to 100 (null when the API does not say)
    run_id           the run's id, e.g. `trigger__2021-03-05T12:18:41`
    start_time       when the task started, ISO 8601 UTC
    end_time         when the task ended, ISO 8601 UTC (null while it runs)
    metrics          the numeric entries of the task's extendInfo, nested objects
                     flattened with dots (`dataReport.auc`)
    errors           the task's errors, from the `errors` entry of its extendInfo
    extend_info      the task's extendInfo, parsed (null when it is not a JSON object)
    extend_info_raw  the task's extendInfo, as the API sent it
    """

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


@dataclass(frozen=True)
class InstanceView:
    """An algorithm instance, as GetFunctionInstance (detail) describes it.

    status              the instance's status: `available` or `unavailable`
    version_id          the instance's version id
    function_type       the function's type, e.g. `PAAS`
    model_type          the model's type, e.g. `tf_checkpoint`
    source              where the instance comes from: `user` or `builtin`
    description         the instance's description
    cron                the periodic training schedule, five cron fields (empty: none)
    create_time         when the instance was created, ISO 8601 UTC
    belongs             the scenario the instance belongs to: `domain`, `category`,
                        `language`
    create_parameters   the parameters the instance was created with, each a `name` and
                        a `value`
    usage_parameters    the parameters for using the instance, each a `name` and a `value`
    extend_info         the instance's extendInfo, parsed
    extend_info_raw     the instance's extendInfo, as the API sent it
    task_dag_status     the status of the instance's training pipeline: `success`,
                        `failed`, `untrained`, `pending` or `running` (null: no task)
    task_progress       the training pipeline's progress, 0 to 100
    task_last_run_time  when the training pipeline last ran, ISO 8601 UTC
    """

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


@dataclass(frozen=True)
class VerdictView:
    """Whether every expectation held, and the ones that did not.

    ready  whether every expectation held (true when none is set)
    unmet  one line for each expectation that did not hold: what was expected and
           what was seen
    """

    ready: bool = True
    unmet: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IdentityView:
    """Which instance a read is about.

    id             `app/function/instance`, each segment percent-encoded
    app_group      the OpenSearch app group (its name or id)
    function_name  the algorithm function, e.g. `ctr`
    instance_name  the function instance (a trained model), e.g. `ctr_test`
    """

    id: str
    app_group: str
    function_name: str
    instance_name: str


@dataclass(frozen=True)
class RequestView:
    """What a task resource asked for.

    requested_generation  the generation asked for: a number, or `latest`
    """

    requested_generation: int | str


def names(view: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(view))


TASK_FIELDS = names(TaskView)
INSTANCE_FIELDS = names(InstanceView)
VERDICT_FIELDS = names(VerdictView)
IDENTITY_FIELDS = names(IdentityView)[1:]  # the id is the resource's own
LATEST_PREFIX = "latest_task_"
# An instance resource also shows its latest task (prefixed) and latest successful generation.
LATEST_TASK_FIELDS = (
    "latest_generation",
    "latest_success_generation",
    *(LATEST_PREFIX + name for name in TASK_FIELDS if name != "generation"),
)
# The input that names the generation a FunctionTask asked for ("latest" or a number);
# `generation` is the number it resolved to.
REQUESTED_GENERATION = names(RequestView)[0]

# What each resource kind declares as outputs, beyond its identity and settings inputs.
INSTANCE_OUTPUTS = (*INSTANCE_FIELDS, *LATEST_TASK_FIELDS, *VERDICT_FIELDS)
TASK_OUTPUTS = (REQUESTED_GENERATION, *TASK_FIELDS, *VERDICT_FIELDS)

# Whole numbers the API allows up to 2**63 - 1. The engine carries every number as a
# float64, exact only to 2**53 - 1: beyond it these cross as decimal text (`for_engine`).
WHOLE_FIELDS = (
    "generation",
    "latest_generation",
    "latest_success_generation",
    "version_id",
    REQUESTED_GENERATION,
)
_EXPECT_WHOLE = ("min_generation", "minGeneration")

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


def engine_whole(value: Any) -> Any:
    """An int beyond what a float64 holds exactly as its decimal text; anything else as is."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return str(value)
    return value


def for_engine(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields (inputs or outputs of a resource) as they must cross the Pulumi engine: the
    whole numbers of WHOLE_FIELDS, and `expect`'s min_generation, never rounded."""
    out = {key: engine_whole(v) if key in WHOLE_FIELDS else v for key, v in fields.items()}
    expect = out.get("expect")
    if isinstance(expect, Mapping) and any(key in expect for key in _EXPECT_WHOLE):
        out["expect"] = {
            key: engine_whole(value) if key in _EXPECT_WHOLE else value
            for key, value in expect.items()
        }
    return out


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def plain_json(value: Any) -> Any:
    """Numbers as the engine can carry them: a Decimal becomes an int or a float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    return value


def masked(value: Any) -> Any:
    """`value` with every registered secret masked in its texts, keys included (the
    same masking as every error and log line of the package)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def task_view(task: FunctionTask) -> TaskView:
    return TaskView(
        generation=task.generation,
        status=task.status,
        progress=task.progress,
        run_id=task.run_id,
        start_time=iso(task.start_time),
        end_time=iso(task.end_time),
        metrics=plain_json(task.metrics),
        errors=list(task.errors),
        extend_info=plain_json(dict(task.extend_info.data or {})),
        extend_info_raw=task.extend_info.raw,
    )


def instance_view(instance: FunctionInstance) -> InstanceView:
    belongs = instance.belongs
    task = instance.task
    return InstanceView(
        status=instance.status,
        version_id=instance.version_id,
        function_type=instance.function_type,
        model_type=instance.model_type,
        source=instance.source,
        description=instance.description,
        cron=instance.cron,
        create_time=iso(instance.create_time),
        belongs=(
            {"domain": belongs.domain, "category": belongs.category, "language": belongs.language}
            if belongs
            else None
        ),
        create_parameters=[{"name": p.name, "value": p.value} for p in instance.create_parameters],
        usage_parameters=[{"name": p.name, "value": p.value} for p in instance.usage_parameters],
        extend_info=plain_json(dict(instance.extend_info.data or {})),
        extend_info_raw=instance.extend_info.raw,
        task_dag_status=task.dag_status if task else None,
        task_progress=task.progress if task else None,
        task_last_run_time=iso(task.last_run_time) if task else None,
    )


def task_fields(task: FunctionTask) -> dict[str, Any]:
    fields_: dict[str, Any] = masked(asdict(task_view(task)))
    return fields_


def instance_fields(instance: FunctionInstance) -> dict[str, Any]:
    fields_: dict[str, Any] = masked(asdict(instance_view(instance)))
    return fields_


def latest_task_fields(seen: Observation) -> dict[str, Any]:
    """The latest task under `latest_task_*` (None when there is none yet)."""
    values = task_fields(seen.task) if seen.task else dict.fromkeys(TASK_FIELDS)
    if seen.task is None:
        values |= {"metrics": {}, "errors": []}
    out = {LATEST_PREFIX + k: v for k, v in values.items() if k != "generation"}
    out["latest_generation"] = values["generation"]
    out["latest_success_generation"] = seen.success_task.generation if seen.success_task else None
    return out


def observation_fields(seen: Observation) -> dict[str, Any]:
    """Everything read: an instance with its latest task, or a single task."""
    if seen.instance is not None:
        return instance_fields(seen.instance) | latest_task_fields(seen)
    if seen.task is None:
        raise ValueError("an observation without an instance holds a task")
    return task_fields(seen.task)


def verdict_fields(results: list[Result]) -> dict[str, Any]:
    return asdict(
        VerdictView(
            ready=all_met(results),
            # Lines for people, with server text in them: the one rule for such text.
            unmet=[safe(str(r)) for r in results if not r.met],
        )
    )
