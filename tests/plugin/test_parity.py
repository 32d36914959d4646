"""One verdict, one message: the same expectations through the Python door (the read a
program makes), the plugin and `opensearch-fn check --json`, against the same emulator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from pulumi_opensearch_fn.reads import begin_read

from .conftest import KEY_ID, KEY_SECRET
from .harness import INSTANCE, clean_env

CTR = {"appGroup": "my_app", "functionName": "ctr", "instanceName": "ctr_test"}
# No max_age: its message names an age measured against the wall clock at each read.
CASES = {
    "unmet": (
        {"status": "available", "minGeneration": 5, "metrics": {"recall": ">= 95"},
         "noTaskErrors": True, "taskStatus": "failed"},
        ["--status", "available", "--min-generation", "5", "--metric", "recall>=95",
         "--no-task-errors", "--task-status", "failed"],
    ),
    "met": (
        {"status": "available", "minGeneration": 3, "metrics": {"auc": ">= 0.87"}},
        ["--status", "available", "--min-generation", "3", "--metric", "auc>=0.87"],
    ),
}  # fmt: skip


def python_door(emulator, expect):
    """The Reading a Python program's resource sends its provider (`reads.begin_read`)."""
    config = {"opensearch-fn:endpoint": emulator.url, "opensearch-fn:accessKeyId": KEY_ID,
              "opensearch-fn:accessKeySecret": KEY_SECRET}  # fmt: skip
    inputs = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test",
              "expect": expect}  # fmt: skip

    class Quiet:
        def info(self, message):
            pass

        def warn(self, message):
            pass

    async def read():
        return await begin_read("FunctionInstance", inputs, dry_run=True, log=Quiet(),
                                config=config)  # fmt: skip

    return asyncio.run(read())


def command_line(emulator, flags):
    ran = subprocess.run(
        [sys.executable, "-m", "pulumi_opensearch_fn.cli", "check", "my_app", "ctr", "ctr_test",
         "--endpoint", emulator.url, "--json", *flags],
        capture_output=True, text=True, timeout=60, check=False,
        env=clean_env({"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
                       "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET}),
    )  # fmt: skip
    document = json.loads(ran.stdout)
    instance = document["instances"][0]
    unmet = [f"{e['name']}: expected {e['expected']}, saw {e['seen']}"
             for e in instance["expectations"] if not e["met"]]  # fmt: skip
    return ran.returncode, instance["ready"], unmet


@pytest.mark.parametrize("case", CASES)
def test_the_doors_reach_one_verdict_with_one_message(plugin, emulator, case):
    expect, flags = CASES[case]
    process = plugin()
    # Enforced: the plugin's check fails with the message the Python door's check shows.
    door = python_door(emulator, expect)
    _, failures = process.check(INSTANCE, {**CTR, "expect": expect})
    code, ready, cli_unmet = command_line(emulator, flags)
    if case == "met":
        assert (door.action, failures, code, ready, cli_unmet) == ("pass", [], 0, True, [])
        return
    assert door.action == "fail"
    assert failures == [("", door.message)]
    assert (code, ready) == (1, False)
    # Not enforced: the same unmet lines everywhere.
    lenient = {**expect, "enforce": False}
    _, outs = process.create(INSTANCE, {**CTR, "expect": lenient})
    door = python_door(emulator, lenient)
    assert door.action == "warn"
    assert outs["unmet"] == door.outputs()["unmet"] == cli_unmet
    assert [line.split(":")[0] for line in cli_unmet] == [
        "task_status",
        "min_generation",
        "metrics.recall",
    ]
    assert door.message == failures[0][1]
