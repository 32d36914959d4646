"""The state-file format: the bundled sample, round trips, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulumi_opensearch_fn.emulator import (
    EmulatorAdmin,
    EmulatorAdminError,
    EmulatorServer,
    SimClock,
    StateFileError,
    dump_state,
    load_state_file,
    parse_state,
    sample_state,
    sample_state_data,
)
from pulumi_opensearch_fn.emulator.schema import parse_time
from pulumi_opensearch_fn.emulator.state import TaskBatch

from .helpers import api_path, get

NOW = 1_767_225_600_000


def test_sample_state_contents():
    state = sample_state(SimClock(frozen_ms=NOW))
    assert set(state.app_groups) == {"my_app"}
    assert set(state.app_groups["my_app"]["ctr"]) == {"ctr_test", "ctr_training", "ctr_broken"}
    assert state.access_keys["LTAI-emulator-demo"].secret == "emulator-demo-secret"
    assert state.sts_tokens["emulator-demo-sts-token"].access_key_id == "STS.emulator-demo"
    test = state.get_instance("my_app", "ctr", "ctr_test")
    assert (test["status"], test["versionId"], test["task"]["dagStatus"]) == (
        "available",
        3,
        "success",
    )
    assert json.loads(state.get_task("my_app", "ctr", "ctr_test", "3")["extendInfo"]) == {
        "recall": 91,
        "precision": 88,
        "auc": 0.87,
        "errors": [],
    }
    broken = state.get_instance("my_app", "ctr", "ctr_broken")
    assert (broken["status"], broken["task"]["dagStatus"]) == ("unavailable", "failed")
    assert json.loads(state.get_task("my_app", "ctr", "ctr_broken", "2")["extendInfo"])["errors"]
    training = state.get_task("my_app", "ctr", "ctr_training", "2")
    assert (training["status"], training["startTime"]) == ("running", NOW - 120_000)


def test_sample_is_region_neutral_and_demo_keyed():
    text = json.dumps(sample_state_data())
    for region in ("cn-hangzhou", "cn-shanghai", "us-east-1", "ap-southeast-1"):
        assert region not in text
    key = sample_state_data()["accessKeys"][0]["accessKeyId"]
    assert key == "LTAI-emulator-demo"


def test_round_trip():
    state = sample_state(SimClock(frozen_ms=NOW))
    state.add_tasks("my_app", "ctr", "ctr_test", TaskBatch(count=5))
    dumped = dump_state(state)
    again = parse_state(json.loads(json.dumps(dumped)), clock=SimClock(frozen_ms=NOW))
    assert dump_state(again) == dumped


def test_relative_and_absolute_times():
    assert parse_time("now", NOW) == NOW
    assert parse_time("now-1d", NOW) == NOW - 86_400_000
    assert parse_time("now+90s", NOW) == NOW + 90_000
    assert parse_time("2026-01-01T00:00:00Z", NOW) == NOW
    assert parse_time("2026-01-01T08:00:00+08:00", NOW) == NOW
    assert parse_time("2026-01-01T00:00:00", NOW) == NOW  # no zone: UTC
    assert parse_time(NOW, NOW) == NOW and parse_time(str(NOW), NOW) == NOW
    for bad in ("yesterday", "now-3w", -5, True, None, 1.5):
        assert parse_time(bad, NOW) is None


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


INSTANCE = "appGroups.a.functions.f.instances.i"


def one_instance(**fields: object) -> dict:
    return {"appGroups": {"a": {"functions": {"f": {"instances": {"i": fields}}}}}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{not json", "line 1 column 2: not valid JSON"),
        ([], "(top level): must be an object, got a list"),
        ({"apps": {}}, "(top level).apps: unknown key"),
        ({"version": 2}, "version: must be 1"),
        (one_instance(status="ready"), f"{INSTANCE}.status: must be one of unavailable, available"),
        (one_instance(versionId="3"), f"{INSTANCE}.versionId: must be an integer, got a string"),
        (one_instance(createTime="soon"), f"{INSTANCE}.createTime: must be epoch ms, ISO 8601"),
        (one_instance(extendInfo="{oops"), f"{INSTANCE}.extendInfo: must hold JSON"),
        (one_instance(belongs={"domain": 1}), f"{INSTANCE}.belongs.domain: must be a string"),
        (
            one_instance(tasks=[{"status": "success"}]),
            f"{INSTANCE}.tasks[0].startTime: is required",
        ),
        (
            one_instance(tasks=[{"startTime": 1, "status": "done"}]),
            f"{INSTANCE}.tasks[0].status: must be one of success, failed, running",
        ),
        (
            one_instance(tasks=[{"startTime": 1}, {"startTime": 2, "generation": 1}]),
            f"{INSTANCE}.tasks[1].generation: generation 1 appears twice",
        ),
        (
            one_instance(tasks=[{"startTime": 1, "outcome": "success"}]),
            f"{INSTANCE}.tasks[0].outcome: only a running task with durationS",
        ),
        (
            one_instance(tasks=[{"startTime": 1, "metrics": {"errors": []}}]),
            f"{INSTANCE}.tasks[0].metrics: put errors in 'errors'",
        ),
        (
            one_instance(
                tasks=[{"startTime": 1, "status": "running"}, {"startTime": 2, "status": "running"}]
            ),
            f"{INSTANCE}.tasks: at most one task may be running",
        ),
        (
            {"accessKeys": [{"accessKeyId": "a:b", "accessKeySecret": "s"}]},
            "accessKeys[0].accessKeyId: must be printable ASCII without spaces",
        ),
        ({"accessKeys": [{"accessKeyId": "a"}]}, "accessKeys[0].accessKeySecret: is required"),
        (
            {
                "stsTokens": [
                    {
                        "securityToken": "t",
                        "accessKeyId": "a",
                        "accessKeySecret": "s",
                        "expiration": "later",
                    }
                ]
            },
            "stsTokens[0].expiration: must be epoch ms, ISO 8601",
        ),
    ],
)
def test_bad_files_name_the_key_and_the_problem(tmp_path: Path, data: object, expected: str):
    with pytest.raises(StateFileError) as info:
        load_state_file(write(tmp_path, data))
    message = str(info.value)
    assert message.startswith(f"invalid state file {tmp_path / 'state.json'}:")
    assert expected in message, message


def test_all_problems_are_reported_together(tmp_path: Path):
    data = one_instance(status="ready", versionId=-1, source="someone")
    with pytest.raises(StateFileError) as info:
        load_state_file(write(tmp_path, data))
    assert len(info.value.problems) == 3


def test_missing_file(tmp_path: Path):
    with pytest.raises(StateFileError) as info:
        load_state_file(tmp_path / "nope.json")
    assert "cannot read the file" in str(info.value)


def test_comments_and_defaults(tmp_path: Path):
    data = one_instance(
        _note="ignored", tasks=[{"startTime": 1000}, {"startTime": 5000, "durationS": 2}]
    )
    state = load_state_file(write(tmp_path, {"_comment": "hi", **data}))
    second = state.get_task("a", "f", "i", "2")
    assert (second["endTime"], second["status"], second["progress"]) == (7000, "success", 100)
    assert state.get_instance("a", "f", "i")["task"]["lastRunTime"] == 7000


def test_admin_state_get_and_put(server: EmulatorServer, admin: EmulatorAdmin):
    snapshot = admin.state(secrets=True)
    sizes = admin.load_state(one_instance(status="available", versionId=9))
    assert sizes["instances"] == 1
    reply = get(
        server.port, "GetFunctionInstance", api_path("a", "f", "i"), ak="nobody", secret="x"
    )
    assert reply.code == "InvalidAccessKeyId.NotFound"  # the new state has no keys
    admin.load_state(snapshot)
    reply = get(server.port, "GetFunctionInstance", api_path("my_app", "ctr", "ctr_test"))
    assert reply.json()["result"]["versionId"] == 3
    with pytest.raises(EmulatorAdminError) as info:
        admin.load_state(one_instance(status="ready"))
    assert info.value.status == 400
    assert info.value.payload["problems"] == [
        f"{INSTANCE}.status: must be one of unavailable, available (got 'ready')"
    ]
