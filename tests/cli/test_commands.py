"""`instance`, `tasks`, `task`: table and JSON output, and the exit code of each failure."""

from __future__ import annotations

import json
import socket

import pytest

from pulumi_opensearch_fn.core.outputs import TASK_FIELDS, instance_fields

from .conftest import APP, FN, run_cli


def test_instance_table(server, cli):
    ran = cli("--endpoint", server.url, "instance", APP, FN, "ctr_test", "--output", "detail")
    assert ran.code == 0, ran.err
    lines = dict(
        line.split(None, 1) if " " in line else (line, "") for line in ran.out.splitlines()
    )
    assert "available" in ran.out
    assert lines["status"].strip() == "available"
    assert "CTR model trained nightly" in ran.out
    assert "training" in ran.out  # the task summary, only with --output detail
    assert ran.err == ""


def test_instance_json_matches_the_resource_outputs(server, cli):
    ran = cli("instance", APP, FN, "ctr_test", "--endpoint", server.url, "--json")
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert doc["id"] == f"{APP}/{FN}/ctr_test"
    assert doc["instance_name"] == "ctr_test"
    assert doc["status"] == "available"
    assert doc["version_id"] == 3
    # Exactly the fields the resources export, plus the identity.
    from pulumi_opensearch_fn.api.models import FunctionInstance

    expected = set(instance_fields(FunctionInstance("x", "y"))) | {
        "id", "app_group", "function_name", "instance_name",
    }  # fmt: skip
    assert set(doc) == expected


def test_tasks_table_is_aligned_and_newest_first(server, cli):
    ran = cli("tasks", APP, FN, "ctr_test", "--endpoint", server.url)
    assert ran.code == 0, ran.err
    header, *rows = ran.out.splitlines()
    assert header.split()[:3] == ["GEN", "STATUS", "PROGRESS"]
    assert [r.split()[0] for r in rows] == ["3", "2", "1"]
    # Columns line up: every row has STATUS where the header has it.
    column = header.index("STATUS")
    assert all(r[column:].startswith("success") for r in rows)
    assert "recall=91" in rows[0]


def test_tasks_json_limit_and_paging(server, admin, cli):
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "--json", "tasks", APP, FN, "ctr_test", "--page-size", "1")
    assert ran.code == 0, ran.err
    tasks = json.loads(ran.out)
    assert [t["generation"] for t in tasks] == [3, 2, 1]
    assert set(tasks[0]) == set(TASK_FIELDS)
    assert len(admin.requests()) == 3  # one page per task

    ran = cli("--endpoint", server.url, "--json", "tasks", APP, FN, "ctr_test", "--limit", "2")
    assert [t["generation"] for t in json.loads(ran.out)] == [3, 2]


def test_tasks_filters(server, cli):
    ran = cli("--endpoint", server.url, "--json", "tasks", APP, FN, "ctr_broken",
              "--status", "failed", "--start-time", "0", "--end-time", "2999-01-01T00:00:00Z")  # fmt: skip
    assert ran.code == 0, ran.err
    assert [t["status"] for t in json.loads(ran.out)] == ["failed", "failed"]
    ran = cli("--endpoint", server.url, "tasks", APP, FN, "ctr_broken", "--status", "success")
    assert ran.code == 0
    assert "no training tasks" in ran.out


def test_task_by_generation_and_latest(server, cli):
    ran = cli("--endpoint", server.url, "task", APP, FN, "ctr_test", "2")
    assert ran.code == 0, ran.err
    assert "generation  2" in ran.out
    assert "recall=90" in ran.out
    ran = cli("--endpoint", server.url, "--json", "task", APP, FN, "ctr_test", "latest")
    doc = json.loads(ran.out)
    assert doc["generation"] == 3
    assert doc["status"] == "success"
    assert doc["metrics"]["recall"] == 91


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["instance", APP, FN, "nope"], "my_app/ctr/nope: GetFunctionInstance: instance not exist"),
        (["instance", "no_app", FN, "ctr_test"], "App.NotFound"),
        (["task", APP, FN, "ctr_test", "99"], "task 99: GetFunctionTask: task not exist"),
        (["tasks", APP, FN, "nope"], "Instance.NotExist"),
    ],
)
def test_not_found_is_3(server, cli, argv, message):
    ran = cli("--endpoint", server.url, *argv)
    assert ran.code == 3
    assert message in ran.err
    assert "Traceback" not in ran.err
    assert ran.out == ""


