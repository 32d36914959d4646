"""Credential precedence for the client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_opensearch_fn.api import InvalidInputError, OpenSearchFunctionClient

from .conftest import AK


def test_credentials_and_profile_conflict() -> None:
    with pytest.raises(InvalidInputError, match="not both"):
        OpenSearchFunctionClient(endpoint="http://127.0.0.1:1", credentials=AK, profile="p")


SCRIPT = """
import sys
from pulumi_opensearch_fn.api import ChainCredentials, Identity, OpenSearchFunctionClient, NO_RETRY
from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state
with EmulatorServer(sample_state()) as server:
    for profile in ("demo", "sts"):
        creds = ChainCredentials(profile=profile)
        got = creds.get()
        with OpenSearchFunctionClient(endpoint=server.url, profile=profile, retry=NO_RETRY) as c:
            inst = c.get_function_instance(Identity("my_app", "ctr", "ctr_test"))
        entry = server.log.entries()[-1]
        print(profile, got.access_key_id, entry.access_key_id, entry.token, inst.instance_name)
"""


def test_profile_from_cli_config_file(tmp_path: Path) -> None:
    config = {
        "current": "other",
        "profiles": [
            {"name": "other", "mode": "AK", "access_key_id": "LTAI-other",
             "access_key_secret": "other-secret"},
            {"name": "demo", "mode": "AK", "access_key_id": "LTAI-emulator-demo",
             "access_key_secret": "emulator-demo-secret"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.emulator-demo",
             "access_key_secret": "emulator-demo-sts-secret",
             "sts_token": "emulator-demo-sts-token"},
        ],
    }  # fmt: skip
    (tmp_path / ".aliyun").mkdir()
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_"))}
    env.update(HOME=str(tmp_path), ALIBABA_CLOUD_ECS_METADATA_DISABLED="true")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert lines[0] == "demo LTAI-emulator-demo LTAI-emulator-demo False ctr_test"
    assert lines[1] == "sts STS.emulator-demo STS.emulator-demo True ctr_test"
    for secret in ("emulator-demo-secret", "emulator-demo-sts-token"):
        assert secret not in result.stdout + result.stderr
