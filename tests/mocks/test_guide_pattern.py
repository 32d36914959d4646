"""Unit tests in exactly the pattern of Pulumi's testing guide (mocks set, the program
imported at module level, `@pulumi.runtime.test` functions) pass, in preview and up,
and no connection reaches the stack's endpoint, a loopback listener here.

`set_mocks` is process-wide and a program is imported once, so each module runs in a
fresh interpreter: tests/mocks/guide/guide_unit_tests.py, and the quickstart's own unit
tests (examples/quickstart/test_main.py), which this is how CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import offline_env
from .listener import LoopbackListener

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "tests" / "mocks" / "guide" / "guide_unit_tests.py"
QUICKSTART = ROOT / "examples" / "quickstart" / "test_main.py"
_OURS = ("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_", "PULUMI_")


def _unit_tests(module: Path, listener: LoopbackListener, **extra: str) -> tuple[int, str]:
    """Runs `module` with pytest in a fresh interpreter; (tests passed, its output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env |= offline_env(listener) | extra
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "RuntimeError" not in output, output
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed is not None, output
    return int(passed.group(1)), output


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_the_guides_pattern_runs_without_a_connection(listener, preview):
    passed, output = _unit_tests(GUIDE, listener, GUIDE_PREVIEW="1" if preview else "0")

    assert passed == 5, output
    assert listener.accepted == []


def test_the_quickstarts_unit_tests_run_without_a_connection(listener):
    passed, output = _unit_tests(QUICKSTART, listener)

    assert passed == 4, output
    assert listener.accepted == []
