"""Data sources take invoke options as generated functions do, on live reads:
`depends_on` on a twin delays its request until those resources exist, and `parent`
puts the data source's log lines on the parent's row."""

from __future__ import annotations

import asyncio
import threading

import pulumi
import pytest
from pulumi.runtime.proto import engine_pb2

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import Expect

from .harness import APP, BROKEN, FN, READY, UPSTREAM_TYPE, Upstream, settle

UNMET = (
    f"get_function_instance({APP}/{FN}/{BROKEN}): expectations not met:"
    " status: expected available, saw unavailable"
)


class UrnLog:
    """An engine that keeps each log line with the URN it is attached to."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str, str]] = []

    def Log(self, request: engine_pb2.LogRequest) -> None:
        self.lines.append((request.severity, request.message, request.urn))


def test_depends_on_delays_the_read_until_the_resource_exists(program, mocks, admin, monkeypatch):
    requests_while_registering: list[int] = []
    register = mocks.new_resource

    def slow_register(args):
        if args.typ == UPSTREAM_TYPE:  # a read not held back reaches the emulator meanwhile
            for _ in range(40):
                if admin.requests():
                    break
                threading.Event().wait(0.05)
            requests_while_registering.append(len(admin.requests()))
        return register(args)

    monkeypatch.setattr(mocks, "new_resource", slow_register)

    async def body():
        upstream = Upstream("upstream", 1)
        out = fn.get_function_instance_output(
            APP, FN, READY, opts=pulumi.InvokeOutputOptions(depends_on=[upstream])
        )
        return await settle(out), upstream

    settled, upstream = program.run(body, preview=False)

    assert requests_while_registering == [0]
    assert settled.known and settled.value.status == "available"
    assert upstream in settled.resources
    assert [r["action"] for r in admin.requests()] == ["GetFunctionInstance"]


def test_depends_on_a_resource_to_be_created_leaves_a_preview_unknown(program, mocks, admin):
    async def body():
        upstream = Upstream("upstream", 1)  # the recording mocks give it no id in a preview
        out = fn.get_function_instance_output(
            APP, FN, READY, opts=pulumi.InvokeOutputOptions(depends_on=upstream)
        )
        return await settle(out)

    assert not program.run(body, preview=True).known
    assert admin.requests() == []


@pytest.mark.parametrize("form", ["plain", "output"])
def test_parent_gets_the_data_sources_log_lines(program, admin, form):
    engine = UrnLog()
    unenforced = Expect(status="available", enforce=False)

    async def body():
        pulumi.runtime.settings.SETTINGS.engine = engine
        parent = Upstream("parent", 1)
        if form == "plain":
            opts = pulumi.InvokeOptions(parent=parent)
            fn.get_function_instance(APP, FN, BROKEN, expect=unenforced, opts=opts)
        else:
            opts = pulumi.InvokeOutputOptions(parent=parent)
            await settle(fn.get_function_instance_output(APP, FN, BROKEN, expect=unenforced,
                                                         opts=opts))  # fmt: skip
        urn = await parent.urn.future()
        for _ in range(200):  # pulumi.log sends a line for a resource once its URN resolves
            if engine.lines:
                break
            await asyncio.sleep(0.01)
        return urn

    urn = program.run(body, preview=False)

    assert (engine_pb2.WARNING, UNMET, urn) in engine.lines
    assert len(admin.requests()) == 1
