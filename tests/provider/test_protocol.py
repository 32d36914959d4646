"""The provider as the engine drives it: Configure, Check, Diff, Create, Read, Update, Delete.

Check, Diff, Create and Update get what the program's read saw (`program_inputs`
runs that read as the program does); only Read reads.
"""

import base64
import subprocess
import sys
import threading

import pytest

from ..hostile import HostileServer, Reply, Seen, good_instance, good_tasks, service_error
from .harness import (
    INSTANCE_TYPE,
    TASK_TYPE,
    ProviderError,
    RecordedLog,
    program_inputs,
    strip_provider,
)

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}


@pytest.fixture
def sent(config):
    """The inputs the program registers for a resource (on `up` unless dry_run=True)."""

    def make(type_=INSTANCE_TYPE, *, dry_run=False, log=None, cfg=None, **inputs):
        return program_inputs(
            type_, {**CTR, **inputs}, config if cfg is None else cfg, dry_run=dry_run, log=log
        )

    return make


@pytest.fixture
def deploy(sent):
    def run(process, type_=INSTANCE_TYPE, **inputs):
        checked, failures = process.check(type_, sent(type_, **inputs))
        assert failures == []
        id_, outs = process.create(type_, strip_provider(checked))
        return id_, strip_provider(checked), strip_provider(outs)

    return run


def test_create_outputs(provider, deploy):
    id_, _, outs = deploy(provider())
    assert id_ == "my_app/ctr/ctr_test"
    assert outs["status"] == "available"
    assert outs["version_id"] == 3
    assert outs["latest_generation"] == 3
    assert outs["latest_task_status"] == "success"
    assert outs["latest_task_metrics"] == {"recall": 91, "precision": 88, "auc": 0.87}
    assert outs["belongs"]["domain"] == "ecommerce"
    assert outs["ready"] is True
    assert outs["unmet"] == []


def test_task_resource_latest_and_given_generation(provider, deploy):
    process = provider()
    id_, _, outs = deploy(process, TASK_TYPE, requested_generation="latest")
    assert id_ == "my_app/ctr/ctr_test/3"
    assert outs["generation"] == 3
    assert outs["requested_generation"] == "latest"
    id_, _, outs = deploy(process, TASK_TYPE, requested_generation=2)
    assert id_ == "my_app/ctr/ctr_test/2"
    assert outs["metrics"]["recall"] == 90


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"status": "unavailable"}, "status: expected unavailable, saw available"),
        ({"task_status": "failed"}, "task_status: expected failed, saw success"),
        ({"min_generation": 5}, "min_generation: expected >= 5, saw 3"),
        ({"max_age": "1h"}, "max_age: expected <= 1h, saw"),
        ({"metrics": {"recall": ">= 95"}}, "metrics.recall: expected >= 95, saw 91"),
    ],
)
def test_each_expectation_fails_check_with_one_message(provider, sent, expect, message):
    _, failures = provider().check(INSTANCE_TYPE, sent(expect=expect))
    assert len(failures) == 1
    prop, reason = failures[0]
    assert "FunctionInstance my_app/ctr/ctr_test: expectations not met" in reason
    assert message in reason


def test_no_task_errors(provider, sent):
    _, failures = provider().check(
        INSTANCE_TYPE,
        sent(instance_name="ctr_broken", expect={"no_task_errors": True, "task_status": "success"}),
    )
    assert failures
    assert "task_status: expected success, saw failed" in failures[0][1]


def test_met_expectations_pass_in_preview_and_up(provider, sent):
    expect = {"status": "available", "min_generation": 3, "metrics": ["recall >= 90"],
              "no_task_errors": True, "max_age": "7d"}  # fmt: skip
    process = provider()
    for dry_run in (True, False):
        checked, failures = process.check(INSTANCE_TYPE, sent(dry_run=dry_run, expect=expect))
        assert failures == []
        assert checked["ready"] is True
        assert "gate" not in checked


