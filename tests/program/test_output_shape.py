"""The output shape is defined once (pulumi_opensearch_fn.core.outputs): the resources'
declared outputs and annotations, the data-source results and what a resource
sends its provider all follow it."""

from __future__ import annotations

import dataclasses

import pytest

from pulumi_opensearch_fn import (
    FunctionInstance,
    FunctionTask,
    GetFunctionInstanceResult,
    GetFunctionTaskResult,
)
from pulumi_opensearch_fn.core.outputs import (
    IDENTITY_FIELDS,
    INSTANCE_FIELDS,
    INSTANCE_OUTPUTS,
    TASK_FIELDS,
    TASK_OUTPUTS,
    VERDICT_FIELDS,
)

from .harness import APP, FN, READY


@pytest.mark.parametrize(
    ("resource", "outputs"), [(FunctionInstance, INSTANCE_OUTPUTS), (FunctionTask, TASK_OUTPUTS)]
)
def test_resource_annotations_follow_the_shape(resource, outputs):
    # Its own annotations: pulumi.Output[...] of each output, nothing more, nothing less.
    annotated = set(resource.__annotations__)
    assert annotated == {*IDENTITY_FIELDS, *outputs}


@pytest.mark.parametrize(
    ("result", "fields"),
    [(GetFunctionInstanceResult, INSTANCE_FIELDS), (GetFunctionTaskResult, TASK_FIELDS)],
)
def test_data_source_results_follow_the_shape(result, fields):
    names = [f.name for f in dataclasses.fields(result)]
    assert names == ["id", *IDENTITY_FIELDS, *fields, *VERDICT_FIELDS]


def test_a_resource_sends_every_output_it_saw(program, mocks):
    program.run(lambda: (FunctionInstance("model", APP, FN, READY),
                         FunctionTask("task", APP, FN, READY, 2)))  # fmt: skip

    by_name = {r.name: r for r in mocks.resources}
    for name, outputs in (("model", INSTANCE_OUTPUTS), ("task", TASK_OUTPUTS)):
        sent = set(by_name[name].inputs)
        # Only fields the API left empty (None) are not sent.
        missing = {key for key in outputs if key not in sent}
        assert missing <= {"latest_task_extend_info", "belongs", "create_time"}, missing
