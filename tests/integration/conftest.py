"""Fixtures: a real emulator on loopback and clients that talk HTTP to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_opensearch_fn.api import NO_RETRY, Credentials, OpenSearchFunctionClient, RetryPolicy
from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, sample_state

APP, FN, INST = "my_app", "ctr", "ctr_test"
AK = Credentials("LTAI-emulator-demo", "emulator-demo-secret")
STS = Credentials("STS.emulator-demo", "emulator-demo-sts-secret", "emulator-demo-sts-token")
EXPIRED = Credentials(
    "STS.emulator-expired", "emulator-expired-sts-secret", "emulator-expired-sts-token"
)
SECRETS = (
    "emulator-demo-secret",
    "emulator-demo-sts-secret",
    "emulator-demo-sts-token",
    "emulator-expired-sts-secret",
    "emulator-expired-sts-token",
)
# Fast retries so fault tests stay quick.
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, deadline=10.0)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state()) as srv:
        yield srv


@pytest.fixture
def admin(server: EmulatorServer) -> Iterator[EmulatorAdmin]:
    with server.admin() as client:
        yield client


MakeClient = Callable[..., OpenSearchFunctionClient]


def clients_for(url: str, credentials: Credentials) -> Iterator[MakeClient]:
    """Makes clients for `url` (no retries, 5 s reads unless told), closed afterwards."""
    made: list[OpenSearchFunctionClient] = []

    def make(**kwargs: Any) -> OpenSearchFunctionClient:
        kwargs.setdefault("credentials", credentials)
        kwargs.setdefault("retry", NO_RETRY)
        kwargs.setdefault("read_timeout", 5.0)
        client = OpenSearchFunctionClient(endpoint=url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def make_client(server: EmulatorServer) -> Iterator[MakeClient]:
    yield from clients_for(server.url, AK)


@pytest.fixture
def client(make_client: MakeClient) -> OpenSearchFunctionClient:
    return make_client()
