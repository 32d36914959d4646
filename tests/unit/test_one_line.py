"""Every message the engine shows for a failed resource is one line (dynamic-provider
errors travel through gRPC and each line of theirs becomes a line of the run's output)."""

from __future__ import annotations

from pulumi_opensearch_fn.core.expectations import Result, describe_unmet


def test_unmet_expectations_are_one_line_whatever_the_api_saw():
    failed = [
        Result("no_task_errors", "no errors", "disk full\n  at step 3; OOM\r\nkilled", met=False),
        Result("status", "available", "unavailable", met=False),
    ]
    assert describe_unmet("FunctionInstance my_app/ctr/ctr_test", failed) == (
        "FunctionInstance my_app/ctr/ctr_test: expectations not met: "
        "no_task_errors: expected no errors, saw disk full at step 3; OOM killed; "
        "status: expected available, saw unavailable"
    )
