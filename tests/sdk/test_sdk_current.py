"""CI fails when the committed SDKs (sdk/nodejs, sdk/go) differ from what the schema
generates: scripts/gen-sdk regenerates them into a temporary directory, and every file
must be there byte for byte, with no file missing or left over."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .toolchain import GEN_SDK, LANGUAGES, REPO_ROOT, SDK, TEST_TIMEOUT, require, run


def _generated(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for language in LANGUAGES
        for path in sorted((out / language).rglob("*"))
        if path.is_file()
    }


def _committed() -> dict[str, bytes]:
    """sdk/'s files as a checkout has them: tracked or new, not ignored (node_modules,
    built output), read from the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--",
         *(f"sdk/{language}" for language in LANGUAGES)],
        cwd=REPO_ROOT, capture_output=True, check=True, timeout=60,
    ).stdout.decode().split("\0")  # fmt: skip
    files = {}
    for name in filter(None, listed):
        path = REPO_ROOT / name
        if path.is_file():  # a tracked file deleted from the working tree is missing
            files[path.relative_to(SDK).as_posix()] = path.read_bytes()
    return files


def _differences(committed: dict[str, bytes], generated: dict[str, bytes]) -> list[str]:
    problems = [f"missing from sdk/: {name}" for name in sorted(generated.keys() - committed)]
    problems += [f"not generated: sdk/{name}" for name in sorted(committed.keys() - generated)]
    for name in sorted(committed.keys() & generated.keys()):
        if committed[name] != generated[name]:
            diff = difflib.unified_diff(
                committed[name].decode(errors="replace").splitlines(),
                generated[name].decode(errors="replace").splitlines(),
                f"sdk/{name} (committed)", f"{name} (generated)", lineterm="",
            )  # fmt: skip
            problems.append("\n".join(list(diff)[:30]))
    return problems


@pytest.mark.timeout(TEST_TIMEOUT)
def test_committed_sdks_are_what_the_schema_generates(tmp_path):
    require("go")
    out = tmp_path / "sdk"
    env = {**os.environ, "GEN_SDK_PYTHON": sys.executable}
    run([GEN_SDK, out], REPO_ROOT, timeout=TEST_TIMEOUT - 60, env=env)
    generated = _generated(out)
    assert {name.split("/")[0] for name in generated} == set(LANGUAGES)

    problems = _differences(_committed(), generated)

    assert not problems, (
        "the committed SDKs differ from what the schema generates: run scripts/gen-sdk"
        " and commit sdk/\n" + "\n".join(problems)
    )
