"""The event loop a resource schedules its read on: the program's, running or not.

Under `pulumi up` the program runs inside its event loop. A unit test that imports a
program under `pulumi.runtime.set_mocks` constructs resources before any loop runs:
their work waits on the thread's loop until `@pulumi.runtime.test` runs it, as
Pulumi's own resources do. A thread with no loop at all can hold no Pulumi resource.
"""

from __future__ import annotations

import asyncio
import threading
import warnings

import pulumi

from .api.errors import OpenSearchFnError


class NoEventLoopError(OpenSearchFnError, pulumi.RunError):
    """A resource was constructed in a thread that has no asyncio event loop."""


def program_loop(what: str) -> asyncio.AbstractEventLoop:
    """The running loop, else the loop Pulumi's own futures use in this thread.

    Raises NoEventLoopError (never asyncio's RuntimeError) when the thread has none."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns when it makes the main thread's loop implicitly, as
            # every Pulumi future made outside a running loop does.
            warnings.simplefilter("ignore", DeprecationWarning)
            return asyncio.get_event_loop()
    except RuntimeError:
        thread = threading.current_thread().name
        raise NoEventLoopError(
            f"{what}: constructed in thread {thread!r}, which has no asyncio event loop;"
            " construct Pulumi resources in the program's thread (in a unit test, the"
            " thread that called pulumi.runtime.set_mocks)"
        ) from None
