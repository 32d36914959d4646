"""A refresh parses each resource's expectations once."""

from __future__ import annotations

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_opensearch_fn.provider import FunctionInstanceProvider

from ..parses import Parses


def test_a_refresh_parses_each_resource_once(config, monkeypatch):
    provider = FunctionInstanceProvider()
    provider.configure(ConfigureRequest(Config(raw_config=config, project_name="p")))
    expect = {"task_status": "success", "metrics": ["recall >= 0"], "max_age": "3650d",
              "max_regression": ["recall 100%"], "enforce": False}  # fmt: skip
    stored = {"app_group": "my_app", "function_name": "ctr", "instance_name": "ctr_test",
              "expect": expect, "ready": True}  # fmt: skip
    parses = Parses(monkeypatch)

    for id_ in ("my_app/ctr/ctr_test", "my_app/ctr/ctr_test"):  # two resources, one process
        result = provider.read(id_, stored)
        assert result.id == id_

    assert parses.counts == {"threshold": 2, "limit": 2, "max_age": 2}
