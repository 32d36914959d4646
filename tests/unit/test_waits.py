"""Which failures a wait reads through, and the wait loop (`polling.wait_until`) doing so on a simulated clock:
time moves only when the loop sleeps, so every count here is exact."""

from __future__ import annotations

import asyncio

import pytest

from pulumi_opensearch_fn.api import errors as e
from pulumi_opensearch_fn.api.models import FunctionInstance
from pulumi_opensearch_fn.core.expectations import Expect, Observation, Wait, evaluate
from pulumi_opensearch_fn.core.polling import wait_until


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("Throttling.User", 400, True),
        ("Throttling", 429, True),
        ("", 429, True),
        ("ServiceUnavailable", 503, True),
        ("InternalError", 500, True),
        ("", 502, True),
        ("Instance.NotExist", 503, True),  # a 5xx: what it says about existence is moot
        ("Instance.NotExist", 404, False),
        ("Task.NotExist", 404, False),
        ("App.NotFound", 404, False),
        ("InvalidAccessKeyId.NotFound", 404, False),
        ("SignatureDoesNotMatch", 400, False),
        ("InvalidSecurityToken.Expired", 400, False),
        ("Forbidden.RAM", 403, False),
        ("InvalidParameter", 400, False),
        ("", 404, False),
    ],
)
def test_api_errors(code, status, transient):
    error = e.error_class(code, status)("GetFunctionInstance: ...", code=code, http_status=status)
    assert e.transient(error) is transient


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (e.NetworkError("connection reset"), True),
        (e.DeadlineExceededError("the call's 60s ran out"), True),
        (e.BadResponseError("not JSON"), False),
        (e.InvalidInputError("bad name"), False),
        (e.CredentialsError("no key"), False),
    ],
)
def test_other_errors(error, transient):
    assert e.transient(error) is transient


def instance(status: str) -> Observation:
    body = {"instanceName": "ctr_test", "status": status}
    return Observation(instance=FunctionInstance.from_body(body), task=None, success_task=None)


UNAVAILABLE, AVAILABLE = instance("unavailable"), instance("available")
EXPECT = Expect(status="available")
WAIT = Wait(timeout="30s", interval="1s")


def unavailable_503() -> e.ServerError:
    return e.ServerError(
        "GetFunctionInstance: unavailable", code="ServiceUnavailable", http_status=503
    )


class Script:
    """Answers (or raises) what it is given, in order; the last one forever."""

    def __init__(self, *answers: Observation | e.OpenSearchFnError) -> None:
        self.answers = list(answers)
        self.reads = 0
        self.now = 0.0
        self.sleeps: list[float] = []
        self.retried: list[tuple[str, float]] = []

    async def read(self) -> Observation:
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if isinstance(answer, e.OpenSearchFnError):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def wait(self, wait: Wait = WAIT) -> tuple[Observation, list]:
        seen = asyncio.run(
            wait_until(
                self.read, EXPECT.parse(), wait,
                retrying=lambda error, elapsed: self.retried.append((type(error).__name__, elapsed)),
                clock=lambda: self.now, sleep=self.sleep,
            )
        )  # fmt: skip
        return seen, evaluate(EXPECT.parse(), seen)


def test_transient_failures_are_read_again_until_the_expectations_hold():
    script = Script(unavailable_503(), UNAVAILABLE, e.NetworkError("reset"),
                    e.ThrottledError("slow down", code="Throttling.User", http_status=400),
                    AVAILABLE)  # fmt: skip
    seen, results = script.wait()
    assert seen is AVAILABLE
    assert all(r.met for r in results)
    assert script.reads == 5
    assert script.sleeps == [1.0] * 4
    assert script.retried == [("ServerError", 0.0), ("NetworkError", 2.0), ("ThrottledError", 3.0)]


def test_a_failing_first_read_is_read_again():
    script = Script(unavailable_503(), AVAILABLE)
    seen, _ = script.wait()
    assert seen is AVAILABLE
    assert script.reads == 2


@pytest.mark.parametrize(
    "error",
    [
        e.InstanceNotFoundError("gone", code="Instance.NotExist", http_status=404),
        e.AuthenticationError("bad key", code="InvalidAccessKeyId.NotFound", http_status=404),
        e.PermissionDeniedError("no", code="Forbidden.RAM", http_status=403),
        e.BadResponseError("not JSON"),
    ],
)
def test_a_final_answer_ends_the_wait_at_once(error):
    script = Script(UNAVAILABLE, error, AVAILABLE)
    with pytest.raises(type(error)) as raised:
        script.wait()
    assert raised.value is error
    assert script.reads == 2
    assert script.sleeps == [1.0]
    assert script.retried == []


def test_still_failing_at_the_deadline_ends_with_the_last_error():
    script = Script(UNAVAILABLE, unavailable_503())
    with pytest.raises(e.ServerError) as raised:
        script.wait(Wait(timeout="5s", interval="1s"))
    error = raised.value
    assert error.message == "still failing when the 5s wait ended: GetFunctionInstance: unavailable"
    assert (error.code, error.http_status) == ("ServiceUnavailable", 503)
    assert script.reads == 6  # at 0, 1, ... 5 s
    assert script.now == 5.0
    assert len(script.retried) == 4  # reads 2 to 5; the 6th failure ends it


def test_a_pause_the_service_asked_for_is_kept_within_the_deadline():
    throttled = e.ThrottledError("slow", code="Throttling.User", http_status=400, retry_after=4.0)
    script = Script(throttled, AVAILABLE)
    script.wait()
    assert script.sleeps == [4.0]

    script = Script(e.ThrottledError("slow", http_status=429, retry_after=600.0), AVAILABLE)
    script.wait()
    assert script.sleeps == [30.0]  # all that is left of the 30s
