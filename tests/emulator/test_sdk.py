"""The official SDK, unchanged, against the emulator (PascalCase bodies)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alibabacloud_opensearch20171225 import models
from alibabacloud_opensearch20171225.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config

from pulumi_opensearch_fn.emulator import EmulatorServer, FaultSpec, sample_state
from pulumi_opensearch_fn.emulator.quota import RateLimit

from .helpers import (
    AK,
    EXPIRED_AK,
    EXPIRED_SECRET,
    EXPIRED_TOKEN,
    SECRET,
    STS_AK,
    STS_SECRET,
    STS_TOKEN,
)

# signature_algorithm="v2" is how the SDK is told to sign with the legacy ROA scheme.
SIGNING = [None, "v2"]


def sdk(
    server: EmulatorServer,
    signing: str | None,
    token: bool = False,
    *,
    ak: str | None = None,
    secret: str | None = None,
    security_token: str | None = None,
) -> Client:
    if token:
        ak, secret, security_token = STS_AK, STS_SECRET, STS_TOKEN
    return Client(
        Config(
            access_key_id=ak or AK,
            access_key_secret=secret or SECRET,
            security_token=security_token,
            endpoint=server.endpoint,
            protocol="http",
            signature_algorithm=signing,
        )
    )


@pytest.fixture(scope="module")
def shared_pascal() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), casing="pascal") as srv:
        yield srv


@pytest.mark.parametrize("token", [False, True], ids=["ak", "sts"])
@pytest.mark.parametrize("signing", SIGNING, ids=["v3", "roa"])
def test_reads_parse_into_sdk_models(
    shared_pascal: EmulatorServer, signing: str | None, token: bool
):
    client = sdk(shared_pascal, signing, token)
    detail = client.get_function_instance(
        "my_app", "ctr", "ctr_test", models.GetFunctionInstanceRequest(output="detail")
    ).body
    assert (detail.status, detail.http_code, detail.code) == ("OK", 200, "")
    assert len(detail.request_id) == 36
    inst = detail.result
    assert (inst.instance_name, inst.function_name, inst.status, inst.version_id) == (
        "ctr_test",
        "ctr",
        "available",
        3,
    )
    assert (inst.function_type, inst.model_type, inst.source) == ("PAAS", "tf_checkpoint", "user")
    assert inst.belongs.domain == "ecommerce"
    assert [(p.name, p.value) for p in inst.create_parameters] == [("param1", "val1")]
    assert inst.cron == "0 3 * * *"
    assert inst.task.dag_status == "success"

    simple = client.get_function_instance(
        "my_app", "ctr", "ctr_test", models.GetFunctionInstanceRequest(output="simple")
    ).body.result
    assert not simple.create_parameters and simple.task is None and simple.cron is None

    listed = client.list_function_tasks(
        "my_app", "ctr", "ctr_test", models.ListFunctionTasksRequest(page_size=2, status="success")
    ).body
    assert listed.total_count == 3
    assert [t.generation for t in listed.result] == ["3", "2"]
    assert listed.result[0].status == "success" and listed.result[0].progress == 100
    assert '"recall":91' in listed.result[0].extend_info

    task = client.get_function_task("my_app", "ctr", "ctr_test", "2").body.result
    assert (task.generation, task.function_name, task.status) == ("2", "ctr", "success")
    assert task.end_time > task.start_time > 0
    assert task.run_id.startswith("trigger__")


@pytest.mark.parametrize("signing", SIGNING, ids=["v3", "roa"])
def test_service_errors_raise(shared_pascal: EmulatorServer, signing: str | None):
    client = sdk(shared_pascal, signing)
    with pytest.raises(ClientException) as info:
        client.get_function_task("my_app", "ctr", "ctr_test", "99")
    assert (info.value.code, info.value.status_code) == ("Task.NotExist", 404)
    with pytest.raises(ClientException) as info:
        client.get_function_instance("nope", "ctr", "ctr_test", models.GetFunctionInstanceRequest())
    assert (info.value.code, info.value.status_code) == ("App.NotFound", 404)


@pytest.mark.parametrize("signing", SIGNING, ids=["v3", "roa"])
def test_credential_errors_raise(shared_pascal: EmulatorServer, signing: str | None):
    wrong = sdk(shared_pascal, signing, ak=AK, secret="wrong")
    with pytest.raises(ClientException) as info:
        wrong.get_function_task("my_app", "ctr", "ctr_test", "1")
    assert (info.value.code, info.value.status_code) == ("SignatureDoesNotMatch", 400)
    expired = sdk(
        shared_pascal, signing, ak=EXPIRED_AK, secret=EXPIRED_SECRET, security_token=EXPIRED_TOKEN
    )
    with pytest.raises(ClientException) as info:
        expired.get_function_task("my_app", "ctr", "ctr_test", "1")
    assert info.value.code == "InvalidSecurityToken.Expired"


def test_throttle_with_retry_after_is_a_throttling_exception(shared_pascal: EmulatorServer):
    shared_pascal.faults.add(FaultSpec("throttle", count=1, status=429, retry_after_ms=1500))
    with pytest.raises(ThrottlingException) as info:
        sdk(shared_pascal, None).get_function_task("my_app", "ctr", "ctr_test", "1")
    assert (info.value.code, info.value.status_code, info.value.retry_after) == (
        "Throttling.User",
        429,
        1500,
    )


@pytest.mark.parametrize("signing", SIGNING, ids=["v3", "roa"])
def test_beyond_the_quota_the_sdk_sees_throttling_user(
    pascal_server: EmulatorServer, signing: str | None
):
    pascal_server.quota.set(RateLimit(1, 3600))
    client = sdk(pascal_server, signing)
    assert client.get_function_task("my_app", "ctr", "ctr_test", "1").body.result.generation == "1"
    with pytest.raises(ClientException) as info:
        client.get_function_task("my_app", "ctr", "ctr_test", "1")
    # A client error like any 400: no retry hint, so not the SDK's ThrottlingException.
    assert not isinstance(info.value, ThrottlingException)
    assert (info.value.code, info.value.status_code) == ("Throttling.User", 400)
    assert "Request was denied due to user flow control." in info.value.message
    assert info.value.data["Recommend"].startswith(
        "https://api.aliyun.com/troubleshoot?q=Throttling.User"
    )
    assert (
        client.list_function_tasks(  # another action: its own bucket
            "my_app", "ctr", "ctr_test", models.ListFunctionTasksRequest()
        ).body.total_count
        == 3
    )


def test_camel_bodies_parse_as_empty_in_the_sdk(server: EmulatorServer):
    # What api.md warns about: the SDK's models only read PascalCase.
    body = sdk(server, None).get_function_task("my_app", "ctr", "ctr_test", "1").body
    assert body.result is None and body.request_id is None
