"""The client against a hostile server: a broken answer is never "not found" or "no
tasks", every call is bounded in time and memory, and odd answers end as one line."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from pulumi_opensearch_fn.api import (
    ApiError,
    BadResponseError,
    Credentials,
    DeadlineExceededError,
    InstanceNotFoundError,
    InvalidInputError,
    NetworkError,
    OpenSearchFnError,
    OpenSearchFunctionClient,
    RetryPolicy,
    ServerError,
    TaskNotFoundError,
    ThrottledError,
)
from pulumi_opensearch_fn.api.body import MAX_RESPONSE_BYTES_ENV
from pulumi_opensearch_fn.api.client import MAX_PAGES
from pulumi_opensearch_fn.api.identity import Identity

from ..hostile import (
    INSTANCE,
    HostileServer,
    Pager,
    Reply,
    broken_answers,
    dripping,
    endless,
    envelope,
    good_instance,
    good_tasks,
    gzip_bomb,
    healthy,
    json_reply,
    service_error,
    task,
)
from .conftest import clients_for

APP, FN, INST = "my_app", "ctr", "ctr_test"
KEY = Credentials("LTAI-hostile-test", "hostile-test-secret-value")

Call = Callable[[OpenSearchFunctionClient], object]
CALLS: dict[str, tuple[str, Call]] = {
    "instance": ("GetFunctionInstance", lambda c: c.get_function_instance(Identity(APP, FN, INST))),
    "task": ("GetFunctionTask", lambda c: c.get_function_task(Identity(APP, FN, INST, 3))),
    "latest": ("ListFunctionTasks", lambda c: c.get_latest_function_task(Identity(APP, FN, INST))),
    "list": ("ListFunctionTasks", lambda c: list(c.list_function_tasks(Identity(APP, FN, INST)))),
}
CASES = [
    pytest.param(call, shape, id=f"{call}-{shape}")
    for call, (action, _) in CALLS.items()
    for shape in broken_answers(action)
]


@pytest.fixture
def connect(hostile: HostileServer):
    yield from clients_for(hostile.url, KEY)


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "\r" not in text
    assert "Traceback" not in text
    return text


@pytest.mark.parametrize(("call", "shape"), CASES)
def test_a_broken_answer_is_an_error_never_not_found_or_empty(
    hostile: HostileServer, connect, call: str, shape: str
) -> None:
    action, run = CALLS[call]
    healthy(hostile)
    hostile.serve(broken_answers(action)[shape], action=action)

    with pytest.raises(OpenSearchFnError) as caught:
        run(connect())

    error = caught.value
    assert not isinstance(error, InstanceNotFoundError | TaskNotFoundError)
    assert isinstance(error, ApiError | NetworkError | BadResponseError)
    if not (error.http_status or 0) >= 500 and not isinstance(error, NetworkError):
        assert isinstance(error, BadResponseError)
    assert one_line(error).startswith(action)
    assert hostile.actions() == [action]


@pytest.mark.parametrize(
    ("call", "code", "cls"),
    [
        ("instance", "Instance.NotExist", InstanceNotFoundError),
        ("latest", "Instance.NotExist", InstanceNotFoundError),
        ("task", "Instance.NotExist", InstanceNotFoundError),
        ("task", "Task.NotExist", TaskNotFoundError),
    ],
)
@pytest.mark.parametrize("status", [400, 404, 410])
def test_not_found_only_for_its_code_with_a_4xx(
    hostile: HostileServer, connect, call: str, code: str, cls: type, status: int
) -> None:
    action, run = CALLS[call]
    hostile.serve(service_error(code, "not there", status))
    with pytest.raises(cls):
        run(connect())
    hostile.serve(service_error(code, "not there", 500))
    with pytest.raises(ServerError):
        run(connect())


def test_no_tasks_only_from_an_empty_list(hostile: HostileServer, connect) -> None:
    hostile.serve(json_reply(envelope(result=[], totalCount=0)))
    client = connect()
    assert client.get_latest_function_task(Identity(APP, FN, INST)) is None
    assert list(client.list_function_tasks(Identity(APP, FN, INST))) == []


# -- every call is bounded -------------------------------------------------------


def test_a_dripping_body_ends_at_the_deadline(hostile: HostileServer, connect) -> None:
    body = json.dumps(envelope(result=INSTANCE)).encode()
    hostile.serve(dripping(body, every=0.5))
    client = connect(retry=RetryPolicy(max_attempts=3, deadline=2.0), read_timeout=5.0)

    with pytest.raises(DeadlineExceededError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))

    assert "still arriving when the deadline passed" in one_line(caught.value)
    assert len(hostile.requests) == 1  # the deadline is spent: no retry


def test_an_endless_body_stops_at_the_size_cap(hostile: HostileServer, connect) -> None:
    hostile.serve(endless())
    with pytest.raises(BadResponseError) as caught:
        connect(max_response_bytes=64 * 1024).get_function_instance(Identity(APP, FN, INST))
    assert "larger than 65536 bytes" in one_line(caught.value)


def test_a_declared_length_over_the_cap_is_refused_unread(hostile: HostileServer, connect) -> None:
    hostile.serve(Reply(200, b"x" * 5000))
    with pytest.raises(BadResponseError, match="larger than 4096 bytes"):
        connect(max_response_bytes=4096).get_function_instance(Identity(APP, FN, INST))


def test_a_gzip_bomb_is_cut_at_the_cap_counting_inflated_bytes(
    hostile: HostileServer, connect
) -> None:
    hostile.serve(gzip_bomb(1024))  # about 1 MB on the wire, 1 GiB inflated
    client = connect()
    tracemalloc.start()
    try:
        with pytest.raises(BadResponseError) as caught:
            client.get_function_instance(Identity(APP, FN, INST))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"larger than {client.max_response_bytes} bytes" in one_line(caught.value)
    assert peak < 4 * client.max_response_bytes


def test_gzip_and_deflate_answers_are_read(hostile: HostileServer, connect) -> None:
    import gzip
    import zlib

    body = json.dumps(envelope(result=INSTANCE)).encode()
    for encoding, packed in (
        ("gzip", gzip.compress(body)),
        ("gzip", gzip.compress(body[:10]) + gzip.compress(body[10:])),  # two members
        ("deflate", zlib.compress(body)),
        ("deflate", zlib.compress(body)[2:-4]),  # raw deflate, as some servers send
    ):
        hostile.serve(Reply(200, packed, (("content-encoding", encoding),)))
        assert connect().get_function_instance(Identity(APP, FN, INST)).version_id == 3


def test_an_unasked_encoding_is_refused(hostile: HostileServer, connect) -> None:
    hostile.serve(Reply(200, b"\x8b\x00", (("content-encoding", "br"),)))
    with pytest.raises(BadResponseError, match="encoded as 'br'"):
        connect().get_function_instance(Identity(APP, FN, INST))


def test_the_cap_comes_from_the_environment(
    hostile: HostileServer, connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile.serve(json_reply(envelope(result=INSTANCE | {"description": "x" * 2000})))
    monkeypatch.setenv(MAX_RESPONSE_BYTES_ENV, "1024")
    with pytest.raises(BadResponseError, match=f"larger than 1024 bytes.*{MAX_RESPONSE_BYTES_ENV}"):
        connect().get_function_instance(Identity(APP, FN, INST))
    for bad in ("lots", "-5", "12", "1e9"):
        monkeypatch.setenv(MAX_RESPONSE_BYTES_ENV, bad)
        with pytest.raises(InvalidInputError, match=MAX_RESPONSE_BYTES_ENV):
            connect()
    assert hostile.actions() == ["GetFunctionInstance"]


def test_a_long_server_message_is_cut(hostile: HostileServer, connect) -> None:
    hostile.serve(service_error("InvalidParameter", "x" * 100_000, 400))
    with pytest.raises(ApiError) as caught:
        connect().get_function_instance(Identity(APP, FN, INST))
    text = one_line(caught.value)
    assert len(text) < 500
    assert "(99700 more characters)" in text


def test_paging_stops_at_the_announced_total(hostile: HostileServer, connect) -> None:
    hostile.serve(good_tasks(5, 4, 3))  # totalCount 3, a full page of 3
    assert [
        t.generation for t in connect().list_function_tasks(Identity(APP, FN, INST), page_size=3)
    ] == [
        5,
        4,
        3,
    ]
    assert len(hostile.requests) == 1


def test_paging_a_trillion_announced_tasks_ends(hostile: HostileServer, connect) -> None:
    pager = Pager(total=10**12)
    hostile.serve(pager)
    with pytest.raises(BadResponseError) as caught:
        list(connect().list_function_tasks(Identity(APP, FN, INST), page_size=1))
    assert f"still more tasks after {MAX_PAGES} pages (1000000000000 announced)" in one_line(
        caught.value
    )
    assert pager.pages == list(range(1, MAX_PAGES + 1))


def test_paging_stops_when_a_page_repeats(hostile: HostileServer, connect) -> None:
    pager = Pager(total=500, repeat=True)
    hostile.serve(pager)
    with pytest.raises(BadResponseError, match="page 2 repeats tasks already listed"):
        list(connect().list_function_tasks(Identity(APP, FN, INST), page_size=10))
    assert pager.pages == [1, 2]


def test_a_task_shifted_onto_the_next_page_is_listed_once(hostile: HostileServer, connect) -> None:
    pages = {
        "1": json_reply(envelope(result=[task(5), task(4)], totalCount=4)),
        "2": json_reply(envelope(result=[task(4), task(3)], totalCount=4)),  # a new task shifted
    }
    hostile.serve(
        lambda seen: pages[dict(p.split("=") for p in seen.query.split("&"))["pageNumber"]]
    )
    found = [
        t.generation for t in connect().list_function_tasks(Identity(APP, FN, INST), page_size=2)
    ]
    assert found == [5, 4, 3]


@pytest.mark.parametrize(
    "header",
    [("retry-after", "1"), ("retry-after", "0.2"), ("x-acs-retry-after", "200")],
)
def test_retry_after_is_honoured(hostile: HostileServer, connect, header) -> None:
    answers = iter([service_error("Throttling.User", "slow down", 429), good_instance()])
    throttled = next(answers)
    hostile.serve(
        lambda _seen: (
            Reply(throttled.status, throttled.body, (*throttled.headers, header))
            if len(hostile.requests) == 1
            else next(answers)
        )
    )
    client = connect(retry=RetryPolicy(max_attempts=3, base_delay=0.0, deadline=10.0))
    assert client.get_function_instance(Identity(APP, FN, INST)).version_id == 3
    assert len(hostile.requests) == 2


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (("retry-after", "120"), 429),
        (("retry-after", "120"), 503),
        (("x-acs-retry-after", "120000"), 429),
        ("date", 503),
    ],
)
def test_a_wait_beyond_the_deadline_fails_at_once_saying_why(
    hostile: HostileServer, connect, header, status: int
) -> None:
    if header == "date":
        header = ("retry-after", format_datetime(datetime.now(UTC) + timedelta(hours=1), True))
    error = service_error(
        "Throttling.User" if status == 429 else "ServiceUnavailable", "busy", status
    )
    hostile.serve(Reply(error.status, error.body, (*error.headers, header)))
    client = connect(retry=RetryPolicy(max_attempts=5, deadline=5.0))

    with pytest.raises(DeadlineExceededError) as caught:
        client.get_function_instance(Identity(APP, FN, INST))

    text = one_line(caught.value)
    assert "the service asked to retry after" in text
    assert "of the 5s deadline is left" in text
    assert len(hostile.requests) == 1
    assert isinstance(caught.value, NetworkError)
    assert caught.value.http_status == status


def test_throttled_error_keeps_its_retry_after(hostile: HostileServer, connect) -> None:
    error = service_error("Throttling.User", "slow down", 429)
    hostile.serve(Reply(error.status, error.body, (*error.headers, ("retry-after", "7"))))
    with pytest.raises(ThrottledError) as caught:
        connect().get_function_instance(Identity(APP, FN, INST))
    assert caught.value.retry_after == 7


# -- odd answers -----------------------------------------------------------------

ODD_INSTANCES: dict[str, bytes] = {
    "time-1e20": json.dumps(envelope(result=INSTANCE | {"createTime": 1e20})).encode(),
    "time-huge-int": json.dumps(envelope(result=INSTANCE | {"createTime": 10**30})).encode(),
    "time-negative": json.dumps(envelope(result=INSTANCE | {"createTime": -5})).encode(),
    "version-nan": json.dumps(envelope(result=INSTANCE | {"versionId": float("nan")})).encode(),
    "version-infinity": json.dumps(
        envelope(result=INSTANCE | {"versionId": float("inf")})
    ).encode(),
    "version-1e400": json.dumps(envelope(result=INSTANCE | {"versionId": 1}))
    .encode()
    .replace(b'"versionId": 1', b'"versionId": 1e400'),
    "version-text": json.dumps(envelope(result=INSTANCE | {"versionId": "three"})).encode(),
    "version-fraction": json.dumps(envelope(result=INSTANCE | {"versionId": 3.5})).encode(),
    "version-bool": json.dumps(envelope(result=INSTANCE | {"versionId": True})).encode(),
    "version-5000-digits": json.dumps(envelope(result=INSTANCE))
    .encode()
    .replace(b'"versionId": 3', b'"versionId": ' + b"9" * 5000),
    "progress-object": json.dumps(
        envelope(result=INSTANCE | {"task": {"dagStatus": "running", "progress": {"a": 1}}})
    ).encode(),
    "nested-200000": b'{"result": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    "invalid-utf8": b'{"result": {"instanceName": "\xff\xfe"}}',
}


@pytest.mark.parametrize("shape", list(ODD_INSTANCES))
def test_odd_numbers_and_shapes_are_bad_responses(
    hostile: HostileServer, connect, shape: str
) -> None:
    hostile.serve(Reply(200, ODD_INSTANCES[shape], (("content-type", "application/json"),)))
    with pytest.raises(BadResponseError) as caught:
        connect().get_function_instance(Identity(APP, FN, INST))
    assert len(one_line(caught.value)) < 400


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"generation": "3.5"}, "generation is '3.5', expected a whole number"),
        ({"generation": None}, "task without a generation"),
        ({"startTime": 1e20}, "startTime is 100000000000000000000, out of range"),
        ({"endTime": "soon"}, "endTime is 'soon', expected a whole number"),
    ],
)
def test_odd_tasks_are_bad_responses(hostile: HostileServer, connect, fields, message) -> None:
    hostile.serve(json_reply(envelope(result=[task(3) | fields], totalCount=1)))
    with pytest.raises(BadResponseError, match=message):
        connect().get_latest_function_task(Identity(APP, FN, INST))


def test_extend_info_nested_too_deeply_reads_as_unparseable(
    hostile: HostileServer, connect
) -> None:
    # The task itself is well formed: its metrics are unreadable, which fails any metric gate.
    hostile.serve(
        json_reply(
            envelope(result=[task(3) | {"extendInfo": "[" * 200_000 + "]" * 200_000}], totalCount=1)
        )
    )
    found = connect().get_latest_function_task(Identity(APP, FN, INST))
    assert found is not None and not found.extend_info.valid
    assert "nested" in (found.extend_info.parse_error or "")


def test_numbers_that_are_whole_read_in_any_spelling(hostile: HostileServer, connect) -> None:
    hostile.serve(json_reply(envelope(result=[task(3) | {"startTime": 1.7e12, "progress": "100"}])))
    found = connect().get_latest_function_task(Identity(APP, FN, INST))
    assert found is not None
    assert (found.start_time_ms, found.progress) == (1_700_000_000_000, 100)


# -- endpoints and regions: refused before any request ------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "http://[::1"}, "is not a valid URL"),
        ({"endpoint": "http://[::1]:99999"}, "is not a valid URL"),
        ({"endpoint": "http://exa\x07mple.com"}, "control character"),
        ({"endpoint": "http://example.com\n.evil"}, "control character"),
        ({"endpoint": "http://user:hunter2hunter2@127.0.0.1:1"}, "user name or password"),
        ({"endpoint": "https://token@example.com"}, "user name or password"),
        ({"endpoint": "http://" + "a" * 64 + ".example.com"}, "invalid host"),
        ({"endpoint": "http://" + "a" * 5000}, "characters long"),
        ({"endpoint": "http://" + "ä" * 200}, "invalid host"),
        ({"endpoint": "http://a..example.com"}, "invalid host"),
        ({"region": "a" * 5000}, "5000 characters long; at most 63"),
        ({"region": "cn-" + "a" * 70}, "at most 63"),
        ({"region": "cn-hangzhou\n"}, "must look like"),
    ],
)
def test_bad_endpoints_and_regions_fail_before_any_request(
    hostile: HostileServer, options: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        OpenSearchFunctionClient(credentials=KEY, **options)
    text = one_line(caught.value)
    assert message in text
    assert "hunter2" not in text
    assert hostile.requests == []
