"""Resources constructed in a thread with no asyncio event loop at all fail with the
package's own clear error, never asyncio's RuntimeError (Pulumi's own resources would
raise that one: every Pulumi future needs the thread's loop)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask, OpenSearchFnError
from pulumi_opensearch_fn.event_loop import NoEventLoopError

from .programs import APP, FN, READY, ModelMocks

CONSTRUCTORS: dict[str, Callable[[], Any]] = {
    "instance": lambda: FunctionInstance(
        "model", APP, FN, READY, expect=Expect(status="available")
    ),
    "task": lambda: FunctionTask("task", APP, FN, READY, 3),
    "instance.get": lambda: FunctionInstance.get("found", f"{APP}/{FN}/{READY}"),
}


def _in_a_thread_without_a_loop(construct: Callable[[], Any]) -> BaseException | None:
    raised: list[BaseException] = []

    def target() -> None:
        try:
            construct()
        except BaseException as error:  # what the thread saw, whatever it is
            raised.append(error)

    thread = threading.Thread(target=target, name="no-loop")
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return raised[0] if raised else None


@pytest.mark.parametrize("what", list(CONSTRUCTORS))
def test_construction_in_a_thread_without_a_loop_is_a_clear_error(offline, what):
    mocks = ModelMocks()
    pulumi.runtime.set_mocks(mocks, preview=False)

    error = _in_a_thread_without_a_loop(CONSTRUCTORS[what])

    assert isinstance(error, NoEventLoopError), repr(error)
    assert isinstance(error, OpenSearchFnError) and isinstance(error, pulumi.RunError)
    assert "constructed in thread 'no-loop', which has no asyncio event loop" in str(error)
    assert "construct Pulumi resources in the program's thread" in str(error)
    assert mocks.calls == [] and mocks.resources == []
    assert offline.accepted == []
