"""The package holds at both ends of the pulumi range pyproject.toml declares.

Each end gets a virtualenv with exactly that pulumi (its dependencies, the package's
own and the test tools, pinned by constraints.txt) from the package index, made once
per machine and cached under `~/.cache/pulumi-opensearch-fn/sdk/`; the pinned end
uses this interpreter when it has the pin. There, with this checkout on PYTHONPATH:

- every check of the patches to pulumi internals (`pulumi_opensearch_fn.patches`)
  must hold, at both ends;
- at the lowest end, the provider protocol tests (`tests/provider/test_protocol.py`)
  must pass against that release's own `pulumi.dynamic` server (the pinned end runs
  them with the rest of the suite).

A failure at either end means the range is wrong: narrow it to what holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900
PYTHON = f"py{sys.version_info.major}.{sys.version_info.minor}"
# Besides pulumi: what the package and the provider tests import.
PACKAGES = ("httpx", "alibabacloud-credentials", "pytest", "pytest-timeout", "hypothesis")

CHECK = """
import json
from importlib import metadata
from pulumi_opensearch_fn.patches import problems
print(json.dumps({"pulumi": metadata.version("pulumi"), "problems": problems()}))
"""


def declared_range() -> tuple[SpecifierSet, str, str]:
    """The pulumi requirement, its lowest version and the version development pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [requirement] = [d for d in project["project"]["dependencies"] if d.startswith("pulumi")]
    specifier = SpecifierSet(requirement.removeprefix("pulumi"))
    lowest = re.search(r">=\s*([\d.]+)", requirement)
    pinned = re.search(
        r"^pulumi==([\d.]+)$", (ROOT / "constraints.txt").read_text(encoding="utf-8"), re.M
    )
    assert lowest and pinned, requirement
    return specifier, lowest.group(1), pinned.group(1)


def cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pulumi-opensearch-fn" / "sdk"


def sdk_python(version: str) -> Path:
    """The interpreter of a virtualenv with pulumi==version, made once and cached.

    Made in a scratch directory and renamed into place when complete, so concurrent
    runs and interrupted installs never see half a virtualenv."""
    pins = [
        line
        for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if not line.startswith("pulumi==")
    ]
    key = hashlib.sha256("\n".join([*pins, *PACKAGES]).encode()).hexdigest()[:12]
    root = cache_root()
    home = root / f"pulumi-{version}-{PYTHON}-{key}"
    python = home / "bin" / "python"
    if (home / ".complete").exists():
        return python
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".pulumi-{version}-", dir=root))
    try:
        venv = scratch / "venv"
        constraints = scratch / "constraints.txt"
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        run(sys.executable, "-m", "venv", venv)
        run(venv / "bin" / "python", "-m", "pip", "install", "--quiet",
            "--disable-pip-version-check", "-c", constraints,
            f"pulumi=={version}", *PACKAGES)  # fmt: skip
        (venv / ".complete").touch()
        try:
            venv.rename(home)
        except OSError:  # another run got there first
            assert (home / ".complete").exists(), f"{home} exists but is incomplete"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return python


def run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    ran = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=INSTALL_TIMEOUT,
        env=env,
        cwd=cwd,
    )
    assert ran.returncode == 0, (command, ran.stdout[-3000:], ran.stderr[-3000:])
    return ran.stdout


def checkout_env() -> dict[str, str]:
    """This environment, importing the package from this checkout."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_the_range_is_what_is_checked() -> None:
    specifier, lowest, pinned = declared_range()
    assert Version(lowest) in specifier
    assert Version(pinned) in specifier
    assert Version(lowest) <= Version(pinned)


@pytest.mark.timeout(INSTALL_TIMEOUT + 120)
@pytest.mark.parametrize("end", ["lowest", "pinned"])
def test_every_patch_check_holds_at_each_end_of_the_pulumi_range(end: str) -> None:
    _, lowest, pinned = declared_range()
    version = lowest if end == "lowest" else pinned
    here = metadata.version("pulumi")
    python = Path(sys.executable) if Version(here) == Version(version) else sdk_python(version)
    report = json.loads(run(python, "-c", CHECK, env=checkout_env()).strip().splitlines()[-1])
    assert Version(report["pulumi"]) == Version(version)
    failed = {patch: found for patch, found in report["problems"].items() if found}
    assert failed == {}, f"pulumi {report['pulumi']} ({end} end of the range): {failed}"
    assert set(report["problems"]) == {"program_exit", "server_errors"}


@pytest.mark.timeout(2 * INSTALL_TIMEOUT)
def test_the_provider_protocol_holds_at_the_lowest_end() -> None:
    _, lowest, _ = declared_range()
    python = sdk_python(lowest)
    found = run(python, "-c", "import importlib.metadata as m; print(m.version('pulumi'))")
    assert Version(found.strip()) == Version(lowest)
    run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/provider/test_protocol.py",
        env=checkout_env(), cwd=ROOT)  # fmt: skip
