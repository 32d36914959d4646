"""The exec script of the Pulumi CLI the suite runs is the one `program_exit` assumes.

(The script comes with the CLI, not the SDK: tests/compat checks the SDK's side at
both ends of the declared range.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_opensearch_fn import program_exit

pytestmark = [pytest.mark.e2e]


def test_the_engines_exec_script_is_the_one_program_exit_assumes(engine_dir: Path) -> None:
    script = engine_dir / program_exit.EXEC_SCRIPT
    assert program_exit.exec_script_problems(str(script)) == []
