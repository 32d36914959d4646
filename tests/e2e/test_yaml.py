"""YAML stacks through the real Pulumi CLI and the official YAML language host, using the
`opensearch-fn` provider plugin (`pulumi-resource-opensearch-fn`), against the emulator
serving the sample data in this process: gates, waiting, enforce: false, drift, refresh
under API errors, `get` by id, `fn::invoke` of each function, and a canary secret."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from harness import REPO_ROOT, PulumiProject
from stacks import EXPECT_NO_CHANGES_EXIT, combined, leaks

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PLUGIN_DIR = Path(sys.executable).parent  # holds pulumi-resource-opensearch-fn
KEY_ID, KEY_SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
INSTANCE_TYPE = "opensearch-fn:index:FunctionInstance"
TASK_TYPE = "opensearch-fn:index:FunctionTask"
INSTANCE_STATE_TYPE = "opensearch-fn:index:FunctionInstanceState"
TASK_STATE_TYPE = "opensearch-fn:index:FunctionTaskState"
OUR_TYPES = (INSTANCE_TYPE, TASK_TYPE, INSTANCE_STATE_TYPE, TASK_STATE_TYPE)
PROVIDER_TYPE = "pulumi:providers:opensearch-fn"
# How `pulumi stack export --show-secrets` marks a secret value.
SECRET_SIG, SECRET_SIG_VALUE = (
    "4dabf18193072939515e22adb298388d",
    "1b47061264138c4ac30d75fd1eb44270",
)
DRIFT_CHECKS = (
    ("preview", "--expect-no-changes"),
    ("preview", "--refresh", "--expect-no-changes"),
    ("refresh", "--preview-only", "--expect-no-changes"),
)
CTR = """      appGroup: my_app
      functionName: ctr
      instanceName: {instance}"""


def yaml_project(
    tmp_path: Path, env: dict[str, str], body: str, *, name: str = "yaml", endpoint: str,
    credentials: bool = True,
) -> PulumiProject:  # fmt: skip
    """A YAML project (resources, variables, outputs in `body`) using the plugin, with a
    new stack whose config points at the emulator."""
    directory = tmp_path / name
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(header(name) + body, encoding="utf-8")
    project = PulumiProject(directory, env, timeout=240)
    project.stack_init("dev")
    project.config_set("opensearch-fn:endpoint", endpoint)
    if credentials:
        project.config_set("opensearch-fn:accessKeyId", KEY_ID)
        project.config_set("opensearch-fn:accessKeySecret", KEY_SECRET, secret=True)
    return project


def header(name: str) -> str:
    return (
        f"name: {name}\nruntime: yaml\n"
        f"plugins:\n  providers:\n    - name: opensearch-fn\n      path: {PLUGIN_DIR}\n"
    )


def rewrite(project: PulumiProject, body: str) -> None:
    """Another program for the project (same name, same stack)."""
    (project.dir / "Pulumi.yaml").write_text(header(project.dir.name) + body, encoding="utf-8")


def ours(project: PulumiProject) -> list[dict]:
    return [r for r in project.resources() if r["type"] in OUR_TYPES]


def states(project: PulumiProject) -> list[dict]:
    """The state resources: what the components read, as refresh, get and import see it."""
    return [r for r in ours(project) if r["type"] in (INSTANCE_STATE_TYPE, TASK_STATE_TYPE)]


def gate(instance: str = "ctr_test", expect: str = "", extra: str = "") -> str:
    return f"""resources:
  model:
    type: opensearch-fn:FunctionInstance
    properties:
{CTR.format(instance=instance)}
{expect}{extra}"""


GATED = """config:
  minGeneration:
    type: integer
    default: 3
resources:
  model:
    type: opensearch-fn:FunctionInstance
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
      expect:
        status: available
        minGeneration: ${minGeneration}
        metrics:
          recall: ">= 90"
  held:
    type: opensearch-fn:FunctionTask
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
      generation: 1
    options:
      dependsOn:
        - ${model}
