"""A user's install, not the checkout: the sdist and the wheel built as a release would be,
the wheel installed into a clean virtualenv outside the repository, and the quickstart run
from a copy of examples/quickstart under the real Pulumi CLI with that virtualenv, against
the emulator that the installed `opensearch-fn` command serves.

Run at both ends of the Pulumi SDK range that pyproject.toml declares.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from harness import REPO_ROOT, PulumiProject, hermetic_env
from packaging.version import Version
from stacks import DEMO_KEY_ID, DEMO_KEY_SECRET, EXAMPLES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
PACKAGE_DIR = REPO_ROOT / "pulumi_opensearch_fn"
INSTALL_TIMEOUT = 900


def pulumi_range() -> tuple[str, str]:
    """The lowest Pulumi SDK the package declares, and the one development pins."""
    [requirement] = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("pulumi")]
    lowest = re.search(r">=\s*([\d.]+)", requirement)
    pinned = re.search(
        r"^pulumi==([\d.]+)$", (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8"), re.M
    )
    assert lowest and pinned, requirement
    return lowest.group(1), pinned.group(1)


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=INSTALL_TIMEOUT,
        **kwargs,  # type: ignore[call-overload]
    )
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result


def outside_env() -> dict[str, str]:
    """No trace of the development virtualenv: what a user's shell would have."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    dev_bin = str(REPO_ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != dev_bin)
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist, and the wheel built from that sdist (not from the checkout)."""
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source")
    # A copy of the tracked files: what a clean clone holds, without build leftovers.
    tracked = run("git", "ls-files", "-z", cwd=REPO_ROOT).stdout.split("\0")
    for name in filter(None, tracked):
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    run(sys.executable, "-m", "build", "--outdir", out, source, env=outside_env())
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return sdist, wheel


def package_files() -> set[str]:
    """The files the package needs at run time, from the checkout."""
    tracked = run("git", "ls-files", "pulumi_opensearch_fn", cwd=REPO_ROOT).stdout.split()
    return set(tracked)


def test_sdist_carries_what_the_wheel_needs(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
        metadata = whl.read(f"pulumi_opensearch_fn-{VERSION}.dist-info/METADATA").decode()
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    needed = package_files()
    assert needed - in_wheel == set(), "the wheel (built from the sdist) lacks these"
    assert needed - in_sdist == set(), "the sdist lacks these"
    assert {"pyproject.toml", "README.md"} <= in_sdist
    assert not [n for n in in_wheel if n.startswith(("tests/", "benchmarks/", "examples/"))]
    # What users see on the package index.
    assert "Project-URL: " in metadata
    assert "Classifier: Typing :: Typed" in metadata
    lowest, _ = pulumi_range()
    [pulumi_requirement] = re.findall(r"(?m)^Requires-Dist: pulumi\b.*$", metadata)
    assert f">={lowest}" in pulumi_requirement and "<4" in pulumi_requirement


@pytest.mark.parametrize("sdk_end", ["lowest", "pinned"])
def test_wheel_in_a_clean_virtualenv_runs_the_quickstart(
    dists: tuple[Path, Path], tmp_path: Path, engine_dir: Path, sdk_end: str
) -> None:
    _, wheel = dists
    lowest, pinned = pulumi_range()
    sdk = lowest if sdk_end == "lowest" else pinned
    venv = tmp_path / "venv"
    env = outside_env()
    run(sys.executable, "-m", "venv", venv, env=env, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        wheel, f"pulumi=={sdk}", env=env, cwd=tmp_path)  # fmt: skip
    where = run(python, "-c", "import pulumi_opensearch_fn as p; print(p.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    found = run(python, "-c", "import importlib.metadata as m; print(m.version('pulumi'))")
    assert Version(found.stdout.strip()) == Version(sdk)

    command = venv / "bin" / "opensearch-fn"
    assert (
        run(command, "--version", env=env, cwd=tmp_path).stdout.strip()
        == f"opensearch-fn {VERSION}"
    )

    emulator = subprocess.Popen(
        [str(command), "emulator", "--port", "0"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()  # the first line is the base URL
        assert url.startswith("http://127.0.0.1:"), url
        run_quickstart(tmp_path, engine_dir, venv, url)
    finally:
        emulator.terminate()
        emulator.communicate(timeout=30)


def run_quickstart(tmp_path: Path, engine_dir: Path, venv: Path, url: str) -> None:
    project_dir = tmp_path / "quickstart"
    shutil.copytree(EXAMPLES / "quickstart", project_dir)
    pulumi_yaml = project_dir / "Pulumi.yaml"
    text = pulumi_yaml.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^(\s*virtualenv:).*$", rf"\1 {venv}", text)
    assert count == 1, text
    pulumi_yaml.write_text(text, encoding="utf-8")

    env = hermetic_env(tmp_path / "pulumi", bin_dir=engine_dir, venv=venv)
    env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    project = PulumiProject(project_dir, env)
    project.stack_init("dev")
    project.config_set("opensearch-fn:endpoint", url)
    project.config_set("opensearch-fn:accessKeyId", DEMO_KEY_ID)
    project.config_set("opensearch-fn:accessKeySecret", DEMO_KEY_SECRET, secret=True)
    project.up()
    outputs = project.outputs()
    assert outputs["status"] == "available"
    assert outputs["latest_generation"] == 3
    assert outputs["latest_task_status"] == "success"
    project.refresh()
    project.preview(expect_no_changes=True)
    project.destroy()
