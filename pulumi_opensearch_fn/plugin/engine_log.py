"""Lines for the user on a resource's row, through the engine's `Log` call.

The engine starts the plugin with its own address as the first argument. A line that
cannot go there (no engine, a closed one) goes to stderr, which the engine shows too.
Every line carries server text, so it goes through the one rule for text a person sees.
"""

from __future__ import annotations

import sys

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from ..api.safe_text import safe

LOG_TIMEOUT = 10.0  # seconds; a line is not worth holding a call longer


class EngineLog:
    def __init__(self, address: str | None) -> None:
        self._stub = None
        if address:
            self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))

    def say(self, severity: engine_pb2.LogSeverity.ValueType, message: str, urn: str = "") -> None:
        text = safe(message)
        if self._stub is not None:
            try:
                request = engine_pb2.LogRequest(severity=severity, message=text, urn=urn)
                self._stub.Log(request, timeout=LOG_TIMEOUT)
                return
            except grpc.RpcError:
                pass  # the engine is gone or busy: stderr still reaches the user
        prefixes = {engine_pb2.WARNING: "warning: ", engine_pb2.ERROR: "error: "}
        prefix = prefixes.get(severity, "")
        print(prefix + text, file=sys.stderr, flush=True)

    def on(self, urn: str) -> ResourceLog:
        return ResourceLog(self, urn)


class ResourceLog:
    """The lines of one resource (the `reads.Log` a read reports to)."""

    def __init__(self, log: EngineLog, urn: str) -> None:
        self._log = log
        self.urn = urn

    def info(self, message: str) -> None:
        self._log.say(engine_pb2.INFO, message, self.urn)

    def warn(self, message: str) -> None:
        self._log.say(engine_pb2.WARNING, message, self.urn)