outputs:
  generation: ${model.latestGeneration}
  ready: ${model.ready}
"""


def test_a_gate_that_passes_and_one_that_fails_on_preview_and_up(
    tmp_path: Path, pulumi_env, emulator
) -> None:
    project = yaml_project(tmp_path, pulumi_env, GATED, endpoint=emulator.url)
    assert "+ 5 to create" in project.preview().stdout  # 2 components, their state, the stack
    project.up()
    assert project.outputs() == {"generation": 3, "ready": True}
    project.preview(expect_no_changes=True)

    project.config_set("yaml:minGeneration", "4")
    for result in (project.preview(check=False), project.up(check=False)):
        assert result.returncode != 0
        text = combined(result)
        assert (
            "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
            " min_generation: expected >= 4, saw 3"
        ) in text, text
        assert "Traceback" not in text
    # The failed up changed nothing.
    [model] = [r for r in states(project) if r["type"] == INSTANCE_STATE_TYPE]
    assert model["outputs"]["ready"] is True

    # A new stack whose gate fails: nothing that depends on the model is created.
    fresh = yaml_project(tmp_path, pulumi_env, GATED, name="fresh", endpoint=emulator.url)
    fresh.config_set("fresh:minGeneration", "4")
    result = fresh.up(check=False)
    assert result.returncode != 0
    assert ours(fresh) == []


def test_wait_until_a_training_task_finishes(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    body = gate(
        "ctr_training",
        "      expect:\n        taskStatus: success\n        minGeneration: 2\n"
        "      wait:\n        timeout: 30m\n        interval: 1s\n",
        "outputs:\n  generation: ${model.latestGeneration}\n  ready: ${model.ready}\n",
    )
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url)
    preview = project.preview()  # never waits: it says what `up` will wait for
    assert "up will wait up to 30m for: task_status: expected success, saw running" in (
        combined(preview)
    )
    # up's check reads (3 requests), create reads again (3) and sees the run in progress;
    # the next poll sees it finished.
    admin.advance_clock_at_request(600, at_request=7)
    up = project.up()
    text = combined(up)
    assert (
        "FunctionInstance my_app/ctr/ctr_training: instance available, task gen 2 running" in text
    )
    assert "task gen 2 success" in text
    assert project.outputs() == {"generation": 2, "ready": True}


def test_enforce_false_only_warns(tmp_path: Path, pulumi_env, emulator) -> None:
    body = gate(
        expect="      expect:\n        status: unavailable\n        enforce: false\n",
        extra="outputs:\n  ready: ${model.ready}\n  unmet: ${model.unmet}\n",
    )
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url)
    result = project.up()
    assert (
        "warning: FunctionInstance my_app/ctr/ctr_test: expectations not met:"
        " status: expected unavailable, saw available"
    ) in combined(result)
    assert project.outputs() == {
        "ready": False,
        "unmet": ["status: expected unavailable, saw available"],
    }


def test_drift_in_all_three_commands(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    body = gate(
        extra="""  latest:
    type: opensearch-fn:FunctionTask
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
"""
    )
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url)
    project.up()
    for command in DRIFT_CHECKS:
        project.run(*command)  # clean: every check exits 0
    admin.start_task("my_app", "ctr", "ctr_test", duration_s=600)
    for command in DRIFT_CHECKS:
        result = project.run(*command, check=False)
        assert result.returncode == EXPECT_NO_CHANGES_EXIT, (command, combined(result))
        text = combined(result)
        assert "[diff: ~latestGeneration,latestTaskStatus,taskDagStatus]" in text, text
        assert "[diff: ~generation,status]" in text
        assert (
            "FunctionInstance my_app/ctr/ctr_test drifted: taskDagStatus success → running,"
            " latestGeneration 3 → 4, latestTaskStatus success → running"
        ) in text
        assert "FunctionTask my_app/ctr/ctr_test/latest drifted: generation 3 → 4" in text
    admin.advance_clock(60)  # progress moves: still the same drift, and nothing more
    project.refresh()
    for command in DRIFT_CHECKS:
        project.run(*command)  # refreshed: clean again


def test_refresh_keeps_state_under_api_errors(tmp_path: Path, pulumi_env, emulator, admin) -> None:
    body = gate(
        extra="""  two:
    type: opensearch-fn:FunctionTask
    properties:
      appGroup: my_app
      functionName: ctr
      instanceName: ctr_test
      generation: 2
