import pytest

from .harness import ProviderProcess

KEY_ID = "LTAI-emulator-demo"
KEY_SECRET = "emulator-demo-secret"


@pytest.fixture
def config(emulator):
    return {
        "opensearch-fn:endpoint": emulator.url,
        "opensearch-fn:accessKeyId": KEY_ID,
        "opensearch-fn:accessKeySecret": KEY_SECRET,
    }


@pytest.fixture
def provider(config):
    """A fresh provider process: one engine run."""
    processes = []

    def start(cfg=None):
        process = ProviderProcess()
        process.configure(config if cfg is None else cfg)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.close()
