"""A program's `Wait` on `up` reads through throttling, 5xx and network errors until its
timeout, showing each on the resource's row, and ends at once on a final answer.
Time moves with requests: the emulator fails the first N, its clock steps at one."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn import Expect, FunctionInstance, Wait

from .harness import APP, FN, READY, Program, failed_registration

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
SUBJECT = f"FunctionInstance {APP}/{FN}/{READY}"


def gets(admin) -> int:
    return admin.counts()["requests"].get("action:GetFunctionInstance", 0)


@pytest.fixture
def program(bare_program: Program, stack_config: dict[str, str], set_stack_config) -> Program:
    """One request in flight at most: the limiter has nothing to cut, so a throttled
    try counts as an attempt, as any failure does (these tests count the client's tries)."""
    set_stack_config({**stack_config, "opensearch-fn:maxConcurrentReads": "1"})
    return bare_program


def test_up_reads_through_server_errors_until_training_ends(program, mocks, admin, engine_log):
    generation = admin.start_task(APP, FN, READY, duration_s=600)
    # Six 503s: the client's four tries for the first read, two of the second's.
    admin.inject_fault("error", status=503, count=6, action="GetFunctionInstance")
    # The run finishes just before the 8th GetFunctionInstance (the third read's).
    admin.advance_clock_at_request(601, 8, action="GetFunctionInstance")
    expect = Expect(task_status="success", min_generation=generation)

    program.run(lambda: FunctionInstance("model", APP, FN, READY, expect=expect,
                                         wait=Wait(timeout="5m", interval="1s")))  # fmt: skip

    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["gate"] == {"action": "pass"}
    assert registered.inputs["latest_task_status"] == "success"
    lines = [m for m in engine_log.messages() if m.startswith(SUBJECT)]
    [failed] = [m for m in lines if "read failed" in m]
    assert failed.startswith(f"{SUBJECT}: read failed (ServerError: GetFunctionInstance")
    assert "HTTP 503" in failed
    assert "), retrying, " in failed
    assert any(f"task gen {generation} success" in m for m in lines), lines
    assert admin.counts()["requests"]["fault:error"] == 6
    assert admin.clock_steps() == []


def test_up_reads_through_throttling(program, mocks, admin, engine_log):
    admin.inject_fault("throttle", status=429, count=4, action="GetFunctionInstance")

    program.run(lambda: FunctionInstance("model", APP, FN, READY,
                                         expect=Expect(status="available"),
                                         wait=Wait(timeout="5m", interval="1s")))  # fmt: skip

    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["gate"] == {"action": "pass"}
    assert any("read failed (ThrottledError: " in m for m in engine_log.messages())
    assert gets(admin) == 5


def test_up_still_failing_at_the_timeout_fails_saying_so(program, mocks, admin, engine_log):
    admin.inject_fault("error", status=503, action="GetFunctionInstance")  # every one

    reason = failed_registration(
        program, mocks, engine_log,
        lambda: FunctionInstance("model", APP, FN, READY, expect=Expect(status="available"),
                                 wait=Wait(timeout="2s", interval="1s")),
        preview=False,
    )  # fmt: skip

    assert reason.startswith(
        f"{SUBJECT}: still failing when the 2s wait ended: GetFunctionInstance"
    )
    assert "HTTP 503" in reason
    assert any("read failed (ServerError: " in m for m in engine_log.messages())


def test_up_not_found_ends_the_wait_at_once(program, mocks, admin, engine_log):
    reason = failed_registration(
        program, mocks, engine_log,
        lambda: FunctionInstance("model", APP, FN, "missing", expect=Expect(status="available"),
                                 wait=Wait(timeout="10m", interval="1s")),
        preview=False,
    )  # fmt: skip

    assert "Instance.NotExist" in reason
    assert gets(admin) == 1
    assert not any("read failed" in m for m in engine_log.messages())
