"""A closed client refuses every call with the package's own error, sending nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pulumi_opensearch_fn.api import (
    ClientClosedError,
    Credentials,
    OpenSearchFnError,
    OpenSearchFunctionClient,
)
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.emulator import EmulatorAdmin

from .conftest import AK, APP, FAST, FN, INST, MakeClient

CALLS: dict[str, Callable[[OpenSearchFunctionClient], Any]] = {
    "GetFunctionInstance": lambda c: c.get_function_instance(Identity(APP, FN, INST)),
    "GetFunctionTask": lambda c: c.get_function_task(Identity(APP, FN, INST, 1)),
    "ListFunctionTasks": lambda c: c.get_latest_function_task(Identity(APP, FN, INST)),
    "ListFunctionTasks (all pages)": lambda c: list(c.list_function_tasks(Identity(APP, FN, INST))),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_closed_client_raises_the_packages_error(
    make_client: MakeClient, admin: EmulatorAdmin, call: str
) -> None:
    with make_client(retry=FAST) as client:
        client.get_function_instance(Identity(APP, FN, INST))  # open, it works
    admin.clear_requests()
    with pytest.raises(ClientClosedError) as info:
        CALLS[call](client)
    assert isinstance(info.value, OpenSearchFnError)
    assert isinstance(info.value, RuntimeError)  # as httpx's error was
    action = call.split(maxsplit=1)[0]
    assert str(info.value) == f"{action}: the client is closed; nothing was sent"
    assert admin.requests() == []


class _ClosingCredentials:
    """Closes the client while a call is under way: after the call began, before it sends."""

    def __init__(self) -> None:
        self.client: OpenSearchFunctionClient | None = None

    def get(self) -> Credentials:
        assert self.client is not None
        self.client.close()
        return AK


def test_a_client_closed_during_a_call_raises_the_packages_error(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    credentials = _ClosingCredentials()
    client = make_client(credentials=credentials, retry=FAST)
    credentials.client = client
    with pytest.raises(ClientClosedError, match="GetFunctionInstance: the client is closed"):
        client.get_function_instance(Identity(APP, FN, INST))
    assert admin.requests() == []
