"""Stack config set in-process with `pulumi.runtime.set_all_config`, as Automation API
inline programs (and set_mocks tests) do, instead of the language host's environment."""

from __future__ import annotations

import pulumi
import pytest

import pulumi_opensearch_fn as fn

from .harness import APP, FN, READY, SECRET_KEYS, settle


@pytest.fixture
def inline_program(bare_program, stack_config):
    pulumi.runtime.set_all_config(dict(stack_config), SECRET_KEYS)
    return bare_program


def test_plain_data_source_reads_in_process_config(inline_program, admin):
    result = inline_program.run(lambda: fn.get_function_instance(APP, FN, READY))

    assert result.version_id == 3
    assert [r["accessKeyId"] for r in admin.requests()] == ["LTAI-emulator-demo"]


def test_set_config_key_by_key(bare_program, stack_config, admin):
    for key, value in stack_config.items():
        pulumi.runtime.set_config(key, value)

    result = bare_program.run(lambda: fn.get_function_task(APP, FN, READY, generation=1))

    assert result.generation == 1
    assert len(admin.requests()) == 1


@pytest.mark.parametrize(
    "twin",
    [
        lambda: fn.get_function_instance_output(APP, FN, READY),
        lambda: fn.get_function_task_output(APP, FN, READY, generation=1),
        lambda: fn.get_latest_function_task_output(APP, FN, READY),
        lambda: fn.get_function_tasks_output(APP, FN, READY),
    ],
    ids=["instance", "task", "latest", "tasks"],
)
def test_output_twin_reads_in_process_config(inline_program, admin, twin):
    async def body():
        return await settle(twin())

    settled = inline_program.run(body)

    assert settled.known
    assert settled.value.instance_name == READY
    assert [r["accessKeyId"] for r in admin.requests()][:1] == ["LTAI-emulator-demo"]


def test_output_twin_prefers_stack_config_over_environment(
    inline_program, admin, emulator, monkeypatch
):
    monkeypatch.setenv("OPENSEARCH_FN_ENDPOINT", emulator.url)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.emulator-demo")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-demo-sts-secret")
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "emulator-demo-sts-token")

    async def body():
        return fn.get_function_instance(APP, FN, READY), await settle(
            fn.get_function_instance_output(APP, FN, READY)
        )

    plain, twin = inline_program.run(body)

    assert twin.value == plain
    assert [r["accessKeyId"] for r in admin.requests()] == ["LTAI-emulator-demo"] * 2
