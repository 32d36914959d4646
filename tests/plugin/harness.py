"""Drives the `pulumi-resource-opensearch-fn` executable over gRPC, as the engine does,
with a stand-in engine on loopback that records the lines the plugin logs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import proto
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from pulumi_opensearch_fn.plugin import schema
from pulumi_opensearch_fn.plugin.values import plain, wrap

PLUGIN = Path(sys.executable).parent / "pulumi-resource-opensearch-fn"
# The custom resources the engine drives (a component's state; declared alone, as import
# prints them, they read in check), and the components the program registers.
INSTANCE = schema.INSTANCE_STATE
TASK = schema.TASK_STATE
COMPONENTS = {INSTANCE: schema.INSTANCE, TASK: schema.TASK}
STACK_URN = "urn:pulumi:test::test::pulumi:pulumi:Stack::test-test"
# Variables the plugin could take settings or credentials from: tests set their own.
_OURS = ("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
SEVERITY = {engine_pb2.DEBUG: "debug", engine_pb2.INFO: "info", engine_pb2.WARNING: "warning",
            engine_pb2.ERROR: "error"}  # fmt: skip


def urn(type_: str, name: str = "res") -> str:
    return f"urn:pulumi:test::test::{type_}::{name}"


def struct(values: dict[str, Any], secret: tuple[str, ...] = ()) -> Any:
    """Plain values as the engine sends them; the keys in `secret` as secrets."""
    wrapped = wrap(values)
    wrapped = {k: v.with_secret(True) if k in secret else v for k, v in wrapped.items()}
    return PropertyValue.marshal_map(wrapped)


def unstruct(value: Any) -> dict[str, Any]:
    return plain(PropertyValue.unmarshal_map(value))[0]


def secret_keys(value: Any) -> set[str]:
    return {k for k, v in PropertyValue.unmarshal_map(value).items() if v.contains_secret()}


class Engine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service, recording (severity, message, urn)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        engine_pb2_grpc.add_EngineServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def Log(self, request: Any, context: Any) -> Any:  # the gRPC method's name
        with self._lock:
            self.lines.append((SEVERITY[request.severity], request.message, request.urn))
        return empty_pb2.Empty()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def text(self) -> str:
        with self._lock:
            return "\n".join(f"{level}: {message}" for level, message, _ in self.lines)

    def close(self) -> None:
        self.server.stop(grace=None)


class Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The engine's resource monitor, as a Construct sees it: records each registration
    (type, name, parent URN, inputs) and each component's registered outputs."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, str, str, dict[str, Any]]] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # the gRPC method's name
        return resource_pb2.SupportsFeatureResponse(hasSupport=True)  # as the engine does

    def RegisterResource(self, request: Any, context: Any) -> Any:
        parent_type = request.parent.split("::")[2] if request.parent else ""
        qualified = request.type if parent_type in ("", "pulumi:pulumi:Stack") else (
            f"{parent_type}${request.type}"
        )  # fmt: skip
        urn_ = f"urn:pulumi:test::test::{qualified}::{request.name}"
        with self._lock:
            self.registered.append((request.type, request.name, request.parent,
                                    unstruct(request.object)))  # fmt: skip
        return resource_pb2.RegisterResourceResponse(
            urn=urn_, id=request.name if request.custom else "", object=request.object
        )

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.outputs[request.urn] = unstruct(request.outputs)
        return empty_pb2.Empty()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.stop(grace=None)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS) and k not in _PROXIES}
    return env | {"NO_PROXY": "127.0.0.1,localhost"} | (extra or {})


class PluginError(Exception):
    def __init__(self, error: grpc.RpcError) -> None:
        self.details = error.details() or ""
        self.code = error.code()
        # Bad input in a Construct: (property, reason) per problem, as the engine shows them.
        self.properties: list[tuple[str, str]] = []
        for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
            if key == "grpc-status-details-bin":
                for detail in status_pb2.Status.FromString(value).details:
                    found = errors_pb2.InputPropertiesError()
                    if detail.Unpack(found):
                        self.properties += [(e.property_path, e.reason) for e in found.errors]
        super().__init__(self.details)


class Plugin:
    """One plugin process (what the engine starts for one run), and its engine."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.engine = Engine()
        self.monitor = Monitor()
        self.proc = subprocess.Popen(
            [str(PLUGIN), self.engine.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=clean_env(env),
            text=True,
        )
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        """Stops the process; returns its stderr (the engine shows it to users)."""
        self.channel.close()
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.engine.close()
        self.monitor.close()
        return err

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as error:
            raise PluginError(error) from None

    # -- the calls, with plain values --------------------------------------------------

    def schema(self) -> str:
        return self.call("GetSchema", proto.GetSchemaRequest(version=0)).schema

    def check_config(self, config: dict[str, Any], secret: tuple[str, ...] = ()):
        response = self.call(
            "CheckConfig",
            proto.CheckRequest(urn=urn("pulumi:providers:opensearch-fn", "default"),
                               olds=struct({}), news=struct(config, secret)),
        )  # fmt: skip
        failures = [(f.property, f.reason) for f in response.failures]
        return unstruct(response.inputs), secret_keys(response.inputs), failures

    def configure(self, config: dict[str, Any], secret: tuple[str, ...] = ()) -> None:
        self.call(
            "Configure",
            proto.ConfigureRequest(args=struct(config, secret), acceptSecrets=True),
        )

    def check(self, type_: str, news: dict[str, Any], olds: dict[str, Any] | None = None,
              name: str = "res"):  # fmt: skip
        response = self.call(
            "Check",
            proto.CheckRequest(urn=urn(type_, name), olds=struct(olds or {}), news=struct(news)),
        )
        return unstruct(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any],
             name: str = "res"):  # fmt: skip
        return self.call(
            "Diff",
            proto.DiffRequest(id=id_, urn=urn(type_, name), olds=struct(olds), news=struct(news)),
        )

    def create(self, type_: str, props: dict[str, Any], *, preview: bool = False,
               name: str = "res"):  # fmt: skip
        response = self.call(
            "Create",
            proto.CreateRequest(urn=urn(type_, name), properties=struct(props), preview=preview),
        )
        return response.id, unstruct(response.properties)

    def update(self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any], *,
               preview: bool = False, name: str = "res"):  # fmt: skip
        response = self.call(
            "Update",
            proto.UpdateRequest(id=id_, urn=urn(type_, name), olds=struct(olds),
                                news=struct(news), preview=preview),
        )  # fmt: skip
        return unstruct(response.properties)

    def read(self, type_: str, id_: str, props: dict[str, Any] | None = None,
             inputs: dict[str, Any] | None = None, name: str = "res"):  # fmt: skip
        response = self.call(
            "Read",
            proto.ReadRequest(id=id_, urn=urn(type_, name), properties=struct(props or {}),
                              inputs=struct(inputs or {})),
        )  # fmt: skip
        return response.id, unstruct(response.properties), unstruct(response.inputs)

    def construct(self, type_: str, inputs: dict[str, Any], *, preview: bool = False,
                  name: str = "res"):  # fmt: skip
        """A program's registration of a component: (its URN, its outputs)."""
        response = self.call(
            "Construct",
            proto.ConstructRequest(
                project="test", stack="test", organization="organization", dryRun=preview,
                monitorEndpoint=self.monitor.address, type=COMPONENTS.get(type_, type_),
                name=name, parent=STACK_URN, inputs=struct(inputs),
            ),
        )  # fmt: skip
        return response.urn, unstruct(response.state)

    def invoke(self, token: str, args: dict[str, Any]):
        response = self.call("Invoke", proto.InvokeRequest(tok=token, args=struct(args)))
        failures = [(f.property, f.reason) for f in response.failures]
        return unstruct(getattr(response, "return")), failures

    def deploy(self, type_: str, inputs: dict[str, Any], name: str = "res"):
        """check, then create (an `up` of a new resource): (id, checked inputs, outputs)."""
        checked, failures = self.check(type_, inputs, name=name)
        assert failures == []
        id_, outs = self.create(type_, checked, name=name)
        return id_, checked, outs
