"""Generations beyond 2**53 - 1 through the real provider server: the engine carries
every number as a float64, so they cross it as text, and no id, state, output or
message is ever rounded. A refresh must not drop a task because its id was rounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_opensearch_fn import Expect

from ..hostile import (
    HostileServer,
    Reply,
    Seen,
    envelope,
    good_instance,
    json_reply,
    service_error,
    task,
)
from .conftest import KEY_ID, KEY_SECRET
from .harness import (
    INSTANCE_TYPE,
    TASK_TYPE,
    ProviderError,
    ProviderProcess,
    program_inputs,
    strip_provider,
)

CTR = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test"}
BIG = 2**53 + 1  # 9007199254740993: the nearest float64 is 9007199254740992
ROUNDED = 2**53


def task_at(generation: int) -> Any:
    """GetFunctionTask as the service answers it: that generation exists, no other."""

    def reply(seen: Seen) -> Reply:
        asked = seen.path.rsplit("/", 1)[-1]
        if asked == str(generation):
            return json_reply(envelope(result=task(generation)))
        return service_error("Task.NotExist", f"task {asked} does not exist", 404)

    return reply


def listing(*generations: int) -> Reply:
    tasks = [task(g) for g in generations]
    return json_reply(envelope(result=tasks, totalCount=len(tasks)))


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        hostile.serve(good_instance(), action="GetFunctionInstance")
        hostile.serve(listing(BIG, ROUNDED), action="ListFunctionTasks")
        hostile.serve(task_at(BIG), action="GetFunctionTask")
        yield hostile


@pytest.fixture
def config(server: HostileServer) -> dict[str, str]:
    return {
        "opensearch-fn:endpoint": server.url,
        "opensearch-fn:accessKeyId": KEY_ID,
        "opensearch-fn:accessKeySecret": KEY_SECRET,
    }


@pytest.fixture
def process(config: dict[str, str]) -> Iterator[ProviderProcess]:
    with ProviderProcess() as started:
        started.configure(config)
        yield started


def deploy(
    process: ProviderProcess, config: dict[str, str], type_: str, **inputs: Any
) -> tuple[str, dict[str, Any]]:
    """`up`: the program's read and the provider's check and create, over gRPC."""
    checked, failures = process.check(type_, program_inputs(type_, {**CTR, **inputs}, config))
    assert failures == []
    id_, outs = process.create(type_, strip_provider(checked))
    return id_, strip_provider(outs)


def test_a_task_beyond_2_53_keeps_its_id_and_survives_refresh(
    process: ProviderProcess, config: dict[str, str], server: HostileServer
) -> None:
    id_, outs = deploy(process, config, TASK_TYPE, requested_generation=BIG)

    assert id_ == f"my_app/ctr/ctr_test/{BIG}"
    assert (outs["requested_generation"], outs["generation"]) == (str(BIG), str(BIG))

    # Two refreshes in a row: each reads the task by the id, and keeps it.
    props = outs
    for _ in range(2):
        new_id, props, inputs = process.read(TASK_TYPE, id_, props, outs)
        assert new_id == id_
        assert props["generation"] == str(BIG)
        assert inputs is not None and inputs["requested_generation"] == str(BIG)
    asked = [s.path.rsplit("/", 1)[-1] for s in server.requests if s.action == "GetFunctionTask"]
    assert asked == [str(BIG)] * 3
    # Nothing moved: the diff after the refresh is clean.
    assert process.diff(TASK_TYPE, id_, props, outs).changes == 1  # DIFF_NONE


def test_latest_generations_beyond_2_53_cross_exactly(
    process: ProviderProcess, config: dict[str, str]
) -> None:
    id_, outs = deploy(process, config, INSTANCE_TYPE)
    assert (outs["latest_generation"], outs["latest_success_generation"]) == (str(BIG), str(BIG))
    new_id, refreshed, _ = process.read(INSTANCE_TYPE, id_, outs)
    assert (new_id, refreshed["latest_generation"]) == (id_, str(BIG))
    assert process.diff(INSTANCE_TYPE, id_, refreshed, outs).changes == 1  # DIFF_NONE

    task_id, task_outs = deploy(process, config, TASK_TYPE, requested_generation="latest")
    assert task_id == f"my_app/ctr/ctr_test/{BIG}"
    assert (task_outs["requested_generation"], task_outs["generation"]) == ("latest", str(BIG))


def test_a_min_generation_beyond_2_53_is_never_rounded(
    process: ProviderProcess, config: dict[str, str], server: HostileServer
) -> None:
    """Rounded to 2**53, min_generation 2**53 + 1 would pass generation 2**53."""
    server.serve(listing(ROUNDED), action="ListFunctionTasks")
    expect = Expect(min_generation=BIG).to_dict()
    sent = program_inputs(INSTANCE_TYPE, {**CTR, "expect": expect}, config)
    assert sent["expect"]["min_generation"] == str(BIG)

    _, failures = process.check(INSTANCE_TYPE, sent)

    [(_, reason)] = failures
    assert reason.endswith(f"min_generation: expected >= {BIG}, saw {ROUNDED}"), reason


def test_a_rounded_float_generation_is_refused_at_check(
    process: ProviderProcess, config: dict[str, str], server: HostileServer
) -> None:
    """A float beyond 2**53 - 1 may be another number rounded: refused before any request."""
    before = len(server.requests)
    sent = program_inputs(TASK_TYPE, {**CTR, "requested_generation": float(BIG)}, config)
    _, failures = process.check(TASK_TYPE, sent)
    assert ("requested_generation", f"generation {float(BIG)!r} is a float beyond 2**53 - 1,"
            " so it may be rounded; give it as an int or as text") in failures  # fmt: skip
    assert len(server.requests) == before


def test_an_answer_spelling_a_generation_as_a_rounded_float_keeps_state(
    process: ProviderProcess, config: dict[str, str], server: HostileServer
) -> None:
    id_, outs = deploy(process, config, TASK_TYPE, requested_generation=BIG)
    body = json.dumps(envelope(result=task(BIG) | {"generation": "@"}))
    spelled = body.replace('"@"', "9.007199254740993e15").encode()
    server.serve(json_reply(spelled), action="GetFunctionTask")

    with pytest.raises(ProviderError) as caught:
        process.read(TASK_TYPE, id_, outs)

    assert caught.value.details.startswith(f"FunctionTask my_app/ctr/ctr_test/{BIG}")
    assert "generation is 9007199254740992.0, a float beyond 2**53 - 1" in caught.value.details
