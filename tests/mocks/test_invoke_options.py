"""Data sources take invoke options as generated functions do, under mocks: `depends_on`
on a twin delays its `Mocks.call` until the resources exist, and `parent` puts their
log lines on the parent's row. Wrong options are refused before any call."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest
from pulumi.runtime.proto import engine_pb2

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError, Expect

from .programs import APP, BROKEN, FN, GET_INSTANCE, READY, ModelMocks, Upstream, run, settle

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


def test_depends_on_delays_the_call_until_the_resource_exists(offline):
    mocks = ModelMocks()

    async def body():
        upstream = Upstream("upstream")
        out = fn.get_function_instance_output(
            APP, FN, READY, opts=pulumi.InvokeOutputOptions(depends_on=[upstream])
        )
        return await settle(out), upstream, await out.resources()

    settled, upstream, resources = run(mocks, body, preview=False)

    assert settled.known and settled.value.status == "available"
    assert mocks.events == ["register upstream", f"call {GET_INSTANCE}"]
    assert upstream in resources
    assert offline.accepted == []


def test_depends_on_a_resource_to_be_created_leaves_a_preview_unknown(offline):
    mocks = ModelMocks()
    mocks.upstream_id = ""  # in a preview, a resource to be created has no id yet

    async def body():
        upstream = Upstream("upstream")
        out = fn.get_function_instance_output(
            APP, FN, READY, opts=pulumi.InvokeOutputOptions(depends_on=upstream)
        )
        return await settle(out)

    assert not run(mocks, body, preview=True).known
    assert mocks.calls == []
    assert offline.accepted == []


@pytest.mark.parametrize("form", ["plain", "output"])
def test_parent_gets_the_data_sources_log_lines(offline, form):
    mocks = ModelMocks()
    engine = UrnLog()
    unenforced = Expect(status="available", enforce=False)

    async def body():
        pulumi.runtime.settings.SETTINGS.engine = engine
        parent = Upstream("parent")
        if form == "plain":
            fn.get_function_instance(
                APP, FN, BROKEN, expect=unenforced, opts=pulumi.InvokeOptions(parent=parent)
            )
        else:
            out = fn.get_function_instance_output(
                APP, FN, BROKEN, expect=unenforced, opts=pulumi.InvokeOutputOptions(parent=parent)
            )
            await settle(out)
        urn = await parent.urn.future()
        for _ in range(200):  # pulumi.log sends a line for a resource once its URN resolves
            if engine.lines:
                break
            await asyncio.sleep(0.01)
        return urn

    urn = run(mocks, body, preview=False)

    assert (engine_pb2.WARNING, UNMET, urn) in engine.lines
    assert offline.accepted == []


WRONG: dict[str, tuple[Any, Any, str]] = {
    "resource options": (
        fn.get_function_instance, pulumi.ResourceOptions(),
        "opts must be pulumi.InvokeOptions, got ",
    ),
    "resource options on a twin": (
        fn.get_function_instance_output, pulumi.ResourceOptions(),
        "opts must be pulumi.InvokeOptions or pulumi.InvokeOutputOptions, got ",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_options_are_refused_before_any_call(offline, case):
    call, opts, words = WRONG[case]
    mocks = ModelMocks()

    with pytest.raises(DataSourceError) as failed:
        run(mocks, lambda: call(APP, FN, READY, opts=opts), preview=False)

    assert words in str(failed.value)
    assert mocks.calls == []
    assert offline.accepted == []


def test_a_plain_call_with_depends_on_is_refused(offline):
    mocks = ModelMocks()
    upstream: list[Upstream] = []

    def body():
        upstream.append(Upstream("upstream"))
        opts = pulumi.InvokeOutputOptions(depends_on=upstream)
        return fn.get_function_instance(APP, FN, READY, opts=opts)

    with pytest.raises(DataSourceError) as failed:
        run(mocks, body, preview=False)

    assert "depends_on needs the _output form of the data source" in str(failed.value)
    assert mocks.calls == []
    assert offline.accepted == []
