"""The quota: a token bucket per (access key id, action), as the gateway's flow control."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Iterator

import pytest

from pulumi_opensearch_fn.emulator import (
    EmulatorAdmin,
    EmulatorAdminError,
    EmulatorServer,
    sample_state,
)
from pulumi_opensearch_fn.emulator.quota import RateLimit, RateLimiter, parse_rate
from pulumi_opensearch_fn.emulator.schema import InvalidInput

from .helpers import AK, STS_AK, STS_SECRET, STS_TOKEN, api_path, get
from .process import COMMAND, emulator_process

INSTANCE = api_path("my_app", "ctr", "ctr_test")
TASKS = api_path("my_app", "ctr", "ctr_test", tasks=True)
MESSAGE = "Request was denied due to user flow control."
# Refill over a whole test is 5/3600 of a token per second: negligible, on any machine.
SLOW = RateLimit(5, 3600)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_holds_n_and_refills_continuously():
    clock = FakeClock()  # times and rates exact in binary: 16 per 2 s is a token per 1/8 s
    quota = RateLimiter(RateLimit(16, 2), now=clock)
    assert [quota.allow(AK, "GetFunctionInstance") for _ in range(17)] == [True] * 16 + [False]
    clock.now += 1 / 16  # half a token
    assert not quota.allow(AK, "GetFunctionInstance")
    clock.now += 1 / 16
    assert quota.allow(AK, "GetFunctionInstance")
    assert not quota.allow(AK, "GetFunctionInstance")
    clock.now += 3600  # a long pause fills the bucket to its capacity, no more
    assert sum(quota.allow(AK, "GetFunctionInstance") for _ in range(30)) == 16
    clock.now -= 10  # a clock going back takes nothing and adds nothing
    assert not quota.allow(AK, "GetFunctionInstance")
    clock.now += 10 + 3 / 8  # the time it went back does not count twice
    assert sum(quota.allow(AK, "GetFunctionInstance") for _ in range(5)) == 3


def test_buckets_are_per_key_and_action_and_reset_with_the_limit():
    clock = FakeClock()
    quota = RateLimiter(RateLimit(2, 60), now=clock)
    for key, action in [
        (AK, "GetFunctionInstance"),
        (AK, "ListFunctionTasks"),
        (STS_AK, "GetFunctionInstance"),
    ]:
        assert [quota.allow(key, action) for _ in range(3)] == [True, True, False]
    clock.now += 30  # one token back at 2 per 60 s
    assert [quota.allow(AK, "ListFunctionTasks") for _ in range(2)] == [True, False]
    quota.set(RateLimit(1, 60))  # a new limit starts from full buckets
    assert [quota.allow(AK, "ListFunctionTasks") for _ in range(2)] == [True, False]
    quota.clear()
    assert quota.limit is None and all(quota.allow(AK, "ListFunctionTasks") for _ in range(100))


@pytest.mark.parametrize(
    ("text", "limit"),
    [("20/1s", RateLimit(20, 1)), ("5/3600s", SLOW), ("100/1m", RateLimit(100, 60)),
     (" 2 / 1.5h ", RateLimit(2, 5400)), ("1/1d", RateLimit(1, 86400))],
)  # fmt: skip
def test_rate_text(text: str, limit: RateLimit):
    assert parse_rate(text) == limit


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("20", "expected N/PERIOD such as 20/1s"),
        ("20/1", "expected N/PERIOD"),
        ("20/s", "expected N/PERIOD"),
        ("x/1s", "expected N/PERIOD"),
        ("-1/1s", "expected N/PERIOD"),
        ("1e3/1s", "expected N/PERIOD"),
        ("20/1y", "expected N/PERIOD"),
        ("9" * 5000 + "/1s", "expected N/PERIOD"),
        ("0/1s", "requests: must be from 1 to 1000000 (got 0)"),
        ("2000000/1s", "requests: must be from 1 to 1000000"),
        ("20/0s", "periodS: must be from 0.001"),
        ("20/99999999999d", "periodS: must be from 0.001"),
    ],
)
def test_bad_rate_text(text: str, problem: str):
    with pytest.raises(InvalidInput) as info:
        parse_rate(text)
    assert problem in str(info.value) and "\n" not in str(info.value)


@pytest.fixture
def limited() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), rate_limit=SLOW) as srv:
        yield srv


def statuses(
    server: EmulatorServer,
    n: int,
    action: str = "GetFunctionInstance",
    path: str = INSTANCE,
    **kw: str,
) -> list[int]:
    return [get(server.port, action, path, **kw).status for _ in range(n)]


def test_a_burst_beyond_the_quota_is_throttled_per_key_and_action(limited: EmulatorServer):
    replies = [get(limited.port, "GetFunctionInstance", INSTANCE) for _ in range(8)]
    assert [r.status for r in replies] == [200] * 5 + [400] * 3
    for reply in replies[5:]:
        assert reply.json()["Code"] == "Throttling.User" and reply.json()["Message"] == MESSAGE
        assert set(reply.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
        assert not {"retry-after", "x-acs-retry-after"} & set(
            reply.headers
        )  # none from the real one
    assert statuses(limited, 1, "ListFunctionTasks", TASKS) == [200]  # another action
    assert statuses(limited, 1, ak=STS_AK, secret=STS_SECRET, token=STS_TOKEN) == [
        200
    ]  # another key
    with limited.admin() as admin:
        counts = admin.counts()["requests"]
    assert (counts["answered:GetFunctionInstance"], counts["throttled:GetFunctionInstance"]) == (
        6,
        3,
    )
    assert (counts["answered:ListFunctionTasks"], counts.get("throttled:ListFunctionTasks")) == (
        1,
        None,
    )


def test_forged_requests_take_nothing_from_a_keys_quota(limited: EmulatorServer):
    # The signature is checked first: requests naming a key without its secret are
    # refused as such, and cannot use up the key's quota.
    assert statuses(limited, 6, secret="not-the-secret") == [400] * 6
    assert statuses(limited, 6) == [200] * 5 + [400]
    assert (
        get(limited.port, "GetFunctionInstance", INSTANCE, secret="nope").code
        == "SignatureDoesNotMatch"
    )


def test_admin_sets_reads_and_clears_the_limit(server: EmulatorServer, admin: EmulatorAdmin):
    assert admin.rate_limit() is None
    assert statuses(server, 8) == [200] * 8
    admin.set_rate_limit(2, 3600)
    assert admin.rate_limit() == {"requests": 2, "periodS": 3600.0}
    assert statuses(server, 3) == [200, 200, 400]
    admin.set_rate_limit(requests=3, period_s=3600)  # set again: full buckets
    assert statuses(server, 4) == [200] * 3 + [400]
    admin.clear_rate_limit()
    assert admin.rate_limit() is None
    assert statuses(server, 8) == [200] * 8
    assert server.quota.limit is None


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        ({"requests": 0, "periodS": 1}, "requests: must be from 1 to 1000000 (got 0)"),
        ({"requests": 5, "periodS": 0}, "periodS: must be from 0.001"),
        ({"requests": 5.5, "periodS": 1}, "requests: must be an integer"),
        ({"requests": 5}, "periodS: is required"),
        ({"requests": 5, "periodS": 1, "burst": 9}, "burst: unknown key"),
        ([5, 1], "must be an object"),
    ],
)
def test_bad_limits_are_refused_with_every_problem(
    server: EmulatorServer, admin: EmulatorAdmin, sent: object, problem: str
):
    with pytest.raises(EmulatorAdminError) as info:
        admin._call("PUT", "/rate-limit", sent)
    assert info.value.status == 400
    assert any(problem in p for p in info.value.payload["problems"])
    assert admin.rate_limit() is None and statuses(server, 3) == [200] * 3


def test_throttles_of_the_quota_and_of_faults_count_alike(limited: EmulatorServer):
    with limited.admin() as admin:
        admin.inject_fault("throttle", count=1, action="ListFunctionTasks")
        admin.inject_fault("drop", count=1, action="ListFunctionTasks")
        statuses(limited, 6)
        assert statuses(limited, 1, "ListFunctionTasks", TASKS) == [400]
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            statuses(limited, 1, "ListFunctionTasks", TASKS)  # dropped: neither
        statuses(limited, 1, "ListFunctionTasks", TASKS)
        counts = admin.counts()["requests"]
        assert {k: v for k, v in counts.items() if k.startswith(("answered:", "throttled:"))} == {
            "answered:GetFunctionInstance": 5,
            "throttled:GetFunctionInstance": 1,
            "answered:ListFunctionTasks": 1,
            "throttled:ListFunctionTasks": 1,
        }
        assert counts["action:ListFunctionTasks"] == 3  # the dropped one too


def test_the_command_line_option():
    with emulator_process("--rate-limit", "2/3600s") as running:
        assert running.url.startswith("http://127.0.0.1:")
        port = int(running.url.rsplit(":", 1)[1])
        codes = [get(port, "GetFunctionInstance", INSTANCE).code for _ in range(3)]
        assert codes == ["", "", "Throttling.User"]
        with running.admin() as admin:
            assert admin.rate_limit() == {"requests": 2, "periodS": 3600.0}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fast", "expected N/PERIOD such as 20/1s"),
        ("0/1s", "requests: must be from 1 to 1000000 (got 0)"),
    ],
)
def test_a_bad_option_is_a_usage_error(value: str, problem: str):
    ran = subprocess.run(
        [*COMMAND, "--rate-limit", value], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert f"argument --rate-limit: invalid rate limit: {problem}" in ran.stderr
    assert "Traceback" not in ran.stderr
