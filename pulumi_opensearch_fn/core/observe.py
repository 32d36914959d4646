"""The live reads behind resources, data sources and the gate command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..api.errors import OpenSearchFnError
from ..api.identity import Identity
from .expectations import Observation, ParsedExpect

if TYPE_CHECKING:
    from ..api.client import OpenSearchFunctionClient


A = TypeVar("A")
B = TypeVar("B")


class Both(Protocol):
    """Runs two independent requests and returns both answers (in order)."""

    def __call__(self, first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]: ...


def one_then_other(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    return first(), second()


class NoTaskYetError(OpenSearchFnError):
    """`latest` was asked for, and the instance has no training task yet.

    Not a `TaskNotFoundError`: a refresh keeps the resource in the stack."""


def observe(
    client: OpenSearchFunctionClient,
    identity: Identity,
    expect: ParsedExpect | None = None,
    *,
    both: Both = one_then_other,
) -> Observation:
    """An instance with its latest task(s), or one task: whatever `identity` names."""
    if identity.generation is None:
        return observe_instance(client, identity, expect, both=both)
    return observe_task(client, identity)


def observe_instance(
    client: OpenSearchFunctionClient,
    identity: Identity,
    expect: ParsedExpect | None = None,
    *,
    both: Both = one_then_other,
) -> Observation:
    """GetFunctionInstance (detail) and the latest task (pageSize=1), made with `both`
    (at once, where the caller can), plus the latest successful task only when an
    expectation needs it and the latest did not succeed, or the two latest successful
    tasks (pageSize=2) when max_regression needs them."""
    instance, latest = both(
        lambda: client.get_function_instance(identity, output="detail"),
        lambda: client.get_latest_function_task(identity),
    )
    success = latest if latest is not None and latest.status == "success" else None
    if latest is not None and expect is not None and expect.needs_previous_success:
        two = client.list_function_tasks_page(identity, status="success", page_size=2).tasks
        return Observation(
            instance=instance,
            task=latest,
            success_task=two[0] if two else None,
            previous_success_task=two[1] if len(two) > 1 else None,
            previous_read=True,
        )
    if success is None and latest is not None and expect is not None and expect.needs_success_task:
        success = client.get_latest_function_task(identity, status="success")
    return Observation(instance=instance, task=latest, success_task=success)


def observe_task(client: OpenSearchFunctionClient, identity: Identity) -> Observation:
    """One task: a given generation (GetFunctionTask) or the latest (ListFunctionTasks, 1).

    Raises NoTaskYetError when `latest` finds no task."""
    if identity.generation == "latest":
        task = client.get_latest_function_task(identity)
        if task is None:
            raise NoTaskYetError(f"{identity.instance} has no training task yet")
    else:
        task = client.get_function_task(identity)
    return Observation(
        instance=None,
        task=task,
        success_task=task if task.status == "success" else None,
    )