def test_enforce_false_warns_and_marks_not_ready(provider, deploy, sent):
    log = RecordedLog()
    expect = {"status": "unavailable", "enforce": False}
    sent(expect=expect, log=log)
    _, _, outs = deploy(provider(), expect=expect)
    assert outs["ready"] is False
    assert outs["unmet"] == ["status: expected unavailable, saw available"]
    # The program warns, on the resource's row.
    assert log.lines == [
        (
            "warning",
            "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
            " status: expected unavailable, saw available",
        )
    ]


def _gets(admin):
    return sum(r["action"] == "GetFunctionInstance" for r in admin.requests())


def test_wait_until_training_succeeds(provider, admin, sent):
    """`up` waits in the program; its progress goes to the resource's row."""
    generation = admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    log = RecordedLog()
    # The run finishes just before the third read: two see it running, on any machine.
    admin.advance_clock_at_request(900, 3, action="GetFunctionInstance")
    inputs = sent(
        expect={"task_status": "success", "min_generation": generation},
        wait={"timeout": "60s", "interval": "1s"},
        log=log,
    )
    assert admin.clock_steps() == []
    checked, failures = provider().check(INSTANCE_TYPE, inputs)
    assert failures == []
    assert checked["latest_generation"] == generation
    assert checked["latest_task_status"] == "success"
    assert f"task gen {generation} running" in log.text()
    assert "elapsed" in log.text()


def test_wait_stops_early_when_the_task_fails(provider, admin, sent):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=60, outcome="failed")
    admin.advance_clock(120)
    admin.clear_requests()
    inputs = sent(expect={"task_status": "success"}, wait={"timeout": "5m", "interval": "1s"})
    _, failures = provider().check(INSTANCE_TYPE, inputs)
    assert _gets(admin) == 1, "a failed task is not waited for"
    assert "task_status: expected success, saw failed" in failures[0][1]
    assert "after waiting up to 5m" in failures[0][1]


def test_wait_gives_up_at_the_deadline(provider, admin, sent):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=86400)
    admin.clear_requests()
    inputs = sent(expect={"task_status": "success"}, wait={"timeout": "3s", "interval": "1s"})
    _, failures = provider().check(INSTANCE_TYPE, inputs)
    assert _gets(admin) >= 2, "it polled"
    assert "saw running" in failures[0][1]
    assert "after waiting up to 3s" in failures[0][1]


def test_preview_never_waits_but_says_what_up_would_wait_for(provider, admin, sent):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=86400)
    admin.clear_requests()
    log = RecordedLog()
    inputs = sent(
        dry_run=True,
        expect={"task_status": "success"},
        wait={"timeout": "10m", "interval": "1s"},
        log=log,
    )
    _, failures = provider().check(INSTANCE_TYPE, inputs)
    assert failures == []
    assert _gets(admin) == 1
    assert log.lines == [
        (
            "info",
            "FunctionInstance my_app/ctr/ctr_test: up will wait up to 10m for:"
            " task_status: expected success, saw running",
        )
    ]


@pytest.mark.parametrize(
    ("move", "field"),
    [
        (lambda a: a.set_instance_status("my_app", "ctr", "ctr_test", "unavailable"), "status"),
        (lambda a: a.set_instance_fields("my_app", "ctr", "ctr_test", version_id=9), "version_id"),
        (lambda a: a.add_tasks("my_app", "ctr", "ctr_test", 1), "latest_generation"),
        (
            lambda a: a.add_tasks("my_app", "ctr", "ctr_test", 1, status="failed"),
            "latest_task_status",
        ),
    ],
)
def test_drift_on_tracked_fields(provider, admin, move, field, deploy, sent):
    id_, stored_inputs, outs = deploy(provider())
    move(admin)
    later = provider()
    checked, failures = later.check(INSTANCE_TYPE, sent(dry_run=True))
    assert failures == []
    assert later.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked)).changes == 2  # DIFF_SOME
    # Refresh: the engine diffs refreshed outputs against the stored inputs.
    _, refreshed, new_inputs = later.read(INSTANCE_TYPE, id_, outs)
    assert refreshed[field] != outs[field]
    assert later.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), stored_inputs).changes == 2
    assert new_inputs[field] == refreshed[field]
    # The preview's diff and the refresh each name what moved, from what to what, once.
    lines = [line for line in later.close().splitlines() if " drifted: " in line]
    change = f"{field} {_shown(outs[field])} → {_shown(refreshed[field])}"
    assert len(lines) == 2, lines
    for line in lines:
        assert line.startswith("FunctionInstance my_app/ctr/ctr_test drifted: "), line
        assert change in line.split(": ", 1)[1].split(", "), line