def test_latest_task_of_an_instance_without_tasks_is_3(server, admin, cli):
    admin.upsert_instance(APP, FN, "fresh", status="unavailable")
    ran = cli("--endpoint", server.url, "task", APP, FN, "fresh", "latest")
    assert ran.code == 3
    assert "has no training tasks yet" in ran.err


def test_wrong_secret_is_4(server, cli, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
    ran = cli("--endpoint", server.url, "instance", APP, FN, "ctr_test")
    assert ran.code == 4
    assert "SignatureDoesNotMatch" in ran.err
    assert "not-the-secret" not in ran.err


def test_permission_denied_is_4(server, admin, cli, monkeypatch):
    admin.add_access_key("LTAI-tasks-only", "tasks-only-secret", actions=["ListFunctionTasks"])
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-tasks-only")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "tasks-only-secret")
    assert cli("--endpoint", server.url, "tasks", APP, FN, "ctr_test").code == 0
    ran = cli("--endpoint", server.url, "instance", APP, FN, "ctr_test")
    assert ran.code == 4
    assert "Forbidden.RAM" in ran.err


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"kind": "throttle", "retry_after_ms": 1}, "Throttling.User"),
        ({"kind": "error", "status": 503}, "ServiceUnavailable"),
        ({"kind": "malformed"}, "not a JSON object"),
    ],
)
def test_api_failures_are_5(server, admin, cli, fault, code):
    admin.inject_fault(**fault)
    ran = cli("--endpoint", server.url, "instance", APP, FN, "ctr_test")
    assert ran.code == 5
    assert code in ran.err
    assert "Traceback" not in ran.err


def test_network_failure_is_5(env):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ran = run_cli("--endpoint", f"http://127.0.0.1:{port}", "instance", APP, FN, "x", env=env)
    assert ran.code == 5
    assert "connection to http://127.0.0.1:" in ran.err
    assert "Traceback" not in ran.err


def test_subprocess_outputs_and_exit_codes(server, env):
    """The same contract through the real entry point."""
    ok = run_cli("--endpoint", server.url, "instance", APP, FN, "ctr_test", "--json", env=env)
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["status"] == "available"
    missing = run_cli("--endpoint", server.url, "task", APP, FN, "ctr_test", "42", env=env)
    assert missing.code == 3
    assert missing.err.startswith("opensearch-fn: my_app/ctr/ctr_test task 42:")


def test_settings_from_environment(server, env):
    env = {**env, "OPENSEARCH_FN_ENDPOINT": server.url}
    assert run_cli("task", APP, FN, "ctr_test", "1", env=env).code == 0


@pytest.mark.parametrize(
    ("argv", "environ", "endpoint"),
    [
        # --region on the command line beats an endpoint from the environment ...
        (["--region", "cn-beijing"], {"OPENSEARCH_FN_ENDPOINT": "http://127.0.0.1:9"},
         "https://opensearch.cn-beijing.aliyuncs.com"),
        # ... and --endpoint beats a region from anywhere.
        (["--endpoint", "http://127.0.0.1:9"], {"ALIBABA_CLOUD_REGION_ID": "cn-beijing"},
         "http://127.0.0.1:9"),
        ([], {"ALICLOUD_REGION": "cn-shanghai"}, "https://opensearch.cn-shanghai.aliyuncs.com"),
    ],
)  # fmt: skip
def test_where_requests_go(argv, environ, endpoint):
    from pulumi_opensearch_fn.cli import session
    from pulumi_opensearch_fn.cli.parser import build

    args = build().parse_args([*argv, "instance", "a", "b", "c"])
    settings = session.settings_from(args, {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
                                            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
                                            **environ})  # fmt: skip
    with session.open_client(settings) as client:
        assert client.endpoint == endpoint
