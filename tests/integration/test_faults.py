"""Fault injection at the emulator: retries, timeouts, bad bodies, budget and deadline."""

from __future__ import annotations

import logging

import pytest

from pulumi_opensearch_fn.api import (
    NO_RETRY,
    BadResponseError,
    DeadlineExceededError,
    NetworkError,
    OpenSearchFnError,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.emulator import EmulatorAdmin

from .conftest import APP, FAST, FN, INST, MakeClient


@pytest.mark.parametrize("status", [400, 429])
def test_throttle_is_retried_after_retry_after(
    make_client: MakeClient, admin: EmulatorAdmin, status: int
) -> None:
    admin.inject_fault("throttle", count=1, status=status, retry_after_ms=300)
    client = make_client(retry=RetryPolicy(max_attempts=3, base_delay=0.0, deadline=10))
    assert client.get_function_instance(Identity(APP, FN, INST)).instance_name == INST
    first, second = admin.requests()
    assert (first["status"], first["code"], first["fault"]) == (
        status,
        "Throttling.User",
        "throttle",
    )
    assert second["status"] == 200
    assert second["time"] - first["time"] >= 0.3


def test_throttle_without_retries(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.inject_fault("throttle", count=1, status=429, retry_after_ms=1500)
    with pytest.raises(ThrottledError) as info:
        make_client().get_function_instance(Identity(APP, FN, INST))
    assert info.value.http_status == 429
    assert info.value.code == "Throttling.User"
    assert info.value.retry_after == pytest.approx(1.5)
    assert info.value.request_id
    assert len(admin.requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(make_client: MakeClient, admin: EmulatorAdmin, status: int) -> None:
    admin.inject_fault("error", count=2, status=status)
    assert make_client(retry=FAST).get_function_task(Identity(APP, FN, INST, 1)).generation == 1
    assert [e["status"] for e in admin.requests()] == [status, status, 200]


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_error_fields(make_client: MakeClient, admin: EmulatorAdmin, status: int) -> None:
    admin.inject_fault("error", count=1, status=status)
    with pytest.raises(ServerError) as info:
        make_client().get_function_task(Identity(APP, FN, INST, 1))
    assert info.value.http_status == status
    assert info.value.code
    assert info.value.request_id


def test_latency_beyond_read_timeout_is_retried(
    make_client: MakeClient, admin: EmulatorAdmin, caplog: pytest.LogCaptureFixture
) -> None:
    admin.inject_fault("latency", count=1, latency_ms=1500)
    client = make_client(retry=FAST, read_timeout=0.3)
    with caplog.at_level(logging.DEBUG, logger="pulumi_opensearch_fn.api"):
        assert client.get_function_instance(Identity(APP, FN, INST)).instance_name == INST
    # The first try gave up at its read timeout (not at the answer 1.5 s later) and the
    # second was answered.
    [retry] = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert "timed out talking to" in retry
    assert "ReadTimeout" in retry


def test_latency_beyond_read_timeout_without_retry(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    admin.inject_fault("latency", count=1, latency_ms=1500)
    with pytest.raises(NetworkError) as info:
        make_client(read_timeout=0.3).get_function_instance(Identity(APP, FN, INST))
    assert not isinstance(info.value, DeadlineExceededError)
    # Ended by the read timeout, not by the answer.
    assert "timed out talking to" in str(info.value)
    assert "ReadTimeout" in str(info.value)


def test_dropped_connection_is_retried(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.inject_fault("drop", count=2)
    assert make_client(retry=FAST).get_function_instance(Identity(APP, FN, INST)).version_id == 3
    assert [e["status"] for e in admin.requests()] == [0, 0, 200]


def test_dropped_connection_without_retry(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.inject_fault("drop", count=1)
    with pytest.raises(NetworkError):
        make_client().get_function_instance(Identity(APP, FN, INST))


def test_malformed_json_is_not_retried(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.inject_fault("malformed", count=1)
    with pytest.raises(BadResponseError) as info:
        make_client(retry=FAST).get_function_instance(Identity(APP, FN, INST))
    assert info.value.http_status == 200
    assert "not a JSON object" in str(info.value)
    assert len(admin.requests()) == 1


@pytest.mark.parametrize("kind", ["truncated", "cut"])
def test_truncated_or_cut_body_is_a_clear_error(
    make_client: MakeClient, admin: EmulatorAdmin, kind: str
) -> None:
    admin.inject_fault(kind, count=1)
    with pytest.raises(OpenSearchFnError) as info:
        make_client().get_function_instance(Identity(APP, FN, INST))
    assert isinstance(info.value, NetworkError | BadResponseError)
    assert "GetFunctionInstance" in str(info.value)
    # Known from the body itself, not after waiting for the 5 s read timeout.
    assert "timed out" not in str(info.value)
    assert len(admin.requests()) == 1


@pytest.mark.parametrize("max_attempts", [1, 2, 5])
def test_retry_budget(make_client: MakeClient, admin: EmulatorAdmin, max_attempts: int) -> None:
    admin.inject_fault("error", status=503)
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=0.0, max_delay=0.0, deadline=10)
    with pytest.raises(ServerError) as info:
        make_client(retry=policy).get_function_instance(Identity(APP, FN, INST))
    assert info.value.http_status == 503
    assert admin.counts()["requests"]["total"] == max_attempts


def test_no_retry_sends_once(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.inject_fault("error", status=502)
    with pytest.raises(ServerError):
        make_client(retry=NO_RETRY).get_function_instance(Identity(APP, FN, INST))
    assert admin.counts()["requests"]["total"] == 1


@pytest.mark.parametrize("kind", ["error", "latency"])
def test_total_deadline(make_client: MakeClient, admin: EmulatorAdmin, kind: str) -> None:
    if kind == "error":
        admin.inject_fault("error", status=503, retry_after_ms=400)
    else:
        admin.inject_fault("latency", latency_ms=5000)
    deadline = 1.5
    policy = RetryPolicy(max_attempts=50, base_delay=0.1, max_delay=0.4, deadline=deadline)
    with pytest.raises(DeadlineExceededError) as info:
        make_client(retry=policy, read_timeout=0.5).get_function_instance(Identity(APP, FN, INST))
    # The client itself stopped at its deadline (50 tries would have taken far longer).
    assert "1.5" in str(info.value)
    if kind == "error":  # latency-delayed requests are logged only once answered
        assert 1 < admin.counts()["requests"]["total"] < 50
