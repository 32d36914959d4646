from collections.abc import Iterator

import pytest

from .harness import Plugin

KEY_ID = "LTAI-emulator-demo"
KEY_SECRET = "emulator-demo-secret"


@pytest.fixture
def config(emulator):
    return {"endpoint": emulator.url, "accessKeyId": KEY_ID, "accessKeySecret": KEY_SECRET}


@pytest.fixture
def plugin(config) -> Iterator:
    """A plugin process, configured for the emulator: one engine run. Call it again for
    another run; `plugin(cfg)` configures it otherwise."""
    started: list[Plugin] = []

    def start(cfg=None, env=None) -> Plugin:
        process = Plugin(env)
        started.append(process)
        process.configure(config if cfg is None else cfg, secret=("accessKeySecret",))
        return process

    yield start
    for process in started:
        process.close()
