"""Training runs progress with the simulated clock, and the instance follows."""

from __future__ import annotations

import json

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorAdminError, EmulatorServer

from .conftest import FROZEN_MS
from .helpers import api_path, get


def task(server: EmulatorServer, instance: str, generation: str) -> dict:
    reply = get(
        server.port, "GetFunctionTask", api_path("my_app", "ctr", instance, generation=generation)
    )
    assert reply.status == 200, reply.body
    return reply.json()["result"]


def detail(server: EmulatorServer, instance: str) -> dict:
    reply = get(
        server.port,
        "GetFunctionInstance",
        api_path("my_app", "ctr", instance),
        {"output": "detail"},
    )
    return reply.json()["result"]


@pytest.fixture
def frozen_admin(frozen_server: EmulatorServer):
    with frozen_server.admin() as client:
        yield client


def test_successful_run(frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin):
    metrics = {"recall": 93, "auc": 0.9}
    generation = frozen_admin.start_task("my_app", "ctr", "ctr_test", 600, metrics=metrics)
    assert generation == 4
    started = task(frozen_server, "ctr_test", "4")
    assert (started["status"], started["progress"], started["endTime"]) == ("running", 0, 0)
    assert started["startTime"] == FROZEN_MS
    assert json.loads(started["extendInfo"]) == {"errors": []}
    assert detail(frozen_server, "ctr_test")["task"] == {
        "dagStatus": "running",
        "progress": 0,
        "lastRunTime": FROZEN_MS,
    }

    frozen_admin.advance_clock(150)
    assert task(frozen_server, "ctr_test", "4")["progress"] == 25
    frozen_admin.advance_clock(449.9)
    assert task(frozen_server, "ctr_test", "4")["progress"] == 99
    assert detail(frozen_server, "ctr_test")["versionId"] == 3

    frozen_admin.advance_clock(0.1)
    done = task(frozen_server, "ctr_test", "4")
    assert (done["status"], done["progress"], done["endTime"]) == (
        "success",
        100,
        FROZEN_MS + 600_000,
    )
    assert json.loads(done["extendInfo"]) == {**metrics, "errors": []}
    inst = detail(frozen_server, "ctr_test")
    assert (inst["versionId"], inst["status"]) == (4, "available")
    assert inst["task"] == {
        "dagStatus": "success",
        "progress": 100,
        "lastRunTime": FROZEN_MS + 600_000,
    }
    listed = get(
        frozen_server.port, "ListFunctionTasks", api_path("my_app", "ctr", "ctr_test", tasks=True)
    )
    assert listed.json()["result"][0]["generation"] == "4"


def test_failed_run_leaves_the_version(frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin):
    errors = [{"code": "OOM", "message": "worker ran out of memory"}]
    frozen_admin.start_task("my_app", "ctr", "ctr_broken", 60, outcome="failed", errors=errors)
    frozen_admin.advance_clock(3600)
    done = task(frozen_server, "ctr_broken", "3")
    assert done["status"] == "failed"
    assert json.loads(done["extendInfo"])["errors"] == errors
    inst = detail(frozen_server, "ctr_broken")
    assert (inst["versionId"], inst["status"], inst["task"]["dagStatus"]) == (
        0,
        "unavailable",
        "failed",
    )


def test_sample_training_instance_finishes(
    frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin
):
    running = task(frozen_server, "ctr_training", "2")
    assert (running["status"], running["progress"]) == ("running", 20)  # 2 of 10 minutes
    assert detail(frozen_server, "ctr_training")["task"]["dagStatus"] == "running"
    frozen_admin.advance_clock(8 * 60)
    assert task(frozen_server, "ctr_training", "2")["status"] == "success"
    assert detail(frozen_server, "ctr_training")["versionId"] == 2


