"""A failing gate stops everything that depends on it, whatever the engine's flags.

The engine calls a provider's `Check` only for resources it is about to step: left out
by `--target`/`--exclude`, a gated resource is never checked, and under
`--continue-on-error` a failed one resolves its dependents anyway. So the program holds
the gate: a resource that fails its expectations is never registered, and nothing that
depends on it (by `depends_on` or through its outputs) can be.
"""

from __future__ import annotations

import json

import pytest
from harness import PulumiProject
from stacks import APP, DEMO_KEY_ID, DEMO_KEY_SECRET, FUNCTION, combined

from pulumi_opensearch_fn.emulator import EmulatorAdmin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PROJECT = "gateflags"
PROGRAM = """
import pulumi
import pulumi.dynamic

from pulumi_opensearch_fn import Expect, FunctionInstance


class _Echo(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult(props["tag"], props)

    def diff(self, _id, olds, news):
        return pulumi.dynamic.DiffResult(changes=olds.get("value") != news.get("value"))

    def update(self, _id, _olds, news):
        return pulumi.dynamic.UpdateResult(news)


class Echo(pulumi.dynamic.Resource):
    value: pulumi.Output[str]

    def __init__(self, name, value, opts=None):
        super().__init__(_Echo(), name, {"tag": name, "value": value}, opts)


version = pulumi.Config().require("version")
model = FunctionInstance("model", "my_app", "ctr", "ctr_test", expect=Expect(status="available"))
# Depends on the gate by `depends_on` only.
release = Echo("release", version, pulumi.ResourceOptions(depends_on=[model]))
# Depends on the gate through one of its outputs.
consumer = Echo("consumer", model.status.apply(lambda s: f"{version}:{s}"))
# Depends on nothing: the engine may deploy it whatever the gate says.
independent = Echo("independent", version)
"""

DYNAMIC = "pulumi-python:dynamic:Resource"
MODEL_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"


def urn(kind: str, name: str) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{kind}::{name}"


RELEASE, CONSUMER, MODEL = (
    urn(DYNAMIC, "release"),
    urn(DYNAMIC, "consumer"),
    urn(MODEL_TYPE, "model"),
)

# Each way to run `up` that could reach a dependent without stepping the gate.
FLAGS: dict[str, tuple[str, ...]] = {
    "plain": (),
    "target": ("--target", RELEASE, "--target", CONSUMER),
    "target-dependents": ("--target", MODEL, "--target-dependents"),
    "exclude": ("--exclude", MODEL),
    "continue-on-error": ("--continue-on-error",),
    "refresh": ("--refresh",),
    "with-preview": (),  # `up --yes` with its preview; the others skip it
}


def deployed_values(project: PulumiProject) -> dict[str, str]:
    resources = project.export()["deployment"]["resources"]
    return {
        r["urn"].rsplit("::", 1)[1]: r["outputs"]["value"]
        for r in resources
        if r["type"] == DYNAMIC
    }


@pytest.fixture
def gated(make_project, emulator, admin: EmulatorAdmin) -> PulumiProject:
    """Deployed at version 1 with a ready model; then the model goes unavailable and the
    program asks for version 2."""
    project = make_project(PROJECT, PROGRAM)
    project.stack_init("dev")
    project.config_set("opensearch-fn:endpoint", emulator.url)
    project.config_set("opensearch-fn:accessKeyId", DEMO_KEY_ID)
    project.config_set("opensearch-fn:accessKeySecret", DEMO_KEY_SECRET, secret=True)
    project.config_set(f"{PROJECT}:version", "1")
    project.up()
    assert deployed_values(project) == {
        "release": "1",
        "consumer": "1:available",
        "independent": "1",
    }
    admin.set_instance_status(APP, FUNCTION, "ctr_test", "unavailable")
    project.config_set(f"{PROJECT}:version", "2")
    return project


@pytest.mark.parametrize("how", list(FLAGS))
def test_no_flag_takes_a_dependent_past_a_failing_gate(gated: PulumiProject, how: str) -> None:
    if how == "with-preview":
        result = gated.run("up", "--yes", "--stack", "dev", check=False)
    else:
        result = gated.up(*FLAGS[how], check=False)
    text = combined(result)

    assert result.returncode != 0, text
    assert "FunctionInstance my_app/ctr/ctr_test: expectations not met" in text, text
    assert "expected available, saw unavailable" in text, text
    assert "Traceback" not in text, text
    values = deployed_values(gated)
    assert values["release"] == "1", (how, text)
    assert values["consumer"] == "1:available", (how, text)
    if how != "refresh":  # a refresh records what is: the model's state may say unavailable
        [model] = [r for r in gated.export()["deployment"]["resources"] if r["urn"] == MODEL]
        assert model["outputs"]["status"] == "available", "the failed read must not reach state"


def test_dependents_deploy_once_the_gate_passes(gated: PulumiProject, admin: EmulatorAdmin) -> None:
    """The same targeted run goes ahead when the model is ready: the gate, not the flag,
    held the dependents back."""
    admin.set_instance_status(APP, FUNCTION, "ctr_test", "available")

    gated.up("--target", RELEASE, "--target", CONSUMER)

    values = deployed_values(gated)
    assert values["release"] == "2"
    assert values["consumer"] == "2:available"
    assert values["independent"] == "1", "--target left it alone"


def test_automation_api_flags(gated: PulumiProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Automation API's equivalents of the flags, against the same project."""
    from pulumi import automation as auto

    monkeypatch.setenv("PATH", gated.env["PATH"])  # where the Automation API finds `pulumi`
    env = {k: v for k, v in gated.env.items() if k.startswith("PULUMI_")}
    stack = auto.select_stack(
        stack_name="dev",
        work_dir=str(gated.dir),
        opts=auto.LocalWorkspaceOptions(env_vars=env, pulumi_home=env["PULUMI_HOME"]),
    )
    runs = {
        "target": {"target": [RELEASE, CONSUMER]},
        "exclude": {"exclude": [MODEL]},
        "target-dependents": {"target": [MODEL], "target_dependents": True},
        "continue-on-error": {"continue_on_error": True},
        "refresh": {"refresh": True},
    }
    for how, options in runs.items():
        with pytest.raises(auto.CommandError) as caught:
            stack.up(**options)
        text = str(caught.value)
        assert "expectations not met" in text, (how, text)
        values = deployed_values(gated)
        assert values["release"] == "1", (how, json.dumps(values))
        assert values["consumer"] == "1:available", (how, json.dumps(values))


def test_preview_with_target_fails_too(gated: PulumiProject) -> None:
    result = gated.preview("--target", RELEASE, check=False)
    text = combined(result)
    assert result.returncode != 0, text
    assert "expectations not met" in text, text
