"""The program under test, as a user writes it: a gate on a model, its latest training
task, and two data sources (one read while the program is imported)."""

import pulumi

from pulumi_opensearch_fn import (
    Expect,
    FunctionInstance,
    FunctionTask,
    get_function_instance,
    get_latest_function_task_output,
)

ctr = FunctionInstance("ctr", "my_app", "ctr", "ctr_test", expect=Expect(status="available"))
latest = FunctionTask(
    "ctr-latest", "my_app", "ctr", "ctr_test", expect=Expect(task_status="success")
)
task = get_latest_function_task_output(
    "my_app", "ctr", "ctr_test", opts=pulumi.InvokeOutputOptions(depends_on=[ctr])
)
instance = get_function_instance("my_app", "ctr", "ctr_test")

pulumi.export("status", ctr.status)
pulumi.export("recall", task.apply(lambda t: t.metrics["recall"]))
