"""Every answer is checked against its question before anything uses it: the instance,
function and generation it names, its required fields, the status a list was asked
for, and the order of the list."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_opensearch_fn.api import BadResponseError, Credentials
from pulumi_opensearch_fn.api.identity import Identity

from ..answers import PROPERTY, attempt, instance_answers, statuses_of, task_answers, task_lists
from ..hostile import INSTANCE, HostileServer, envelope, json_reply, task
from .conftest import clients_for

APP, FN, INST = "my_app", "ctr", "ctr_test"
KEY = Credentials("LTAI-hostile-test", "hostile-test-secret-value")


@pytest.fixture
def client(hostile: HostileServer):
    for make in clients_for(hostile.url, KEY):
        yield make()


def refused(call, *needles: str) -> str:
    with pytest.raises(BadResponseError) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text
    for needle in needles:
        assert needle in text, text
    return text


# -- GetFunctionInstance ---------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "needles"),
    [
        pytest.param({}, ["names no instance", "'ctr_test'"], id="empty-object"),
        pytest.param(INSTANCE | {"instanceName": "other"}, ["'other'", "'ctr_test'"], id="other"),
        pytest.param(INSTANCE | {"functionName": "rank"}, ["'rank'", "'ctr'"], id="other-fn"),
        pytest.param(INSTANCE | {"instanceName": 5}, ["instanceName", "number"], id="name-number"),
        pytest.param(
            {k: v for k, v in INSTANCE.items() if k != "status"}, ["no status"], id="no-status"
        ),
        pytest.param(INSTANCE | {"status": ""}, ["status is blank"], id="blank-status"),
        pytest.param(INSTANCE | {"status": 1}, ["status is a JSON number"], id="number-status"),
    ],
)
def test_an_instance_answer_must_be_the_instance_asked_for(
    hostile: HostileServer, client, result: dict, needles: list[str]
) -> None:
    hostile.serve(json_reply(envelope(result=result)))
    text = refused(lambda: client.get_function_instance(Identity(APP, FN, INST)), *needles)
    assert text.startswith("GetFunctionInstance: ")


def test_a_foreign_name_is_shown_safely(hostile: HostileServer, client) -> None:
    hostile.serve(json_reply(envelope(result=INSTANCE | {"instanceName": "\x1b[2Jx" * 100})))
    text = refused(lambda: client.get_function_instance(Identity(APP, FN, INST)), "more characters")
    assert text.isprintable()


# -- GetFunctionTask -------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "needles"),
    [
        pytest.param(task(4), ["generation 4, not 3"], id="other-generation"),
        pytest.param(task(3, functionName="rank"), ["'rank'", "'ctr'"], id="other-fn"),
        pytest.param(task(3, instanceName="other"), ["'other'", "'ctr_test'"], id="other-inst"),
        pytest.param(task(3, status=None), ["task 3 has no status"], id="no-status"),
        pytest.param(task(3, status=" "), ["status is blank"], id="blank-status"),
    ],
)
def test_a_task_answer_must_be_the_generation_asked_for(
    hostile: HostileServer, client, result: dict, needles: list[str]
) -> None:
    hostile.serve(json_reply(envelope(result=result)))
    text = refused(lambda: client.get_function_task(Identity(APP, FN, INST, 3)), *needles)
    assert text.startswith("GetFunctionTask: ")


# -- ListFunctionTasks -----------------------------------------------------------


def test_a_failed_task_in_a_success_list_is_refused(hostile: HostileServer, client) -> None:
    hostile.serve(json_reply(envelope(result=[task(10, status="failed")], totalCount=1)))
    refused(
        lambda: client.get_latest_function_task(Identity(APP, FN, INST), status="success"),
        "asked for success tasks",
        "task 10 with status 'failed'",
    )
    hostile.serve(json_reply(envelope(result=[task(10), task(9, status="failed")])))
    refused(
        lambda: list(client.list_function_tasks(Identity(APP, FN, INST), status="success")),
        "task 9",
    )


def test_a_page_is_read_newest_first(hostile: HostileServer, client) -> None:
    hostile.serve(json_reply(envelope(result=[task(9), task(11), task(10)], totalCount=3)))
    page = client.list_function_tasks_page(Identity(APP, FN, INST), status="success", page_size=3)
    assert [t.generation for t in page.tasks] == [11, 10, 9]
    assert [t.generation for t in client.list_function_tasks(Identity(APP, FN, INST))] == [
        11,
        10,
        9,
    ]


def test_a_later_page_newer_than_an_earlier_one_is_refused(hostile: HostileServer, client) -> None:
    pages = {
        "1": json_reply(envelope(result=[task(5), task(4)], totalCount=4)),
        "2": json_reply(envelope(result=[task(7), task(6)], totalCount=4)),
    }
    hostile.serve(lambda seen: pages[seen.query.split("pageNumber=")[1].split("&")[0]])
    refused(
        lambda: list(client.list_function_tasks(Identity(APP, FN, INST), page_size=2)),
        "page 2 lists generation 7, newer than generation 4",
    )


def test_a_generation_twice_in_a_page_is_refused(hostile: HostileServer, client) -> None:
    hostile.serve(json_reply(envelope(result=[task(5), task(5, status="failed")])))
    refused(
        lambda: list(client.list_function_tasks(Identity(APP, FN, INST))),
        "generation 5 more than once",
    )


def test_a_listed_task_of_another_instance_is_refused(hostile: HostileServer, client) -> None:
    hostile.serve(json_reply(envelope(result=[task(5, functionName="rank")])))
    refused(lambda: client.get_latest_function_task(Identity(APP, FN, INST)), "'rank'", "'ctr'")


# -- the property: whatever the server answers -----------------------------------


@pytest.mark.parametrize("which", ["instance", "task", "latest-success", "list", "success"])
@PROPERTY
@given(data=st.data())
def test_any_answer_is_refused_or_names_what_was_asked(
    hostile: HostileServer, client, which: str, data: st.DataObject
) -> None:
    """The client either raises the package's error or returns exactly what was asked
    for, required fields typed; a clean answer is always taken."""
    strategy = {
        "instance": instance_answers(),
        "task": task_answers(),
        "latest-success": task_lists("success"),
        "list": task_lists(),
        "success": task_lists("success"),
    }[which]
    answer = data.draw(strategy)
    hostile.serve(answer.reply)
    calls = {
        "instance": lambda: client.get_function_instance(Identity(APP, FN, INST)),
        "task": lambda: client.get_function_task(Identity(APP, FN, INST, 3)),
        "latest-success": lambda: client.get_latest_function_task(
            Identity(APP, FN, INST), status="success"
        ),
        "list": lambda: list(client.list_function_tasks(Identity(APP, FN, INST))),
        "success": lambda: list(
            client.list_function_tasks(Identity(APP, FN, INST), status="success")
        ),
    }
    got, error = attempt(calls[which])
    if error is not None:
        assert not answer.clean, f"a clean answer was refused: {error}"
        assert isinstance(error, BadResponseError)
        assert "\n" not in str(error)
        return
    assert answer.clean, f"a broken answer was taken: {answer.result!r}"
    if which == "instance":
        assert got.instance_name == INST
        assert got.function_name in ("", FN)
        assert isinstance(got.status, str) and got.status.strip()
        return
    tasks = [got] if which == "task" else [got] if which == "latest-success" else got
    tasks = [t for t in tasks if t is not None]
    served = statuses_of(answer)
    if which == "latest-success" and served:
        assert tasks, "a success list with tasks read as none"
        assert tasks[0].generation == max(served)
    for found in tasks:
        assert found.function_name in ("", FN)
        assert isinstance(found.status, str) and found.status.strip()
        if which == "task":
            assert found.generation == 3
        else:
            assert served[found.generation] == found.status
        if which in ("latest-success", "success"):
            assert found.status == "success"
    generations = [t.generation for t in tasks]
    assert generations == sorted(set(generations), reverse=True)
