"""`check` judges only what was asked: a failed task the server put in a `status=success`
list is never the latest success nor the regression baseline, and any answer that is
not about the instance asked for ends as exit 5 in one line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..answers import PROPERTY, Answer, Script, instance_answers, statuses_of, task_lists
from ..hostile import INSTANCE, HostileServer, envelope, good_instance, json_reply, task
from .conftest import APP, FN

INST = "ctr_test"


def tasks(*items: dict) -> object:
    return json_reply(envelope(result=list(items), totalCount=len(items)))


def test_a_failed_task_listed_as_a_success_is_not_the_latest_success(
    cli, hostile: HostileServer
) -> None:
    script = Script()
    script.latest = script.success = tasks(task(10, status="failed"))
    hostile.serve(good_instance(), action="GetFunctionInstance")
    hostile.serve(script, action="ListFunctionTasks")

    ran = cli("--endpoint", hostile.url, "check", APP, FN, INST,
              "--min-generation", "10", "--metric", "recall>=90")  # fmt: skip

    assert ran.code == 5, ran
    assert "asked for success tasks" in ran.out
    assert ran.err.strip().splitlines() == ["opensearch-fn: 0 of 1 instance ready, 1 with errors"]


def test_the_regression_baseline_is_never_a_failed_task(cli, hostile: HostileServer) -> None:
    script = Script()
    script.latest = tasks(task(10))
    failed_best = task(9, status="failed", extendInfo='{"recall": 99}')
    script.success = tasks(task(10), failed_best)
    hostile.serve(good_instance(), action="GetFunctionInstance")
    hostile.serve(script, action="ListFunctionTasks")

    ran = cli("--endpoint", hostile.url, "check", APP, FN, INST, "--max-regression", "recall 5")

    assert ran.code == 5, ran
    assert "task 9 with status 'failed'" in ran.out


def test_an_answer_about_another_instance_is_exit_5(cli, hostile: HostileServer) -> None:
    hostile.serve(
        json_reply(envelope(result={"instanceName": "other", "status": "available"})),
        action="GetFunctionInstance",
    )
    hostile.serve(Script(), action="ListFunctionTasks")
    ran = cli("--endpoint", hostile.url, "instance", APP, FN, INST)
    assert ran.code == 5, ran
    assert ran.err.strip() == (
        "opensearch-fn: my_app/ctr/ctr_test: GetFunctionInstance: the answer is about instance 'other',"
        " not 'ctr_test' (HTTP 200, request id hostile-request)"
    )


# Two ways `check` finds the latest success: the newest `status=success` task when the
# latest task did not succeed, and the two newest for max_regression.
CHECKS = {
    "success": ("--min-generation", "1", "--metric", "recall>=90"),
    "regression": ("--max-regression", "recall 5"),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
@PROPERTY
@given(data=st.data())
def test_check_judges_only_what_was_asked(
    cli, hostile: HostileServer, check: str, data: st.DataObject
) -> None:
    """Whatever the server answers: exit 5 in one line, or a verdict about ctr_test whose
    latest success and baseline are tasks the server listed as successful."""
    # One answer is drawn, the others are healthy: the latest task failed, so the
    # successful ones are read in both ways.
    drawn = data.draw(st.sampled_from(["instance", "latest", "success", "success"]), label="drawn")
    instance = data.draw(instance_answers()) if drawn == "instance" else Answer(INSTANCE, True)
    latest = (
        data.draw(task_lists()) if drawn == "latest" else Answer([task(13, status="failed")], True)
    )
    success = (
        data.draw(task_lists("success"))
        if drawn == "success"
        else Answer([task(12), task(11)], True)
    )
    flags = CHECKS[check]
    script = Script()
    script.latest, script.success = latest.reply, success.reply
    hostile.requests.clear()
    hostile.serve(instance.reply, action="GetFunctionInstance")
    hostile.serve(script, action="ListFunctionTasks")

    ran = cli("--endpoint", hostile.url, "check", APP, FN, INST, "--json", *flags)

    read = {"instance": instance, "latest": latest}
    if any("status=success" in seen.query for seen in hostile.requests):
        read["success"] = success
    broken = [name for name, answer in read.items() if not answer.clean]
    assert "Traceback" not in ran.out + ran.err
    (outcome,) = json.loads(ran.out)["instances"]
    if ran.code == 5:
        assert broken, f"clean answers ended in an error: {outcome['error']}"
        assert len(ran.err.strip().splitlines()) == 1
        return
    assert not broken, f"broken answers ({broken}) were judged: exit {ran.code}"
    assert ran.code in (0, 1), ran
    observed, judged = outcome["observation"], outcome["judged"]
    assert (outcome["instance_name"], outcome["error"]) == (INST, None)
    assert isinstance(observed["status"], str) and observed["status"].strip()
    listed = statuses_of(success) if "success" in read else {}
    newest = statuses_of(latest)
    for key in ("success_generation", "previous_success_generation"):
        generation = judged[key]
        if generation is not None:
            assert listed.get(generation, newest.get(generation)) == "success", (key, generation)
    if judged["previous_success_generation"] is not None:
        assert judged["previous_success_generation"] < judged["success_generation"]
    if newest:
        assert judged["task_generation"] == max(newest)
