"""`pulumi-resource-opensearch-fn`: the plugin executable the Pulumi CLI starts.

It serves the provider over gRPC on a loopback port and prints the port as its first
line, as every Pulumi plugin does. The SDK's servicer answers a failed call with the
Python traceback in the message; for this package's own errors (an API error on
refresh, an unmet gate, bad input), which already say everything, the user gets the
message alone. Any other error keeps its traceback: that is what a bug report needs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from ..api.errors import OpenSearchFnError
from ..api.safe_text import safe
from .engine_log import EngineLog
from .provider import OpenSearchFnProvider
from .schema import package_version

_CALLS = (
    "Construct", "GetSchema", "CheckConfig", "DiffConfig", "Configure", "Check", "Diff", "Create",
    "Read", "Update", "Delete", "Invoke",
)  # fmt: skip

Handler = Callable[[Any, Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def _plain_errors(name: str, call: Handler) -> Handler:
    async def handle(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await call(self, request, context)
        except Exception as error:
            # The SDK re-raises as Exception(message + traceback), from the original.
            original = error.__context__ if type(error) is Exception else error
            if isinstance(original, OpenSearchFnError):
                await context.abort(grpc.StatusCode.UNKNOWN, safe(str(original)))
            raise

    handle.__name__ = name
    return handle


class PluginServicer(ProviderServicer):
    """The SDK's servicer, with this package's errors as their messages alone."""


for _name in _CALLS:
    setattr(PluginServicer, _name, _plain_errors(_name, getattr(ProviderServicer, _name)))


async def serve(engine_address: str | None, args: list[str]) -> None:
    provider = OpenSearchFnProvider(EngineLog(engine_address))
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = PluginServicer(args, package_version(), provider, engine_address or "")
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def main() -> None:
    args = sys.argv[1:]
    parser = argparse.ArgumentParser(prog="pulumi-resource-opensearch-fn")
    parser.add_argument("engine", nargs="?", help="the Pulumi engine's address")
    known, _ = parser.parse_known_args(args)  # --logtostderr, -v=N ...: the engine's flags
    with contextlib.suppress(KeyboardInterrupt):  # the engine is done with it
        asyncio.run(serve(known.engine, args))


if __name__ == "__main__":
    main()
