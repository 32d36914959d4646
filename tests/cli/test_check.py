"""`check`: expectations on many instances, waiting, progress, concurrency, Ctrl-C."""

from __future__ import annotations

import io
import json
import signal
import time

import pytest

from .conftest import APP, FN, Proc, add_instances, run_cli

TRAINING = [APP, FN, "ctr_training"]  # its generation 2 ends 8 simulated minutes in


def test_met_and_unmet_table(server, cli):
    ran = cli("--endpoint", server.url, "check", APP, FN, "ctr_test",
              "--status", "available", "--task-status", "success", "--min-generation", "3",
              "--max-age", "36h", "--metric", "recall>=90", "--no-task-errors")  # fmt: skip
    assert ran.code == 0, ran.err
    header, row = ran.out.splitlines()
    assert header.split() == ["INSTANCE", "STATE", "STATUS", "TASK", "DETAILS"]
    assert row.split()[:2] == ["my_app/ctr/ctr_test", "ready"]
    assert "6 expectations met" in row
    assert ran.err == ""

    ran = cli("--endpoint", server.url, "check", APP, FN, "ctr_test", "--metric", "recall >= 95",
              "--min-generation", "4")  # fmt: skip
    assert ran.code == 1
    assert "min_generation: expected >= 4, saw 3" in ran.out
    assert "metrics.recall: expected >= 95, saw 91" in ran.out
    assert "0 of 1 instance ready" in ran.err


def test_json_document(server, cli, tmp_path):
    listing = tmp_path / "models.txt"
    listing.write_text(
        "# the fleet\n"
        "my_app/ctr/ctr_test\n"
        "my_app ctr ctr_broken   # no data\n"
        "\n"
        "my_app/ctr/ctr_test\n"  # listed twice: checked once
    )
    ran = cli("--endpoint", server.url, "--json", "check", "-f", str(listing),
              "--status", "available", "--metric", "recall>=90")  # fmt: skip
    assert ran.code == 1
    doc = json.loads(ran.out)
    assert doc["ready"] is False
    assert doc["exit_code"] == 1
    assert doc["counts"] == {"total": 2, "ready": 1, "not_met": 1, "failed": 0,
                             "timed_out": 0, "error": 0}  # fmt: skip
    good, broken = doc["instances"]
    assert good["id"] == "my_app/ctr/ctr_test"
    assert good["ready"] is True
    decided_by = [e.pop("request_id") for e in good["expectations"]]
    assert good["expectations"] == [
        {"name": "status", "expected": "available", "seen": "available", "met": True},
        {"name": "metrics.recall", "expected": ">= 90", "seen": "91", "met": True},
    ]
    assert decided_by == [good["request_ids"]["instance"], good["request_ids"]["success_task"]]
    assert good["error"] is None
    assert good["observation"]["latest_generation"] == 3
    assert broken["state"] == "not_met"
    assert broken["expectations"][0] == {
        "name": "status", "expected": "available", "seen": "unavailable", "met": False,
        "request_id": broken["request_ids"]["instance"],
    }  # fmt: skip
    assert broken["expectations"][1]["seen"] == "no successful task"


def test_errors_are_reported_per_instance_and_the_highest_code_wins(server, cli):
    stdin = io.StringIO("my_app/ctr/ctr_test\nmy_app/ctr/missing\n")
    import sys

    original, sys.stdin = sys.stdin, stdin
    try:
        ran = cli("--endpoint", server.url, "--json", "check", "--instances-file", "-",
                  "--min-generation", "99")  # fmt: skip
    finally:
        sys.stdin = original
    assert ran.code == 3  # not found (3) outranks not met (1)
    doc = json.loads(ran.out)
    unmet, missing = doc["instances"]
    assert unmet["state"] == "not_met"
    assert missing["state"] == "error"
    assert missing["error"]["code"] == "Instance.NotExist"
    assert missing["error"]["exit_code"] == 3
    assert missing["error"]["request_id"]
    assert missing["observation"] is None


