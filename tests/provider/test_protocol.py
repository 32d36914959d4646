"""The provider as the engine drives it: Configure, Check, Diff, Create, Read, Update, Delete."""

import base64
import threading
import time

import pytest

from .harness import INSTANCE_TYPE, TASK_TYPE, ProviderError, strip_provider

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
UP = {"dry_run": False}
PREVIEW = {"dry_run": True}


def deploy(process, type_=INSTANCE_TYPE, **inputs):
    checked, failures = process.check(type_, {**CTR, **UP, **inputs})
    assert failures == []
    id_, outs = process.create(type_, strip_provider(checked))
    return id_, strip_provider(checked), strip_provider(outs)


def test_create_outputs(provider):
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


def test_task_resource_latest_and_given_generation(provider):
    process = provider()
    id_, _, outs = deploy(process, TASK_TYPE, generation="latest")
    assert id_ == "my_app/ctr/ctr_test/3"
    assert outs["generation"] == 3
    assert outs["requested_generation"] == "latest"
    id_, _, outs = deploy(process, TASK_TYPE, generation=2)
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
def test_each_expectation_fails_check_with_one_message(provider, expect, message):
    _, failures = provider().check(INSTANCE_TYPE, {**CTR, **UP, "expect": expect})
    assert len(failures) == 1
    prop, reason = failures[0]
    assert "FunctionInstance my_app/ctr/ctr_test: expectations not met" in reason
    assert message in reason


def test_no_task_errors(provider):
    _, failures = provider().check(
        INSTANCE_TYPE,
        {**CTR, "instance_name": "ctr_broken", **UP,
         "expect": {"no_task_errors": True, "task_status": "success"}},
    )  # fmt: skip
    assert failures
    assert "task_status: expected success, saw failed" in failures[0][1]


def test_met_expectations_pass_in_preview_and_up(provider):
    expect = {"status": "available", "min_generation": 3, "metrics": ["recall >= 90"],
              "no_task_errors": True, "max_age": "7d"}  # fmt: skip
    process = provider()
    for mode in (PREVIEW, UP):
        checked, failures = process.check(INSTANCE_TYPE, {**CTR, **mode, "expect": expect})
        assert failures == []
        assert checked["observed"]["ready"] is True


def test_enforce_false_warns_and_marks_not_ready(provider):
    process = provider()
    _, _, outs = deploy(process, expect={"status": "unavailable", "enforce": False})
    assert outs["ready"] is False
    assert outs["unmet"] == ["status: expected unavailable, saw available"]
    assert "warning: FunctionInstance my_app/ctr/ctr_test: expectations not met" in process.close()


def test_wait_until_training_succeeds(provider, admin):
    generation = admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    process = provider()
    advance = threading.Timer(3, admin.advance_clock, args=(900,))
    advance.start()
    started = time.monotonic()
    checked, failures = process.check(
        INSTANCE_TYPE,
        {**CTR, **UP, "expect": {"task_status": "success", "min_generation": generation},
         "wait": {"timeout": "60s", "interval": "1s"}},
    )  # fmt: skip
    advance.join()
    assert failures == []
    assert checked["observed"]["latest_generation"] == generation
    assert time.monotonic() - started < 30
    stderr = process.close()
    assert f"task gen {generation} running" in stderr
    assert "elapsed" in stderr


def test_wait_stops_early_when_the_task_fails(provider, admin):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=60, outcome="failed")
    admin.advance_clock(120)
    started = time.monotonic()
    _, failures = provider().check(
        INSTANCE_TYPE,
        {**CTR, **UP, "expect": {"task_status": "success"},
         "wait": {"timeout": "5m", "interval": "1s"}},
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert "task_status: expected success, saw failed" in failures[0][1]
    assert "after waiting up to 5m" in failures[0][1]


def test_wait_gives_up_at_the_deadline(provider, admin):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=86400)
    started = time.monotonic()
    _, failures = provider().check(
        INSTANCE_TYPE,
        {**CTR, **UP, "expect": {"task_status": "success"},
         "wait": {"timeout": "3s", "interval": "1s"}},
    )  # fmt: skip
    assert 2.5 < time.monotonic() - started < 30
    assert "saw running" in failures[0][1]


def test_preview_never_waits_but_says_what_up_would_wait_for(provider, admin):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=86400)
    process = provider()
    started = time.monotonic()
    _, failures = process.check(
        INSTANCE_TYPE,
        {**CTR, **PREVIEW, "expect": {"task_status": "success"},
         "wait": {"timeout": "10m", "interval": "1s"}},
    )  # fmt: skip
    assert failures == []
    assert time.monotonic() - started < 10
    assert "up will wait up to 10m for: task_status: expected success, saw running" in (
        process.close()
    )


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
def test_drift_on_tracked_fields(provider, admin, move, field):
    id_, stored_inputs, outs = deploy(provider())
    move(admin)
    later = provider()
    checked, failures = later.check(INSTANCE_TYPE, {**CTR, **PREVIEW})
    assert failures == []
    assert later.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked)).changes == 2  # DIFF_SOME
    # Refresh: the engine diffs refreshed outputs against the stored inputs.
    _, refreshed, new_inputs = later.read(INSTANCE_TYPE, id_, outs)
    assert refreshed[field] != outs[field]
    assert later.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), stored_inputs).changes == 2
    assert new_inputs["observed"][field] == refreshed[field]


def test_refresh_drift_is_seen_against_stored_inputs_and_accepted_after(provider, admin):
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


