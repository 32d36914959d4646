"""Drives the real `python -m pulumi.dynamic` provider server over gRPC, as the engine does."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from pulumi_opensearch_fn.provider import FunctionInstanceProvider, FunctionTaskProvider

INSTANCE_TYPE = "pulumi-python:dynamic/opensearch:FunctionInstance"
TASK_TYPE = "pulumi-python:dynamic/opensearch:FunctionTask"
BLOBS = {
    INSTANCE_TYPE: serialize_provider(FunctionInstanceProvider()),
    TASK_TYPE: serialize_provider(FunctionTaskProvider()),
}


def serialize(props: dict[str, Any]) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


def deserialize(struct: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct, keep_unknowns=True)


class ProviderError(Exception):
    def __init__(self, error: grpc.RpcError) -> None:
        self.details = error.details() or ""
        super().__init__(self.details)


class ProviderProcess:
    """One provider process: what the engine starts for one run."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "PULUMI_PROJECT": "test", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            text=True,
        )
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> str:
        """Stops the process and returns what it wrote to stderr (shown to users by the engine)."""
        self.channel.close()
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as error:
            raise ProviderError(error) from None

    def configure(self, config: dict[str, str]) -> None:
        self._call("Configure", proto.ConfigureRequest(args=serialize(config)))

    def check(self, type_: str, news: dict[str, Any], olds: dict[str, Any] | None = None):
        news = {**news, "__provider": BLOBS[type_]}
        olds = {**(olds or {}), "__provider": BLOBS[type_]} if olds else {}
        response = self._call(
            "Check",
            proto.CheckRequest(urn=_urn(type_), olds=serialize(olds), news=serialize(news)),
        )
        failures = [(f.property, f.reason) for f in response.failures]
        return deserialize(response.inputs), failures

    def diff(self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]):
        response = self._call(
            "Diff",
            proto.DiffRequest(
                id=id_,
                urn=_urn(type_),
                olds=serialize({**olds, "__provider": BLOBS[type_]}),
                news=serialize({**news, "__provider": BLOBS[type_]}),
            ),
        )
        return response

    def create(self, type_: str, props: dict[str, Any]):
        response = self._call(
            "Create",
            proto.CreateRequest(
                urn=_urn(type_), properties=serialize({**props, "__provider": BLOBS[type_]})
            ),
        )
        return response.id, deserialize(response.properties)

    def update(self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]):
        response = self._call(
            "Update",
            proto.UpdateRequest(
                id=id_,
                urn=_urn(type_),
                olds=serialize({**olds, "__provider": BLOBS[type_]}),
                news=serialize({**news, "__provider": BLOBS[type_]}),
            ),
        )
        return deserialize(response.properties)

    def read(self, type_: str, id_: str, props: dict[str, Any] | None = None,
             inputs: dict[str, Any] | None = None):  # fmt: skip
        response = self._call(
            "Read",
            proto.ReadRequest(
                id=id_,
                urn=_urn(type_),
                properties=serialize({**props, "__provider": BLOBS[type_]}) if props else None,
                inputs=serialize({**(inputs or {}), "__provider": BLOBS[type_]}),
            ),
        )
        new_inputs = deserialize(response.inputs) if response.HasField("inputs") else None
        return response.id, deserialize(response.properties), new_inputs

    def delete(self, type_: str, id_: str, props: dict[str, Any]) -> None:
        self._call(
            "Delete",
            proto.DeleteRequest(
                id=id_, urn=_urn(type_), properties=serialize({**props, "__provider": BLOBS[type_]})
            ),
        )


def _urn(type_: str) -> str:
    return f"urn:pulumi:test::test::{type_}::res"


def strip_provider(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != "__provider"}


class RecordedLog:
    """Where the program's read logs, for a resource's row."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def warn(self, message: str) -> None:
        self.lines.append(("warning", message))

    def text(self) -> str:
        return "\n".join(f"{level}: {message}" for level, message in self.lines)


KINDS = {INSTANCE_TYPE: "FunctionInstance", TASK_TYPE: "FunctionTask"}


def program_inputs(
    type_: str,
    inputs: dict[str, Any],
    config: dict[str, str],
    *,
    dry_run: bool = False,
    log: RecordedLog | None = None,
) -> dict[str, Any]:
    """What the program registers for a resource with `inputs`: its read runs here, as in
    the program (`reads.begin_read`), and what it saw joins the inputs. Whole numbers
    beyond 2**53 - 1 go as text, as the resources send them (`outputs.for_engine`)."""
    from pulumi_opensearch_fn.core.outputs import for_engine
    from pulumi_opensearch_fn.core.request import GATE
    from pulumi_opensearch_fn.reads import begin_read

    inputs = for_engine(inputs)

    async def read() -> Any:
        return await begin_read(
            KINDS[type_], inputs, dry_run=dry_run, log=log or RecordedLog(), config=config
        )

    reading = asyncio.run(read())
    sent = {**inputs, **reading.outputs(), GATE: reading.gate}
    return {k: v for k, v in sent.items() if v is not None}  # as the SDK sends them
