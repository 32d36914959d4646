"""A loopback listener that records every connection it accepts: the proof that a
test's reads never left the process. Point the stack's endpoint at it; a live read
would connect (and then fail, as nothing is ever answered)."""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType

# The accept loop wakes this often to see whether it should stop; bounded below.
_TICK_SECONDS = 0.05
_MAX_TICKS = 20 * 60 * 30  # 30 minutes: far beyond any test's timeout


class LoopbackListener:
    """A bound, listening 127.0.0.1 socket; `accepted` lists the peers it accepted."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port: int = self._socket.getsockname()[1]
        self.accepted: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="loopback-listener", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        # Proves it is listening and recording, then starts from nothing.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10):
            pass
        if not self._connected.wait(10):
            raise RuntimeError("the loopback listener accepted no connection")
        self.accepted.clear()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._socket.close()

    def _accept(self) -> None:
        for _ in range(_MAX_TICKS):
            if self._stop.is_set():
                return
            ready, _, _ = select.select([self._socket], [], [], _TICK_SECONDS)
            if ready:
                connection, peer = self._socket.accept()
                self.accepted.append(peer)
                connection.close()
                self._connected.set()
