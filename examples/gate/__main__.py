"""Ship something only when the model it depends on is trained and good enough.

Stack config (project namespace `gate`):
  gate:app, gate:function, gate:instance   which instance (my_app / ctr / ctr_test)
  gate:minGeneration                       latest successful generation at least this (1)
  gate:minRecall                           recall threshold of that generation (90)
  gate:wait                                "true" to wait on `up` until the model is ready
  gate:timeout, gate:interval              how long and how often to poll (10m / 5s)
  gate:enforce                             "false" to only warn and export ready=false
"""

import pulumi
import pulumi.dynamic

from pulumi_opensearch_fn import Expect, FunctionInstance, Wait

config = pulumi.Config()
app = config.get("app") or "my_app"
function = config.get("function") or "ctr"
instance_name = config.get("instance") or "ctr_test"

expect = Expect(
    status="available",
    min_generation=config.get_int("minGeneration") or 1,
    metrics={"recall": f">= {config.get_float('minRecall') or 90:g}"},
    no_task_errors=True,
    enforce=config.get_bool("enforce") is not False,
)
wait = (
    Wait(timeout=config.get("timeout") or "10m", interval=config.get("interval") or "5s")
    if config.get_bool("wait")
    else None
)

model = FunctionInstance("model", app, function, instance_name, expect=expect, wait=wait)


class _ReleaseProvider(pulumi.dynamic.ResourceProvider):
    """Stands in for whatever the model gates: search config, a service rollout ..."""

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(f"release-{int(props['generation'] or 0)}", props)

    def diff(self, _id: str, olds: dict, news: dict) -> pulumi.dynamic.DiffResult:
        return pulumi.dynamic.DiffResult(changes=olds.get("generation") != news.get("generation"))

    def update(self, _id: str, _olds: dict, news: dict) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(news)


class Release(pulumi.dynamic.Resource):
    generation: pulumi.Output[int]

    def __init__(
        self, name: str, generation: pulumi.Input[int], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(_ReleaseProvider(), name, {"generation": generation}, opts)


# Runs only after the gate passed: it depends on the model.
release = Release(
    "search-config",
    model.latest_success_generation,
    pulumi.ResourceOptions(depends_on=[model]),
)

pulumi.export("ready", model.ready)
pulumi.export("unmet", model.unmet)
pulumi.export("status", model.status)
pulumi.export("latest_success_generation", model.latest_success_generation)
pulumi.export("released_generation", release.generation)