def _shown(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def test_refresh_drift_is_seen_against_stored_inputs_and_accepted_after(provider, admin, deploy):
    process = provider()
    id_, stored_inputs, outs = deploy(process)
    admin.add_tasks("my_app", "ctr", "ctr_test", 1)
    later = provider()
    _, refreshed, new_inputs = later.read(INSTANCE_TYPE, id_, outs)
    refresh_diff = later.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), stored_inputs)
    assert refresh_diff.changes == 2
    # A plain refresh stores the new inputs too: the next run's refresh diff is clean.
    next_run = provider()
    again = next_run.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), strip_provider(new_inputs))
    assert again.changes == 1  # DIFF_NONE


def test_preview_refresh_shows_drift(provider, admin, deploy, sent):
    """`preview --refresh`: Read, then Check and Diff against the refreshed state, in one process."""
    id_, _, outs = deploy(provider())
    admin.add_tasks("my_app", "ctr", "ctr_test", 1)
    admin.clear_requests()
    run = provider()
    _, refreshed, _ = run.read(INSTANCE_TYPE, id_, outs)
    checked, failures = run.check(INSTANCE_TYPE, sent(dry_run=True))
    assert failures == []
    assert (
        run.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), strip_provider(checked)).changes
        == 2
    )
    # The refresh's read and the program's: twice one of each request.
    actions = sorted(r["action"] for r in admin.requests())
    assert actions == ["GetFunctionInstance"] * 2 + ["ListFunctionTasks"] * 2
    # The refresh names the drift; the diff after it does not repeat it.
    drift_lines = [line for line in run.close().splitlines() if " drifted: " in line]
    assert drift_lines == ["FunctionInstance my_app/ctr/ctr_test drifted: latest_generation 3 → 4"]
    # After that refresh was stored, the next run sees nothing to do.
    next_run = provider()
    checked, _ = next_run.check(INSTANCE_TYPE, sent(dry_run=True))
    assert (
        next_run.diff(
            INSTANCE_TYPE, id_, strip_provider(refreshed), strip_provider(checked)
        ).changes
        == 1
    )


def test_volatile_fields_never_make_a_diff(provider, admin, deploy, sent):
    generation = admin.start_task("my_app", "ctr", "ctr_test", duration_s=3600)
    id_, stored_inputs, outs = deploy(provider())
    assert outs["latest_generation"] == generation
    admin.advance_clock(600)  # progress moves, nothing tracked does
    later = provider()
    checked, _ = later.check(INSTANCE_TYPE, sent(dry_run=True))
    assert later.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked)).changes == 1
    _, refreshed, _ = later.read(INSTANCE_TYPE, id_, outs)
    assert refreshed["latest_task_progress"] == outs["latest_task_progress"]
    assert later.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), stored_inputs).changes == 1


def test_identity_change_replaces(provider, deploy, sent):
    id_, _, outs = deploy(provider())
    process = provider()
    checked, _ = process.check(INSTANCE_TYPE, sent(dry_run=True, instance_name="ctr_training"))
    diff = process.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked))
    assert list(diff.replaces) == ["instance_name"]


