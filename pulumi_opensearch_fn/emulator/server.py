"""Run the emulator in a background thread: ``EmulatorServer``."""

from __future__ import annotations

import threading
from types import TracebackType

from .admin import EmulatorAdmin
from .admin_guard import check_token
from .app import EmulatorHTTPServer
from .core import Backend
from .faults import FaultInjector, RequestLog
from .responses import CASINGS, Casing
from .state import EmulatorState


class EmulatorServer:
    """The emulator on ``host:port`` (port 0 picks a free one), serving from a thread.

    ``state`` is shared, not copied: change it in-process (``server.state``) or
    over the admin API (``server.admin()``, an :class:`EmulatorAdmin` holding this
    run's ``admin_token``; a new random one unless given)::

        with EmulatorServer(sample_state(), casing="pascal") as server, server.admin() as admin:
            print(server.url)  # http://127.0.0.1:PORT
            admin.advance_clock(600)
    """

    def __init__(
        self,
        state: EmulatorState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        casing: Casing = "camel",
        admin_token: str | None = None,
    ) -> None:
        if casing not in CASINGS:
            raise ValueError(f"casing must be one of {', '.join(CASINGS)}")
        self.backend = Backend(state if state is not None else EmulatorState(), casing)
        if admin_token is not None:
            self.backend.admin_token = check_token(admin_token)
        self._host = host
        self._port = port
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- shared objects, for in-process use ---------------------------------

    @property
    def state(self) -> EmulatorState:
        return self.backend.state

    @property
    def faults(self) -> FaultInjector:
        return self.backend.faults

    @property
    def log(self) -> RequestLog:
        return self.backend.log

    @property
    def casing(self) -> Casing:
        return self.backend.casing

    @casing.setter
    def casing(self, value: Casing) -> None:
        if value not in CASINGS:
            raise ValueError(f"casing must be one of {', '.join(CASINGS)}")
        self.backend.casing = value

    @property
    def admin_token(self) -> str:
        """What the admin API wants as ``Authorization: Bearer TOKEN``."""
        return self.backend.admin_token

    def admin(self, *, timeout: float = 30.0) -> EmulatorAdmin:
        """An admin client for this server (close it, or use it as a context manager)."""
        return EmulatorAdmin(self.url, self.admin_token, timeout=timeout)

    # -- lifecycle --------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        return self._host

    @property
    def endpoint(self) -> str:
        """``host:port``, the form the official SDK's ``Config.endpoint`` takes."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.endpoint}"

    def start(self) -> EmulatorServer:
        """Bind and serve; raises OSError when the address is taken."""
        if self._httpd is not None:
            return self
        self._httpd = EmulatorHTTPServer(
            (self._host, self._port), self.backend, ipv6=":" in self._host
        )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"opensearch-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close open keep-alive connections, release the port."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
