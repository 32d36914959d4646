"""Reading a response body within the call's deadline and a size cap.

The cap counts decompressed bytes: a small gzip body can inflate a thousandfold,
so the body is decompressed here, never more than the cap at a time, instead of
by httpx. The deadline is checked after every chunk, so a server that drips a
byte at a time cannot hold a call past it (each read also has its own timeout).
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable

import httpx

from .errors import BadResponseError, DeadlineExceededError, InvalidInputError

# The largest real answer is a ListFunctionTasks page of 100 tasks, each with an
# extendInfo of evaluation metrics: well under 1 MB. 8 MiB leaves ample room.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_RESPONSE_BYTES_ENV = "OPENSEARCH_FN_MAX_RESPONSE_BYTES"

Decoder = Callable[[bytes, int], bytes]


def resolve_max_response_bytes(value: int | None) -> int:
    """The cap: `value`, else OPENSEARCH_FN_MAX_RESPONSE_BYTES, else the default."""
    source = "max_response_bytes"
    if value is None:
        text = os.environ.get(MAX_RESPONSE_BYTES_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_RESPONSE_BYTES
        source = MAX_RESPONSE_BYTES_ENV
        if not text.isdigit() or len(text) > 18:
            raise InvalidInputError(f"{source} must be a whole number of bytes, got {text[:40]!r}")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
        raise InvalidInputError(f"{source} must be a whole number of bytes >= 1024, got {value!r}")
    return value


def read_body(response: httpx.Response, action: str, *, deadline: float, limit: int) -> bytes:
    """The decompressed body of a streamed response; raises BadResponseError past
    `limit` bytes and DeadlineExceededError once monotonic time passes `deadline`."""
    decode = _decoder(action, response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if decode is None and declared.isdigit() and int(declared) > limit:
        raise _too_large(action, limit, response)
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw():
        room = limit - size
        data = decode(raw, room + 1) if decode is not None else raw
        size += len(data)
        if size > limit:
            raise _too_large(action, limit, response)
        chunks.append(data)
        if time.monotonic() > deadline:
            raise DeadlineExceededError(
                f"{action}: the answer was still arriving when the deadline passed"
                f" ({size} bytes read)",
                http_status=response.status_code,
            )
    return b"".join(chunks)


def _too_large(action: str, limit: int, response: httpx.Response) -> BadResponseError:
    return BadResponseError(
        f"{action}: the answer is larger than {limit} bytes (the limit; raise it with"
        f" max_response_bytes or {MAX_RESPONSE_BYTES_ENV})",
        http_status=response.status_code,
    )


def _decoder(action: str, encoding: str) -> Decoder | None:
    """None for an unencoded body; a bounded inflater for gzip or deflate."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in ("gzip", "x-gzip", "deflate"):
        raise BadResponseError(
            f"{action}: the answer is encoded as {encoding.strip()[:40]!r}, which was not asked for"
        )
    return _Inflater(action, name)


class _Inflater:
    """Inflates gzip or deflate, at most `max_length` bytes per call."""

    def __init__(self, action: str, name: str) -> None:
        self.action = action
        self.name = name
        # 32 + MAX_WBITS reads a gzip or a zlib header; some servers send raw deflate.
        self.inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self.started = False

    def __call__(self, data: bytes, max_length: int) -> bytes:
        try:
            out = self._inflate(data, max_length)
        except zlib.error:
            if self.started or self.name != "deflate":
                raise self._corrupt() from None
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                out = self._inflate(data, max_length)
            except zlib.error:
                raise self._corrupt() from None
        self.started = True
        return out

    def _inflate(self, data: bytes, max_length: int) -> bytes:
        # Input left over when max_length is reached stays in unconsumed_tail; the
        # caller stops there, since output beyond max_length means over the cap.
        out = self.inflater.decompress(data, max_length)
        # A gzip body may be several members back to back; read them all.
        while self.inflater.eof and self.inflater.unused_data and len(out) < max_length:
            rest = self.inflater.unused_data
            self.inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
            out += self.inflater.decompress(rest, max_length - len(out))
        return out

    def _corrupt(self) -> BadResponseError:
        return BadResponseError(f"{self.action}: the {self.name} body is corrupt")
