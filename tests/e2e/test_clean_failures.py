"""A run that fails shows why: one line per failed resource, never a Python traceback.

When a resource fails, the engine cancels the program: the language host sends it
SIGINT (the official host's behaviour, mirrored by scripts/engine/pulumi-language-python),
and a program still waiting on outputs or data sources must not answer with
`KeyboardInterrupt` tracebacks, nor with "Resource monitor has terminated" of its own.
Checked for the example projects on `preview` and `up`, and for the Automation API gate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO_ROOT, project_yaml
from stacks import DEMO_KEY_ID, DEMO_KEY_SECRET, EXAMPLES, combined, example_project

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NOISE = ("Traceback", "KeyboardInterrupt", "Resource monitor has terminated")
WRONG_SECRET = "not-the-demo-secret-7c1d"

# example, stack config, access key secret, what each failed resource's line says
CASES = {
    "quickstart-unknown-instance": (
        "quickstart",
        {"instance": "ctr_nope"},
        DEMO_KEY_SECRET,
        "Instance.NotExist",
    ),
    "quickstart-api-error": ("quickstart", {}, WRONG_SECRET, "SignatureDoesNotMatch"),
    "gate-not-ready": (
        "gate",
        {"instance": "ctr_training", "minGeneration": "2"},
        DEMO_KEY_SECRET,
        "expectations not met",
    ),
    "gate-unknown-instance": (
        "gate",
        {"instance": "ctr_nope"},
        DEMO_KEY_SECRET,
        "Instance.NotExist",
    ),
    "drift-unknown-instance": (
        "drift",
        {"instance": "ctr_nope"},
        DEMO_KEY_SECRET,
        "Instance.NotExist",
    ),
    "drift-api-error": ("drift", {}, WRONG_SECRET, "SignatureDoesNotMatch"),
}


def diagnostics(stdout: str) -> dict[str, list[list[str]]]:
    """The CLI's `Diagnostics:` section: per resource, its entries, each as its lines."""
    found: dict[str, list[list[str]]] = {}
    lines = stdout.splitlines()
    if "Diagnostics:" not in lines:
        return found
    entries: list[list[str]] = []
    for line in lines[lines.index("Diagnostics:") + 1 :]:
        if line.strip() and not line.startswith(" "):
            break  # the next section
        if line.startswith("  ") and not line.startswith("   ") and line.endswith(":"):
            entries = found.setdefault(line.strip().rstrip(":"), [])
        elif line.startswith("    ") and line.strip():
            text = line.strip()
            if text.split(":", 1)[0] in ("error", "warning", "info") or not entries:
                entries.append([text])
            else:
                entries[-1].append(text)  # a continuation line of the last entry
    return found


def assert_clean_failure(text: str, stdout: str, needle: str) -> None:
    for noise in NOISE:
        assert noise not in text, (noise, text)
    found = diagnostics(stdout)
    errors = {
        resource: [entry for entry in entries if entry[0].startswith("error:")]
        for resource, entries in found.items()
    }
    errors = {resource: entries for resource, entries in errors.items() if entries}
    assert errors, text
    for resource, entries in errors.items():
        assert len(entries) == 1, (resource, entries)
        [entry] = entries
        assert len(entry) == 1, (resource, entry)  # one line, not a message broken over lines
        assert needle in entry[0], (resource, needle, entry)
    assert WRONG_SECRET not in text


@pytest.mark.parametrize("operation", ["preview", "up"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_failed_run_says_why_once_per_resource(
    tmp_path: Path, pulumi_env, emulator, case: str, operation: str
) -> None:
    example, config, secret, needle = CASES[case]
    project = example_project(
        tmp_path, pulumi_env, example, emulator.url, config=config, key_secret=secret
    )
    result = getattr(project, operation)(check=False)
    assert result.returncode != 0, combined(result)
    assert_clean_failure(combined(result), result.stdout, needle)


@pytest.mark.parametrize("preview_only", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize(
    ("instance", "code", "needle"),
    [("ctr_training", 1, "expectations not met"), ("ctr_nope", 3, "Instance.NotExist")],
    ids=["not-ready", "unknown-instance"],
)
def test_gate_script_failure_is_clean(
    tmp_path: Path,
    pulumi_env,
    emulator,
    instance: str,
    code: int,
    needle: str,
    preview_only: bool,
) -> None:
    project = tmp_path / "gate"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(project_yaml("gate"), encoding="utf-8")
    (project / "__main__.py").write_bytes((EXAMPLES / "gate" / "__main__.py").read_bytes())
    config = {
        "opensearch-fn:endpoint": emulator.url,
        "opensearch-fn:accessKeyId": DEMO_KEY_ID,
        "opensearch-fn:accessKeySecret": DEMO_KEY_SECRET,
        "instance": instance,
        "minGeneration": "2",
    }
    argv = [sys.executable, str(REPO_ROOT / "examples" / "automation" / "gate.py")]
    argv += ["--work-dir", str(project), "--json"] + (["--preview-only"] if preview_only else [])
    for key, value in config.items():
        argv += ["--config", f"{key}={value}"]
    result = subprocess.run(
        argv,
        env=pulumi_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    verdict = json.loads(result.stdout)
    assert (result.returncode, verdict["exit_code"]) == (code, code), result.stderr[-4000:]
    # The engine's output streams to stderr, as the CLI prints it.
    assert_clean_failure(result.stderr, result.stderr, needle)
    assert needle in verdict["message"] and "Resource monitor" not in verdict["message"]
