"""Failures of data sources in a program: one clear line naming the call, the API's
code and request id, no traceback text, and never a secret."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import DataSourceError
from pulumi_opensearch_fn.api.errors import (
    AppGroupNotFoundError,
    AuthenticationError,
    InstanceNotFoundError,
    TaskNotFoundError,
)

from .harness import AK, APP, FN, READY, SECRET, settle

MISSING = "ctr_missing"
# label: (plain call, twin call, subject, API action, code, cause)
NOT_FOUND: dict[str, tuple[Any, Any, str, str, str, type]] = {
    "instance": (
        lambda: fn.get_function_instance(APP, FN, MISSING),
        lambda: fn.get_function_instance_output(APP, FN, MISSING),
        f"get_function_instance({APP}/{FN}/{MISSING})",
        "GetFunctionInstance",
        "Instance.NotExist",
        InstanceNotFoundError,
    ),
    "task": (
        lambda: fn.get_function_task(APP, FN, READY, generation=99),
        lambda: fn.get_function_task_output(APP, FN, READY, generation=99),
        f"get_function_task({APP}/{FN}/{READY}/99)",
        "GetFunctionTask",
        "Task.NotExist",
        TaskNotFoundError,
    ),
    "tasks": (
        lambda: fn.get_function_tasks(APP, FN, MISSING),
        lambda: fn.get_function_tasks_output(APP, FN, MISSING),
        f"get_function_tasks({APP}/{FN}/{MISSING})",
        "ListFunctionTasks",
        "Instance.NotExist",
        InstanceNotFoundError,
    ),
    "latest": (
        lambda: fn.get_latest_function_task(APP, FN, MISSING),
        lambda: fn.get_latest_function_task_output(APP, FN, MISSING),
        f"get_latest_function_task({APP}/{FN}/{MISSING})",
        "ListFunctionTasks",
        "Instance.NotExist",
        InstanceNotFoundError,
    ),
    "app_group": (
        lambda: fn.get_function_instance("no_such_app", FN, READY),
        lambda: fn.get_function_instance_output("no_such_app", FN, READY),
        f"get_function_instance(no_such_app/{FN}/{READY})",
        "GetFunctionInstance",
        "App.NotFound",
        AppGroupNotFoundError,
    ),
}


def _failure(program, body, **run: Any) -> DataSourceError:
    with pytest.raises(DataSourceError) as caught:
        program.run(body, **run)
    return caught.value


def _twin(call):
    async def body():
        return await settle(call())

    return body


def assert_clean(error: DataSourceError, *secrets: str) -> None:
    """What the engine would print: str(error) for a RunError, with no traceback."""
    assert isinstance(error, pulumi.RunError)
    for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__)):
        assert "Traceback" not in text
        assert 'File "' not in text
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize("case", list(NOT_FOUND))
def test_not_found_is_one_clear_line(program, admin, engine_log, case, preview):
    plain, twin, subject, action, code, cause = NOT_FOUND[case]

    errors = [
        _failure(program, plain, preview=preview),
        _failure(program, _twin(twin), preview=preview),
    ]

    sent = admin.requests()
    assert [(r["action"], r["code"]) for r in sent] == [(action, code)] * 2
    for error in errors:
        message = str(error)
        assert message.startswith(f"{subject}: {action}: ")
        assert "\n" not in message
        assert f"code {code}" in message
        assert "HTTP 404" in message
        assert (error.code, error.http_status) == (code, 404)
        assert error.request_id
        assert f"request id {error.request_id}" in message
        assert type(error.__cause__) is cause
        assert error.__cause__.request_id == error.request_id
        assert_clean(error, SECRET)
    assert str(errors[0]).split("request id")[0] == str(errors[1]).split("request id")[0]
    assert all(SECRET not in m for m in engine_log.messages())
    assert program.mocks.calls == []


def test_not_found_details_appear_once(program):
    error = _failure(program, lambda: fn.get_function_instance(APP, FN, MISSING))

    assert str(error) == (
        f"get_function_instance({APP}/{FN}/{MISSING}): GetFunctionInstance: instance not"
        f" exist. (code Instance.NotExist, HTTP 404, request id {error.request_id})"
    )


WRONG_SECRET = "program-test-wrong-secret-7f3a9c"


@pytest.mark.parametrize("case", list(NOT_FOUND))
def test_rejected_credentials_never_show_the_secret(
    bare_program, set_stack_config, stack_config, admin, engine_log, case
):
    set_stack_config(stack_config | {"opensearch-fn:accessKeySecret": WRONG_SECRET})
    plain, twin, subject, action, _code, _cause = NOT_FOUND[case]

    errors = [_failure(bare_program, plain), _failure(bare_program, _twin(twin))]

    assert [(r["action"], r["code"]) for r in admin.requests()] == [
        (action, "SignatureDoesNotMatch")
    ] * 2
    for error in errors:
        assert str(error).startswith(f"{subject}: {action}: ")
        assert error.code == "SignatureDoesNotMatch"
        assert type(error.__cause__) is AuthenticationError
        assert_clean(error, WRONG_SECRET, SECRET)
    assert all(WRONG_SECRET not in m for m in engine_log.messages())


def test_expired_sts_token_never_shows_secret_or_token(
    bare_program, set_stack_config, stack_config, admin
):
    secret, token = "emulator-expired-sts-secret", "emulator-expired-sts-token"
    set_stack_config(
        stack_config
        | {
            "opensearch-fn:accessKeyId": "STS.emulator-expired",
            "opensearch-fn:accessKeySecret": secret,
            "opensearch-fn:securityToken": token,
        }
    )

    error = _failure(bare_program, _twin(lambda: fn.get_function_instance_output(APP, FN, READY)))

    assert error.code.startswith("InvalidSecurityToken")
    assert type(error.__cause__) is AuthenticationError
    assert_clean(error, secret, token)
    assert [r["token"] for r in admin.requests()] == [True]


def test_incomplete_credentials_fail_before_any_request(
    bare_program, set_stack_config, stack_config, admin
):
    endpoint = stack_config["opensearch-fn:endpoint"]
    set_stack_config({"opensearch-fn:endpoint": endpoint, "opensearch-fn:accessKeySecret": SECRET})

    error = _failure(bare_program, lambda: fn.get_function_instance(APP, FN, READY))

    assert str(error) == (
        f"get_function_instance({APP}/{FN}/{READY}): stack config opensearch-fn:* sets"
        " opensearch-fn:accessKeySecret without opensearch-fn:accessKeyId; set both"
    )
    assert_clean(error, SECRET)
    assert admin.requests() == []


def test_no_endpoint_or_region_fails_before_any_request(bare_program, set_stack_config, admin):
    set_stack_config({"opensearch-fn:accessKeyId": AK, "opensearch-fn:accessKeySecret": SECRET})

    error = _failure(bare_program, _twin(lambda: fn.get_function_tasks_output(APP, FN, READY)))

    assert str(error).startswith(f"get_function_tasks({APP}/{FN}/{READY}): no region or endpoint")
    assert_clean(error, SECRET)
    assert admin.requests() == []
