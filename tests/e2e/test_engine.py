"""The Pulumi engine itself: a throwaway dynamic-provider program through its whole life.

These tests check the CLI from scripts/pulumi-engine and its Python language
host, not this project's provider: if they fail, every other end-to-end test
would fail for the same reason.
"""

from __future__ import annotations

import re
import textwrap
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
