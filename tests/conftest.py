"""Fixtures every test kind shares: an emulator on loopback with the sample state, and a
hostile HTTP server on loopback (tests/hostile.py) that answers however a test scripts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, SimClock, sample_state

from .hostile import HostileServer


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    # Frozen at the test's start: training runs move only when the test moves the
    # clock (admin.advance_clock, advance_clock_at_request), never with wall time.
    clock = SimClock(frozen_ms=int(time.time() * 1000))
    with EmulatorServer(sample_state(clock), host="127.0.0.1") as server:
        yield server


@pytest.fixture
def admin(emulator: EmulatorServer) -> Iterator[EmulatorAdmin]:
    with emulator.admin() as client:
        yield client


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A hostile HTTP server on loopback; script its answers with `hostile.serve(...)`."""
    with HostileServer() as server:
        yield server
