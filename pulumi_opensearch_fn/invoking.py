"""Invoke options of the data sources, taken as generated functions take them.

`opts=pulumi.InvokeOptions(parent=...)` attaches a data source's log lines to the
parent's row. On an `_output` twin, `pulumi.InvokeOutputOptions(depends_on=[...])`
delays the read until those resources exist (for a component, its children), and
in a preview leaves the result unknown while one of them is still to be created,
as Pulumi's own output invokes do.
"""

from __future__ import annotations

import asyncio
import contextvars
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime.proto import engine_pb2

from .api.errors import InvalidInputError
from .core.printable import brief

if TYPE_CHECKING:
    from pulumi import Resource

# The parent's URN, in the context of a worker thread running an `_output` twin's read:
# `pulumi.log` can attach a line to a resource only from the program's event loop.
_PARENT_URN: ContextVar[str | None] = ContextVar("opensearch_fn_parent_urn", default=None)


def checked(opts: object, *, output: bool) -> pulumi.InvokeOptions | None:
    """`opts` if it is options a data source takes; InvalidInputError otherwise."""
    if opts is None or isinstance(opts, pulumi.InvokeOptions):
        if not output and isinstance(opts, pulumi.InvokeOutputOptions) and opts.depends_on:
            raise InvalidInputError(
                "opts: depends_on needs the _output form of the data source, which waits"
                " for those resources; a plain call reads at once"
            )
        return opts
    wanted = "pulumi.InvokeOptions" + (" or pulumi.InvokeOutputOptions" if output else "")
    raise InvalidInputError(f"opts must be {wanted}, got {brief(opts)}")


def warn(message: str, opts: pulumi.InvokeOptions | None) -> None:
    """A warning, on the parent's row when `opts` names one."""
    urn = _PARENT_URN.get()
    engine = pulumi.runtime.settings.get_engine()
    if urn and engine is not None:  # in a worker thread: the URN was resolved before
        engine.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message, urn=urn))
        return
    parent = opts.parent if opts is not None else None
    pulumi.log.warn(message, resource=parent)


async def worker_context(opts: pulumi.InvokeOptions | None) -> contextvars.Context:
    """The context a worker thread runs a read in: the program's (Pulumi keeps config
    set in-process in a context variable), with the parent's URN resolved."""
    context = contextvars.copy_context()
    if opts is not None and opts.parent is not None:
        urn = await opts.parent.urn.future()
        context.run(_PARENT_URN.set, urn)
    return context


def dependencies(opts: pulumi.InvokeOptions | None) -> pulumi.Output[bool] | None:
    """Known (True) once every resource of `depends_on` exists; unknown when one is still
    to be created (a preview); its resources are those of `depends_on`. None without any."""
    if not isinstance(opts, pulumi.InvokeOutputOptions) or not opts.depends_on:
        return None
    waited = asyncio.ensure_future(_wait_for(opts))

    async def resources() -> set[Resource]:
        return (await waited)[1]

    async def value() -> bool:
        return (await waited)[0]

    async def known() -> bool:
        return (await waited)[0]

    return pulumi.Output(resources(), value(), known())


async def _wait_for(opts: pulumi.InvokeOutputOptions) -> tuple[bool, set[Resource]]:
    """What Pulumi's output invokes wait for, where the engine does not gate them: the
    id of every custom resource implied (components expanded), or its URN."""
    from pulumi.resource import CustomResource
    from pulumi.runtime._depends_on import _resolve_depends_on
    from pulumi.runtime.rpc import _expand_dependencies

    direct: set[Resource] = await _resolve_depends_on(opts._depends_on_list())
    expanded: dict[str, Any] = await _expand_dependencies(direct, None)
    for resource in expanded.values():
        if isinstance(resource, CustomResource) and resource.__dict__.get("id") is not None:
            if not await resource.id.is_known():
                return False, direct
        else:
            await resource.urn.future()
    return True, direct


def plain(opts: pulumi.InvokeOptions | None) -> pulumi.InvokeOptions | None:
    """The options a twin's read passes on to the plain call: all but `depends_on`,
    which the twin has waited for."""
    if opts is None:
        return None
    return pulumi.InvokeOptions(parent=opts.parent, provider=opts.provider,
                                version=opts.version or None,
                                plugin_download_url=opts.plugin_download_url)  # fmt: skip
