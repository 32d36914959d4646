"""Fixtures: a real emulator on loopback and a mocked Pulumi engine around the program.

Stack config reaches the program the way `pulumi up` hands it over: the language
host puts it in `PULUMI_CONFIG` (JSON) and `PULUMI_CONFIG_SECRET_KEYS`. Every test
starts and ends with fresh runtime settings, empty in-context config and none of the
package's environment variables.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from pulumi_opensearch_fn import provider as provider_module
from pulumi_opensearch_fn.core.clients import close_clients
from pulumi_opensearch_fn.emulator import EmulatorServer

from .harness import AK, SECRET, SECRET_KEYS, EngineLog, Program, RecordingMocks

_OURS = ("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_", "PULUMI_CONFIG")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _reset_runtime() -> None:
    pulumi.runtime.reset_options()
    pulumi.runtime.set_all_config({}, [])
    # pulumi.runtime.test needs a current loop; an earlier asyncio.run() may have unset it.
    asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture
def stack_config(emulator: EmulatorServer) -> dict[str, str]:
    return {
        "opensearch-fn:endpoint": emulator.url,
        "opensearch-fn:accessKeyId": AK,
        "opensearch-fn:accessKeySecret": SECRET,
    }


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting or credential of ours from the environment, no proxy, no real HOME."""
    for key in list(os.environ):
        if key.startswith(_OURS) or key in _PROXIES:
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def mocks() -> RecordingMocks:
    return RecordingMocks()


@pytest.fixture
def engine_log() -> Iterator[EngineLog]:
    handler = EngineLog()
    logger = logging.getLogger("tests.program.engine")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def set_stack_config(monkeypatch: pytest.MonkeyPatch):
    """Hands `config` to the program as the language host does for `pulumi up`."""

    def apply(config: dict[str, str]) -> None:
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(SECRET_KEYS))

    return apply


@pytest.fixture
def bare_program(
    clean_env: None,
    emulator: EmulatorServer,
    mocks: RecordingMocks,
    engine_log: EngineLog,
) -> Iterator[Program]:
    """A program with no stack config at all (tests set it themselves)."""
    _reset_runtime()
    logger = logging.getLogger("tests.program.engine")
    try:
        yield Program(mocks, logger)
    finally:
        _reset_runtime()
        close_clients(emulator.url)


@pytest.fixture
def program(bare_program: Program, stack_config: dict[str, str], set_stack_config) -> Program:
    """A program whose stack config points at the emulator with the demo key."""
    set_stack_config(stack_config)
    return bare_program


@pytest.fixture
def provider_config(emulator: EmulatorServer) -> Iterator[None]:
    """Restores the provider module's per-process config after a test configured it."""
    state = provider_module._PROCESS
    with state.lock:
        saved = state.config
    try:
        yield
    finally:
        with state.lock:
            state.config = saved
        close_clients(emulator.url)
