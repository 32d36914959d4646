"""The CLI against answers that tempt rounding or guessing: generations beyond 2**53 - 1
stay exact in text and JSON, a task ending in the future fails `--max-age`, and a
metric name meaning two values fails `--metric` whatever the key order."""

from __future__ import annotations

import json

import pytest

from ..hostile import HostileServer, envelope, good_instance, json_reply, task
from .conftest import APP, FN

INST = "ctr_test"
BIG = 2**53 + 1  # 9007199254740993; the nearest float64 is 2**53


def serve_tasks(server: HostileServer, *tasks: dict[str, object]) -> None:
    server.serve(good_instance(), action="GetFunctionInstance")
    listing = json_reply(envelope(result=list(tasks), totalCount=len(tasks)))
    server.serve(listing, action="ListFunctionTasks")
    server.serve(json_reply(envelope(result=tasks[0])), action="GetFunctionTask")


def test_a_generation_beyond_2_53_is_shown_exactly(cli, hostile: HostileServer) -> None:
    # A decimal spelling a float would read as 9007199254740992.
    serve_tasks(hostile, task(BIG) | {"generation": "9.007199254740993e15"})
    argv = ("task", APP, FN, INST, str(BIG), "--endpoint", hostile.url)

    text = cli(*argv)
    as_json = cli(*argv, "--json")

    assert (text.code, as_json.code) == (0, 0), (text, as_json)
    assert f"generation  {BIG}\n" in text.out
    document = json.loads(as_json.out)
    assert document["generation"] == BIG
    assert str(BIG - 1) not in text.out + as_json.out


def test_a_task_ending_in_the_future_fails_max_age(cli, hostile: HostileServer) -> None:
    ten_years = 10 * 365 * 86400 * 1000
    serve_tasks(hostile, task(3) | {"endTime": task(3)["endTime"] + ten_years})  # type: ignore[operator]

    ran = cli("check", APP, FN, INST, "--max-age", "1h", "--endpoint", hostile.url)

    assert ran.code == 1, ran
    assert "max_age: expected <= 1h, saw ended 2033-" in ran.out
    assert "in the future" in ran.out


@pytest.mark.parametrize(
    "extend_info",
    [
        '{"dataReport": {"auc": 0.3}, "dataReport.auc": 0.9}',
        '{"dataReport.auc": 0.9, "dataReport": {"auc": 0.3}}',
        '{"dataReport": {"auc": 0.9, "auc": 0.3}}',
        '{"dataReport": {"auc": 0.3, "auc": 0.9}}',
    ],
)
def test_an_ambiguous_metric_fails_in_any_key_order(
    cli, hostile: HostileServer, extend_info: str
) -> None:
    serve_tasks(hostile, task(3) | {"extendInfo": extend_info})

    ran = cli("check", APP, FN, INST, "--metric", "dataReport.auc>=0.5", "--json",
              "--endpoint", hostile.url)  # fmt: skip

    assert ran.code == 1, ran
    [verdict] = json.loads(ran.out)["instances"][0]["expectations"]
    assert verdict["name"] == "metrics.dataReport.auc"
    assert verdict["seen"].startswith("ambiguous: ")
