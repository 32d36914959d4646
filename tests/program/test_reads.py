"""Reads in the program: bounded concurrency observed at the emulator, retried
throttling, the verdict sent to the provider, progress on the resource's row."""

from __future__ import annotations

import logging
import time

import pulumi
import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, Wait
from pulumi_opensearch_fn.api.errors import InstanceNotFoundError, NetworkError
from pulumi_opensearch_fn.reads import ReadPool
from pulumi_opensearch_fn.resources import GateFailedError

from .harness import APP, FN, READY, Upstream, provider_check

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
LATENCY_MS = 250


def most_in_flight(entries: list[dict]) -> int:
    """The most requests the emulator was serving at once, judged at each request's
    midpoint (its log has the end time and the time taken): edges of a few ms between
    one request and the next on the same connection do not count."""
    spans = [(e["time"] - e["latencyMs"] / 1000, e["time"]) for e in entries]
    return max(
        (sum(start <= (a + b) / 2 <= end for start, end in spans) for a, b in spans), default=0
    )


@pytest.mark.parametrize(("configured", "bound"), [(None, 32), ("3", 3)])
def test_reads_run_concurrently_within_the_bound(
    bare_program, admin, stack_config, set_stack_config, configured, bound
):
    config = dict(stack_config)
    if configured is not None:
        config["opensearch-fn:maxConcurrentReads"] = configured
    set_stack_config(config)
    admin.inject_fault("latency", latency_ms=LATENCY_MS)
    count = bound * 3

    bare_program.run(
        lambda: [FunctionInstance(f"model-{i}", APP, FN, READY) for i in range(count)],
        preview=True,
    )

    entries = admin.requests()
    assert len(entries) == 2 * count  # one GetFunctionInstance + one ListFunctionTasks each
    in_flight = most_in_flight(entries)
    assert in_flight <= bound
    assert in_flight > 1, "the reads ran one after another"


def test_a_bad_bound_fails_each_resource_before_any_request(
    bare_program, mocks, admin, engine_log, stack_config, set_stack_config
):
    set_stack_config({**stack_config, "opensearch-fn:maxConcurrentReads": "0"})

    with pytest.raises(GateFailedError):
        bare_program.run(lambda: FunctionInstance("model", APP, FN, READY), preview=True)

    assert mocks.resources == []
    assert engine_log.messages(logging.ERROR) == [
        f"FunctionInstance {APP}/{FN}/{READY}: opensearch-fn:maxConcurrentReads must be a"
        " whole number >= 1, got '0'"
    ]
    assert admin.requests() == []


def test_throttling_in_a_burst_is_retried(program, mocks, admin, stack_config, provider_config):
    admin.inject_fault("throttle", count=6)

    program.run(
        lambda: [FunctionInstance(f"model-{i}", APP, FN, READY) for i in range(10)],
        preview=True,
    )

    codes = [r["code"] for r in admin.requests()]
    assert codes.count("Throttling.User") == 6
    registered = mocks.registered(INSTANCE_TYPE)
    assert len(registered) == 10
    for resource in registered:
        assert resource.inputs["gate"] == {"action": "pass"}
        assert provider_check(resource, stack_config).failures == []


def test_unknown_identity_reads_nothing_and_leaves_the_observation_unknown(program, mocks, admin):
    program.run(
        lambda: FunctionInstance(
            "model", APP, FN, Upstream("names", READY).value, expect=Expect(status="available")
        ),
        preview=True,
    )

    [registered] = mocks.registered(INSTANCE_TYPE)
    unknown = type(registered.inputs["instance_name"])
    for name in ("status", "latest_generation", "ready", "unmet", "gate"):
        assert isinstance(registered.inputs[name], unknown), name
    assert admin.requests() == []


