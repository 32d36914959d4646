"""`Construct`, which the engine calls on every registration of a component whatever its
flags: the gate is judged there, before anything is registered; a component that passes
registers itself and its state resource, whose check and create then read nothing."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn.plugin import schema

from .harness import INSTANCE, STACK_URN, TASK, PluginError
from .test_protocol import BAD_INPUTS, CTR, TRAINING

MODEL_URN = f"urn:pulumi:test::test::{schema.INSTANCE}::model"


def test_a_met_gate_registers_the_component_and_its_state(plugin, admin):
    process = plugin()
    expect = {"status": "available", "minGeneration": 3}
    urn, outs = process.construct(INSTANCE, {**CTR, "expect": expect}, name="model")
    assert urn == MODEL_URN
    assert (outs["status"], outs["latestGeneration"], outs["ready"]) == ("available", 3, True)
    assert outs["expect"] == expect
    [component, state] = process.monitor.registered
    assert component[:3] == (schema.INSTANCE, "model", STACK_URN)
    assert state[:3] == (schema.INSTANCE_STATE, "model", MODEL_URN)
    assert state[3][schema.OBSERVED_INPUT]["latest_generation"] == 3
    assert process.monitor.outputs[MODEL_URN] == {}  # state keeps them once: on the state
    # The engine steps the state resource: nothing more is read.
    before = len(admin.requests())
    checked, failures = process.check(INSTANCE, state[3], name="model")
    assert failures == []
    id_, created = process.create(INSTANCE, checked, name="model")
    assert (id_, created) == ("my_app/ctr/ctr_test", outs)
    assert len(admin.requests()) == before


def test_a_task_component(plugin):
    process = plugin()
    urn, outs = process.construct(TASK, {**CTR, "generation": 2}, name="two")
    assert urn == f"urn:pulumi:test::test::{schema.TASK}::two"
    assert (outs["generation"], outs["requestedGeneration"], outs["metrics"]["recall"]) == (
        2, 2, 90
    )  # fmt: skip
    assert [r[0] for r in process.monitor.registered] == [schema.TASK, schema.TASK_STATE]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_an_unmet_gate_fails_in_one_line_and_registers_nothing(plugin, preview):
    process = plugin()
    with pytest.raises(PluginError) as caught:
        process.construct(INSTANCE, {**CTR, "expect": {"minGeneration": 5}}, preview=preview)
    assert caught.value.details == (
        "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
        " min_generation: expected >= 5, saw 3"
    )
    assert process.monitor.registered == []
    assert process.alive()


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_fails_naming_each_property_before_any_request(plugin, admin, case):
    inputs, expected = BAD_INPUTS[case]
    process = plugin()
    before = len(admin.requests())
    with pytest.raises(PluginError) as caught:
        process.construct(INSTANCE, inputs)
    failures = caught.value.properties
    assert [prop for prop, _ in failures] == [prop for prop, _ in expected]
    for (_, reason), (_, start) in zip(failures, expected, strict=True):
        assert reason.startswith(start), reason
        assert "\n" not in reason
    assert "Traceback" not in caught.value.details
    assert len(admin.requests()) == before
    assert process.monitor.registered == []


def test_get_on_a_component_says_where_get_is(plugin):
    """YAML registers a `get:` of a component type with no input at all, not even the id."""
    with pytest.raises(PluginError) as caught:
        plugin().construct(INSTANCE, {})
    assert caught.value.details == (
        "FunctionInstance needs appGroup, functionName and instanceName; to read an existing"
        " one by id (`get`, import), use opensearch-fn:index:FunctionInstanceState"
    )


def test_import_of_a_component_type_says_where_import_is(plugin):
    with pytest.raises(PluginError) as caught:
        plugin().read(schema.TASK, "my_app/ctr/ctr_test/2")
    assert "use opensearch-fn:index:FunctionTaskState" in caught.value.details


def test_enforce_false_warns_on_the_component_row(plugin):
    process = plugin()
    expect = {"status": "unavailable", "enforce": False}
    _, outs = process.construct(INSTANCE, {**CTR, "expect": expect}, name="model")
    assert (outs["ready"], outs["unmet"]) == (
        False,
        ["status: expected unavailable, saw available"],
    )
    warnings = [(m, u) for level, m, u in process.engine.lines if level == "warning"]
    assert warnings == [
        (
            "FunctionInstance my_app/ctr/ctr_test: expectations not met:"
            " status: expected unavailable, saw available",
            MODEL_URN,
        )
    ]


def test_a_preview_says_what_up_would_wait_for(plugin, admin):
    expect = {"taskStatus": "success", "minGeneration": 2}
    inputs = {**TRAINING, "expect": expect, "wait": {"timeout": "30m", "interval": "1s"}}
    process = plugin()
    _, outs = process.construct(INSTANCE, inputs, preview=True, name="model")
    assert outs["ready"] is False
    assert (
        "info",
        "FunctionInstance my_app/ctr/ctr_training: up will wait up to 30m for:"
        " task_status: expected success, saw running; min_generation: expected >= 2, saw 1",
        MODEL_URN,
    ) in process.engine.lines


def test_up_waits_until_the_training_task_finishes(plugin, admin):
    expect = {"taskStatus": "success", "minGeneration": 2}
    inputs = {**TRAINING, "expect": expect, "wait": {"timeout": "30m", "interval": "1s"}}
    process = plugin()
    admin.clear_requests()
    admin.advance_clock_at_request(600, at_request=4)  # the second poll sees it finished
    _, outs = process.construct(INSTANCE, inputs, name="model")
    assert (outs["latestTaskStatus"], outs["ready"]) == ("success", True)
    progress = [(m, u) for level, m, u in process.engine.lines if "elapsed" in m]
    assert progress[0][0].startswith("FunctionInstance my_app/ctr/ctr_training: instance")
    assert progress[0][1] == MODEL_URN
