"""`check --wait` reads through throttling, 5xx and network errors until its timeout,
and ends at once on a final answer. Time moves with requests, never with the wall
clock: the emulator fails the first N requests, and its clock steps at a given one."""

from __future__ import annotations

import pytest

from .conftest import APP, FN

TRAINING = [APP, FN, "ctr_training"]  # its generation 2 ends 8 simulated minutes in
UNTIL_TRAINED = ["--task-status", "success", "--min-generation", "2"]
WAIT = ["--wait", "--interval", "1s", "--timeout", "5m"]


def gets(admin) -> int:
    return admin.counts()["requests"].get("action:GetFunctionInstance", 0)


@pytest.mark.parametrize(
    ("kind", "options", "shown"),
    [
        ("error", {"status": 503}, "ServerError"),
        ("throttle", {}, "ThrottledError"),  # Throttling.User, 400
        ("throttle", {"status": 429}, "ThrottledError"),
        ("drop", {}, "NetworkError"),
    ],
    ids=["503", "Throttling.User", "429", "connection-closed"],
)
def test_a_failing_read_is_shown_and_read_again(server, admin, cli, kind, options, shown):
    # Four failures: every try the client makes for the first read, which used to end the
    # wait. One request in flight at most: the limiter has nothing to cut, so a throttled
    # try counts as an attempt, as any failure does.
    admin.inject_fault(kind, count=4, action="GetFunctionInstance", **options)
    # The run finishes just before the 6th GetFunctionInstance: the 5th (the second
    # read) sees it running, the 6th (the third read) finished.
    admin.advance_clock_at_request(600, 6, action="GetFunctionInstance")

    ran = cli("--endpoint", server.url, "check", *TRAINING, *UNTIL_TRAINED, *WAIT,
              "--concurrency", "1")  # fmt: skip

    assert ran.code == 0, ran.err
    lines = ran.err.splitlines()
    [failed] = [line for line in lines if "read failed" in line]
    assert failed.startswith(f"my_app/ctr/ctr_training: read failed ({shown}: GetFunctionInstance")
    assert "), retrying, " in failed
    assert "my_app/ctr/ctr_training: instance available, task gen 2 running" in ran.err
    assert lines[-1].startswith("my_app/ctr/ctr_training: ready after")
    assert "gen 2 success" in ran.out
    assert gets(admin) == 6
    assert admin.clock_steps() == []


def test_still_failing_at_the_timeout_exits_5_and_says_so(server, admin, cli):
    admin.inject_fault("error", status=503, action="GetFunctionInstance")  # every one

    ran = cli("--endpoint", server.url, "--json", "check", *TRAINING, *UNTIL_TRAINED,
              "--wait", "--interval", "1s", "--timeout", "2s")  # fmt: skip

    assert ran.code == 5
    assert "read failed (ServerError: GetFunctionInstance" in ran.err
    assert "still failing when the 2s wait ended: GetFunctionInstance" in ran.err
    assert '"message": "still failing when the 2s wait ended: GetFunctionInstance' in ran.out
    assert '"code": "ServiceUnavailable"' in ran.out


def test_not_found_ends_the_wait_at_once(server, admin, cli):
    ran = cli("--endpoint", server.url, "check", APP, FN, "missing", "--status", "available",
              *WAIT)  # fmt: skip

    assert ran.code == 3
    assert gets(admin) == 1
    assert "read failed" not in ran.err


def test_a_rejected_signature_ends_the_wait_at_once(server, admin, cli, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")

    ran = cli("--endpoint", server.url, "check", *TRAINING, *UNTIL_TRAINED, *WAIT)

    assert ran.code == 4
    assert admin.counts()["requests"]["total"] == 1
    assert "read failed" not in ran.err
