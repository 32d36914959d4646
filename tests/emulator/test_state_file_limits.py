"""`opensearch-fn emulator --state FILE` refuses a file it cannot hold in one line and
exit status 2: bounded in size (`/dev/zero` ends at 16 MiB), depth and digits,
never a traceback or a read that fills memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_opensearch_fn.emulator.schema import MAX_NUMBER_DIGITS, MAX_STATE_DEPTH
from pulumi_opensearch_fn.emulator.state_file import (
    StateFileError,
    load_state_file,
)

CLI = (sys.executable, "-m", "pulumi_opensearch_fn.cli", "emulator", "--port", "0")
TIMEOUT = 60


def one_instance(**fields: object) -> dict[str, object]:
    instance = {"status": "available", **fields}
    return {"appGroups": {"a": {"functions": {"f": {"instances": {"i": instance}}}}}}


def state_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name: (path, what the one line says)."""
    texts = {
        "100000-brackets": ("[" * 100_000, f"nested deeper than {MAX_STATE_DEPTH} levels"),
        "100-levels": ("[" * 100 + "]" * 100, f"nested deeper than {MAX_STATE_DEPTH} levels"),
        "5000-digit-number": (
            '{"version": ' + "9" * 5000 + "}",
            f"a number of 5000 characters (99999999999999999999...); at most {MAX_NUMBER_DIGITS}",
        ),
        "5000-digit-fraction": ('{"version": 1.' + "5" * 5000 + "}", "a number of 5002 characters"),
        "5000-digit-time": (
            json.dumps(one_instance(createTime="9" * 5000)),
            "createTime: must be epoch ms, ISO 8601",
        ),
        "extend-info-100000-deep": (
            json.dumps(one_instance(extendInfo="[" * 100_000)),
            f"extendInfo: must hold JSON (nested deeper than {MAX_STATE_DEPTH} levels)",
        ),
        "extend-info-5000-digits": (
            json.dumps(one_instance(extendInfo="[" + "7" * 5000 + "]")),
            "extendInfo: must hold JSON (a number of 5000 characters",
        ),
    }
    found = {}
    for name, (text, says) in texts.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        found[name] = (str(path), says)
    found["dev-zero"] = ("/dev/zero", "larger than 16 MiB")
    return found


CASES = [
    "100000-brackets",
    "100-levels",
    "5000-digit-number",
    "5000-digit-fraction",
    "5000-digit-time",
    "extend-info-100000-deep",
    "extend-info-5000-digits",
    "dev-zero",
]


@pytest.mark.parametrize("case", CASES)
def test_the_emulator_refuses_the_file_in_one_line(tmp_path: Path, case: str):
    path, says = state_files(tmp_path)[case]
    ran = subprocess.run(
        [*CLI, "--state", path], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert ran.returncode == 2, ran.stderr[-2000:]
    assert ran.stdout == ""  # no URL: it never started
    assert ran.stderr.count("\n") == 1, ran.stderr[-2000:]
    assert ran.stderr.startswith(f"opensearch-fn emulator: invalid state file {path}: ")
    assert says in ran.stderr


@pytest.mark.parametrize("case", CASES)
def test_loading_raises_the_state_file_error(tmp_path: Path, case: str):
    path, says = state_files(tmp_path)[case]
    with pytest.raises(StateFileError) as info:
        load_state_file(path)
    assert says in str(info.value)


def test_a_file_just_within_the_limits_loads(tmp_path: Path):
    path = tmp_path / "state.json"
    nested: object = 1
    for _ in range(MAX_STATE_DEPTH - 8):  # inside an instance's extendInfo object
        nested = [nested]
    path.write_text(json.dumps(one_instance(versionId=int("9" * 18), extendInfo={"x": nested})))
    state = load_state_file(path)
    assert state is not None
