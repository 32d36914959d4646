"""The Pulumi engine itself: a throwaway dynamic-provider program through its whole life.

These tests check the CLI from scripts/pulumi-engine and its Python language
host, not this project's provider: if they fail, every other end-to-end test
would fail for the same reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from harness import PulumiProject

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# `preview --expect-no-changes` exits with this code when there are changes (CLI >= 3.227).
EXPECT_NO_CHANGES_EXIT = 7

TYPE_TOKEN = "pulumi-python:dynamic:Resource"  # a Resource subclass without module/name

PROGRAM = textwrap.dedent(
    '''
    """A dynamic provider that keeps a marker file per resource."""
    import os
    import uuid

    import pulumi
    from pulumi.dynamic import (
        CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult,
    )


    class MarkerProvider(ResourceProvider):
        def create(self, props):
            marker_id = uuid.uuid4().hex
            path = os.path.join(props["directory"], marker_id)
            with open(path, "w") as f:
                f.write(props["value"])
            return CreateResult(marker_id, {**props, "length": len(props["value"]), "path": path})

        def diff(self, id, olds, news):
            changed = [k for k in ("value", "directory") if olds.get(k) != news.get(k)]
            replaces = ["directory"] if "directory" in changed else []
            return DiffResult(changes=bool(changed), replaces=replaces)

        def update(self, id, olds, news):
            with open(olds["path"], "w") as f:
                f.write(news["value"])
            return UpdateResult({**news, "length": len(news["value"]), "path": olds["path"]})

        def read(self, id, props):
            with open(props["path"]) as f:
                value = f.read()
            return ReadResult(id, {**props, "value": value, "length": len(value)})

        def delete(self, id, props):
            os.remove(props["path"])


    class Marker(Resource):
        length: pulumi.Output[float]
        path: pulumi.Output[str]

        def __init__(self, name, value, directory, opts=None):
            super().__init__(
                MarkerProvider(), name,
                {"value": value, "directory": directory, "length": None, "path": None},
                opts,
            )


    config = pulumi.Config()
    marker = Marker("marker", config.require("value"), config.require("directory"))
    pulumi.export("length", marker.length)
    pulumi.export("path", marker.path)
    pulumi.export("token", config.require_secret("token"))
    '''
)

FAILING_PROGRAM = textwrap.dedent(
    """
    import pulumi

    raise ValueError("deliberate failure in the program")
    """
)


def test_pulumi_version(make_project) -> None:
    project: PulumiProject = make_project("version", "")
    version = project.run("version").stdout.strip()
    assert re.fullmatch(r"v3\.\d+\.\d+", version), version


def test_dynamic_provider_lifecycle(make_project, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    project: PulumiProject = make_project("lifecycle", PROGRAM)
    project.stack_init("dev")
    project.config_set("value", "hello")
    project.config_set("directory", str(markers))
    project.config_set("token", "s3cr3t", secret=True)

    preview = project.preview()
    assert "+ 2 to create" in preview.stdout or "2 to create" in preview.stdout, preview.stdout
    assert list(markers.iterdir()) == [], "preview must not create anything"

    project.up()
    outputs = project.outputs()
    assert outputs["length"] == 5
    assert outputs["token"] == "s3cr3t"
    marker_file = Path(outputs["path"])
    assert marker_file.parent == markers
    assert marker_file.read_text() == "hello"
    [resource] = project.resources(TYPE_TOKEN)
    assert resource["outputs"]["value"] == "hello"

    project.preview(expect_no_changes=True)  # raises on a non-zero exit

    project.config_set("value", "hello, world")
    changed = project.preview(expect_no_changes=True, check=False)
    assert changed.returncode == EXPECT_NO_CHANGES_EXIT, (changed.returncode, changed.stdout)
    assert "1 to update" in changed.stdout, changed.stdout

    project.up()
    assert project.outputs()["length"] == 12
    assert marker_file.read_text() == "hello, world"

    # Drift made outside Pulumi is read back by refresh.
    marker_file.write_text("edited")
    project.refresh()
    [resource] = project.resources(TYPE_TOKEN)
    assert resource["outputs"]["value"] == "edited"
    assert resource["outputs"]["length"] == 6

    project.destroy()
    assert not marker_file.exists()
    assert project.resources(TYPE_TOKEN) == []
    assert project.outputs() == {}


def test_program_error_fails_the_update(make_project) -> None:
    project: PulumiProject = make_project("failing", FAILING_PROGRAM)
    project.stack_init("dev")
    result = project.up(check=False)
    assert result.returncode != 0
    combined = result.stdout + result.stderr
    assert "deliberate failure in the program" in combined, combined


# Records how the language host started it and each signal it gets, then waits on an
# output for up to 90 s: long enough to be cancelled, bounded if it never is.
CANCELLED_PROGRAM = textwrap.dedent(
    """
    import asyncio, json, os, signal, stat
    import pulumi

    config = pulumi.Config()
    report = config.require("report")

    def record(**values):
        with open(report, "a", encoding="utf-8") as f:
            f.write(json.dumps(values) + "\\n")

    def interrupted(signum, frame):
        record(signal=signal.Signals(signum).name)
        if not config.get_bool("ignoreInterrupts"):
            os._exit(32)

    signal.signal(signal.SIGINT, interrupted)
    host = os.getppid()
    stdin, devnull = os.fstat(0), os.stat(os.devnull)
    record(
        pid=os.getpid(), pgid=os.getpgid(0), sid=os.getsid(0),
        host_pgid=os.getpgid(host), host_sid=os.getsid(host),
        stdin_is_devnull=stat.S_ISCHR(stdin.st_mode) and stdin.st_rdev == devnull.st_rdev,
        secret_keys=os.environ.get("PULUMI_CONFIG_SECRET_KEYS"),
        config=json.loads(os.environ.get("PULUMI_CONFIG", "{}")),
    )
    pulumi.export("slow", pulumi.Output.from_input(asyncio.ensure_future(asyncio.sleep(90, "done"))))
    """
)


def read_report(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def interrupted_up(project: PulumiProject, report: Path) -> subprocess.CompletedProcess[str]:
    """`pulumi up`, interrupted (Ctrl-C: SIGINT to the CLI) once the program runs."""
    command = [project.pulumi, "up", "--yes", "--skip-preview", "--non-interactive"]
    proc = subprocess.Popen(
        [*command, "--color=never"],
        cwd=project.dir,
        env=project.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        for _ in range(600):  # up to 120 s for the program to start
            if read_report(report) or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert read_report(report), "the program never started"
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")


@pytest.mark.parametrize("ignore_interrupts", [False, True], ids=["exits", "ignores-sigint"])
def test_cancel_interrupts_the_program_as_the_official_host_does(
    make_project, tmp_path: Path, ignore_interrupts: bool
) -> None:
    report = tmp_path / "report.jsonl"
    project: PulumiProject = make_project("cancelled", CANCELLED_PROGRAM)
    project.stack_init("dev")
    project.config_set("report", str(report))
    project.config_set("ignoreInterrupts", str(ignore_interrupts).lower())

    result = interrupted_up(project, report)

    assert result.returncode != 0
    assert "update canceled" in result.stdout, result.stdout
    started, *signals = read_report(report)
    # The program shares the language host's process group and session (Go's exec.Cmd
    # defaults), reads /dev/null, and gets the config as the official host passes it.
    assert started["pgid"] == started["host_pgid"], started
    assert started["sid"] == started["host_sid"], started
    assert started["stdin_is_devnull"] is True
    assert started["secret_keys"] == "[]"
    assert started["config"] == {
        "cancelled:ignoreInterrupts": str(ignore_interrupts).lower(),
        "cancelled:report": str(report),
    }
    # Cancelled: SIGINT first (never SIGKILL straight away) ...
    assert signals and {s["signal"] for s in signals} == {"SIGINT"}, signals
    # ... and a program that ignores it is killed: none outlives the run.
    assert not Path(f"/proc/{started['pid']}").exists() or _zombie(started["pid"])


def _zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except OSError:
        return True  # gone since the first look
    return fields[0] == "Z"
