"""`check --wait` parses its expectations once, however many polls it makes."""

from __future__ import annotations

from pulumi_opensearch_fn.cli import exit_codes

from ..parses import Parses

APP, FN, READY = "my_app", "ctr", "ctr_test"


def test_check_wait_parses_once_whatever_the_number_of_polls(server, cli, admin, monkeypatch):
    generation = admin.start_task(APP, FN, READY, duration_s=600, metrics={"m": 1})
    # Training ends just before the 4th GetFunctionInstance: three polls at least.
    admin.advance_clock_at_request(601, 4, action="GetFunctionInstance")
    parses = Parses(monkeypatch)

    ran = cli("--endpoint", server.url, "check", APP, FN, READY, "--task-status", "success",
              "--min-generation", str(generation), "--metric", "m>=0",
              "--max-regression", "m 10%",
              "--wait", "--timeout", "1m", "--interval", "1s")  # fmt: skip

    assert ran.code == exit_codes.OK, ran.err
    assert admin.counts()["requests"]["action:GetFunctionInstance"] >= 4
    assert parses.counts == {
        "threshold": 1, "limit": 1, "timeout": 1, "interval": 1
    }  # fmt: skip