def test_settling_happens_once(frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin):
    frozen_admin.start_task("my_app", "ctr", "ctr_test", 10)
    frozen_admin.advance_clock(20)
    for _ in range(3):
        assert detail(frozen_server, "ctr_test")["versionId"] == 4
    frozen_admin.advance_clock(20)
    assert detail(frozen_server, "ctr_test")["versionId"] == 4


def test_one_run_at_a_time(frozen_admin: EmulatorAdmin):
    with pytest.raises(EmulatorAdminError) as info:
        frozen_admin.start_task("my_app", "ctr", "ctr_training", 60)
    assert info.value.status == 409


def test_clock_moves_forward_only(frozen_admin: EmulatorAdmin):
    before = frozen_admin.clock()["nowMs"]
    assert frozen_admin.advance_clock(1.5) == before + 1500
    with pytest.raises(EmulatorAdminError) as info:
        frozen_admin.advance_clock(-1)
    assert info.value.status == 400


def test_admin_instance_updates(server: EmulatorServer, admin: EmulatorAdmin):
    shown = admin.set_instance_status("my_app", "ctr", "ctr_test", "unavailable")
    assert shown["status"] == "unavailable"
    admin.upsert_instance(
        "new_app", "rank", "r1", version_id=5, cron="0 1 * * *", status="available"
    )
    inst = get(server.port, "GetFunctionInstance", api_path("new_app", "rank", "r1")).json()[
        "result"
    ]
    assert (inst["versionId"], inst["cron"], inst["status"]) == (5, "0 1 * * *", "available")
    with pytest.raises(EmulatorAdminError) as info:
        admin.set_instance_status("my_app", "ctr", "missing", "available")
    assert info.value.status == 404
    with pytest.raises(EmulatorAdminError) as info:
        admin.upsert_instance("my_app", "ctr", "ctr_test", status="ready")
    assert info.value.status == 400 and "status" in str(info.value)
    admin.add_app_group("empty_app")
    missing = get(server.port, "GetFunctionInstance", api_path("empty_app", "f", "i"))
    assert missing.json()["code"] == "Instance.NotExist"


def test_clock_step_on_the_nth_request(frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin):
    frozen_admin.start_task("my_app", "ctr", "ctr_test", 600)
    step = frozen_admin.advance_clock_at_request(601, 2, action="GetFunctionInstance")
    assert frozen_admin.clock_steps() == [
        {"id": step, "seconds": 601, "atRequest": 2, "action": "GetFunctionInstance", "seen": 0}
    ]
    assert detail(frozen_server, "ctr_test")["task"]["dagStatus"] == "running"
    # Other actions do not count towards the step, and still see the old time.
    assert task(frozen_server, "ctr_test", "4")["status"] == "running"
    assert frozen_admin.clock_steps()[0]["seen"] == 1
    assert detail(frozen_server, "ctr_test")["task"]["dagStatus"] == "success"
    assert frozen_admin.clock() == {"nowMs": FROZEN_MS + 601_000, "offsetMs": 601_000}
    assert frozen_admin.clock_steps() == []


def test_clock_step_on_any_action_and_clearing(
    frozen_server: EmulatorServer, frozen_admin: EmulatorAdmin
):
    frozen_admin.advance_clock_at_request(10, 1)
    assert task(frozen_server, "ctr_test", "3")["status"] == "success"
    assert frozen_admin.clock()["offsetMs"] == 10_000
    frozen_admin.advance_clock_at_request(10, 5)
    frozen_admin.clear_clock_steps()
    assert frozen_admin.clock_steps() == []


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": 1, "atRequest": 0},
        {"seconds": 1, "atRequest": True},
        {"seconds": -1, "atRequest": 1},
        {"seconds": 1, "atRequest": 1, "action": 3},
        {"seconds": 1, "atRequest": 1, "when": "later"},
    ],
)
def test_bad_clock_steps(frozen_admin: EmulatorAdmin, body: dict):
    with pytest.raises(EmulatorAdminError) as info:
        frozen_admin._call("POST", "/clock/steps", body)
    assert info.value.status == 400
    assert frozen_admin.clock_steps() == []
