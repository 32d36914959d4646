"""A failing gate in a YAML stack stops what depends on it, whatever the engine's flags.

The engine calls a provider's `Check` only for resources it is about to step: left out
by `--target`/`--exclude`, a custom resource is never checked. A remote component's
`Construct` is called on every registration, whatever the flags; the plugin judges the
gate there, and a failing gate fails the registration, so nothing depending on it is
registered. Deployed at generation 1 with a ready model; then the model goes unavailable
and the program asks the dependent for generation 2: each run fails and the dependent
keeps generation 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import PulumiProject
from stacks import APP, FUNCTION, combined
from test_yaml import yaml_project

from pulumi_opensearch_fn.emulator import EmulatorAdmin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROJECT = "yflags"
BODY = """config:
  generation:
    type: integer
    default: 1
resources:
  model:
    type: opensearch-fn:FunctionInstance
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
      expect:
        status: available
  held:
    type: opensearch-fn:FunctionTask
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
      generation: ${generation}
    options:
      dependsOn:
        - ${model}
outputs:
  generation: ${held.generation}
"""
MODEL = f"urn:pulumi:dev::{PROJECT}::opensearch-fn:index:FunctionInstance::model"
HELD = f"urn:pulumi:dev::{PROJECT}::**held"  # the resource, and what it is made of

RUNS: dict[str, tuple[str, ...]] = {
    "up-target": ("up", "--yes", "--skip-preview", "--target", HELD),
    "up-exclude": ("up", "--yes", "--skip-preview", "--exclude", MODEL),
    "up-continue-on-error": ("up", "--yes", "--skip-preview", "--continue-on-error"),
    "preview-target": ("preview", "--target", HELD),
    "up-refresh": ("up", "--yes", "--skip-preview", "--refresh"),
}


def held_generations(project: PulumiProject) -> set[object]:
    """The generation every resource named `held` in state records."""
    return {
        r["outputs"].get("requestedGeneration")
        for r in project.resources()
        if r["urn"].endswith("::held") and r.get("outputs")
    }


@pytest.fixture
def gated(tmp_path: Path, pulumi_env, emulator, admin: EmulatorAdmin) -> PulumiProject:
    project = yaml_project(tmp_path, pulumi_env, BODY, name=PROJECT, endpoint=emulator.url)
    project.up()
    assert held_generations(project) == {1}
    admin.set_instance_status(APP, FUNCTION, "ctr_test", "unavailable")
    project.config_set(f"{PROJECT}:generation", "2")
    return project


@pytest.mark.parametrize("how", list(RUNS))
def test_no_flag_takes_a_dependent_past_a_failing_gate(gated: PulumiProject, how: str) -> None:
    result = gated.run(*RUNS[how], "--stack", "dev", check=False)
    text = combined(result)
    assert result.returncode != 0, text
    assert (
        "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
        " status: expected available, saw unavailable"
    ) in text, text
    assert "Traceback" not in text, text
    assert held_generations(gated) == {1}, (how, text)


def test_the_dependent_moves_once_the_gate_passes(
    gated: PulumiProject, admin: EmulatorAdmin
) -> None:
    """The same targeted run goes ahead when the model is ready: the gate held it back."""
    admin.set_instance_status(APP, FUNCTION, "ctr_test", "available")
    gated.run(*RUNS["up-target"], "--stack", "dev")
    assert held_generations(gated) == {2}
