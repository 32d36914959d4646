"""Programs run one after another in one process (as the Automation API runs inline
programs: a fresh event loop each, closed at the end) leave nothing behind: threads,
file descriptors and cached clients stay flat, and each program still sends its
two requests."""

from __future__ import annotations

import asyncio
import gc
import os
import pickle
import threading

from pulumi_opensearch_fn import FunctionInstance, FunctionTask
from pulumi_opensearch_fn.core import clients
from pulumi_opensearch_fn.reads import ReadPool, read_pool

from .harness import APP, FN, READY, Program, RecordingMocks

PROGRAMS = 200
EVERY = 10  # programs between two counts (a count collects garbage first: slow)
# Connections closed by one program may still be ending (on both sides: the emulator
# runs in this process) while the next one runs.
SLACK = 6


def run_one(program: Program, name: str) -> None:
    """One inline program on its own event loop, as `automation._server` runs it."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    program.mocks = RecordingMocks()
    try:
        program.run(lambda: FunctionInstance(name, APP, FN, READY))
    finally:
        loop.close()
    [registered] = program.mocks.resources
    assert registered.inputs["gate"] == {"action": "pass"}, registered.inputs["gate"]


def usage() -> tuple[int, int]:
    # The mocked engine leaves an unclosed event loop (3 descriptors) in each of its
    # worker threads: garbage once the thread ends, so collected before counting.
    gc.collect()
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


def test_programs_one_after_another_keep_threads_and_descriptors_flat(program, admin):
    clients.close_clients()  # whatever earlier tests in this process left
    seen: list[tuple[int, int]] = []
    for index in range(1, PROGRAMS + 1):
        run_one(program, f"model-{index}")
        # This program's client: the one before it was closed when this one first read.
        assert len(clients._clients) <= 1, f"program {index}: {len(clients._clients)} clients"
        if index % EVERY == 0:
            seen.append(usage())

    threads, fds = seen[0]  # after the first few programs
    assert max(t for t, _ in seen) <= threads + SLACK, seen
    assert max(f for _, f in seen) <= fds + SLACK, seen
    counts = admin.counts()["requests"]
    assert counts["action:GetFunctionInstance"] == PROGRAMS
    assert counts["action:ListFunctionTasks"] == PROGRAMS


def closed(pool: ReadPool) -> bool:
    try:
        pool.both(lambda: "instance", lambda: "task")
    except RuntimeError:  # "cannot schedule new futures after shutdown"
        return True
    return False


def test_a_program_still_running_keeps_its_pool_until_it_ends():
    """Two programs at once on two threads: the second's first read leaves the first's
    pool open; the first read of a program after both ended closes both."""
    started, release = threading.Event(), threading.Event()
    pools: dict[str, ReadPool] = {}

    def first_program() -> None:
        async def body() -> None:
            pools["first"] = read_pool({})
            started.set()
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 30)
            pools["first, later"] = read_pool({})
            pools["first, later"].both(lambda: "instance", lambda: "task")

        asyncio.run(body())

    async def another_program() -> ReadPool:
        return read_pool({})

    thread = threading.Thread(target=first_program, daemon=True)
    thread.start()
    try:
        assert started.wait(30)
        second = asyncio.run(another_program())
    finally:
        release.set()
        thread.join(30)
    assert pools["first, later"] is pools["first"]
    assert second is not pools["first"]
    assert not closed(pools["first"])

    third = asyncio.run(another_program())
    assert closed(pools["first"])
    assert closed(second)
    assert not closed(third)


def test_constructing_resources_leaves_pickle_as_it_was(program):
    """pulumi.dynamic wraps the pickler once more for every resource it pickles the
    provider of; about a thousand in one process then fail with RecursionError."""
    before = dict(pickle._Pickler.__dict__)

    program.run(
        lambda: [
            resource
            for index in range(3)
            for resource in (
                FunctionInstance(f"model-{index}", APP, FN, READY),
                FunctionTask(f"task-{index}", APP, FN, READY),
            )
        ],
        preview=True,
    )

    assert dict(pickle._Pickler.__dict__) == before
