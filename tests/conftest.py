"""Fixtures every test kind shares: an emulator on loopback with the sample state, and a
hostile HTTP server on loopback (tests/hostile.py) that answers however a test scripts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, sample_state

from .hostile import HostileServer


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), host="127.0.0.1") as server:
        yield server


@pytest.fixture
def admin(emulator: EmulatorServer) -> Iterator[EmulatorAdmin]:
    with EmulatorAdmin(emulator.url) as client:
        yield client


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A hostile HTTP server on loopback; script its answers with `hostile.serve(...)`."""
    with HostileServer() as server:
        yield server
