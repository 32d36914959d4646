"""Fixtures for unit tests written as users write them, under `pulumi.runtime.set_mocks`:
stack config and credentials that point every live read at a loopback listener, which
records any connection, and fresh Pulumi runtime settings around each test."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from pulumi_opensearch_fn.core.clients import close_clients

from .listener import LoopbackListener

AK, SECRET = "LTAI-unit-test", "unit-test-secret"
_OURS = ("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_", "PULUMI_CONFIG")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ENGINE_LOGGER = "tests.mocks.engine"


def offline_env(listener: LoopbackListener) -> dict[str, str]:
    """The environment of a stack whose endpoint is the listener, with usable
    credentials: a read that went live would connect to it."""
    config = {
        "opensearch-fn:endpoint": listener.url,
        "opensearch-fn:accessKeyId": AK,
        "opensearch-fn:accessKeySecret": SECRET,
    }
    return {
        "PULUMI_CONFIG": json.dumps(config),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(["opensearch-fn:accessKeySecret"]),
        "OPENSEARCH_FN_ENDPOINT": listener.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": AK,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "NO_PROXY": "127.0.0.1,localhost",
    }


def _reset_runtime() -> None:
    _drain_loop()
    pulumi.runtime.reset_options()
    pulumi.runtime.set_all_config({}, [])
    # set_mocks and @pulumi.runtime.test use the thread's loop; an earlier test may have closed it.
    asyncio.set_event_loop(asyncio.new_event_loop())


def _drain_loop() -> None:
    """Lets the calls a failed program left in flight (Pulumi returns at the first
    failure) end on their loop, within a bound, before the loop is dropped."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if loop.is_running() or loop.is_closed():
        return
    pending = asyncio.all_tasks(loop)
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=10))
    for task in asyncio.all_tasks(loop):
        task.cancel()


@pytest.fixture
def listener() -> Iterator[LoopbackListener]:
    with LoopbackListener() as server:
        yield server


@pytest.fixture
def offline(
    listener: LoopbackListener, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[LoopbackListener]:
    """The stack's endpoint is the listener; fresh runtime settings before and after."""
    for key in list(os.environ):
        if key.startswith(_OURS) or key in _PROXIES:
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for key, value in offline_env(listener).items():
        monkeypatch.setenv(key, value)
    _reset_runtime()
    try:
        yield listener
    finally:
        _reset_runtime()
        close_clients(listener.url)


@pytest.fixture
def engine_logger() -> logging.Logger:
    """The logger the mocked engine writes the program's log lines to."""
    logger = logging.getLogger(ENGINE_LOGGER)
    logger.setLevel(logging.DEBUG)
    return logger
