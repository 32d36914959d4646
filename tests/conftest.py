"""Fixtures every test kind shares: an emulator on loopback with the sample state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, sample_state


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), host="127.0.0.1") as server:
        yield server


@pytest.fixture
def admin(emulator: EmulatorServer) -> Iterator[EmulatorAdmin]:
    with emulator.admin() as client:
        yield client
