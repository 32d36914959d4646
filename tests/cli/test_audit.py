"""`check --max-regression`, and `check --json` as an audit record: schema version,
time, expectations as given, what was judged, and the request ids that decided."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from .conftest import APP, FN

I = [APP, FN, "ctr_test"]  # noqa: E741 ; its generation 3 succeeded with auc 0.87


def _list_queries(admin) -> list[str]:
    return [e["query"] for e in admin.requests() if e["action"] == "ListFunctionTasks"]


def test_a_model_worse_than_the_last_good_one_is_stopped(server, admin, cli):
    admin.add_tasks(APP, FN, "ctr_test", 1, metrics={"auc": 0.861, "loss": 0.31})  # gen 4
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "check", *I,
              "--max-regression", "auc 0.005", "--max-regression", "recall 2%")  # fmt: skip
    assert ran.code == 1, ran.err
    assert "max_regression.auc: expected >= gen 3 0.87 - 0.005, saw gen 4 0.861" in ran.out
    # One extra ListFunctionTasks, for the two latest successful tasks.
    assert len(admin.requests()) == 3
    assert re.search(r"status=success", _list_queries(admin)[1])
    assert re.search(r"pageSize=2", _list_queries(admin)[1])

    ran = cli("--endpoint", server.url, "check", *I, "--max-regression", "auc 0.01")
    assert ran.code == 0, ran.out


def test_only_asked_for_it_costs_a_read(server, admin, cli):
    admin.clear_requests()
    assert cli("--endpoint", server.url, "check", *I, "--metric", "auc>=0.8").code == 0
    assert len(admin.requests()) == 2  # instance + latest task, no more
    # The latest task failed: the successful ones are read once, two at a time.
    admin.start_task(APP, FN, "ctr_test", 60, outcome="failed")
    admin.advance_clock(61)
    admin.clear_requests()
    assert cli("--endpoint", server.url, "check", *I, "--max-regression", "auc 0").code == 0
    assert len(admin.requests()) == 3


def test_the_first_successful_generation_passes_with_the_reason(server, admin, cli):
    admin.upsert_instance(APP, FN, "fresh", status="available", version_id=1)
    admin.add_tasks(APP, FN, "fresh", 1, metrics={"auc": 0.5})
    ran = cli("--endpoint", server.url, "--json", "check", APP, FN, "fresh",
              "--max-regression", "auc 0")  # fmt: skip
    assert ran.code == 0
    [result] = json.loads(ran.out)["instances"][0]["expectations"]
    assert result["met"] is True
    assert result["seen"] == "gen 1 is the first successful generation; nothing to compare"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("auc", "max_regression 'auc' is not of the form 'metric amount[%] [lower]'"),
        ("auc -1", "the amount must not be negative"),
        ("auc nan%", "'nan' is not a finite decimal number"),
    ],
)
def test_bad_max_regression_is_a_usage_error(server, admin, cli, value, message):
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "check", *I, "--max-regression", value)
    assert ran.code == 2
    assert "argument --max-regression: max_regression " in ran.err
    assert message in ran.err
    assert admin.requests() == []


# -- the audit record ---------------------------------------------------------------

DOCUMENT_KEYS = ["schema_version", "checked_at", "expect", "wait", "ready", "exit_code",
                 "counts", "instances"]  # fmt: skip
INSTANCE_KEYS = ["id", "app_group", "function_name", "instance_name", "ready", "state",
                 "reason", "timed_out", "elapsed_seconds", "expectations", "judged",
                 "request_ids", "error", "observation"]  # fmt: skip
JUDGED_KEYS = ["read_at", "task_generation", "task_run_id", "success_generation",
               "success_run_id", "previous_success_generation", "previous_success_run_id"]  # fmt: skip
EXPECTATION_KEYS = ["name", "expected", "seen", "met", "request_id"]
_DEBUG = re.compile(r"pulumi_opensearch_fn\.api: (\w+) \S+ -> \d+ request_id=(\S+)")


def test_the_json_is_an_audit_record(server, admin, cli):
    admin.add_tasks(APP, FN, "ctr_test", 1, metrics={"auc": 0.88})  # gen 4
    before = datetime.now(UTC)
    ran = cli("--debug", "--endpoint", server.url, "--json", "check", *I,
              "--status", "available", "--task-status", "success", "--min-generation", "4",
              "--metric", "auc >= 0.880", "--max-regression", "auc 1%",
              "--wait", "--timeout", "1m", "--interval", "5s")  # fmt: skip
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert list(doc) == DOCUMENT_KEYS
    assert doc["schema_version"] == 1
    checked_at = datetime.fromisoformat(doc["checked_at"].replace("Z", "+00:00"))
    assert before <= checked_at <= datetime.now(UTC)
    assert doc["expect"] == {
        "no_task_errors": False, "status": "available", "task_status": "success",
        "min_generation": 4, "metrics": ["auc >= 0.880"], "max_regression": ["auc 1%"],
    }  # fmt: skip
    assert doc["wait"] == {"timeout": "1m", "interval": "5s"}
    [instance] = doc["instances"]
    assert list(instance) == INSTANCE_KEYS
    assert list(instance["judged"]) == JUDGED_KEYS
    assert instance["judged"]["success_generation"] == 4
    assert instance["judged"]["previous_success_generation"] == 3
    assert instance["judged"]["success_run_id"] == instance["observation"]["latest_task_run_id"]
    assert instance["judged"]["previous_success_run_id"]
    # Each verdict names the read that decided it: the ids the client logged, in order.
    reads = _DEBUG.findall(ran.err)
    assert [action for action, _ in reads] == [
        "GetFunctionInstance", "ListFunctionTasks", "ListFunctionTasks"
    ]  # fmt: skip
    instance_id, latest_id, successes_id = (request_id for _, request_id in reads)
    assert instance["request_ids"] == {
        "instance": instance_id, "latest_task": latest_id,
        "success_task": successes_id, "success_tasks": successes_id,
    }  # fmt: skip
    decided = {e["name"]: e["request_id"] for e in instance["expectations"]}
    assert decided == {
        "status": instance_id, "task_status": latest_id, "min_generation": successes_id,
        "metrics.auc": successes_id, "max_regression.auc": successes_id,
    }  # fmt: skip
    assert all(list(e) == EXPECTATION_KEYS for e in instance["expectations"])


def test_an_error_record_keeps_the_shape(server, cli):
    ran = cli("--endpoint", server.url, "--json", "check", APP, FN, "missing")
    assert ran.code == 3
    doc = json.loads(ran.out)
    assert list(doc) == DOCUMENT_KEYS
    [instance] = doc["instances"]
    assert list(instance) == INSTANCE_KEYS
    assert instance["judged"] is None and instance["request_ids"] is None
    assert instance["error"]["request_id"]
