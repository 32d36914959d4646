"""Generations beyond 2**53 - 1 in a program: the resources register them as text (the
engine would round a number), the data sources return them exact."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest

import pulumi_opensearch_fn as fn
from pulumi_opensearch_fn import Expect, FunctionInstance, FunctionTask
from pulumi_opensearch_fn.core.clients import close_clients

from ..hostile import HostileServer, envelope, good_instance, json_reply, task
from .harness import AK, APP, FN, READY, SECRET, provider_check, settle

TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"
INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
BIG = 2**53 + 1  # 9007199254740993; the nearest float64 is 2**53
# The service's generation, in a decimal spelling a float would round.
SPELLED = "9.007199254740993e15"


@pytest.fixture
def server(hostile: HostileServer) -> Iterator[HostileServer]:
    hostile.serve(good_instance(), action="GetFunctionInstance")
    tasks = [task(BIG) | {"generation": SPELLED}]
    hostile.serve(json_reply(envelope(result=tasks, totalCount=1)), action="ListFunctionTasks")
    hostile.serve(json_reply(envelope(result=tasks[0])), action="GetFunctionTask")
    yield hostile
    close_clients(hostile.url)


@pytest.fixture
def config(server: HostileServer) -> dict[str, str]:
    return {
        "opensearch-fn:endpoint": server.url,
        "opensearch-fn:accessKeyId": AK,
        "opensearch-fn:accessKeySecret": SECRET,
    }


@pytest.fixture
def on_server(bare_program, config, set_stack_config):
    set_stack_config(config)
    return bare_program


@pytest.mark.parametrize("given", [BIG, str(BIG), "output"])
def test_a_task_beyond_2_53_registers_exactly(on_server, mocks, config, provider_config, given):
    def body():
        generation = pulumi.Output.from_input(BIG) if given == "output" else given
        return settle(FunctionTask("big", APP, FN, READY, generation).generation)

    output = on_server.run(body)

    [registered] = mocks.registered(TASK_TYPE)
    assert registered.inputs["requested_generation"] == str(BIG)
    assert registered.inputs["generation"] == str(BIG)
    assert output.value == str(BIG)
    assert provider_check(registered, config).failures == []


def test_an_instance_registers_its_generations_and_min_generation_exactly(
    on_server, mocks, config, provider_config
):
    on_server.run(lambda: FunctionInstance("model", APP, FN, READY,
                                           expect=Expect(min_generation=BIG)))  # fmt: skip
    [registered] = mocks.registered(INSTANCE_TYPE)
    assert registered.inputs["expect"]["min_generation"] == str(BIG)
    assert registered.inputs["latest_generation"] == str(BIG)
    assert registered.inputs["latest_success_generation"] == str(BIG)
    assert provider_check(registered, config).failures == []


def test_data_sources_return_generations_exactly(on_server, server):
    found = on_server.run(
        lambda: (
            fn.get_function_task(APP, FN, READY, generation=BIG, endpoint=server.url),
            fn.get_latest_function_task(APP, FN, READY, endpoint=server.url),
            fn.get_function_tasks(APP, FN, READY, endpoint=server.url).tasks[0],
        )
    )
    for result in found:
        assert (result.generation, result.id) == (BIG, f"{APP}/{FN}/{READY}/{BIG}")
