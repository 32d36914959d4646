"""Parsing of both response casings, extendInfo and times."""

from datetime import UTC, datetime

import pytest

from pulumi_opensearch_fn.api import BadResponseError, ExtendInfo, FunctionInstance, FunctionTask

CAMEL_INSTANCE = {
    "instanceName": "ctr_test",
    "functionName": "ctr",
    "functionType": "PAAS",
    "modelType": "tf_checkpoint",
    "source": "user",
    "status": "available",
    "versionId": 3,
    "createTime": 1700000000000,
    "cron": "0 1 * * *",
    "description": "click model",
    "belongs": {"domain": "ecommerce", "category": "ctr", "language": "zh"},
    "createParameters": [{"name": "param1", "value": "value1"}],
    "usageParameters": [{"name": "u", "value": "1"}],
    "extendInfo": '{"dataReport":{"auc":0.9},"errors":{}}',
    "task": {"dagStatus": "success", "progress": 100, "lastRunTime": 1700000100000},
}


def pascal(value):
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


@pytest.mark.parametrize("body", [CAMEL_INSTANCE, pascal(CAMEL_INSTANCE)], ids=["camel", "pascal"])
def test_instance_in_both_casings(body):
    inst = FunctionInstance.from_body(body, "req-1")
    assert inst.instance_name == "ctr_test"
    assert inst.status == "available"
    assert inst.version_id == 3
    assert inst.create_time == datetime.fromtimestamp(1700000000, tz=UTC)
    assert inst.belongs is not None
    assert inst.belongs.domain == "ecommerce"
    assert inst.create_parameters[0].name == "param1"
    assert inst.usage_parameters[0].value == "1"
    assert inst.task is not None
    assert inst.task.dag_status == "success"
    assert inst.task.progress == 100
    assert inst.extend_info.metrics == {"dataReport.auc": 0.9}
    assert inst.extend_info.errors == ()
    assert inst.request_id == "req-1"


def test_simple_output_has_no_task_or_parameters():
    body = {k: CAMEL_INSTANCE[k] for k in ("instanceName", "functionName", "status")}
    inst = FunctionInstance.from_body(body)
    assert inst.task is None
    assert inst.create_parameters == ()
    assert inst.version_id is None


TASK = {
    "functionName": "ctr",
    "generation": "3",
    "runId": "trigger__2021-03-05T12:18:41",
    "status": "success",
    "progress": 100,
    "startTime": 1614946721000,
    "endTime": 1614947721000,
    "extendInfo": '{"recall":91,"errors":[]}',
}


@pytest.mark.parametrize("body", [TASK, pascal(TASK)], ids=["camel", "pascal"])
def test_task_in_both_casings(body):
    task = FunctionTask.from_body(body)
    assert task.generation == 3
    assert isinstance(task.generation, int)
    assert task.metrics == {"recall": 91.0}
    assert task.errors == ()
    assert task.end_time == datetime.fromtimestamp(1614947721, tz=UTC)


def test_running_task_has_no_end_time():
    task = FunctionTask.from_body({**TASK, "status": "running", "endTime": 0})
    assert task.end_time_ms is None
    assert task.end_time is None


def test_task_errors_are_listed():
    task = FunctionTask.from_body({**TASK, "extendInfo": '{"errors":["oom", {"code": 1}]}'})
    assert task.errors == ("oom", '{"code": 1}')


@pytest.mark.parametrize("raw", ["{not json", "[1,2]", '"text"'])
def test_unparseable_extend_info_is_kept_raw(raw):
    info = ExtendInfo.parse(raw)
    assert info.raw == raw
    assert not info.valid
    assert info.parse_error
    assert info.metrics == {}
    assert info.errors == ()


def test_bad_generation_is_a_bad_response():
    with pytest.raises(BadResponseError, match="generation"):
        FunctionTask.from_body({**TASK, "generation": "three"})
    with pytest.raises(BadResponseError):
        FunctionTask.from_body("not an object")