def test_up_waits_in_the_program_and_logs_progress(program, mocks, admin, engine_log):
    generation = admin.start_task(APP, FN, READY, duration_s=600)
    # The run finishes just before the second read: the first sees it running.
    admin.advance_clock_at_request(601, 2, action="GetFunctionInstance")
    expect = Expect(task_status="success", min_generation=generation)

    program.run(lambda: FunctionInstance("model", APP, FN, READY, expect=expect,
                                         wait=Wait(timeout="60s", interval="1s")))  # fmt: skip

    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["gate"] == {"action": "pass"}
    assert registered.inputs["latest_generation"] == generation
    assert registered.inputs["latest_task_status"] == "success"
    lines = [m for m in engine_log.messages() if m.startswith(f"FunctionInstance {APP}/{FN}/")]
    assert any(f"task gen {generation} running" in m for m in lines), lines
    assert any(f"task gen {generation} success" in m for m in lines), lines
    assert admin.clock_steps() == []


def test_preview_does_not_wait(program, mocks, admin, engine_log):
    generation = admin.start_task(APP, FN, READY, duration_s=3600)
    expect = Expect(task_status="success", min_generation=generation)

    program.run(lambda: FunctionInstance("model", APP, FN, READY, expect=expect, wait=True),
                preview=True)  # fmt: skip

    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["gate"] == {"action": "pass"}
    assert registered.inputs["ready"] is False
    assert [r["action"] for r in admin.requests()].count("GetFunctionInstance") == 1
    assert any("up will wait up to 10m for: task_status" in m for m in engine_log.messages())


def test_an_instances_two_requests_go_at_once(program, admin):
    admin.inject_fault("latency", latency_ms=LATENCY_MS)

    program.run(lambda: FunctionInstance("model", APP, FN, READY), preview=True)

    entries = admin.requests()
    assert sorted(e["action"] for e in entries) == ["GetFunctionInstance", "ListFunctionTasks"]
    assert most_in_flight(entries) == 2


def test_a_bound_of_one_sends_one_request_at_a_time(
    bare_program, admin, stack_config, set_stack_config
):
    set_stack_config({**stack_config, "opensearch-fn:maxConcurrentReads": "1"})
    admin.inject_fault("latency", latency_ms=50)

    bare_program.run(
        lambda: [FunctionInstance(f"model-{i}", APP, FN, READY) for i in range(3)], preview=True
    )

    entries = admin.requests()
    assert len(entries) == 6
    assert most_in_flight(entries) == 1


def test_plain_inputs_start_the_read_while_the_program_runs(program, admin):
    def body() -> list[str]:
        FunctionInstance("model", APP, FN, READY)
        # The event loop is held here: only a read begun by the constructor can reach
        # the emulator before the body returns.
        deadline = time.monotonic() + 10
        while len(admin.requests()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return [e["action"] for e in admin.requests()]

    actions = program.run(body, preview=True)

    assert sorted(actions) == ["GetFunctionInstance", "ListFunctionTasks"]


def test_output_inputs_read_once_they_resolve(program, admin, mocks):
    def body() -> None:
        instance = pulumi.Output.from_input(READY).apply(lambda name: name)
        FunctionInstance("model", APP, FN, instance)
        assert admin.requests() == []  # nothing is known before the loop runs

    program.run(body, preview=True)

    assert len(admin.requests()) == 2
    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["gate"] == {"action": "pass"}


class TestBoth:
    """An instance's two requests at once: answers in order, the first one's error wins."""

    def test_answers_in_order(self):
        pool = ReadPool(2)
        try:
            assert pool.both(lambda: "instance", lambda: "task") == ("instance", "task")
        finally:
            pool.close()

    def test_the_first_error_wins(self):
        pool = ReadPool(2)

        def first() -> str:
            raise InstanceNotFoundError("gone", code="Instance.NotExist")

        def second() -> str:
            raise NetworkError("down")

        try:
            with pytest.raises(InstanceNotFoundError):
                pool.both(first, second)
            with pytest.raises(NetworkError):
                pool.both(lambda: "instance", second)
        finally:
            pool.close()