def test_preview_refresh_shows_drift_with_one_read(provider, admin):
    """`preview --refresh`: Read, then Check and Diff against the refreshed state, in one process."""
    id_, _, outs = deploy(provider())
    admin.add_tasks("my_app", "ctr", "ctr_test", 1)
    admin.clear_requests()
    run = provider()
    _, refreshed, _ = run.read(INSTANCE_TYPE, id_, outs)
    checked, failures = run.check(INSTANCE_TYPE, {**CTR, **PREVIEW})
    assert failures == []
    assert (
        run.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), strip_provider(checked)).changes
        == 2
    )
    # Check used the refresh's read: one of each request for the resource in the run.
    actions = sorted(r["action"] for r in admin.requests())
    assert actions == ["GetFunctionInstance", "ListFunctionTasks"]
    # After that refresh was stored, the next run sees nothing to do.
    next_run = provider()
    checked, _ = next_run.check(INSTANCE_TYPE, {**CTR, **PREVIEW})
    assert (
        next_run.diff(
            INSTANCE_TYPE, id_, strip_provider(refreshed), strip_provider(checked)
        ).changes
        == 1
    )


def test_volatile_fields_never_make_a_diff(provider, admin):
    generation = admin.start_task("my_app", "ctr", "ctr_test", duration_s=3600)
    id_, stored_inputs, outs = deploy(provider())
    assert outs["latest_generation"] == generation
    admin.advance_clock(600)  # progress moves, nothing tracked does
    later = provider()
    checked, _ = later.check(INSTANCE_TYPE, {**CTR, **PREVIEW})
    assert later.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked)).changes == 1
    _, refreshed, _ = later.read(INSTANCE_TYPE, id_, outs)
    assert refreshed["latest_task_progress"] == outs["latest_task_progress"]
    assert later.diff(INSTANCE_TYPE, id_, strip_provider(refreshed), stored_inputs).changes == 1


def test_identity_change_replaces(provider):
    id_, _, outs = deploy(provider())
    process = provider()
    checked, _ = process.check(INSTANCE_TYPE, {**CTR, "instance_name": "ctr_training", **PREVIEW})
    diff = process.diff(INSTANCE_TYPE, id_, outs, strip_provider(checked))
    assert list(diff.replaces) == ["instance_name"]


def test_refresh_drops_only_on_not_exist(provider, admin):
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


def test_refresh_warns_and_never_fails_for_expectations(provider, admin):
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


def test_delete_never_calls_the_api(provider, admin):
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
        ({"endpoint": "ftp://x"}, "endpoint", "http or https"),
    ],
)
def test_bad_input_fails_check_before_any_request(provider, admin, inputs, prop, reason):
    process = provider()
    admin.clear_requests()
    _, failures = process.check(INSTANCE_TYPE, {**CTR, **inputs})
    assert any(p == prop and reason in r for p, r in failures), failures
    assert admin.requests() == []


def test_task_resource_rejects_bad_generation(provider):
    _, failures = provider().check(TASK_TYPE, {**CTR, "generation": -3})
    assert failures == [("generation", "generation must not be negative, got -3")]


def test_contradictory_credentials_fail_check_naming_the_keys(provider, emulator):
    process = provider({"opensearch-fn:endpoint": emulator.url, "opensearch-fn:accessKeyId": "x"})
    _, failures = process.check(INSTANCE_TYPE, {**CTR})
    assert "opensearch-fn:accessKeySecret" in failures[0][1]


def test_four_calls_overlap_in_one_provider_process(provider, admin):
    process = provider()
    admin.inject_fault("latency", latency_ms=800)
    spans = []

    def call():
        started = time.monotonic()
        _, failures = process.check(INSTANCE_TYPE, {**CTR, **PREVIEW})
        assert failures == []
        spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(spans) == 4
    latest_start = max(s for s, _ in spans)
    earliest_end = min(e for _, e in spans)
    assert latest_start < earliest_end, "the four calls ran one after another"


def test_no_secret_reaches_the_blob_or_outputs(emulator, admin, provider):
    canary_secret = "CANARY-secret-7f3a9c"
    canary_token = "CANARY-token-51be20"
    admin.add_access_key("STS.canary", canary_secret, security_token=canary_token)
    process = provider(
        {
            "opensearch-fn:endpoint": emulator.url,
            "opensearch-fn:accessKeyId": "STS.canary",
            "opensearch-fn:accessKeySecret": canary_secret,
            "opensearch-fn:securityToken": canary_token,
        }
    )
    checked, failures = process.check(INSTANCE_TYPE, {**CTR, **UP})
    assert failures == []
    _, outs = process.create(INSTANCE_TYPE, strip_provider(checked))
    blob = base64.b64decode(outs["__provider"])
    everything = repr(outs).encode() + repr(checked).encode() + blob + process.close().encode()
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
        ("task-provider-0.1.0.b64", TASK_TYPE, {"generation": "latest"}),
    ],
)
def test_provider_blobs_recorded_by_0_1_0_still_work(provider, fixture, type_, inputs):
    """Stacks deployed with 0.1.0 keep working: their state holds these blobs."""
    from pathlib import Path

    from . import harness

    blob = (Path(__file__).parent / "fixtures" / fixture).read_text().strip()
    process = provider()
    original = harness.BLOBS[type_]
    harness.BLOBS[type_] = blob
    try:
        checked, failures = process.check(type_, {**CTR, **UP, **inputs})
        assert failures == []
        _, outs = process.create(type_, strip_provider(checked))
        assert outs["ready"] is True
    finally:
        harness.BLOBS[type_] = original
