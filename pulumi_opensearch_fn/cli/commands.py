"""`instance`, `tasks` and `task`: one read each, shown as text or JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..api.errors import TaskNotFoundError
from ..api.identity import Identity
from ..core.observe import NoTaskYetError, observe_task
from ..core.outputs import instance_fields, observation_fields, task_fields
from . import exit_codes, render

if TYPE_CHECKING:
    from ..api.client import OpenSearchFunctionClient
    from ..api.models import FunctionInstance, FunctionTask


def asked(args: argparse.Namespace) -> Identity:
    """The instance the command names."""
    return Identity(args.app, args.function, args.instance)


def identity(args: argparse.Namespace) -> dict[str, Any]:
    """The identity fields every JSON document starts with."""
    found = asked(args)
    return {"id": found.resource_id, **found.fields()}


def instance(args: argparse.Namespace, client: OpenSearchFunctionClient) -> int:

    found = client.get_function_instance(asked(args), output=args.output)
    if args.json:
        render.emit(render.to_json({**identity(args), **instance_fields(found)}))
    else:
        render.emit(render.key_values(instance_rows(args, found)))
    return exit_codes.OK


def instance_rows(args: argparse.Namespace, found: FunctionInstance) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("app group", args.app),
        ("function", found.function_name or args.function),
        ("instance", found.instance_name or args.instance),
        ("status", found.status),
        ("version", found.version_id),
        ("function type", found.function_type),
        ("model type", found.model_type),
        ("source", found.source),
        ("created", render.when(found.create_time)),
        ("cron", found.cron),
        ("description", found.description),
    ]
    if found.belongs:
        b = found.belongs
        rows.append(("belongs", f"domain={b.domain} category={b.category} language={b.language}"))
    if found.task:
        task = found.task
        rows += [
            ("training", task.dag_status),
            ("progress", render.percent(task.progress)),
            ("last run", render.when(task.last_run_time)),
        ]
    params = [{"name": p.name, "value": p.value} for p in found.create_parameters]
    usage = [{"name": p.name, "value": p.value} for p in found.usage_parameters]
    if params:
        rows.append(("create parameters", render.parameters(params)))
    if usage:
        rows.append(("usage parameters", render.parameters(usage)))
    if found.extend_info.raw:
        rows.append(("extend info", found.extend_info.raw))
    return rows


def tasks(args: argparse.Namespace, client: OpenSearchFunctionClient) -> int:
    found = list(
        client.list_function_tasks(
            asked(args), status=args.status, start_time=args.start_time, end_time=args.end_time,
            page_size=args.page_size, limit=args.limit,
        )
    )  # fmt: skip
    if args.json:
        render.emit(render.to_json([task_fields(t) for t in found]))
        return exit_codes.OK
    if not found:
        render.emit(f"no training tasks for {args.app}/{args.function}/{args.instance}")
        return exit_codes.OK
    headers = ("GEN", "STATUS", "PROGRESS", "STARTED", "ENDED", "TOOK", "METRICS", "ERRORS")
    rows = [
        (
            t.generation, t.status, render.percent(t.progress), render.when(t.start_time),
            render.when(t.end_time), render.span(t.start_time, t.end_time),
            render.metrics(t.extend_info.exact_metrics), "; ".join(t.errors),
        )
        for t in found
    ]  # fmt: skip
    render.emit(render.table(headers, rows))
    return exit_codes.OK


def task(args: argparse.Namespace, client: OpenSearchFunctionClient) -> int:

    wanted = asked(args).at(args.generation)
    try:
        seen = observe_task(client, wanted)
    except NoTaskYetError:  # `latest` only: a missing generation raises TaskNotFoundError
        raise TaskNotFoundError(
            f"{wanted.instance} has no training tasks yet", code="Task.NotExist"
        ) from None
    assert seen.task is not None
    if args.json:
        render.emit(render.to_json({**identity(args), **observation_fields(seen)}))
    else:
        render.emit(render.key_values(task_rows(seen.task)))
    return exit_codes.OK


def task_rows(found: FunctionTask) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("generation", found.generation),
        ("status", found.status),
        ("progress", render.percent(found.progress)),
        ("run id", found.run_id),
        ("started", render.when(found.start_time)),
        ("ended", render.when(found.end_time)),
        ("took", render.span(found.start_time, found.end_time)),
        ("age", render.ago(found.end_time)),
        ("metrics", render.metrics(found.extend_info.exact_metrics)),
        ("errors", "; ".join(found.errors) or "none"),
    ]
    if not found.extend_info.valid:
        rows.append(("extend info", f"{found.extend_info.raw} ({found.extend_info.parse_error})"))
    return rows