def test_refresh_drops_only_on_not_exist(provider, admin, deploy):
    process = provider()
    id_, _, outs = deploy(process)
    gone = {**outs, "instance_name": "deleted_one"}
    new_id, props, _ = process.read(INSTANCE_TYPE, "my_app/ctr/deleted_one", gone)
    assert new_id == ""
    # App.NotFound (a wrong region looks like this) keeps state: the read fails.
    with pytest.raises(ProviderError, match="App.NotFound"):
        process.read(INSTANCE_TYPE, "other_app/ctr/ctr_test", {**outs, "app_group": "other_app"})
    admin.inject_fault("error", status=503, code="ServiceUnavailable", count=20)
    with pytest.raises(ProviderError, match="ServiceUnavailable"):
        provider().read(INSTANCE_TYPE, id_, outs)


def test_refresh_warns_and_never_fails_for_expectations(provider, admin, deploy):
    process = provider()
    id_, _, outs = deploy(process, expect={"status": "available"})
    admin.set_instance_status("my_app", "ctr", "ctr_test", "unavailable")
    later = provider()
    new_id, refreshed, _ = later.read(INSTANCE_TYPE, id_, outs)
    assert new_id == id_
    assert refreshed["ready"] is False
    assert "warning:" in later.close()


def test_get_reads_and_gates(provider, admin):
    process = provider()
    new_id, outs, _ = process.read(INSTANCE_TYPE, "my_app/ctr/ctr_test", None, inputs={})
    assert new_id == "my_app/ctr/ctr_test"
    assert outs["status"] == "available"
    with pytest.raises(ProviderError, match="expectations not met"):
        process.read(
            INSTANCE_TYPE, "my_app/ctr/ctr_broken", None, inputs={"expect": {"status": "available"}}
        )


def test_delete_never_calls_the_api(provider, admin, deploy):
    process = provider()
    id_, _, outs = deploy(process)
    admin.clear_requests()
    process.delete(INSTANCE_TYPE, id_, outs)
    assert admin.requests() == []


@pytest.mark.parametrize(
    ("inputs", "prop", "reason"),
    [
        ({"app_group": ""}, "app_group", "must not be empty"),
        ({"instance_name": "a\nb"}, "instance_name", "control character"),
        ({"expect": {"status": "ok"}}, "expect", "status must be one of"),
        ({"expect": {"min_generation": -1}}, "expect", "whole number >= 0"),
        ({"expect": {"max_age": "soon"}}, "expect", "not a duration"),
        ({"expect": {"metrics": ["recall > x"]}}, "expect", "not of the form"),
        ({"expect": {"colour": "red"}}, "expect", "no field 'colour'"),
        ({"wait": {"timeout": "5m"}}, "wait", "needs expectations"),
        ({"region": "Hangzhou"}, "region", "region must look like"),
    ],
)
def test_bad_input_fails_check_before_any_request(provider, admin, inputs, prop, reason):
    process = provider()
    admin.clear_requests()
    _, failures = process.check(INSTANCE_TYPE, {**CTR, **inputs})
    assert any(p == prop and reason in r for p, r in failures), failures
    assert admin.requests() == []


def test_task_resource_rejects_bad_generation(provider):
    _, failures = provider().check(TASK_TYPE, {**CTR, "requested_generation": -3})
    assert failures == [("requested_generation", "generation must not be negative, got -3")]


@pytest.mark.parametrize(
    ("inputs", "cfg", "reason"),
    [
        ({"endpoint": "ftp://x"}, {}, "http or https"),
        ({}, {"opensearch-fn:accessKeySecret": None}, "opensearch-fn:accessKeySecret"),
    ],
    ids=["endpoint", "credentials"],
)
def test_bad_settings_fail_the_program_read_and_check_before_any_request(
    provider, admin, config, sent, inputs, cfg, reason
):
    """The program judges the settings where it reads, before any request; check says so."""
    settings = {k: v for k, v in {**config, **cfg}.items() if v is not None}
    admin.clear_requests()
    inputs = sent(cfg=settings, **inputs)
    _, failures = provider(settings).check(INSTANCE_TYPE, inputs)
    [(prop, why)] = failures
    assert why.startswith("FunctionInstance my_app/ctr/ctr_test: ") or prop == ""
    assert reason in why
    assert admin.requests() == []


