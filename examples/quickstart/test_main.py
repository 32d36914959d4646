"""Unit tests of the quickstart, written as Pulumi's testing guide writes them: the mocks,
then the program, then `@pulumi.runtime.test` functions.

    python -m pytest examples/quickstart

No Pulumi CLI, no credentials, and no request leaves the process: under
`pulumi.runtime.set_mocks` every read is a `Mocks.call` of the provider package's token
(`opensearch-fn:index:getFunctionInstance`, `...:getLatestFunctionTask`, ...), answered
here in the schema's camelCase, and a resource's outputs are what `new_resource`
returns (here its inputs, which hold what its read saw). See README.md, "Testing your
stack".
"""

import runpy
from pathlib import Path

import pulumi
import pytest

# What the service would say about each instance (the outputs, in camelCase).
INSTANCES = {
    "ctr_test": {
        "status": "available",
        "versionId": 3,
        "latestGeneration": 3,
        "latestTaskStatus": "success",
        "latestTaskMetrics": {"recall": 91, "precision": 88, "auc": 0.87},
    },
    "ctr_broken": {
        "status": "unavailable",
        "versionId": 0,
        "latestGeneration": 1,
        "latestTaskStatus": "failed",
        "latestTaskErrors": ["DATA_NOT_ENOUGH: behavior table has too few rows"],
    },
}
LATEST_TASKS = {
    "ctr_test": {"generation": 3, "status": "success", "metrics": {"recall": 91, "auc": 0.87}},
}


class QuickstartMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return [args.name + "_id", args.inputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        name = args.args["instanceName"]
        if args.token == "opensearch-fn:index:getFunctionInstance":
            return INSTANCES[name]
        if args.token == "opensearch-fn:index:getLatestFunctionTask":
            return LATEST_TASKS.get(name, {})  # {}: the instance has no task yet
        return {}


pulumi.runtime.set_mocks(QuickstartMocks(), preview=False)

# The program under test, run as Pulumi runs it (the guide's `import infra`).
program = runpy.run_path(str(Path(__file__).with_name("__main__.py")))

from pulumi_opensearch_fn import Expect, FunctionInstance, GateFailedError  # noqa: E402


@pulumi.runtime.test
def test_the_model_is_read_from_the_mocks():
    model = program["instance"]

    def check(args):
        status, version, generation, ready = args
        assert (status, version, generation, ready) == ("available", 3, 3, True)

    return pulumi.Output.all(
        model.status, model.version_id, model.latest_generation, model.ready
    ).apply(check)


@pulumi.runtime.test
def test_the_latest_task_is_read_from_the_mocks():
    def check(task):
        assert (task.generation, task.status) == (3, "success")
        assert task.metrics == {"recall": 91, "auc": 0.87}

    return program["latest"].apply(check)


@pulumi.runtime.test
def test_a_ready_model_passes_its_gate():
    gate = FunctionInstance(
        "gate", "my_app", "ctr", "ctr_test", expect=Expect(status="available", min_generation=3)
    )

    def check(args):
        ready, unmet = args
        assert (ready, unmet) == (True, [])

    return pulumi.Output.all(gate.ready, gate.unmet).apply(check)


def test_a_model_that_is_not_ready_stops_the_stack():
    @pulumi.runtime.test
    def deploy():
        gate = FunctionInstance(
            "gate-broken", "my_app", "ctr", "ctr_broken", expect=Expect(status="available")
        )
        return gate.urn

    # The gate fails the program before the resource is registered, as `pulumi up` does;
    # `reason` is the line its row would show.
    with pytest.raises(GateFailedError) as failed:
        deploy()
    assert failed.value.reason == (
        "FunctionInstance my_app/ctr/ctr_broken: expectations not met:"
        " status: expected available, saw unavailable"
    )