def test_wait_until_a_running_task_finishes(server, admin, env):
    proc = Proc("--endpoint", server.url, "check", *TRAINING, "--task-status", "success",
                "--min-generation", "2", "--metric", "recall>=92",
                "--wait", "--interval", "1s", "--timeout", "60s", env=env)  # fmt: skip
    line = proc.wait_for_stderr("running")
    assert line.startswith("my_app/ctr/ctr_training: instance available, task gen 2 running")
    admin.advance_clock(300)
    proc.wait_for_stderr("running 7")  # (2 + 5) of 10 simulated minutes: 70%
    admin.advance_clock(300)
    ran = proc.wait(timeout=30)
    assert ran.code == 0, ran.err
    assert "my_app/ctr/ctr_training: ready after" in ran.err
    assert "gen 2 success" in ran.out


def test_wait_stops_as_soon_as_the_task_fails(server, admin, env):
    admin.start_task(APP, FN, "ctr_test", 120, outcome="failed", errors=["disk full"])
    proc = Proc("--endpoint", server.url, "--json", "check", APP, FN, "ctr_test",
                "--task-status", "success", "--wait", "--interval", "1s", "--timeout", "10m",
                env=env)  # fmt: skip
    proc.wait_for_stderr("task gen 4 running")
    admin.advance_clock(120)
    ran = proc.wait(timeout=120)  # it ends on the failure, never at its 10 minute timeout
    assert ran.code == 1
    (outcome,) = json.loads(ran.out)["instances"]
    assert outcome["state"] == "failed"
    assert outcome["reason"] == "training task generation 4 failed"
    assert outcome["timed_out"] is False


def test_wait_on_an_already_failed_instance_returns_at_once(server, admin, cli):
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "check", APP, FN, "ctr_broken", "--status", "available",
              "--wait", "--timeout", "10m")  # fmt: skip
    assert ran.code == 1
    # One read, no polling: the failed task decided it.
    assert [e["action"] for e in admin.requests()] == ["GetFunctionInstance", "ListFunctionTasks"]
    assert "training task generation 2 failed; status: expected available, saw unavailable" in (
        ran.out
    )


def test_wait_times_out_on_a_task_that_never_finishes(server, admin, cli):
    admin.start_task(APP, FN, "ctr_test", 86_400)
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "--json", "check", APP, FN, "ctr_test",
              "--task-status", "success", "--wait", "--timeout", "3s", "--interval", "1s")  # fmt: skip
    assert ran.code == 1
    (outcome,) = json.loads(ran.out)["instances"]
    assert outcome["state"] == "timed_out"
    assert outcome["timed_out"] is True
    assert outcome["expectations"][0]["seen"] == "running"
    reads = [e for e in admin.requests() if e["action"] == "GetFunctionInstance"]
    assert len(reads) >= 2  # it polled (how often fits in 3 s depends on the machine)
    # Not a terminal: plain progress lines, one per read.
    progress = "my_app/ctr/ctr_test: instance available, task gen 4 running 0%"
    assert ran.err.count(progress) == len(reads)


def _max_in_flight(entries: list[dict]) -> int:
    """Most requests the emulator was handling at one instant (its own timings)."""
    events = []
    for entry in entries:
        end = entry["time"]
        events += [(end - entry["latencyMs"] / 1000, 1), (end, -1)]
    busy = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts on ties
        busy += step
        peak = max(peak, busy)
    return peak


