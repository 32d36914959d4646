"""The one way to build a client, and the one cache of clients (settings -> client).

Imported only where a request is made: the HTTP client is not needed to check inputs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api.client import OpenSearchFunctionClient
    from ..api.credentials import CredentialsProvider
    from ..api.limiter import RequestSlots
    from .config import Settings

_lock = threading.Lock()
_clients: dict[tuple[Settings, int, RequestSlots | None], OpenSearchFunctionClient] = {}


def new_client(
    settings: Settings,
    *,
    max_connections: int = 8,
    credentials: CredentialsProvider | None = None,
    request_slots: RequestSlots | None = None,
) -> OpenSearchFunctionClient:
    """A client for `settings`; `credentials` replaces theirs (a chain resolved up front)."""
    from ..api.client import OpenSearchFunctionClient

    return OpenSearchFunctionClient(
        region=settings.region,
        endpoint=settings.endpoint,
        credentials=credentials or settings.credentials,
        profile=None if credentials else settings.profile,
        max_connections=max_connections,
        request_slots=request_slots,
    )


def client_for(
    settings: Settings, *, max_connections: int = 8, request_slots: RequestSlots | None = None
) -> OpenSearchFunctionClient:
    """The process's client for `settings` (and slots): its connections are reused across reads."""
    key = (settings, max_connections, request_slots)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = new_client(
                settings, max_connections=max_connections, request_slots=request_slots
            )
        return client


def close_clients(
    endpoint: str | None = None, *, request_slots: RequestSlots | None = None
) -> None:
    """Closes the cached clients: those for `endpoint`, or holding `request_slots`
    (a finished program's), when given; all of them otherwise."""
    with _lock:
        stale = [
            key
            for key in _clients
            if (endpoint is None or key[0].endpoint == endpoint)
            and (request_slots is None or key[2] is request_slots)
        ]
        closing = [_clients.pop(key) for key in stale]
    for client in closing:
        client.close()