"""
    )
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url)
    project.up()
    before = ours(project)
    admin.inject_fault("error", status=503)
    result = project.refresh(check=False)
    admin.clear_faults()
    assert result.returncode != 0
    text = combined(result)
    assert "FunctionInstance my_app/ctr/ctr_test: " in text, text
    assert "Traceback" not in text
    assert ours(project) == before

    # Task.NotExist with a 4xx: that task's state, and only it, leaves the stack (the
    # components stay: the program declares them, and its next up reads them again).
    state = admin.state(secrets=True)
    tasks = state["appGroups"]["my_app"]["functions"]["ctr"]["instances"]["ctr_test"]["tasks"]
    tasks[:] = [t for t in tasks if t["generation"] != 2]
    admin.load_state(state)
    project.refresh()
    assert [r["type"] for r in states(project)] == [INSTANCE_STATE_TYPE]


def test_get_by_id(tmp_path: Path, pulumi_env, emulator) -> None:
    body = """resources:
  model:
    type: opensearch-fn:FunctionInstanceState
    get:
      id: my_app/ctr/ctr_test
  two:
    type: opensearch-fn:FunctionTaskState
    get:
      id: my_app/ctr/ctr_test/2
outputs:
  status: ${model.status}
  generation: ${model.latestGeneration}
  recall: ${two.metrics.recall}
"""
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url)
    project.up()
    assert project.outputs() == {"status": "available", "generation": 3, "recall": 90}
    assert all(r.get("external") for r in ours(project))
    project.refresh()
    project.preview(expect_no_changes=True)
    # Import by id: the code it prints is what a program would give.
    imported = project.run(
        "import",
        INSTANCE_STATE_TYPE,
        "imported",
        "my_app/ctr/ctr_training",
        "--yes",
        "--protect=false",
    )
    assert "instanceName: ctr_training" in imported.stdout, imported.stdout
    [resource] = [r for r in ours(project) if r["urn"].endswith("::imported")]
    assert resource["inputs"] == {
        "appGroup": "my_app", "functionName": "ctr", "instanceName": "ctr_training"
    }  # fmt: skip
    assert resource["outputs"]["latestGeneration"] == 2
    project.destroy()
    assert ours(project) == []
    # `get` on the component itself: the YAML host registers a component with no input,
    # not even the id; the plugin says where `get` is.
    rewrite(project, body.replace("FunctionInstanceState", "FunctionInstance"))
    result = project.preview(check=False)
    assert result.returncode != 0
    assert (
        "FunctionInstance needs appGroup, functionName and instanceName; to read an existing"
        " one by id (`get`, import), use opensearch-fn:index:FunctionInstanceState"
    ) in combined(result), combined(result)


INVOKES = """variables:
  instance:
    fn::invoke:
      function: opensearch-fn:getFunctionInstance
      arguments: {appGroup: my_app, functionName: ctr, instanceName: ctr_test,
                  expect: {status: available}}
  two:
    fn::invoke:
      function: opensearch-fn:getFunctionTask
      arguments: {appGroup: my_app, functionName: ctr, instanceName: ctr_test, generation: 2}
  latest:
    fn::invoke:
      function: opensearch-fn:getLatestFunctionTask
      arguments: {appGroup: my_app, functionName: ctr, instanceName: ctr_test}
  listed:
    fn::invoke:
      function: opensearch-fn:getFunctionTasks
      arguments: {appGroup: my_app, functionName: ctr, instanceName: ctr_test, limit: 2}
outputs:
  status: ${instance.status}
  ready: ${instance.ready}
  twoRecall: ${two.metrics.recall}
  latest: ${latest.generation}
  listed: ${listed.tasks[1].generation}
