"""One description, one validator: the state file, the admin API, the admin client, the
command line and in-process fault specs name the same problem in the same words."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pulumi_opensearch_fn.emulator import (
    EmulatorAdmin,
    EmulatorAdminError,
    EmulatorServer,
    FaultSpec,
    StateFileError,
    load_state_file,
)

from .process import COMMAND

INSTANCE = "appGroups.a.functions.f.instances.i"


def file_problems(tmp_path: Path, task: dict[str, object]) -> list[str]:
    path = tmp_path / "state.json"
    instance = {"status": "available", "tasks": [task]}
    path.write_text(
        json.dumps({"appGroups": {"a": {"functions": {"f": {"instances": {"i": instance}}}}}})
    )
    with pytest.raises(StateFileError) as info:
        load_state_file(path)
    return info.value.problems


def admin_problems(call: object) -> list[str]:
    with pytest.raises(EmulatorAdminError) as info:
        call()  # type: ignore[operator]
    assert info.value.status == 400
    return list(info.value.payload["problems"])


def test_metrics_with_errors_are_one_problem_in_the_file_and_the_admin_api(
    tmp_path: Path, admin: EmulatorAdmin
):
    problem = "metrics: put errors in 'errors', not in 'metrics'"
    assert file_problems(tmp_path, {"startTime": 1, "metrics": {"errors": []}}) == [
        f"{INSTANCE}.tasks[0].{problem}"
    ]
    names = ("my_app", "ctr", "ctr_test")
    assert admin_problems(lambda: admin.add_tasks(*names, 1, metrics={"errors": []})) == [problem]
    assert admin_problems(lambda: admin.start_task(*names, 60, metrics={"errors": []})) == [problem]


def test_durations_have_the_same_bounds_in_the_file_and_the_admin_api(
    tmp_path: Path, admin: EmulatorAdmin
):
    problem = "durationS: must be from 0.001 to 3153600000 (got 1e+300)"
    running = {"startTime": 1, "status": "running", "durationS": 1e300}
    assert file_problems(tmp_path, running) == [f"{INSTANCE}.tasks[0].{problem}"]
    assert admin_problems(lambda: admin.start_task("my_app", "ctr", "ctr_test", 1e300)) == [problem]


def test_in_process_fault_specs_meet_the_admin_validator(
    server: EmulatorServer, admin: EmulatorAdmin
):
    problems = admin_problems(lambda: admin.inject_fault("throttle", status=500))
    assert problems == ["status: a throttle answers 400 or 429"]
    with pytest.raises(ValueError, match="a throttle answers 400 or 429") as info:
        server.faults.add(FaultSpec("throttle", status=500))
    assert info.value.problems == problems  # type: ignore[attr-defined]
    assert server.faults.list() == [] and admin.faults() == []


def test_the_client_refuses_an_unknown_field_before_sending(
    server: EmulatorServer, admin: EmulatorAdmin
):
    before = server.state.get_instance("my_app", "ctr", "ctr_test")
    with pytest.raises(TypeError, match="Instance has no field colour"):
        admin.upsert_instance("my_app", "ctr", "ctr_test", colour="red", status="unavailable")
    assert server.state.get_instance("my_app", "ctr", "ctr_test") == before


def test_command_line_keys_meet_the_state_file_rules():
    ran = subprocess.run(
        [*COMMAND, "--port", "0", "--access-key", "LTAI x:secret"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert "accessKeyId: must be printable ASCII without spaces" in ran.stderr
