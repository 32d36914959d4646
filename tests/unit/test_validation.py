"""Bad input is rejected with a specific message before any request is sent."""

import httpx
import pytest

from pulumi_opensearch_fn.api import (
    Credentials,
    InvalidInputError,
    OpenSearchFunctionClient,
    normalize_endpoint,
    region_endpoint,
)
from pulumi_opensearch_fn.api.identity import Identity


class RefuseAll(httpx.BaseTransport):
    """Records that a request was attempted; validation must stop before this."""

    def __init__(self):
        self.calls = 0

    def handle_request(self, request):
        self.calls += 1
        raise AssertionError(f"a request was sent: {request.url}")


@pytest.fixture
def client_and_transport():
    transport = RefuseAll()
    client = OpenSearchFunctionClient(
        endpoint="http://127.0.0.1:9", credentials=Credentials("id", "secret"), transport=transport
    )
    yield client, transport
    client.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.get_function_instance(Identity("", "ctr", "x")),
            "app group must not be empty",
        ),
        (
            lambda c: c.get_function_instance(Identity("a", " ", "x")),
            "function name must not be empty",
        ),
        (lambda c: c.get_function_instance(Identity("a", "f", "x" * 300)), "at most 256"),
        (lambda c: c.get_function_instance(Identity("a", "f", "x\ny")), "control character"),
        (lambda c: c.get_function_instance(Identity("a", "f", "..")), "must not be '..'"),
        (
            lambda c: c.get_function_instance(Identity("a", "f", "i"), output="full"),
            "output must be one of",
        ),
        (lambda c: c.get_function_task(Identity("a", "f", "i", -1)), "must not be negative"),
        (lambda c: c.get_function_task(Identity("a", "f", "i", "latest")), "whole number"),
        (lambda c: c.get_function_task(Identity("a", "f", "i", True)), "whole number"),
        (
            lambda c: c.list_function_tasks(Identity("a", "f", "i"), status="done"),
            "status must be one of",
        ),
        (
            lambda c: c.list_function_tasks(Identity("a", "f", "i"), page_size=0),
            "page_size must be",
        ),
        (lambda c: c.list_function_tasks(Identity("a", "f", "i"), page_size=1000), "at most 100"),
        (lambda c: c.list_function_tasks(Identity("a", "f", "i"), limit=-2), "limit must be"),
        (
            lambda c: c.list_function_tasks(
                Identity("a", "f", "i"), start_time=2000, end_time=1000
            ),
            "before start time",
        ),
        (
            lambda c: c.list_function_tasks(Identity("a", "f", "i"), start_time=-5),
            "epoch milliseconds",
        ),
        (
            lambda c: c.get_latest_function_task(Identity("a", "f", "i"), status="ok"),
            "status must be",
        ),
    ],
)
def test_rejected_before_any_request(client_and_transport, call, message):
    client, transport = client_and_transport
    with pytest.raises(InvalidInputError, match=message):
        call(client)
    assert transport.calls == 0


def test_naive_datetime_is_rejected(client_and_transport):
    from datetime import datetime

    client, _ = client_and_transport
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        client.list_function_tasks(Identity("a", "f", "i"), start_time=datetime(2024, 1, 1))


def test_endpoints():
    assert region_endpoint("cn-hangzhou") == "https://opensearch.cn-hangzhou.aliyuncs.com"
    assert (
        region_endpoint("cn-beijing", vpc=True) == "https://opensearch-vpc.cn-beijing.aliyuncs.com"
    )
    assert normalize_endpoint("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert normalize_endpoint("example.com") == "https://example.com"
    for bad in ("ftp://x", "http://", "http://h/path", "http://h:99999", ""):
        with pytest.raises(InvalidInputError):
            normalize_endpoint(bad)
    with pytest.raises(InvalidInputError, match="region"):
        region_endpoint("Hangzhou")


def test_client_needs_region_or_endpoint():
    with pytest.raises(InvalidInputError, match="no region or endpoint"):
        OpenSearchFunctionClient(credentials=Credentials("a", "b"))


def test_credentials_need_id_and_secret():
    from pulumi_opensearch_fn.api import CredentialsError

    with pytest.raises(CredentialsError, match="both an id and a secret"):
        Credentials("id", "")
