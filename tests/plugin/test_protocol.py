"""The plugin as the engine drives it, over gRPC: GetSchema, CheckConfig, Configure, Check,
Diff, Create, Update, Read and Invoke, against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto
from pulumi.runtime.rpc import UNKNOWN

from pulumi_opensearch_fn.plugin import schema

from .harness import INSTANCE, TASK, PluginError

CTR = {"appGroup": "my_app", "functionName": "ctr", "instanceName": "ctr_test"}
TRAINING = {**CTR, "instanceName": "ctr_training"}


def test_schema_and_version(plugin):
    process = plugin()
    printed = subprocess.run(
        [sys.executable, "-m", "pulumi_opensearch_fn.plugin.schema"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert process.schema() == printed.stdout
    assert json.loads(process.schema())["name"] == "opensearch-fn"
    info = process.call("GetPluginInfo", empty_pb2.Empty())
    assert info.version == version("pulumi-opensearch-fn")


def test_check_config_marks_the_key_secret_and_the_token_secret(plugin, config):
    process = plugin()
    cfg = {**config, "securityToken": "x" * 40, "region": "cn-hangzhou"}
    inputs, secret, failures = process.check_config(cfg)
    assert failures == []
    assert inputs == cfg
    assert secret == {"accessKeySecret", "securityToken"}


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"accessKeyId": "LTAI-x"}, "sets opensearch-fn:accessKeyId without"),
        ({"endpoint": "ftp://example.com"}, "endpoint"),
        ({"maxConcurrentReads": 0.0}, "maxConcurrentReads must be a whole number >= 1"),
    ],
)
def test_check_config_refuses_settings_no_request_can_use(plugin, cfg, message):
    _, _, failures = plugin().check_config(cfg)
    assert len(failures) == 1
    assert message in failures[0][1]
    assert "\n" not in failures[0][1]


def test_create_outputs_by_schema_names(plugin):
    id_, checked, outs = plugin().deploy(INSTANCE, CTR)
    assert id_ == "my_app/ctr/ctr_test"
    assert checked == CTR
    assert outs["status"] == "available"
    assert outs["versionId"] == 3
    assert outs["latestGeneration"] == 3
    assert outs["latestTaskStatus"] == "success"
    assert outs["latestTaskMetrics"] == {"recall": 91, "precision": 88, "auc": 0.87}
    assert outs["belongs"]["domain"] == "ecommerce"
    assert (outs["ready"], outs["unmet"]) == (True, [])
    properties = schema.package_schema()["resources"][INSTANCE]["properties"]
    assert set(outs) <= set(properties)


def test_task_latest_and_given_generation(plugin):
    process = plugin()
    id_, _, outs = process.deploy(TASK, CTR)
    assert id_ == "my_app/ctr/ctr_test/3"
    assert (outs["generation"], outs["requestedGeneration"]) == (3, "latest")
    id_, _, outs = process.deploy(TASK, {**CTR, "generation": 2}, name="two")
    assert id_ == "my_app/ctr/ctr_test/2"
    assert (outs["requestedGeneration"], outs["metrics"]["recall"]) == (2, 90)


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"status": "unavailable"}, "status: expected unavailable, saw available"),
        ({"taskStatus": "failed"}, "task_status: expected failed, saw success"),
        ({"minGeneration": 5}, "min_generation: expected >= 5, saw 3"),
        ({"maxAge": "1h"}, "max_age: expected <= 1h, saw"),
        ({"metrics": {"recall": ">= 95"}}, "metrics.recall: expected >= 95, saw 91"),
        ({"maxRegression": {"auc": "0.001 lower"}}, "max_regression.auc: expected <= gen 2 0.86"),
    ],
)
def test_an_unmet_gate_fails_check_in_one_line(plugin, expect, message):
    _, failures = plugin().check(INSTANCE, {**CTR, "expect": expect})
    assert len(failures) == 1
    prop, reason = failures[0]
    assert prop == ""
    assert reason.startswith("FunctionInstance my_app/ctr/ctr_test: expectations not met: ")
    assert message in reason
    assert "\n" not in reason


def test_a_met_gate_passes(plugin):
    expect = {"status": "available", "minGeneration": 3, "metrics": {"recall": ">= 90"},
              "noTaskErrors": True, "maxAge": "7d", "taskStatus": "success"}  # fmt: skip
    process = plugin()
    _, failures = process.check(INSTANCE, {**CTR, "expect": expect})
    assert failures == []
    _, outs = process.create(INSTANCE, {**CTR, "expect": expect})
    assert outs["ready"] is True
    assert outs["expect"] == expect


BAD_INPUTS = {
    "min-generation-text": (
        {**CTR, "expect": {"minGeneration": "3.5"}},
        [("expect", "expect.minGeneration: must be a whole number, got text '3.5'")],
    ),
    "min-generation-fraction": (
        {**CTR, "expect": {"minGeneration": 3.5}},
        [("expect", "expect.minGeneration: must be a whole number, got 3.5")],
    ),
    "metrics-as-a-list": (
        {**CTR, "expect": {"metrics": ["recall >= 90"]}},
        [("expect", "expect.metrics: must be a map, got a list")],
    ),
    "missing-name": (
        {"appGroup": "my_app", "functionName": "ctr"},
        [("instanceName", "instanceName: required, and missing")],
    ),
    "unknown-property": (
        {**CTR, "instanceNmae": "x"},
        [("instanceNmae", "instanceNmae: no such property; known: appGroup, endpoint, expect,"
                          " functionName, instanceName, region, wait")],
    ),
    "unknown-expectation": (
        {**CTR, "expect": {"min_generation": 3}},
        [("expect", "expect.min_generation: no such property; known: enforce, maxAge,"
                    " maxRegression, metrics, minGeneration, noTaskErrors, status, taskStatus")],
    ),
    "name-a-number": (
        {**CTR, "appGroup": 7},
        [("appGroup", "appGroup: must be text, got 7")],
    ),
    "bad-status": (
        {**CTR, "expect": {"status": "ready"}},
        [("expect", "expect.status: status must be one of available, unavailable; got 'ready'")],
    ),
    "bad-threshold": (
        {**CTR, "expect": {"metrics": {"recall": "high"}}},
        [("expect", "expect.metrics: metric 'recall': 'high' is not a threshold;"
                    " write e.g. '>= 90'")],
    ),
    "wait-without-expect": (
        {**CTR, "wait": {"timeout": "5m"}},
        [("wait", "wait: wait needs expectations to wait for; set expect=")],
    ),
    "bad-duration": (
        {**CTR, "expect": {"maxAge": "soon"}},
        [("expect", "expect.maxAge: ")],
    ),
    "empty-name": (
        {**CTR, "functionName": ""},
        [("functionName", "functionName: function name")],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_fails_check_naming_the_property(plugin, admin, case):
    inputs, expected = BAD_INPUTS[case]
    process = plugin()
    before = len(admin.requests())
    _, failures = process.check(INSTANCE, inputs)
    assert [prop for prop, _ in failures] == [prop for prop, _ in expected]
    for (_, reason), (_, start) in zip(failures, expected, strict=True):
        assert reason.startswith(start), reason
        assert "\n" not in reason
    assert len(admin.requests()) == before  # refused before any request
    assert process.alive()
    assert json.loads(process.schema())["name"] == "opensearch-fn"


@pytest.mark.parametrize(
    ("inputs", "prop", "start"),
    [
        ({**CTR, "generation": "soon"}, "generation", "generation: "),
        ({**CTR, "generation": [1]}, "generation", "generation: must be a whole number or text"),
        ({**CTR, "expect": {"status": "available"}}, "expect", "expect: status is an instance's"),
    ],
)
def test_bad_task_input_fails_check_naming_the_property(plugin, inputs, prop, start):
    _, failures = plugin().check(TASK, inputs)
    assert len(failures) == 1
    assert failures[0][0] == prop
    assert failures[0][1].startswith(start), failures


def test_enforce_false_warns_on_the_resource_row(plugin):
    process = plugin()
    expect = {"status": "unavailable", "enforce": False}
    id_, _, outs = process.deploy(INSTANCE, {**CTR, "expect": expect}, name="model")
    assert (outs["ready"], outs["unmet"]) == (
        False,
        ["status: expected unavailable, saw available"],
    )
    warnings = [(m, u) for level, m, u in process.engine.lines if level == "warning"]
    assert warnings == [
        (
            "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
            " status: expected unavailable, saw available",
            f"urn:pulumi:test::test::{INSTANCE}::model",
        )
    ]


def test_wait_polls_on_up_only_until_the_training_task_finishes(plugin, admin):
    expect = {"taskStatus": "success", "minGeneration": 2}
    inputs = {**TRAINING, "expect": expect, "wait": {"timeout": "30m", "interval": "1s"}}
    process = plugin()
    checked, failures = process.check(INSTANCE, inputs)
    assert failures == []  # a preview does not fail for what `up` will wait for
    assert "up will wait up to 30m for: task_status: expected success, saw running" in (
        process.engine.text()
    )
    admin.clear_requests()
    _, previewed = process.create(INSTANCE, checked, preview=True)
    assert previewed["ready"] is False
    assert admin.requests() == []  # preview never waits (nor reads again)
    # `up`: the read of create sees the run in progress, the next poll sees it finished.
    admin.advance_clock_at_request(600, at_request=4)
    id_, outs = process.create(INSTANCE, checked)
    assert (outs["latestGeneration"], outs["latestTaskStatus"], outs["ready"]) == (
        2, "success", True
    )  # fmt: skip
    progress = [m for level, m, _ in process.engine.lines if "elapsed" in m]
    assert progress[0].startswith("FunctionInstance my_app/ctr/ctr_training: instance available,")
    assert "task gen 2 running" in progress[0]
    assert "task gen 2 success" in progress[-1]


def test_wait_that_times_out_fails_create(plugin, admin):
    expect = {"taskStatus": "success"}
    inputs = {**TRAINING, "expect": expect, "wait": {"timeout": "1s", "interval": "1s"}}
    process = plugin()
    checked, failures = process.check(INSTANCE, inputs)
    assert failures == []
    with pytest.raises(PluginError) as caught:
        process.create(INSTANCE, checked)
    assert caught.value.details == (
        "FunctionInstance my_app/ctr/ctr_training: expectations not met:"
        " task_status: expected success, saw running (after waiting up to 1s)"
    )


def test_diff_names_exactly_the_tracked_fields_that_moved(plugin, admin):
    process = plugin()
    id_, checked, outs = process.deploy(INSTANCE, CTR, name="model")
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    admin.advance_clock(60)
    second = plugin()  # the next run
    checked, failures = second.check(INSTANCE, CTR, olds=checked, name="model")
    assert failures == []
    diff = second.diff(INSTANCE, id_, outs, checked, name="model")
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    moved = {"taskDagStatus", "latestGeneration", "latestTaskStatus"}
    assert set(diff.detailedDiff) == moved
    assert set(diff.diffs) == moved
    assert list(diff.replaces) == []
    assert all(not d.inputDiff for d in diff.detailedDiff.values())
    lines = [m for level, m, _ in second.engine.lines if "drifted" in m]
    assert lines == [
        "FunctionInstance my_app/ctr/ctr_test drifted: taskDagStatus success → running,"
        " latestGeneration 3 → 4, latestTaskStatus success → running"
    ]


def test_volatile_fields_never_make_a_diff(plugin, admin):
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    process = plugin()
    id_, checked, outs = process.deploy(INSTANCE, CTR)
    admin.advance_clock(120)  # progress and times move; nothing tracked does
    second = plugin()
    checked, _ = second.check(INSTANCE, CTR, olds=checked)
    diff = second.diff(INSTANCE, id_, outs, checked)
    assert diff.changes == proto.DiffResponse.DIFF_NONE
    assert dict(diff.detailedDiff) == {}


def test_changed_inputs(plugin):
    process = plugin()
    id_, checked, outs = process.deploy(INSTANCE, CTR)
    news = {**CTR, "expect": {"minGeneration": 1}}
    process.check(INSTANCE, news)
    diff = process.diff(INSTANCE, id_, outs, news)
    assert set(diff.detailedDiff) == {"expect"}
    assert diff.detailedDiff["expect"].inputDiff
    assert list(diff.replaces) == []
    news = {**CTR, "instanceName": "ctr_training"}
    process.check(INSTANCE, news)
    diff = process.diff(INSTANCE, id_, outs, news)
    assert list(diff.replaces) == ["instanceName"]
    assert diff.deleteBeforeReplace


def test_refresh_reads_live_and_its_diff_names_the_drift(plugin, admin):
    process = plugin()
    id_, checked, outs = process.deploy(INSTANCE, CTR, name="model")
    admin.set_instance_status("my_app", "ctr", "ctr_test", "unavailable")
    refresh = plugin()
    new_id, refreshed, inputs = refresh.read(INSTANCE, id_, outs, checked, name="model")
    assert (new_id, refreshed["status"], inputs) == (id_, "unavailable", checked)
    # The engine then diffs what it read against the inputs (refresh, refresh --preview-only).
    diff = refresh.diff(INSTANCE, id_, refreshed, checked, name="model")
    assert set(diff.detailedDiff) == {"status"}
    assert [m for _, m, _ in refresh.engine.lines if "drifted" in m] == [
        "FunctionInstance my_app/ctr/ctr_test drifted: status available → unavailable"
    ]
    # `preview --refresh`: then check and diff against the refreshed state still show it.
    news, failures = refresh.check(INSTANCE, CTR, olds=checked, name="model")
    assert failures == []
    diff = refresh.diff(INSTANCE, id_, refreshed, news, name="model")
    assert set(diff.detailedDiff) == {"status"}
    assert len([m for _, m, _ in refresh.engine.lines if "drifted" in m]) == 1


def test_refresh_never_fails_for_expectations(plugin, admin):
    process = plugin()
    inputs = {**CTR, "expect": {"status": "available"}}
    id_, checked, outs = process.deploy(INSTANCE, inputs)
    admin.set_instance_status("my_app", "ctr", "ctr_test", "unavailable")
    _, refreshed, _ = process.read(INSTANCE, id_, outs, checked)
    assert (refreshed["ready"], refreshed["unmet"]) == (
        False, ["status: expected available, saw unavailable"]
    )  # fmt: skip
    assert "warning: FunctionInstance my_app/ctr/ctr_test: expectations not met" in (
        process.engine.text()
    )


def test_refresh_keeps_state_on_an_api_error(plugin, admin):
    process = plugin()
    id_, checked, outs = process.deploy(INSTANCE, CTR)
    admin.inject_fault("error", status=500)
    with pytest.raises(PluginError) as caught:
        process.read(INSTANCE, id_, outs, checked)
    details = caught.value.details
    assert details.startswith("FunctionInstance my_app/ctr/ctr_test: "), details
    assert "Traceback" not in details
    assert "\n" not in details
    admin.clear_faults()
    assert process.read(INSTANCE, id_, outs, checked)[0] == id_


def test_refresh_of_a_task_that_no_longer_exists_removes_it(plugin):
    process = plugin()
    outs = {**CTR, "generation": 9, "requestedGeneration": 9, "status": "success", "ready": True,
            "unmet": []}  # fmt: skip
    assert process.read(TASK, "my_app/ctr/ctr_test/9", outs, {**CTR, "generation": 9}) == (
        "", {}, {}
    )  # fmt: skip
    assert "FunctionTask my_app/ctr/ctr_test/9 no longer exists" in process.engine.text()


def test_get_by_id(plugin):
    process = plugin()
    id_, outs, inputs = process.read(INSTANCE, "my_app/ctr/ctr_test")
    assert (id_, outs["latestGeneration"], outs["status"]) == (
        "my_app/ctr/ctr_test",
        3,
        "available",
    )
    assert inputs == CTR
    id_, outs, inputs = process.read(TASK, "my_app/ctr/ctr_test/2")
    assert (id_, outs["generation"], outs["metrics"]["recall"]) == ("my_app/ctr/ctr_test/2", 2, 90)
    assert inputs == {**CTR, "generation": 2}


def test_get_checks_expectations_in_preview_and_up(plugin):
    with pytest.raises(PluginError) as caught:
        plugin().read(INSTANCE, "my_app/ctr/ctr_test", inputs={"expect": {"minGeneration": 9}})
    assert caught.value.details == (
        "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
        " min_generation: expected >= 9, saw 3"
    )


@pytest.mark.parametrize(
    ("type_", "bad_id", "message"),
    [
        (INSTANCE, "my_app/ctr", "id 'my_app/ctr' is not of the form app/function/instance"),
        (INSTANCE, "", "id '' is not of the form app/function/instance"),
        (TASK, "my_app/ctr/ctr_test/x", "generation must be a whole number, got 'x'"),
    ],
)
def test_get_by_a_malformed_id_fails_in_one_line(plugin, type_, bad_id, message):
    with pytest.raises(PluginError) as caught:
        plugin().read(type_, bad_id)
    assert caught.value.details.startswith(message), caught.value.details
    assert "Traceback" not in caught.value.details


def test_unknown_inputs_in_a_preview(plugin, admin):
    process = plugin()
    admin.clear_requests()
    inputs = {**CTR, "instanceName": UNKNOWN}
    checked, failures = process.check(INSTANCE, inputs)
    assert failures == []
    id_, outs = process.create(INSTANCE, checked, preview=True)
    assert id_ == ""
    assert outs["status"] == UNKNOWN
    assert admin.requests() == []


def test_invoke_each_function(plugin):
    process = plugin()
    result, failures = process.invoke(
        schema.GET_INSTANCE, {**CTR, "expect": {"status": "available"}}
    )
    assert failures == []
    assert (result["id"], result["status"], result["ready"]) == (
        "my_app/ctr/ctr_test",
        "available",
        True,
    )
    result, _ = process.invoke(schema.GET_TASK, {**CTR, "generation": 2})
    assert (result["id"], result["generation"], result["metrics"]["auc"]) == (
        "my_app/ctr/ctr_test/2", 2, 0.86
    )  # fmt: skip
    result, _ = process.invoke(schema.GET_LATEST_TASK, {**CTR, "status": "success"})
    assert result["generation"] == 3
    result, _ = process.invoke(schema.GET_TASKS, {**CTR, "limit": 2})
    assert [t["generation"] for t in result["tasks"]] == [3, 2]
    assert result["tasks"][0]["runId"]
    functions = schema.package_schema()["functions"]
    assert set(result) <= set(functions[schema.GET_TASKS]["outputs"]["properties"])


def test_invoke_latest_task_when_there_is_none(plugin, admin):
    admin.upsert_instance("my_app", "ctr", "fresh", status="available")
    fresh = {**CTR, "instanceName": "fresh"}
    result, failures = plugin().invoke(schema.GET_LATEST_TASK, fresh)
    assert failures == []
    assert result == {**fresh, "ready": True, "unmet": []}


@pytest.mark.parametrize(
    ("token", "args", "start"),
    [
        (schema.GET_TASK, CTR, "generation: required, and missing"),
        (schema.GET_TASKS, {**CTR, "limit": "two"}, "limit: must be a whole number"),
        (schema.GET_INSTANCE, {**CTR, "expect": {"metrics": ["a > 1"]}}, "expect.metrics: must be a map"),
        (schema.GET_INSTANCE, {**CTR, "instanceName": "nope"}, "get_function_instance(my_app/ctr/nope): "),
        (schema.GET_INSTANCE, {**CTR, "expect": {"minGeneration": 7}}, "get_function_instance(my_app/ctr/ctr_test): expectations not met: min_generation: expected >= 7, saw 3"),
        ("opensearch-fn:index:getNothing", CTR, "unknown function 'opensearch-fn:index:getNothing'"),
    ],
)  # fmt: skip
def test_invoke_failures_in_one_line(plugin, token, args, start):
    process = plugin()
    _, failures = process.invoke(token, args)
    assert len(failures) == 1
    assert failures[0][1].startswith(start), failures
    assert "\n" not in failures[0][1]
    assert process.alive()


def test_an_unknown_type_fails_the_call_not_the_plugin(plugin):
    process = plugin()
    with pytest.raises(PluginError) as caught:
        process.check("opensearch-fn:index:Nothing", CTR)
    assert caught.value.details == "unknown resource type 'opensearch-fn:index:Nothing'"
    assert process.alive()
    assert process.deploy(INSTANCE, CTR)[0] == "my_app/ctr/ctr_test"


def test_a_latest_task_drifts_under_the_name_it_asked_for(plugin, admin):
    id_, checked, outs = plugin().deploy(TASK, CTR, name="latest")
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    second = plugin()
    checked, _ = second.check(TASK, CTR, olds=checked, name="latest")
    diff = second.diff(TASK, id_, outs, checked, name="latest")
    assert set(diff.detailedDiff) == {"generation", "status"}
    assert [m for _, m, _ in second.engine.lines if "drifted" in m] == [
        "FunctionTask my_app/ctr/ctr_test/latest drifted: generation 3 → 4, status success → running"
    ]


def test_a_provider_configured_with_unknowns_reads_nothing_in_a_preview(plugin, config, admin):
    """An explicit provider whose endpoint is another resource's output, not known yet."""
    process = plugin({**config, "endpoint": UNKNOWN})
    admin.clear_requests()
    checked, failures = process.check(INSTANCE, {**CTR, "expect": {"minGeneration": 9}})
    assert failures == []
    _, outs = process.create(INSTANCE, checked, preview=True)
    assert outs["latestGeneration"] == UNKNOWN
    assert admin.requests() == []
