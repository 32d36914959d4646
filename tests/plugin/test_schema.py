"""The package schema: derived from the output shape and Expect/Wait, and in agreement
with the Python door (resources, data sources) property by property."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
from importlib.metadata import version
from typing import Any, get_args, get_type_hints

import pytest

from pulumi_opensearch_fn import functions, resources
from pulumi_opensearch_fn.core.expectations import Expect, Wait
from pulumi_opensearch_fn.core.outputs import TaskView
from pulumi_opensearch_fn.plugin import schema as S

DOOR_FUNCTIONS = {
    S.GET_INSTANCE: (functions.get_function_instance, functions.GetFunctionInstanceResult),
    S.GET_TASK: (functions.get_function_task, functions.GetFunctionTaskResult),
    S.GET_LATEST_TASK: (functions.get_latest_function_task, functions.GetFunctionTaskResult),
    S.GET_TASKS: (functions.get_function_tasks, functions.GetFunctionTasksResult),
}
DOOR_RESOURCES = {S.INSTANCE: resources.FunctionInstance, S.TASK: resources.FunctionTask}


def bare(spec: dict[str, Any]) -> dict[str, Any]:
    """A property's type, without its words."""
    return {k: v for k, v in spec.items() if k not in ("description", "default", "secret")}


def door_type(hint: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema type of a Python door annotation (a result list names its item type)."""
    if get_args(hint) and get_args(hint)[0] is functions.GetFunctionTaskResult:
        return {"type": "array", "items": {"$ref": f"#/types/{S.LISTED_TASK}"}}
    return S.type_spec(hint)[0]


def disagreements(schema: dict[str, Any]) -> list[str]:
    """Every way `schema` and the Python door differ: output names and types of each
    resource and data source (both ways), and input names."""
    found: list[str] = []

    def compare(where: str, door: dict[str, Any], props: dict[str, Any]) -> None:
        for name, hint in door.items():
            key = S.camel(name)
            if key not in props:
                found.append(f"{where}: no schema property {key} for {name}")
            elif door_type(hint, schema) != bare(props[key]):
                found.append(f"{where}.{key}: schema {bare(props[key])}, door {hint}")
        known = {S.camel(name) for name in door}
        found.extend(f"{where}: schema property {key} not in the door" for key in props
                     if key not in known)  # fmt: skip

    def inputs(where: str, params: list[str], props: dict[str, Any]) -> None:
        if sorted(S.camel(p) for p in params) != sorted(props):
            found.append(f"{where} inputs: door {sorted(params)}, schema {sorted(props)}")

    for token, cls in DOOR_RESOURCES.items():
        spec = schema["resources"][token]
        outputs = {k: v for k, v in spec["properties"].items() if k not in S.ECHOED}
        door = {name: get_args(hint)[0] for name, hint in cls.__annotations__.items()}
        compare(token, door, outputs)
        params = list(inspect.signature(cls.__init__).parameters)[2:]
        inputs(token, [p for p in params if p != "opts"], spec["inputProperties"])
    for token, (fn, result) in DOOR_FUNCTIONS.items():
        spec = schema["functions"][token]
        compare(token, get_type_hints(result), spec["outputs"]["properties"])
        params = [p for p in inspect.signature(fn).parameters if p != "opts"]  # invoke options
        inputs(token, params, spec["inputs"]["properties"])
    listed = schema["types"][S.LISTED_TASK]["properties"]
    compare(S.LISTED_TASK, get_type_hints(functions.GetFunctionTaskResult), listed)
    for token, cls in ((S.EXPECT, Expect), (S.WAIT, Wait)):
        fields = [f.name for f in dataclasses.fields(cls)]
        inputs(token, fields, schema["types"][token]["properties"])
    return found


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The schema as `python -m pulumi_opensearch_fn.plugin.schema` prints it."""
    printed = subprocess.run(
        [sys.executable, "-m", "pulumi_opensearch_fn.plugin.schema"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert printed.stderr == ""
    return json.loads(printed.stdout)


def test_package_name_version_and_tokens(schema):
    assert schema["name"] == "opensearch-fn"
    assert schema["version"] == version("pulumi-opensearch-fn")
    assert set(schema["resources"]) == {
        "opensearch-fn:index:FunctionInstance",
        "opensearch-fn:index:FunctionTask",
        "opensearch-fn:index:FunctionInstanceState",
        "opensearch-fn:index:FunctionTaskState",
    }
    assert set(schema["functions"]) == {
        f"opensearch-fn:index:{name}"
        for name in ("getFunctionInstance", "getFunctionTask", "getLatestFunctionTask",
                     "getFunctionTasks")
    }  # fmt: skip
    assert {"opensearch-fn:index:Expect", "opensearch-fn:index:Wait"} <= set(schema["types"])


def test_the_resources_are_components_and_their_state_the_same_shape(schema):
    """The engine calls a component's Construct whatever its flags: the gate runs there.
    Its state resource has the same properties, for `get` and import."""
    for component, state in S.STATE_OF.items():
        assert schema["resources"][component]["isComponent"] is True
        assert "isComponent" not in schema["resources"][state]
        same = ("properties", "inputProperties", "requiredInputs")
        assert {k: schema["resources"][state][k] for k in same} == {
            k: schema["resources"][component][k] for k in same
        }


def test_camel_case_names(schema):
    instance = schema["resources"][S.INSTANCE]
    assert {"appGroup", "functionName", "instanceName"} <= set(instance["requiredInputs"])
    assert {"latestGeneration", "latestTaskStatus", "versionId", "ready", "unmet"} <= set(
        instance["properties"]
    )
    assert set(schema["types"][S.EXPECT]["properties"]) == {
        "status", "taskStatus", "minGeneration", "maxAge", "metrics", "noTaskErrors",
        "enforce", "maxRegression",
    }  # fmt: skip
    assert set(schema["types"][S.WAIT]["properties"]) == {"timeout", "interval"}
    task = schema["resources"][S.TASK]
    assert task["properties"]["generation"] == {
        "type": "integer", "description": task["properties"]["generation"]["description"]
    }  # fmt: skip
    assert "requestedGeneration" in task["properties"]
    assert "oneOf" in task["inputProperties"]["generation"]


def test_config_is_the_opensearch_fn_keys_with_secrets_marked(schema):
    variables = schema["config"]["variables"]
    assert set(variables) == {
        "region", "endpoint", "accessKeyId", "accessKeySecret", "securityToken", "profile",
        "maxConcurrentReads",
    }  # fmt: skip
    assert {k for k, v in variables.items() if v.get("secret")} == {
        "accessKeySecret",
        "securityToken",
    }
    assert schema["provider"]["inputProperties"] == variables
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in variables["accessKeySecret"]["description"]


def test_every_property_is_described(schema):
    """The docstring tables of outputs.py and expectations.py cover every field."""

    def props(spec: dict[str, Any]) -> dict[str, Any]:
        return spec.get("properties", {})

    places = [("config", schema["config"]["variables"])]
    places += [(t, props(s)) for t, s in schema["types"].items()]
    for token, spec in schema["resources"].items():
        places += [(token, spec["properties"]), (token, spec["inputProperties"])]
    for token, spec in schema["functions"].items():
        places += [(token, props(spec["inputs"])), (token, props(spec["outputs"]))]
    undescribed = [f"{where}.{key}" for where, found in places for key, spec in found.items()
                   if len(spec.get("description", "")) < 10]  # fmt: skip
    assert undescribed == []


def test_descriptions_come_from_the_definitions(schema):
    """Words written once, at the field: a docstring table line is the description."""
    task = schema["resources"][S.TASK]["properties"]
    assert task["runId"]["description"] == S.field_docs(TaskView)["run_id"]
    assert (
        schema["types"][S.EXPECT]["properties"]["maxAge"]["description"]
        == (S.field_docs(Expect)["max_age"])
    )
    latest = schema["resources"][S.INSTANCE]["properties"]["latestTaskStatus"]["description"]
    assert "latest task" in latest
    assert schema["types"][S.EXPECT]["properties"]["noTaskErrors"]["default"] is False
    assert schema["types"][S.EXPECT]["properties"]["enforce"]["default"] is True


def test_schema_agrees_with_the_python_door(schema):
    assert disagreements(schema) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["resources"][S.INSTANCE]["properties"].pop("latestGeneration"),
         "no schema property latestGeneration"),
        (lambda s: s["resources"][S.TASK]["properties"]["progress"].update(type="string"),
         "FunctionTask.progress: schema"),
        (lambda s: s["functions"][S.GET_TASKS]["outputs"]["properties"].update(extra={}),
         "schema property extra not in the door"),
        (lambda s: s["functions"][S.GET_TASK]["inputs"]["properties"].pop("generation"),
         "getFunctionTask inputs"),
        (lambda s: s["types"][S.LISTED_TASK]["properties"]["metrics"].update(
            additionalProperties={"type": "string"}), "GetFunctionTasksTask.metrics"),
    ],
)  # fmt: skip
def test_a_disagreement_is_found(schema, change, expected):
    changed = json.loads(json.dumps(schema))
    change(changed)
    assert any(expected in line for line in disagreements(changed)), disagreements(changed)


def test_python_types_map_to_one_schema_form():
    from collections.abc import Iterable, Mapping
    from datetime import timedelta

    assert S.type_spec(Mapping[str, str] | Iterable[str] | None) == (
        {"type": "object", "additionalProperties": {"type": "string"}},
        True,
    )
    assert S.type_spec(str | float | timedelta) == (
        {"oneOf": [{"type": "string"}, {"type": "number"}]},
        False,
    )
    assert S.type_spec(list[Mapping[str, Any]])[0] == {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"$ref": "pulumi.json#/Any"}},
    }
    with pytest.raises(TypeError):
        S.type_spec(complex)
