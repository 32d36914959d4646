"""A stack deployed by the previous release (0.1.x) moves to this one with no replace,
no false drift and no failure.

tests/e2e/fixtures/*-stack-0.1.json are `pulumi stack export`s of the drift and gate
examples deployed by commit 488ed6a (credentials from the environment, so the state
holds no secret), against the emulator's sample data. They keep that release's
inputs (`observed`, a task's requested `generation`) and its pickled providers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from stacks import EXPECT_NO_CHANGES_EXIT, combined, example_project

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED_ENDPOINT = "http://127.0.0.1:44953"  # the emulator the fixtures were recorded on
OURS = ("pulumi-python:dynamic/opensearch:FunctionInstance",
        "pulumi-python:dynamic/opensearch:FunctionTask")  # fmt: skip
DRIFT_CHECKS = (
    ("preview", "--expect-no-changes"),
    ("preview", "--refresh", "--expect-no-changes"),
    ("refresh", "--preview-only", "--expect-no-changes"),
)
CONFIG = {"drift": {}, "gate": {"minGeneration": "3"}}


def ours(project) -> dict[str, dict]:
    return {r["urn"]: r for r in project.resources() if r["type"] in OURS}


@pytest.mark.parametrize("example", ["drift", "gate"])
def test_state_of_the_previous_release_moves_on_cleanly(
    tmp_path: Path, pulumi_env, emulator, admin, example: str
) -> None:
    project = example_project(tmp_path, pulumi_env, example, emulator.url,
                              credentials_in_config=False, config=CONFIG[example])  # fmt: skip
    recorded = (FIXTURES / f"{example}-stack-0.1.json").read_text(encoding="utf-8")
    assert RECORDED_ENDPOINT in recorded
    state = tmp_path / "state.json"
    state.write_text(recorded.replace(RECORDED_ENDPOINT, emulator.url), encoding="utf-8")
    project.run("stack", "import", "--stack", "dev", "--file", str(state))
    before = ours(project)
    assert len(before) == 2 if example == "drift" else 1
    assert all("observed" in r["inputs"] for r in before.values())  # the old shape

    for args in DRIFT_CHECKS:
        result = project.run(*args, check=False)
        assert result.returncode == 0, (args, combined(result))

    up = project.up()
    text = combined(up)
    assert "replace" not in text, text
    after = ours(project)
    assert set(after) == set(before)
    for urn, resource in after.items():
        assert resource["id"] == before[urn]["id"], urn
        assert "observed" not in resource["inputs"], urn  # now in today's shape
        for key in ("status", "ready"):
            assert resource["outputs"][key] == before[urn]["outputs"][key], (urn, key)
    for args in DRIFT_CHECKS:
        result = project.run(*args, check=False)
        assert result.returncode == 0, (args, combined(result))

    # And drift is still seen on that state.
    admin.add_tasks("my_app", "ctr", "ctr_test", 1, metrics={"recall": 95})
    result = project.preview(expect_no_changes=True, check=False)
    assert result.returncode == EXPECT_NO_CHANGES_EXIT, combined(result)
    assert "[diff: ~latest_generation," in result.stdout, result.stdout
    assert "observed" not in result.stdout, result.stdout