"""


def test_fn_invoke_of_each_function(tmp_path: Path, pulumi_env, emulator) -> None:
    project = yaml_project(tmp_path, pulumi_env, INVOKES, endpoint=emulator.url)
    project.up()
    assert project.outputs() == {
        "status": "available", "ready": True, "twoRecall": 90, "latest": 3, "listed": 2,
    }  # fmt: skip
    rewrite(project, INVOKES.replace("expect: {status: available}", "expect: {minGeneration: 7}"))
    result = project.preview(check=False)
    assert result.returncode != 0
    assert (
        "get_function_instance(my_app/ctr/ctr_test): expectations not met:"
        " min_generation: expected >= 7, saw 3"
    ) in combined(result)


def test_bad_input_names_the_property(tmp_path: Path, pulumi_env, emulator) -> None:
    # What the YAML host's type check finds, against the schema.
    typed = gate(
        expect='      expect:\n        minGeneration: "3.5"\n        metrics: ["recall >= 90"]\n'
    )
    typed += "  other:\n    type: opensearch-fn:FunctionInstance\n    properties:\n"
    typed += "      appGroup: my_app\n      functionName: ctr\n      instanceNmae: ctr_test\n"
    project = yaml_project(tmp_path, pulumi_env, typed, endpoint=emulator.url)
    result = project.preview(check=False)
    text = combined(result)
    assert result.returncode != 0
    assert "minGeneration: Cannot assign type 'string' to type 'integer'" in text, text
    assert "metrics: Cannot assign 'List<string>' to 'Map<string>'" in text
    assert "Missing required property 'instanceName'" in text
    # What only the plugin's check finds: one line each, naming the property.
    rewrite(
        project, gate(expect="      expect:\n        status: ready\n        minGeneration: -1\n")
    )
    result = project.preview(check=False)
    text = combined(result)
    assert result.returncode != 0
    assert "expect.status: status must be one of available, unavailable; got 'ready'" in text
    assert "expect.minGeneration: minGeneration must be a whole number >= 0, got -1" in text
    assert "Traceback" not in text


CANARY_ID = "LTAI-canary-yaml-4e1b"
CANARY_SECRET = "canary-secret-yaml-8c2d5e7f9a1b"


@pytest.mark.parametrize("as_secret", [True, False], ids=["secret-config", "plain-config"])
def test_a_canary_secret_never_reaches_state_or_output(
    tmp_path: Path, pulumi_env, emulator, admin, as_secret: bool
) -> None:
    admin.add_access_key(CANARY_ID, CANARY_SECRET)
    invokes = INVOKES.partition("outputs:")[0]
    body = gate(expect="      expect:\n        status: available\n",
                extra="outputs:\n  ready: ${model.ready}\n") + invokes  # fmt: skip
    project = yaml_project(tmp_path, pulumi_env, body, endpoint=emulator.url, credentials=False)
    project.config_set("opensearch-fn:accessKeyId", CANARY_ID)
    # Even as plain config, the plugin's CheckConfig marks it secret: state keeps it encrypted.
    project.config_set("opensearch-fn:accessKeySecret", CANARY_SECRET, secret=as_secret)
    results = [project.preview(), project.up(), project.refresh(), project.up()]
    assert any(r.get("accessKeyId") == CANARY_ID for r in admin.requests()), "the key was not used"
    results.append(project.run("stack", "output", "--show-secrets", "--json"))
    results.append(project.run("stack", "export"))
    for result in results:
        assert leaks(combined(result).encode(), [CANARY_SECRET]) == [], result.args
    export = json.loads(project.run("stack", "export", "--show-secrets").stdout)
    resources = export["deployment"]["resources"]
    assert ours(project)
    assert leaks(json.dumps(ours(project)).encode(), [CANARY_SECRET]) == []
    # The engine keeps a provider's configuration as its inputs, secrets encrypted.
    # (plain in the stack's config file or not, it is a secret there: encrypted at rest).
    [provider] = [r for r in resources if r["type"] == PROVIDER_TYPE]
    kept = provider["inputs"]["accessKeySecret"]
    assert kept[SECRET_SIG] == SECRET_SIG_VALUE
    assert json.loads(kept["plaintext"]) == CANARY_SECRET
    state_dir = Path(pulumi_env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    files = [p for p in state_dir.rglob("*") if p.is_file()]
    if not as_secret:  # the update history records the stack's config as it was set
        files = [p for p in files if "history" not in p.parts]
    assert any("stacks" in p.parts for p in files)
    for path in files:
        assert leaks(path.read_bytes(), [CANARY_SECRET]) == [], path


def test_the_yaml_gate_example(tmp_path: Path, pulumi_env, emulator) -> None:
    source = (REPO_ROOT / "examples" / "yaml-gate" / "Pulumi.yaml").read_text(encoding="utf-8")
    assert "path: ../../.venv/bin" in source
    directory = tmp_path / "yaml-gate"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(
        source.replace("path: ../../.venv/bin", f"path: {PLUGIN_DIR}"), encoding="utf-8"
    )
    project = PulumiProject(directory, pulumi_env, timeout=240)
    project.stack_init("dev")
    project.config_set("opensearch-fn:endpoint", emulator.url)
    project.config_set("opensearch-fn:accessKeyId", KEY_ID)
    project.config_set("opensearch-fn:accessKeySecret", KEY_SECRET, secret=True)
    project.up()
    outputs = project.outputs()
    assert (outputs["status"], outputs["generation"], outputs["ready"]) == ("available", 3, True)
    assert outputs["recall"] == 91
    assert [t["generation"] for t in outputs["recentSuccesses"]] == [3, 2, 1]
    project.config_set("yaml-gate:minGeneration", "4")
    result = project.preview(check=False)
    assert result.returncode != 0
    assert "min_generation: expected >= 4, saw 3" in combined(result)


def test_the_plugin_needs_no_python_on_the_stack(tmp_path: Path, pulumi_env) -> None:
    """The YAML host is the official one, beside the CLI, and the plugin an executable."""
    assert os.access(Path(pulumi_env["PATH"].split(os.pathsep)[0]) / "pulumi-language-yaml",
                     os.X_OK)  # fmt: skip
    assert os.access(PLUGIN_DIR / "pulumi-resource-opensearch-fn", os.X_OK)


def test_fifty_components_construct_at_once(tmp_path: Path, pulumi_env, emulator) -> None:
    """The engine constructs components concurrently (`--parallel` default), in one plugin
    process whose SDK keeps each Construct's settings apart: each gets its own verdict,
    outputs and state child, and a second run finds nothing to change."""
    count = 50
    resources = "".join(
        f"  m{i}:\n    type: opensearch-fn:FunctionInstance\n    properties:\n"
        f"{CTR.format(instance='ctr_test')}\n"
        f"      expect: {{minGeneration: {i}, enforce: false}}\n"
        for i in range(count)
    )
    outputs = "".join(f"  u{i}: ${{m{i}.unmet}}\n" for i in range(count))
    project = yaml_project(
        tmp_path, pulumi_env, f"resources:\n{resources}outputs:\n{outputs}", endpoint=emulator.url
    )
    project.preview()
    up = project.up()
    expected = {
        f"u{i}": [] if i <= 3 else [f"min_generation: expected >= {i}, saw 3"] for i in range(count)
    }
    assert project.outputs() == expected
    children = {r["urn"].rsplit("::", 1)[1]: r for r in states(project)}
    assert sorted(children) == sorted(f"m{i}" for i in range(count))
    for name, child in children.items():
        assert child["parent"].endswith(f"::opensearch-fn:index:FunctionInstance::{name}")
        assert child["outputs"]["unmet"] == expected[f"u{name[1:]}"]
    assert combined(up).count("warning: FunctionInstance my_app/ctr/ctr_test: expectations") >= (
        count - 4
    )
    project.preview(expect_no_changes=True)