def test_four_refresh_reads_overlap_in_one_provider_process(
    provider, config, deploy, hostile: HostileServer
):
    """The server answers no GetFunctionInstance before four are in flight at once."""
    id_, _, outs = deploy(provider())
    together = threading.Barrier(4, timeout=60)

    def held(_seen: Seen) -> Reply:
        try:
            together.wait()
        except threading.BrokenBarrierError:
            return service_error("Serial", "the four reads were never in flight at once", 500)
        return good_instance()

    hostile.serve(held, action="GetFunctionInstance")
    hostile.serve(good_tasks(3, 2, 1), action="ListFunctionTasks")
    process = provider({**config, "opensearch-fn:endpoint": hostile.url})
    read = []

    def call():
        read.append(process.read(INSTANCE_TYPE, id_, outs))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(read) == 4, "a read failed: the four reads ran one after another"
    assert hostile.actions().count("GetFunctionInstance") == 4


def test_no_secret_reaches_the_blob_or_outputs(emulator, admin, provider, sent):
    canary_secret = "CANARY-secret-7f3a9c"
    canary_token = "CANARY-token-51be20"
    admin.add_access_key("STS.canary", canary_secret, security_token=canary_token)
    config = {
        "opensearch-fn:endpoint": emulator.url,
        "opensearch-fn:accessKeyId": "STS.canary",
        "opensearch-fn:accessKeySecret": canary_secret,
        "opensearch-fn:securityToken": canary_token,
    }
    process = provider(config)
    inputs = sent(cfg=config)
    checked, failures = process.check(INSTANCE_TYPE, inputs)
    assert failures == []
    id_, outs = process.create(INSTANCE_TYPE, strip_provider(checked))
    _, refreshed, new_inputs = process.read(INSTANCE_TYPE, id_, strip_provider(outs))
    assert any(r.get("accessKeyId") == "STS.canary" for r in admin.requests())
    blob = base64.b64decode(outs["__provider"])
    everything = (
        repr(inputs).encode()
        + repr(outs).encode()
        + repr(checked).encode()
        + repr(refreshed).encode()
        + repr(new_inputs).encode()
        + blob
        + process.close().encode()
    )
    for canary in (canary_secret, canary_token):
        for form in (
            canary.encode(),
            base64.b64encode(canary.encode()),
            canary.encode().hex().encode(),
        ):
            assert form not in everything


@pytest.mark.parametrize(
    ("fixture", "type_", "inputs"),
    [
        ("instance-provider-0.1.0.b64", INSTANCE_TYPE, {}),
        ("task-provider-0.1.0.b64", TASK_TYPE, {"requested_generation": "latest"}),
    ],
)
def test_provider_blobs_recorded_by_0_1_0_still_work(provider, sent, fixture, type_, inputs):
    """Stacks deployed with 0.1.0 keep working: their state holds these blobs."""
    from pathlib import Path

    from . import harness

    blob = (Path(__file__).parent / "fixtures" / fixture).read_text().strip()
    process = provider()
    original = harness.BLOBS[type_]
    harness.BLOBS[type_] = blob
    try:
        checked, failures = process.check(type_, sent(type_, **inputs))
        assert failures == []
        id_, outs = process.create(type_, strip_provider(checked))
        assert outs["ready"] is True
        _, refreshed, _ = process.read(type_, id_, strip_provider(outs))
        assert refreshed["ready"] is True
    finally:
        harness.BLOBS[type_] = original


