"""The plugin against a hostile API: a broken answer fails the call in one line (a check
failure, a read error, an invoke failure) and never the plugin; refresh drops a resource
only on a 4xx NotExist; a secret the server reflects reaches no answer, log or state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.plugin import schema

from ..hostile import INSTANCE as SERVED
from ..hostile import (
    HostileServer,
    broken_answers,
    echo_headers,
    envelope,
    healthy,
    json_reply,
    service_error,
    task,
)
from .harness import INSTANCE, TASK, Plugin, PluginError

CTR = {"appGroup": "my_app", "functionName": "ctr", "instanceName": "ctr_test"}
CANARY_ID = "LTAI-canary-key-id"
CANARY_SECRET = "canary-secret-0123456789-abcdefghij"
CANARY_TOKEN = "canary-sts-token-" + "x" * 40


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.fixture(scope="module")
def process(server: HostileServer) -> Iterator[Plugin]:
    """One plugin process for the module, with the canary credentials."""
    started = Plugin()
    started.configure(
        {"endpoint": server.url, "accessKeyId": CANARY_ID, "accessKeySecret": CANARY_SECRET,
         "securityToken": CANARY_TOKEN},
        secret=("accessKeySecret", "securityToken"),
    )  # fmt: skip
    yield started
    stderr = started.close()
    assert CANARY_SECRET not in stderr and CANARY_TOKEN not in stderr
    assert CANARY_SECRET not in started.engine.text() and CANARY_TOKEN not in started.engine.text()


def deployed(process: Plugin, server: HostileServer, type_: str, inputs: dict) -> tuple:
    healthy(server)
    id_, checked, outs = process.deploy(type_, {**CTR, **inputs})
    return id_, checked, outs


READS = {
    "instance-get": (INSTANCE, {}, "GetFunctionInstance"),
    "instance-list": (INSTANCE, {}, "ListFunctionTasks"),
    "task-latest": (TASK, {}, "ListFunctionTasks"),
    "task-given": (TASK, {"generation": 3}, "GetFunctionTask"),
}
CASES = [
    pytest.param(read, shape, id=f"{read}-{shape}")
    for read, (_, _, action) in READS.items()
    for shape in broken_answers(action)
]


@pytest.mark.parametrize(("read", "shape"), CASES)
def test_a_broken_answer_keeps_state_and_fails_the_read_in_one_line(process, server, read, shape):
    type_, inputs, action = READS[read]
    id_, checked, outs = deployed(process, server, type_, inputs)
    server.serve(broken_answers(action)[shape], action=action)
    with pytest.raises(PluginError) as caught:
        process.read(type_, id_, outs, checked)
    details = caught.value.details
    assert details.startswith(
        f"{type_.rsplit(':', 1)[1].removesuffix('State')} my_app/ctr/ctr_test"
    ), details
    assert action in details
    assert "\n" not in details.strip()
    assert "Traceback" not in details


@pytest.mark.parametrize(
    ("action", "shape"),
    [("GetFunctionInstance", shape) for shape in broken_answers("GetFunctionInstance")]
    + [("ListFunctionTasks", "result-object-not-list"), ("ListFunctionTasks", "body-is-html")],
)
def test_a_broken_answer_fails_check_in_one_line(process, server, action, shape):
    healthy(server)
    server.serve(broken_answers(action)[shape], action=action)
    _, failures = process.check(INSTANCE, CTR)
    assert len(failures) == 1
    prop, reason = failures[0]
    assert (prop, reason.startswith("FunctionInstance my_app/ctr/ctr_test: ")) == ("", True)
    assert "\n" not in reason
    assert process.alive()


@pytest.mark.parametrize("shape", ["result-null", "body-is-html", "instance-not-exist-503"])
def test_a_broken_answer_fails_an_invoke_in_one_line(process, server, shape):
    healthy(server)
    server.serve(broken_answers("GetFunctionInstance")[shape], action="GetFunctionInstance")
    _, failures = process.invoke(schema.GET_INSTANCE, CTR)
    assert len(failures) == 1
    assert failures[0][1].startswith("get_function_instance(my_app/ctr/ctr_test): ")
    assert "\n" not in failures[0][1]


@pytest.mark.parametrize(
    ("read", "code"),
    [
        ("instance-get", "Instance.NotExist"),
        ("instance-list", "Instance.NotExist"),
        ("task-given", "Task.NotExist"),
    ],
)
def test_not_exist_with_a_4xx_removes_the_resource(process, server, read, code):
    type_, inputs, action = READS[read]
    id_, checked, outs = deployed(process, server, type_, inputs)
    server.serve(service_error(code, "not there", 404), action=action)
    assert process.read(type_, id_, outs, checked) == ("", {}, {})


def test_instance_not_exist_keeps_a_task(process, server):
    id_, checked, outs = deployed(process, server, TASK, {})
    server.serve(service_error("Instance.NotExist", "not there", 404), action="ListFunctionTasks")
    with pytest.raises(PluginError, match="Instance.NotExist"):
        process.read(TASK, id_, outs, checked)


def test_an_empty_task_list_keeps_a_latest_task(process, server):
    id_, checked, outs = deployed(process, server, TASK, {})
    server.serve(json_reply(envelope(result=[], totalCount=0)), action="ListFunctionTasks")
    with pytest.raises(PluginError, match="my_app/ctr/ctr_test has no training task yet"):
        process.read(TASK, id_, outs, checked)


def test_reflected_credentials_reach_no_answer(process, server):
    """A server that echoes every request header (the STS token, the signature) into its
    error messages: every call fails in one line, with the secrets masked."""
    id_, checked, outs = deployed(process, server, INSTANCE, {})
    for action in ("GetFunctionInstance", "ListFunctionTasks", "GetFunctionTask"):
        server.serve(echo_headers(), action=action)
    texts: list[str] = []
    _, failures = process.check(INSTANCE, CTR)
    texts += [reason for _, reason in failures]
    with pytest.raises(PluginError) as caught:
        process.read(INSTANCE, id_, outs, checked)
    texts.append(caught.value.details)
    _, failures = process.invoke(schema.GET_TASKS, CTR)
    texts += [reason for _, reason in failures]
    assert len(texts) == 3
    assert all("SignatureDoesNotMatch" in text for text in texts)
    for text in texts:
        assert CANARY_SECRET not in text and CANARY_TOKEN not in text
        assert "***" in text  # the token was there, masked


def test_a_secret_in_an_answer_never_reaches_outputs(process, server):
    """The server puts the token in a description and a task's extendInfo: the outputs
    (what state holds) mask it."""
    healthy(server)
    server.serve(json_reply(envelope(result={**SERVED, "description": f"t={CANARY_TOKEN}"})),
                 action="GetFunctionInstance")  # fmt: skip
    leaky = task(3, extendInfo=f'{{"note": "{CANARY_SECRET}", "errors": []}}')
    server.serve(json_reply(envelope(result=[leaky], totalCount=1)), action="ListFunctionTasks")
    id_, checked, outs = process.deploy(INSTANCE, CTR)
    text = repr(outs) + repr(process.read(INSTANCE, id_, outs, checked))
    result, _ = process.invoke(schema.GET_LATEST_TASK, CTR)
    text += repr(result)
    assert CANARY_SECRET not in text and CANARY_TOKEN not in text
    assert outs["description"] == "t=***"
