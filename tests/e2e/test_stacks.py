"""The example stacks (examples/quickstart, gate, drift) through the real Pulumi CLI,
against the emulator serving the sample data in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import PulumiProject
from stacks import (
    APP,
    DEMO_KEY_SECRET,
    EXPECT_NO_CHANGES_EXIT,
    FUNCTION,
    combined,
    decoded_blob,
    example_project,
    leaks,
    provider_blobs,
)

from pulumi_opensearch_fn.emulator import EmulatorAdmin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DEFAULT_DYNAMIC_PROVIDER = "pulumi:providers:pulumi-python"
DRIFT_CHECKS = (
    ("preview", "--expect-no-changes"),
    ("preview", "--refresh", "--expect-no-changes"),
    ("refresh", "--preview-only", "--expect-no-changes"),
)


def instance_exists(admin: EmulatorAdmin, instance: str) -> bool:
    state = admin.state()
    return instance in json.dumps(state)


def deployment(project: PulumiProject) -> dict:
    return project.export()["deployment"]


def stored_state(project: PulumiProject) -> dict:
    """The deployment without its manifest, whose time any run rewrites."""
    return {k: v for k, v in deployment(project).items() if k != "manifest"}


def without_default_provider(state: dict) -> list[dict]:
    return [r for r in state["resources"] if r["type"] != DEFAULT_DYNAMIC_PROVIDER]


# -- quickstart ----------------------------------------------------------------


def test_quickstart_lifecycle(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    project = example_project(tmp_path, pulumi_env, "quickstart", emulator.url)

    preview = project.preview()
    assert "to create" in preview.stdout, preview.stdout

    project.up()
    outputs = project.outputs()
    assert outputs["status"] == "available"
    assert outputs["version"] == 3
    assert outputs["latest_generation"] == 3
    assert outputs["latest_task_status"] == "success"
    assert outputs["metrics"] == {"recall": 91, "precision": 88, "auc": 0.87}
    assert outputs["ready"] is True

    project.preview(expect_no_changes=True)
    project.refresh()
    assert project.outputs()["version"] == 3

    project.destroy()
    assert project.outputs() == {}
    assert instance_exists(admin, "ctr_test"), "destroy must only forget the instance"


# -- gate ----------------------------------------------------------------------


def test_gate_new_stack_fails_while_training_then_passes(
    tmp_path: Path, pulumi_env, emulator, admin
) -> None:
    project = example_project(
        tmp_path,
        pulumi_env,
        "gate",
        emulator.url,
        config={"instance": "ctr_training", "minGeneration": "2"},
    )
    failed = project.up(check=False)
    text = combined(failed)
    assert failed.returncode != 0, text
    assert "FunctionInstance my_app/ctr/ctr_training: expectations not met" in text, text
    assert "min_generation: expected >= 2, saw" in text or "expected" in text, text
    assert "released_generation" not in project.outputs()

    admin.advance_clock(600)  # generation 2 finishes training
    project.up()
    outputs = project.outputs()
    assert outputs["ready"] is True
    assert outputs["latest_success_generation"] == 2
    assert outputs["released_generation"] == 2


def test_gate_waits_for_training_during_up(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    generation = admin.start_task(APP, FUNCTION, "ctr_test", duration_s=600, metrics={"recall": 95})
    project = example_project(
        tmp_path,
        pulumi_env,
        "gate",
        emulator.url,
        config={
            "minGeneration": str(generation),
            "wait": "true",
            "timeout": "2m",
            "interval": "1s",
        },
    )
    admin.clear_requests()
    preview = project.preview()
    assert "up will wait up to" in combined(preview), combined(preview)

    # The run finishes on up's second read after the reads preview also makes: its
    # first wait read sees it running, whatever the machine's speed. (A timer here
    # raced the CLI's start-up: on a cold machine the run was over before up read it.)
    reads_before_waiting = admin.counts()["requests"].get("action:GetFunctionInstance", 0)
    assert reads_before_waiting >= 1
    admin.clear_requests()
    admin.advance_clock_at_request(601, reads_before_waiting + 2, action="GetFunctionInstance")
    up = project.up()
    text = combined(up)
    assert admin.clock_steps() == [], "up must read again after the run finished"
    assert f"task gen {generation} running" in text, text
    outputs = project.outputs()
    assert outputs["ready"] is True
    assert outputs["latest_success_generation"] == generation
    assert outputs["released_generation"] == generation


def test_gate_deployed_stack(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    project = example_project(
        tmp_path, pulumi_env, "gate", emulator.url, config={"minGeneration": "3"}
    )
    project.up()
    assert project.outputs()["ready"] is True

    admin.set_instance_status(APP, FUNCTION, "ctr_test", "unavailable")
    message = "FunctionInstance my_app/ctr/ctr_test: expectations not met"
    for result in (project.preview(check=False), project.up(check=False)):
        text = combined(result)
        assert result.returncode != 0, text
        assert message in text, text
        assert "expected available, saw unavailable" in text, text

    project.config_set("gate:enforce", "false")
    up = project.up()
    assert message in combined(up), combined(up)
    outputs = project.outputs()
    assert outputs["ready"] is False
    assert outputs["status"] == "unavailable"


# -- drift ---------------------------------------------------------------------


def assert_checks(
    project: PulumiProject, want: int, checks=DRIFT_CHECKS, moved: tuple[str, ...] = ()
) -> None:
    """Each drift check exits `want`; on drift each names what moved, old and new, in its
    default output (`moved`), and its summary names fields, never `observed`."""
    for args in checks:
        result = project.run(*args, check=False)
        text = combined(result)
        assert result.returncode == want, (args, want, text)
        assert "dry_run" not in text, (args, text)
        assert "observed" not in text, (args, text)
        if want == EXPECT_NO_CHANGES_EXIT:
            assert "opensearch:FunctionInstance model" in text, (args, text)
            assert "[diff: " in text, (args, text)
            for line in moved:
                assert line in text, (args, line, text)
        else:
            assert "drifted:" not in text, (args, text)


def test_drift(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    project = example_project(tmp_path, pulumi_env, "drift", emulator.url)
    # A running task is deployed; its progress moving is never drift.
    admin.start_task(APP, FUNCTION, "ctr_test", duration_s=600, metrics={"recall": 93})
    admin.advance_clock(60)
    project.up()
    assert project.outputs()["task_status"] == "running"
    admin.advance_clock(240)
    assert_checks(project, 0)

    admin.advance_clock(301)  # generation 4 lands
    assert_checks(project, EXPECT_NO_CHANGES_EXIT, moved=(
        f"FunctionInstance {APP}/{FUNCTION}/ctr_test drifted: ",
        "latest_task_status running → success",
        f"FunctionTask {APP}/{FUNCTION}/ctr_test/latest drifted: status running → success",
    ))  # fmt: skip
    project.up()
    assert project.outputs()["version"] == 4
    assert_checks(project, 0)

    admin.start_task(APP, FUNCTION, "ctr_test", duration_s=60, metrics={"recall": 94})
    admin.advance_clock(61)  # generation 5 lands
    assert_checks(project, EXPECT_NO_CHANGES_EXIT, moved=(
        f"FunctionInstance {APP}/{FUNCTION}/ctr_test drifted: ",
        "latest_generation 4 → 5",
        f"FunctionTask {APP}/{FUNCTION}/ctr_test/latest drifted: generation 4 → 5",
    ))  # fmt: skip
    # The summary names the moved field, and `--diff` shows it old and new.
    text = combined(project.run("preview", "--expect-no-changes", check=False))
    [summary] = [line for line in text.splitlines() if "opensearch:FunctionInstance model" in line]
    assert "latest_generation" in summary, summary
    text = combined(project.run("preview", "--diff", "--expect-no-changes", check=False))
    detail = [line for line in text.splitlines() if "latest_generation" in line]
    assert any("4 => 5" in line for line in detail), text
    project.refresh()
    assert_checks(project, 0)
    [task] = project.resources("pulumi-python:dynamic/opensearch:FunctionTask")
    assert task["outputs"]["generation"] == 5


# -- errors --------------------------------------------------------------------


def test_errors_leave_state_alone(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    # Credentials from the environment: the engine records the whole stack config as the
    # inputs of the default dynamic provider on every run, failed or not (see the
    # credentials test below), so a change of stack config always changes that record.
    project = example_project(
        tmp_path, pulumi_env, "quickstart", emulator.url, credentials_in_config=False
    )
    project.up()
    before = stored_state(project)

    def fails_cleanly(*needles: str, refresh: bool = True, config_changed: bool = False) -> None:
        runs = [project.preview(check=False), project.up(check=False)]
        if refresh:
            runs.append(project.refresh(check=False))
        for result in runs:
            text = combined(result)
            assert result.returncode != 0, (result.args, text)
            assert "Traceback" not in text, text
            for needle in needles:
                assert needle in text, (needle, text)
        after = stored_state(project)
        if config_changed:
            assert without_default_provider(after) == without_default_provider(before)
        else:
            assert after == before

    # The program's reads (the resource's and the data source's) each name the instance;
    # whichever fails first ends the program.
    subject = "my_app/ctr/ctr_test"
    project.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "not-the-secret"
    fails_cleanly(subject, "signature")
    project.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = DEMO_KEY_SECRET

    admin.inject_fault("throttle")  # every request, until cleared
    fails_cleanly(subject, "Throttling")
    admin.clear_faults()

    for key, value in (("quickstart:instance", "ctr_nope"), ("quickstart:app", "no_such_app")):
        project.config_set(key, value)
        fails_cleanly(value, refresh=False, config_changed=True)  # refresh reads the state
        project.run("config", "rm", "--stack", "dev", key)

    project.up()  # records the restored config again
    before = stored_state(project)
    emulator.stop()
    fails_cleanly(subject)


# -- secrets -------------------------------------------------------------------


@pytest.mark.parametrize("credentials_in_config", [True, False], ids=["stack-config", "env"])
def test_credentials_never_reach_state_or_output(
    tmp_path: Path, pulumi_env, emulator, admin, credentials_in_config: bool
) -> None:
    key_id = "STS.canary-key-id-7d1f"
    secret = "canary-secret-5f2a9c1e7b3d4a60"
    token = "canary-sts-token-0e8b6d2c4a1f3957"
    admin.add_access_key(key_id, secret, security_token=token)
    project = example_project(
        tmp_path,
        pulumi_env,
        "quickstart",
        emulator.url,
        key_id=key_id,
        key_secret=secret,
        credentials_in_config=credentials_in_config,
    )
    if credentials_in_config:
        project.config_set("opensearch-fn:securityToken", token, secret=True)
    else:
        project.env["ALIBABA_CLOUD_SECURITY_TOKEN"] = token

    results = [project.preview(), project.up(), project.refresh(), project.up()]
    assert any(r.get("accessKeyId") == key_id for r in admin.requests()), "the key was not used"
    results.append(project.run("stack", "output", "--show-secrets", "--json"))
    results.append(project.run("stack", "export"))
    export = project.run("stack", "export", "--show-secrets")
    secrets = [secret, token]

    for result in results:
        assert leaks(combined(result).encode(), secrets) == [], result.args
    assert leaks(export.stderr.encode(), secrets) == []
    resources = json.loads(export.stdout)["deployment"]["resources"]
    blobs = list(provider_blobs(resources))
    assert blobs, "no __provider blob in the export"
    for blob in blobs:
        assert leaks(decoded_blob(blob), secrets) == []
    # The engine hands a dynamic provider the whole stack config and records it, secret
    # values encrypted, as the inputs of the default provider: with --show-secrets they
    # are decrypted there, and only there. Credentials from the environment never are.
    engine_kept = [r for r in resources if r["type"] == DEFAULT_DYNAMIC_PROVIDER]
    ours = [r for r in resources if r["type"] != DEFAULT_DYNAMIC_PROVIDER]
    assert ours and leaks(json.dumps(ours).encode(), secrets) == []
    kept = leaks(json.dumps(engine_kept).encode(), secrets)
    assert kept == (["secret #0", "secret #1"] if credentials_in_config else [])
    state_dir = Path(pulumi_env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    files = [p for p in state_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert leaks(path.read_bytes(), secrets) == [], path
