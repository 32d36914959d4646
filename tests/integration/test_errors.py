"""Every service error maps to its class, with code, request id and status; no secrets leak."""

from __future__ import annotations

import pickle

import pytest

from pulumi_opensearch_fn.api import (
    AppGroupNotFoundError,
    AuthenticationError,
    BadRequestError,
    Credentials,
    InstanceNotFoundError,
    OpenSearchFnError,
    PermissionDeniedError,
    TaskNotFoundError,
)
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.emulator import EmulatorAdmin

from .conftest import APP, EXPIRED, FN, INST, SECRETS, STS, MakeClient


def assert_no_secret(error: OpenSearchFnError, *extra: str) -> None:
    for text in (str(error), repr(error), repr(error.args), error.message):
        for secret in (*SECRETS, *extra):
            assert secret not in text


def check(error: OpenSearchFnError, code: str, status: int, admin: EmulatorAdmin) -> None:
    assert error.code == code
    assert error.http_status == status
    assert error.request_id
    assert code in str(error)
    assert error.request_id in str(error)
    (entry,) = admin.requests()
    assert entry["code"] == code
    assert entry["status"] == status
    assert_no_secret(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.request_id, copy.http_status) == (code, error.request_id, status)


@pytest.mark.parametrize("signature", ["v3", "roa"])
def test_not_found_errors(make_client: MakeClient, admin: EmulatorAdmin, signature: str) -> None:
    client = make_client(signature=signature)
    with pytest.raises(InstanceNotFoundError) as info:
        client.get_function_instance(Identity(APP, FN, "nope"))
    check(info.value, "Instance.NotExist", 404, admin)
    admin.clear_requests()
    with pytest.raises(TaskNotFoundError) as tinfo:
        client.get_function_task(Identity(APP, FN, INST, 999))
    check(tinfo.value, "Task.NotExist", 404, admin)
    admin.clear_requests()
    with pytest.raises(AppGroupNotFoundError) as ainfo:
        client.get_function_instance(Identity("no_such_app", FN, INST))
    check(ainfo.value, "App.NotFound", 404, admin)


def test_bad_secret_is_authentication_error(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    bad = Credentials("LTAI-emulator-demo", "wrong-secret-value")
    with pytest.raises(AuthenticationError) as info:
        make_client(credentials=bad).get_function_instance(Identity(APP, FN, INST))
    check(info.value, "SignatureDoesNotMatch", 400, admin)
    assert_no_secret(info.value, "wrong-secret-value")


def test_unknown_key_is_authentication_error(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_client(credentials=Credentials("LTAI-nobody", "nobody-secret")).get_function_task(
            Identity(APP, FN, INST, 1)
        )
    check(info.value, "InvalidAccessKeyId.NotFound", 404, admin)
    assert_no_secret(info.value, "nobody-secret")


@pytest.mark.parametrize("signature", ["v3", "roa"])
def test_expired_sts_is_authentication_error(
    make_client: MakeClient, admin: EmulatorAdmin, signature: str
) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_client(credentials=EXPIRED, signature=signature).get_function_instance(
            Identity(APP, FN, INST)
        )
    check(info.value, "InvalidSecurityToken.Expired", 400, admin)


def test_wrong_sts_token_is_authentication_error(make_client: MakeClient) -> None:
    creds = Credentials(STS.access_key_id, STS.access_key_secret, "not-the-token-xyz")
    with pytest.raises(AuthenticationError) as info:
        make_client(credentials=creds).get_function_instance(Identity(APP, FN, INST))
    assert info.value.code.startswith("InvalidSecurityToken")
    assert_no_secret(info.value, "not-the-token-xyz")


def test_ram_deny_is_permission_denied(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    admin.add_access_key("LTAI-limited", "limited-secret", actions=["GetFunctionTask"])
    client = make_client(credentials=Credentials("LTAI-limited", "limited-secret"))
    assert client.get_function_task(Identity(APP, FN, INST, 1)).generation == 1
    admin.clear_requests()
    with pytest.raises(PermissionDeniedError) as info:
        client.get_function_instance(Identity(APP, FN, INST))
    check(info.value, "Forbidden.RAM", 403, admin)
    assert_no_secret(info.value, "limited-secret")


def test_credentials_never_show(make_client: MakeClient) -> None:
    text = repr(STS) + str(STS)
    for secret in (STS.access_key_secret, STS.security_token or ""):
        assert secret not in text
    with pytest.raises(TypeError):
        pickle.dumps(STS)
    assert "emulator-demo-secret" not in repr(make_client())


def test_plain_400_is_not_retried(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    from .conftest import FAST

    admin.inject_fault("malformed", count=3, status=400)
    with pytest.raises(BadRequestError) as info:
        make_client(retry=FAST).get_function_instance(Identity(APP, FN, INST))
    assert info.value.http_status == 400
    assert len(admin.requests()) == 1