@pytest.mark.parametrize(("count", "concurrency"), [(20, 4), (6, 1)])
def test_concurrency_cap_is_observed_at_the_emulator(server, admin, cli, tmp_path, count,
                                                     concurrency):  # fmt: skip
    names = add_instances(admin, count)
    listing = tmp_path / "fleet.txt"
    listing.write_text("".join(f"fleet {FN} {n}\n" for n in names))
    admin.inject_fault("latency", latency_ms=150)
    admin.clear_requests()
    ran = cli("--endpoint", server.url, "--json", "check", "-f", str(listing),
              "--status", "available", "--concurrency", str(concurrency))  # fmt: skip
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert doc["counts"]["ready"] == count
    entries = admin.requests()
    assert len(entries) == 2 * count  # GetFunctionInstance + ListFunctionTasks(pageSize=1)
    peak = _max_in_flight(entries)
    assert peak <= concurrency
    assert peak >= max(1, concurrency - 1)  # and the reads really ran side by side


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_display_on_a_terminal(server, cli, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "20")
    monkeypatch.setenv("TERM", "xterm")
    ran = cli("--endpoint", server.url, "check", *TRAINING, "--task-status", "success",
              "--wait", "--timeout", "3s", "--interval", "1s")  # fmt: skip
    assert ran.code == 1
    shown = terminal.getvalue()
    assert shown.startswith("\x1b[?25l")  # cursor hidden while drawing
    assert "checking 1 instance: 1 waiting" in shown
    assert "my_app/ctr/ctr_training" in shown
    assert "gen 2 running" in shown
    assert "\x1b[3F\x1b[J" in shown  # header + table of 2 lines, redrawn in place
    display, summary = shown.rsplit("\x1b[?25h", 1)  # erased, cursor back ...
    assert summary == "opensearch-fn: 0 of 1 instance ready\n"  # ... then the verdict
    assert all(len(line) < 100 for line in shown.splitlines())
    assert "timed out after" in ran.out


def test_sigint_while_waiting_exits_130_promptly(server, env):
    proc = Proc("--endpoint", server.url, "check", *TRAINING, "--task-status", "success",
                "--wait", "--interval", "1s", "--timeout", "10m", "--concurrency", "2",
                env=env)  # fmt: skip
    proc.wait_for_stderr("running")
    proc.popen.send_signal(signal.SIGINT)
    # Ending at all proves it: the wait would last 10 minutes.
    ran = proc.wait(timeout=60)
    assert ran.code == 130
    assert "opensearch-fn: interrupted" in ran.err
    assert "Traceback" not in ran.err
    assert "KeyboardInterrupt" not in ran.err


def test_sigint_while_requests_hang_exits_130_promptly(server, admin, env):
    names = add_instances(admin, 1)
    admin.inject_fault("latency", latency_ms=20_000)
    admin.clear_requests()
    proc = Proc("--endpoint", server.url, "--debug", "check", "fleet", FN, names[0], env=env)
    proc.wait_for_stderr("credentials from environment")  # main runs; the read comes next
    time.sleep(0.3)
    proc.popen.send_signal(signal.SIGINT)
    ran = proc.wait(timeout=60)
    assert ran.code == 130
    # It ended while its request still hung: the emulator logs a request once answered.
    assert admin.requests() == []
    assert "Traceback" not in ran.err


def test_many_instances_from_stdin_in_a_subprocess(server, admin, env):
    names = add_instances(admin, 12)
    ran = run_cli("--endpoint", server.url, "--json", "check", "--instances-file", "-",
                  "--min-generation", "2", "--concurrency", "8",
                  input="".join(f"fleet/{FN}/{n}\n" for n in names), env=env)  # fmt: skip
    assert ran.code == 0, ran.err
    doc = json.loads(ran.out)
    assert [i["instance_name"] for i in doc["instances"]] == names
    assert all(i["ready"] for i in doc["instances"])


def test_several_instances_on_the_command_line(server, cli):
    ran = cli("--endpoint", server.url, "check", APP, FN, "ctr_test", APP, FN, "ctr_broken",
              "--status", "available")  # fmt: skip
    assert ran.code == 1
    rows = ran.out.splitlines()[1:]
    assert [r.split()[:2] for r in rows] == [
        ["my_app/ctr/ctr_test", "ready"],
        ["my_app/ctr/ctr_broken", "not"],
    ]
    assert "1 of 2 instances ready" in ran.err
