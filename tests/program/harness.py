"""A Pulumi program run under a mocked engine and resource monitor, whose resources and
data sources read live, over HTTP, from a real emulator on loopback.

The monitor is `LiveReadMonitor`, not Pulumi's `MockMonitor`: under a `MockMonitor`
(users' unit tests) the package answers reads from `Mocks.call` instead."""

from __future__ import annotations

import base64
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import dill
import pulumi
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor

APP, FN = "my_app", "ctr"
READY, TRAINING, BROKEN = "ctr_test", "ctr_training", "ctr_broken"
AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
SECRET_KEYS = ["opensearch-fn:accessKeySecret"]
PROJECT = "program-tests"
STACK = "dev"
UPSTREAM_TYPE = "test:index:Upstream"


class RecordingMocks(Mocks):
    """Records what reaches the mocked monitor.

    In preview a resource gets no id and no outputs (all unknown, as for a resource
    about to be created); in up its outputs echo its inputs and its id is `<name>-id`.
    """

    def __init__(self) -> None:
        self.preview = False
        self.resources: list[MockResourceArgs] = []
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        if self.preview:
            return "", {}
        outputs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        return args.resource_id or f"{args.name}-id", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        return {}, None

    def registered(self, typ: str) -> list[MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]


class LiveReadMonitor:
    """Pulumi's mock resource monitor, under a class of its own: the package reads live
    under it, as under the engine's monitor, while `mocks` records what it is sent."""

    def __init__(self, mocks: Mocks) -> None:
        self._monitor = MockMonitor(mocks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._monitor, name)


class Upstream(pulumi.CustomResource):
    """Any resource whose output feeds a data source: `value` is unknown in preview."""

    value: pulumi.Output[Any]

    def __init__(self, name: str, value: Any) -> None:
        super().__init__(UPSTREAM_TYPE, name, {"value": value})


class EngineLog(logging.Handler):
    """What the program logged to the (mock) engine."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    @property
    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.WARNING]


@dataclass
class Settled:
    """An Output after the program's event loop resolved it."""

    known: bool
    secret: bool
    value: Any
    resources: set[pulumi.Resource] = field(default_factory=set)


async def settle(output: Any) -> Settled:
    out = pulumi.Output.from_input(output)
    return Settled(
        known=await out.is_known(),
        secret=await out.is_secret(),
        value=await out.future(with_unknowns=True),
        resources=await out.resources(),
    )


class Program:
    """Runs program bodies under mocks; `run` returns what the body returned."""

    def __init__(self, mocks: RecordingMocks, logger: logging.Logger) -> None:
        self.mocks = mocks
        self.logger = logger

    def install(self, *, preview: bool = False) -> None:
        """The mocked engine and monitor (see LiveReadMonitor), for a program to start."""
        pulumi.runtime.reset_options(project=PROJECT, stack=STACK, preview=preview)
        self.mocks.preview = preview
        pulumi.runtime.set_mocks(
            self.mocks,
            project=PROJECT,
            stack=STACK,
            preview=preview,
            logger=self.logger,
            monitor=LiveReadMonitor(self.mocks),  # type: ignore[arg-type]
        )

    def run(self, body: Callable[[], Awaitable[Any] | Any], *, preview: bool = False) -> Any:
        self.install(preview=preview)
        box: dict[str, Any] = {}

        async def main() -> None:
            value = body()
            if inspect.isawaitable(value):
                value = await value
            box["value"] = value

        @pulumi.runtime.test
        def program() -> pulumi.Output[None]:
            return pulumi.Output.from_input(main())

        program()
        return box.get("value")


def provider_check(args: MockResourceArgs, config: dict[str, str]) -> Any:
    """What the resource's own provider (unpickled from the registered inputs, as the
    engine's dynamic provider host does) says in `check` for those inputs."""
    provider = dill.loads(base64.b64decode(args.inputs["__provider"]))
    provider.configure(ConfigureRequest(Config(raw_config=dict(config), project_name=PROJECT)))
    return provider.check({}, dict(args.inputs))


def failed_registration(
    program: Program,
    mocks: RecordingMocks,
    engine_log: EngineLog,
    body: Callable[[], Any],
    *,
    preview: bool = True,
) -> str:
    """Runs `body`, whose resource must fail: the program fails without registering it (so
    nothing depending on it can be registered), and its row shows why in one error line."""
    import pytest

    from pulumi_opensearch_fn.resources import GateFailedError

    with pytest.raises(GateFailedError) as caught:
        program.run(body, preview=preview)
    assert isinstance(caught.value, pulumi.RunError)
    assert "nothing that depends on it goes ahead" in str(caught.value)
    assert mocks.resources == [], "a failed resource was registered"
    [reason] = engine_log.messages(logging.ERROR)
    assert "\n" not in reason
    return reason
