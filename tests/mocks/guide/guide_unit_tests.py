"""Unit tests exactly as Pulumi's testing guide writes them: mocks first, then the
program imported at module level, then `@pulumi.runtime.test` functions.

`set_mocks` is process-wide, so tests/mocks/test_guide_pattern.py runs this module in
a fresh interpreter, with `preview=False` and with `preview=True` (GUIDE_PREVIEW=1),
and checks that no connection reached the stack's endpoint.
"""

import os

import pulumi
import pytest

# Tokens of the provider package's schema; answers in its camelCase.
GET_INSTANCE = "opensearch-fn:index:getFunctionInstance"
GET_LATEST = "opensearch-fn:index:getLatestFunctionTask"
GATE_FAILED = (
    "FunctionInstance my_app/ctr/ctr_broken: expectations not met:"
    " status: expected available, saw unavailable"
)


class ModelMocks(pulumi.runtime.Mocks):
    """ctr_test is available with generation 3 trained; ctr_broken is unavailable."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return [args.name + "_id", args.inputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        name = args.args["instanceName"]
        if args.token == GET_INSTANCE:
            status = "available" if name == "ctr_test" else "unavailable"
            return {"status": status, "latestGeneration": 3, "latestTaskStatus": "success"}
        if args.token == GET_LATEST:
            return {"generation": 3, "status": "success", "metrics": {"recall": 91}}
        return {}


pulumi.runtime.set_mocks(ModelMocks(), preview=os.environ.get("GUIDE_PREVIEW") == "1")

import infra  # noqa: E402  (constructs the program's resources)

from pulumi_opensearch_fn import Expect, FunctionInstance, GateFailedError  # noqa: E402


@pulumi.runtime.test
def test_the_gated_model_is_ready():
    def check(args):
        status, generation, ready, unmet = args
        assert (status, generation, ready, unmet) == ("available", 3, True, [])

    return pulumi.Output.all(
        infra.ctr.status, infra.ctr.latest_generation, infra.ctr.ready, infra.ctr.unmet
    ).apply(check)


@pulumi.runtime.test
def test_the_latest_task_resource_reads_the_mocks():
    def check(args):
        generation, status, metrics = args
        assert (generation, status, metrics) == (3, "success", {"recall": 91})

    return pulumi.Output.all(
        infra.latest.generation, infra.latest.status, infra.latest.metrics
    ).apply(check)


@pulumi.runtime.test
def test_data_sources_return_their_result_classes():
    assert (infra.instance.status, infra.instance.ready) == ("available", True)

    def check(task):
        assert (task.id, task.generation, task.metrics) == (
            "my_app/ctr/ctr_test/3",
            3,
            {"recall": 91},
        )

    return infra.task.apply(check)


@pulumi.runtime.test
def test_a_ready_model_passes_a_gate():
    model = FunctionInstance(
        "ready", "my_app", "ctr", "ctr_test", expect=Expect(status="available")
    )
    return model.ready.apply(lambda ready: pytest.fail("not ready") if ready is not True else None)


def test_a_model_that_is_not_ready_stops_the_stack():
    @pulumi.runtime.test
    def deploy():
        gated = FunctionInstance(
            "broken", "my_app", "ctr", "ctr_broken", expect=Expect(status="available")
        )
        return gated.urn

    with pytest.raises(GateFailedError) as failed:
        deploy()
    assert failed.value.reason == GATE_FAILED
