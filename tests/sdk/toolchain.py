"""What the SDK tests need from the machine, and the repository's pieces they check.

`go`, `node` and `npm` must be on PATH: a missing one fails the test naming it. The npm
packages the TypeScript SDK compiles against are installed once per machine, from the
lock file in tests/sdk/npm, into ~/.cache/pulumi-opensearch-fn/npm/KEY (never into the
repository); tools/gen-sdk is built and cached by scripts/gen-sdk itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SDK = REPO_ROOT / "sdk"
LANGUAGES = ("nodejs", "go")
GEN_SDK = REPO_ROOT / "scripts" / "gen-sdk"
README = REPO_ROOT / "README.md"
NPM_PINS = Path(__file__).parent / "npm"
GO_PROGRAM = Path(__file__).parent / "go-program"
CACHE_ROOT = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-opensearch-fn"
)
# A cold Go build of tools/gen-sdk, or of the Go SDK with github.com/pulumi/pulumi/sdk/v3,
# takes minutes on 2 cores; these bound a hung build, they judge nothing.
BUILD_TIMEOUT = 1500.0
COMMAND_TIMEOUT = 600.0
TEST_TIMEOUT = int(BUILD_TIMEOUT + 300)

NEEDS = {
    "go": "Go 1.26 or newer: it builds tools/gen-sdk and the Go SDK",
    "node": "Node.js: it runs tsc on the TypeScript SDK",
    "npm": "npm: it installs @pulumi/pulumi and typescript for the TypeScript SDK",
}


def require(command: str) -> str:
    """The command's path; a test without it fails, saying what it is for."""
    found = shutil.which(command)
    if found is None:
        pytest.fail(f"the SDK tests need `{command}` on PATH ({NEEDS[command]})", pytrace=False)
    return found


def run(
    args: Sequence[str | Path],
    cwd: Path,
    *,
    timeout: float = COMMAND_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> str:
    """Runs a command and returns its stdout; on failure the test fails with its output."""
    shown = " ".join(str(a) for a in args)
    try:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{shown}` did not finish within {timeout:.0f}s", pytrace=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        pytest.fail(
            f"`{shown}` (in {cwd}) failed with exit {done.returncode}:\n" + "\n".join(output[-40:]),
            pytrace=False,
        )
    return done.stdout


def go_env(*flags: str) -> dict[str, str]:
    """The environment with `flags` added to the user's GOFLAGS."""
    env = dict(os.environ)
    env["GOFLAGS"] = " ".join(f for f in (env.get("GOFLAGS", ""), *flags) if f)
    return env


def npm_modules() -> Path:
    """node_modules with the pinned @pulumi/pulumi, typescript and @types/node, installed
    with `npm ci` once per machine and lock file (concurrent runs wait for one install)."""
    npm = require("npm")
    pins = [NPM_PINS / "package.json", NPM_PINS / "package-lock.json"]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in pins)).hexdigest()[:16]
    target = CACHE_ROOT / "npm" / key
    stamp = target / ".complete"
    if not stamp.exists():
        target.mkdir(parents=True, exist_ok=True)
        with (target / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not stamp.exists():
                shutil.rmtree(target / "node_modules", ignore_errors=True)
                for pin in pins:
                    shutil.copyfile(pin, target / pin.name)
                run(
                    [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                    target,
                    timeout=BUILD_TIMEOUT,
                )
                stamp.write_text(key + "\n")
    return target / "node_modules"


def readme_block(language: str) -> str:
    """The one `language` code block of README's "Every Pulumi language" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Every Pulumi language\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1, f"README's 'Every Pulumi language' has {len(blocks)} {language} blocks"
    return str(blocks[0])


def go_sdk_module() -> str:
    """The generated Go SDK's module path, from its go.mod."""
    found = re.search(r"^module (\S+)$", (SDK / "go" / "go.mod").read_text(), re.MULTILINE)
    assert found, "sdk/go/go.mod names no module"
    return found.group(1)
