"""``EmulatorServer``: the emulator on a loopback port, serving from a thread."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Literal

from .admin import EmulatorAdmin
from .admin_api import CASINGS, check_token, new_token
from .app import EmulatorHTTPServer
from .clock import ClockSteps
from .faults import FaultInjector, Redactor, RequestLog
from .state import EmulatorState
from .verify import Verifier

Casing = Literal["camel", "pascal"]


class EmulatorServer:
    """The emulator on ``host:port`` (port 0 picks a free one).

    Its parts are shared, not copied: change ``state``, ``faults``, ``log`` and
    ``casing`` in-process, or over the admin API (``server.admin()``, a client holding
    this run's ``admin_token``, a random one unless given)::

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
        self.state = state if state is not None else EmulatorState()
        self.casing = casing
        self.admin_token = new_token() if admin_token is None else check_token(admin_token)
        self.clock_steps = ClockSteps()
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.verifier = Verifier(self.state)
        self._redactor: tuple[tuple[str, ...], Redactor] = ((), Redactor(()))
        self._address = (host, port)
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def casing(self) -> Casing:
        """``camel`` (the service's documentation) or ``pascal`` (the official SDK)."""
        return self._casing

    @casing.setter
    def casing(self, value: Casing) -> None:
        if value not in CASINGS:
            raise ValueError(f"casing must be one of {', '.join(CASINGS)}")
        self._casing = value

    def redactor(self) -> Redactor:
        """Removes every secret the state holds now; rebuilt only when credentials change."""
        secrets = self.state.secret_values()
        if secrets != self._redactor[0]:
            self._redactor = (secrets, Redactor(secrets))
        return self._redactor[1]

    def admin(self, *, timeout: float = 30.0) -> EmulatorAdmin:
        """An admin client for this server (close it, or use it as a context manager)."""
        return EmulatorAdmin(self.url, self.admin_token, timeout=timeout)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def endpoint(self) -> str:
        """``host:port``, the form the official SDK's ``Config.endpoint`` takes."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.endpoint}"

    def start(self) -> EmulatorServer:
        """Bind and serve; raises OSError when the address is taken."""
        if self._httpd is None:
            self._httpd = EmulatorHTTPServer(self, self._address)
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
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
            if thread is not None:
                thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