def test_check_diff_create_update_send_no_request(provider, admin, sent):
    inputs = sent(expect={"status": "available"})
    admin.clear_requests()
    process = provider()
    checked, failures = process.check(INSTANCE_TYPE, inputs)
    assert failures == []
    id_, outs = process.create(INSTANCE_TYPE, strip_provider(checked))
    again, _ = process.check(INSTANCE_TYPE, inputs, olds=strip_provider(checked))
    process.diff(INSTANCE_TYPE, id_, strip_provider(outs), strip_provider(again))
    process.update(INSTANCE_TYPE, id_, strip_provider(outs), strip_provider(again))
    assert admin.requests() == []


def test_check_without_what_the_program_saw_fails_with_a_message(provider):
    _, failures = provider().check(INSTANCE_TYPE, {**CTR})
    assert failures == [
        (
            "",
            "FunctionInstance my_app/ctr/ctr_test: no observation was sent with the inputs;"
            " construct it with its class",
        )
    ]


def test_check_diff_create_update_never_import_the_http_client(sent):
    """The provider's cold start does not pay for the HTTP client (only `read` needs it)."""
    inputs = sent(expect={"status": "available"})
    script = f"""
import sys
from pulumi_opensearch_fn.provider import FunctionInstanceProvider
provider = FunctionInstanceProvider()
inputs = {inputs!r}
checked = provider.check({{}}, inputs)
assert not checked.failures, checked.failures
created = provider.create(dict(checked.inputs))
again = provider.check(dict(checked.inputs), inputs).inputs
provider.diff(created.id, created.outs, again)
provider.update(created.id, created.outs, again)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("httpx", "httpcore")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_task_refresh_keeps_state_when_latest_finds_no_task(provider, admin, deploy):
    """An empty task list is no proof the task is gone: the refresh fails, state stays."""
    id_, _, outs = deploy(provider(), TASK_TYPE, requested_generation="latest")
    admin.upsert_instance("my_app", "ctr", "no_tasks_yet", status="available")
    empty = {**outs, "instance_name": "no_tasks_yet"}
    with pytest.raises(ProviderError, match="no_tasks_yet has no training task yet"):
        provider().read(TASK_TYPE, "my_app/ctr/no_tasks_yet/3", empty)


def test_task_refresh_drops_a_generation_that_does_not_exist(provider, deploy):
    id_, _, outs = deploy(provider(), TASK_TYPE, requested_generation=2)
    gone = {**outs, "generation": 99, "requested_generation": 99}
    new_id, props, _ = provider().read(TASK_TYPE, "my_app/ctr/ctr_test/99", gone)
    assert (new_id, strip_provider(props)) == ("", {})


LEGACY_TRACKED = {
    INSTANCE_TYPE: ("status", "version_id", "task_dag_status", "latest_generation",
                    "latest_task_status", "ready", "unmet"),
    TASK_TYPE: ("generation", "status", "ready", "unmet"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("type_", "legacy", "inputs"),
    [
        (INSTANCE_TYPE, {}, {}),
        (TASK_TYPE, {"generation": "latest"}, {"requested_generation": "latest"}),
    ],
)
def test_state_of_the_previous_release_shows_no_change(provider, deploy, sent, type_, legacy,
                                                       inputs):  # fmt: skip
    """0.1.x stored the tracked fields under the input `observed` and a task's requested
    generation as the input `generation`: no change, no replace, no refresh drift."""
    id_, _, outs = deploy(provider(), type_, **inputs)
    stored_outs = outs  # 0.1.x outputs had the same names
    stored_inputs = {**CTR, **legacy,
                     "observed": {k: outs[k] for k in LEGACY_TRACKED[type_]}}  # fmt: skip
    later = provider()
    checked, failures = later.check(type_, sent(type_, **inputs), olds=stored_inputs)
    assert failures == []
    diff = later.diff(type_, id_, stored_outs, strip_provider(checked))
    assert (diff.changes, list(diff.replaces)) == (1, [])  # DIFF_NONE
    _, refreshed, _ = later.read(type_, id_, stored_outs)
    refresh_diff = later.diff(type_, id_, strip_provider(refreshed), stored_inputs)
    assert (refresh_diff.changes, list(refresh_diff.replaces)) == (1, [])
