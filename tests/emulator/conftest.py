from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.emulator import EmulatorServer, SimClock, sample_state

# A fixed simulated start makes progress numbers exact.
FROZEN_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    return emulator


@pytest.fixture
def frozen_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(SimClock(frozen_ms=FROZEN_MS))) as srv:
        yield srv


@pytest.fixture
def pascal_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), casing="pascal") as srv:
        yield srv
