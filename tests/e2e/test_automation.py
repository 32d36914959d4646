"""examples/automation/gate.py: the Automation API gate, run as a script under the real
Pulumi CLI against a copy of examples/gate and the emulator serving the sample data."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from harness import REPO_ROOT, project_yaml
from stacks import DEMO_KEY_ID, DEMO_KEY_SECRET, EXAMPLES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

GATE = REPO_ROOT / "examples" / "automation" / "gate.py"
READY, NOT_MET, USAGE, ERROR, DRIFTED = 0, 1, 2, 3, 7
KEYS = {"schema_version", "checked_at", "mode", "expect", "result", "exit_code", "outputs"}
KEYS |= {"unmet", "drifted", "message"}
LINE = "FunctionInstance my_app/ctr/ctr_test drifted: version_id 3 → 4, latest_generation 3 → 4"
RESULTS = {READY: "ready", NOT_MET: "not_met", DRIFTED: "drifted"}
TRAINING_UNMET = "FunctionInstance my_app/ctr/ctr_training: min_generation: expected >= 2, saw 1"


@pytest.fixture
def gate_dir(tmp_path: Path) -> Path:
    """A copy of examples/gate whose Pulumi.yaml names the virtualenv by absolute path."""
    project = tmp_path / "gate"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(project_yaml("gate"), encoding="utf-8")
    shutil.copy(EXAMPLES / "gate" / "__main__.py", project / "__main__.py")
    return project


def credentials(endpoint: str, secret: str = DEMO_KEY_SECRET) -> dict[str, str]:
    return {
        "opensearch-fn:endpoint": endpoint,
        "opensearch-fn:accessKeyId": DEMO_KEY_ID,
        "opensearch-fn:accessKeySecret": secret,
    }


def gate(
    env: dict[str, str],
    work_dir: Path,
    *args: str,
    config: dict[str, str] | None = None,
    as_json: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Runs gate.py in a subprocess; never a traceback, whatever the outcome."""
    argv = [sys.executable, str(GATE), "--work-dir", str(work_dir), *args]
    argv += ["--json"] if as_json else []
    for key, value in (config or {}).items():
        argv += ["--config", f"{key}={value}"]
    result = subprocess.run(
        argv,
        env=env,
        cwd=work_dir.parent,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def verdict(result: subprocess.CompletedProcess[str], code: int, clean: bool = False) -> dict:
    """The one JSON object on stdout, checked against the exit code."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr[-4000:])
    value = json.loads(result.stdout)  # nothing else on stdout
    assert set(value) == KEYS
    assert value["schema_version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value["checked_at"])
    assert value["exit_code"] == code
    assert value["result"] == ("clean" if clean else RESULTS.get(code, "error"))
    return value


# -- 0: ready; 1 once the deployed model degrades ------------------------------------


def test_ready_then_preview_then_degraded(tmp_path: Path, pulumi_env, emulator, admin, gate_dir):
    config = credentials(emulator.url) | {"minGeneration": "3"}
    up = gate(pulumi_env, gate_dir, config=config)
    found = verdict(up, READY)
    assert found["unmet"] == [] and found["drifted"] == [] and found["mode"] == "up"
    assert found["expect"]["model"]["min_generation"] == 3, found["expect"]
    outputs = found["outputs"]
    assert outputs["ready"] is True
    assert outputs["status"] == "available"
    assert outputs["latest_success_generation"] == 3
    assert outputs["released_generation"] == 3
    assert "Updating (dev)" in up.stderr  # the engine's output streams to stderr
    assert DEMO_KEY_SECRET not in up.stdout + up.stderr
    stack_config = (gate_dir / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    assert "secure:" in stack_config and DEMO_KEY_SECRET not in stack_config

    preview = gate(pulumi_env, gate_dir, "--preview-only", as_json=False)
    assert preview.returncode == READY, preview.stderr[-4000:]
    assert preview.stdout.startswith("ready: preview succeeded"), preview.stdout
    assert "Previewing update (dev)" in preview.stderr

    admin.set_instance_status("my_app", "ctr", "ctr_test", "unavailable")
    degraded = verdict(gate(pulumi_env, gate_dir), NOT_MET)
    assert degraded["unmet"] == [
        "FunctionInstance my_app/ctr/ctr_test: status: expected available, saw unavailable"
    ]
    assert "expectations not met" in degraded["message"]
    assert degraded["outputs"] == {}


# -- 7: the drift check -------------------------------------------------------------


def test_drift_check(tmp_path: Path, pulumi_env, emulator, admin, gate_dir):
    verdict(gate(pulumi_env, gate_dir, config=credentials(emulator.url)), READY)
    clean = verdict(gate(pulumi_env, gate_dir, "--drift"), READY, clean=True)
    assert clean["mode"] == "drift" and clean["drifted"] == [], clean
    assert "Previewing refresh (dev)" in gate(pulumi_env, gate_dir, "--drift").stderr

    admin.start_task("my_app", "ctr", "ctr_test", duration_s=600, metrics={"recall": 93})
    admin.advance_clock(601)  # generation 4 lands
    result = gate(pulumi_env, gate_dir, "--drift")
    found = verdict(result, DRIFTED)
    [model] = found["drifted"]
    assert model["resource"] == "model" and model["type"] == "FunctionInstance", model
    assert model["subject"] == "FunctionInstance my_app/ctr/ctr_test"
    assert model["fields"] == {
        "version_id": {"old": 3, "new": 4},
        "latest_generation": {"old": 3, "new": 4},
    }, model
    assert model["line"] == LINE
    assert LINE in found["message"] and LINE in result.stderr  # the provider's own line
    assert DEMO_KEY_SECRET not in result.stdout + result.stderr

    text = gate(pulumi_env, gate_dir, "--drift", as_json=False)
    assert text.returncode == DRIFTED, text.stderr[-4000:]
    assert text.stdout.splitlines() == [
        "drifted: 1 resource(s)",
        f"  {LINE}",
    ]
    # The check writes nothing: it drifts again, and an up makes it clean.
    verdict(gate(pulumi_env, gate_dir, "--drift"), DRIFTED)
    verdict(gate(pulumi_env, gate_dir), READY)
    verdict(gate(pulumi_env, gate_dir, "--drift"), READY, clean=True)

    emulator.stop()  # a check that cannot read is an error, never "clean"
    down = verdict(gate(pulumi_env, gate_dir, "--drift"), ERROR)
    assert "FunctionInstance my_app/ctr/ctr_test" in down["message"], down


# -- 1: a model still training, enforced or only warned about -------------------------


def test_not_met_while_training(tmp_path: Path, pulumi_env, emulator, gate_dir):
    config = credentials(emulator.url) | {"instance": "ctr_training", "minGeneration": "2"}
    failed = verdict(gate(pulumi_env, gate_dir, config=config), NOT_MET)
    assert TRAINING_UNMET in failed["unmet"], failed
    assert "FunctionInstance my_app/ctr/ctr_training: expectations not met" in failed["message"]

    warned = verdict(
        gate(pulumi_env, gate_dir, "--preview-only", config={"enforce": "false"}), NOT_MET
    )
    assert TRAINING_UNMET in warned["unmet"], warned

    up = gate(pulumi_env, gate_dir, as_json=False)  # enforce=false stays in the stack config
    assert up.returncode == NOT_MET, up.stderr[-4000:]
    assert up.stdout.startswith("not_met: "), up.stdout
    assert f"unmet: {TRAINING_UNMET}" in up.stdout
    assert "ready: false" in up.stdout
    assert "latest_success_generation: 1" in up.stdout


# -- 3: everything that is not an expectation ----------------------------------------


def test_infrastructure_errors(tmp_path: Path, pulumi_env, emulator, gate_dir):
    config = credentials(emulator.url) | {"instance": "ctr_nope"}
    unknown = verdict(gate(pulumi_env, gate_dir, config=config), ERROR)
    assert "FunctionInstance my_app/ctr/ctr_nope" in unknown["message"], unknown
    assert "expectations not met" not in unknown["message"]
    assert unknown["unmet"] == []

    wrong_secret = "not-the-demo-secret-4b7e"
    config = credentials(emulator.url, wrong_secret) | {"instance": "ctr_test"}
    result = gate(pulumi_env, gate_dir, "--preview-only", config=config)
    denied = verdict(result, ERROR)
    assert "FunctionInstance my_app/ctr/ctr_test" in denied["message"], denied
    assert wrong_secret not in result.stdout + result.stderr

    emulator.stop()
    config = {"opensearch-fn:accessKeySecret": DEMO_KEY_SECRET}
    down = verdict(gate(pulumi_env, gate_dir, "--preview-only", config=config), ERROR)
    assert "FunctionInstance my_app/ctr/ctr_test" in down["message"], down


def test_no_pulumi_cli(tmp_path: Path, pulumi_env, gate_dir):
    env = pulumi_env | {"PATH": "/usr/bin:/bin"}
    found = verdict(gate(env, gate_dir, "--preview-only"), ERROR)
    assert "cannot run the Pulumi CLI" in found["message"]


# -- 2: usage --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--config", "no-equals-sign"],
        ["--config", "=value"],
        ["--stack"],
        ["--work-dir", "/nonexistent/gate"],
        ["--drift", "--preview-only"],
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str]):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # never reaches the CLI
    text = gate(env, tmp_path, *args, as_json=False)
    assert text.returncode == USAGE, text.stderr
    assert text.stdout == ""
    assert "usage: gate.py" in text.stderr and "error:" in text.stderr

    found = verdict(gate(env, tmp_path, *args), USAGE)
    assert found["message"]


# -- reading the provider's messages ---------------------------------------------


def load_gate(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gate_example", GATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def test_find_unmet_reads_engine_and_warning_forms(monkeypatch: pytest.MonkeyPatch):
    gate_module = load_gate(monkeypatch)
    engine = (
        "pulumi-python:dynamic/opensearch:FunctionInstance resource 'model' has a problem: "
        "FunctionInstance my_app/ctr/ctr_test: expectations not met: "
        "metrics.recall: expected >= 90, saw 88; "
        "no_task_errors: expected no errors, saw disk full; OOM (after waiting up to 10m)"
    )
    warning = (
        "warning: get_latest_function_task(my_app/ctr/ctr_test): expectations not met: "
        "task_status: expected success, saw failed\n"
    )
    assert gate_module.find_unmet([engine, warning, engine, "unrelated"]) == [
        "FunctionInstance my_app/ctr/ctr_test: metrics.recall: expected >= 90, saw 88",
        "FunctionInstance my_app/ctr/ctr_test: no_task_errors: expected no errors, "
        "saw disk full; OOM",
        "get_latest_function_task(my_app/ctr/ctr_test): task_status: expected success, saw failed",
    ]
    config = gate_module.parse_config(
        ["opensearch-fn:accessKeySecret=a=b", "opensearch-fn:securityToken=t", "instance=x"]
    )
    assert config["opensearch-fn:accessKeySecret"].value == "a=b"
    assert [c.secret for c in config.values()] == [True, True, False]


def test_the_engines_shutdown_echo_is_not_a_cause(monkeypatch: pytest.MonkeyPatch):
    # CLI >= 3.274: a program that meets the closed monitor logs this as an error too.
    gate_module = load_gate(monkeypatch)
    unmet = (
        "pulumi-python:dynamic/opensearch:FunctionInstance resource 'model' has a problem: "
        f"{TRAINING_UNMET.replace(': min_generation', ': expectations not met: min_generation')}"
    )
    diagnostics = gate_module.Diagnostics()
    diagnostics.seen += [
        ("error", unmet),
        ("error", "Resource monitor has terminated, shutting down"),
    ]
    error = gate_module.auto.CommandError(gate_module.auto.CommandResult("", "", 255))
    found = gate_module.judge_failure(error, diagnostics)
    assert (found.result, found.exit_code) == ("not_met", NOT_MET), found
    assert found.unmet == [TRAINING_UNMET]
    assert "Resource monitor" not in found.message


def step_event(kind: str, name: str, old: dict, new: dict) -> dict:
    urn = f"urn:pulumi:dev::gate::pulumi-python:dynamic/opensearch:{kind}::{name}"
    names = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
    state = {"type": f"pulumi-python:dynamic/opensearch:{kind}", "urn": urn}
    return {"resourcePreEvent": {"metadata": {
        "op": "update", "urn": urn, "type": state["type"], "provider": "",
        "old": state | {"outputs": names | old},
        "new": state | {"outputs": names | new, "inputs": {"expect": {"status": "available"}}},
    }}}  # fmt: skip


def test_drift_read_from_steps_and_the_providers_lines(monkeypatch: pytest.MonkeyPatch):
    gate_module = load_gate(monkeypatch)
    diagnostics = gate_module.Diagnostics()
    events = [
        step_event("FunctionInstance", "model", {"status": "available", "task_progress": 10},
                   {"status": "available", "task_progress": 90}),  # progress is never drift
        step_event("FunctionTask", "task", {"requested_generation": "latest", "generation": 4,
                                             "status": "running"},
                   {"requested_generation": "latest", "generation": 5, "status": "running"}),
        {"diagnosticEvent": {"severity": "info", "message": "FunctionTask my_app/ctr/ctr_test/"
                             "latest drifted: generation 4 → 5\n"}},
    ]  # fmt: skip
    for event in events:
        diagnostics.on_event(gate_module.auto.EngineEvent.from_json(event))
    diagnostics.on_text("    pulumi:pulumi:Stack gate-dev running FunctionTask my_app/ctr/ctr_test"
                        "/latest drifted: generation 4 → 5")  # fmt: skip
    assert diagnostics.drifted() == [{
        "resource": "task", "type": "FunctionTask",
        "subject": "FunctionTask my_app/ctr/ctr_test/latest",
        "fields": {"generation": {"old": 4, "new": 5}},
        "line": "FunctionTask my_app/ctr/ctr_test/latest drifted: generation 4 → 5",
    }]  # fmt: skip
    assert diagnostics.expect == {"model": {"status": "available"}, "task": {"status": "available"}}
    found = gate_module.judge_drift(diagnostics, None)
    assert (found.result, found.exit_code) == ("drifted", DRIFTED)
