"""Read a function instance (a trained CTR model) and its latest training task."""

import pulumi

from pulumi_opensearch_fn import FunctionInstance, get_latest_function_task_output

config = pulumi.Config()
app = config.get("app") or "my_app"
function = config.get("function") or "ctr"
instance_name = config.get("instance") or "ctr_test"

# A read-only resource: read live on every preview and up, never changed in the cloud.
instance = FunctionInstance("model", app, function, instance_name)
# A data source: the latest training task (generation), read in the program.
latest = get_latest_function_task_output(app, function, instance_name)

pulumi.export("status", instance.status)
pulumi.export("version", instance.version_id)
pulumi.export("latest_generation", instance.latest_generation)
pulumi.export("latest_task_status", latest.status)
pulumi.export("metrics", latest.metrics)
pulumi.export("ready", instance.ready)
