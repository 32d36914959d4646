"""Track an instance and its latest training generation for scheduled drift checks:

    pulumi preview --refresh --expect-no-changes    # exit 7 when the model moved

Tracked: the instance's status, version, latest generation and its status.
Progress of a running task is not drift.
"""

import pulumi

from pulumi_opensearch_fn import FunctionInstance, FunctionTask

config = pulumi.Config()
app = config.get("app") or "my_app"
function = config.get("function") or "ctr"
instance_name = config.get("instance") or "ctr_test"

instance = FunctionInstance("model", app, function, instance_name)
latest = FunctionTask("latest-task", app, function, instance_name, "latest")

pulumi.export("status", instance.status)
pulumi.export("version", instance.version_id)
pulumi.export("generation", latest.generation)
pulumi.export("task_status", latest.status)
