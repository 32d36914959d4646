"""``EmulatorServer``: the emulator in a thread, with its state, faults and request log."""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Literal

from .admin import EmulatorAdmin
from .admin_api import CasingChoice, check_token
from .app import EmulatorHTTPServer
from .clock import ClockSteps
from .faults import FaultInjector, RequestLog, redactor
from .quota import RateLimit, RateLimiter
from .schema import parse
from .state import EmulatorState
from .verify import Verifier


class EmulatorServer:
    """The emulator on ``host:port`` (port 0 picks a free one), serving from a thread. Its
    parts are shared: change ``state``, ``faults``, ``quota``, ``log``, ``casing`` in-process
    or with ``admin()`` (a client with this run's ``admin_token``: random unless given)."""

    def __init__(
        self,
        state: EmulatorState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        casing: Literal["camel", "pascal"] = "camel",
        admin_token: str | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.state = state if state is not None else EmulatorState()
        self.casing = casing
        token = admin_token if admin_token is not None else secrets.token_urlsafe(24)
        self.admin_token = check_token(token)
        self.clock_steps, self.faults, self.log = ClockSteps(), FaultInjector(), RequestLog()
        self.verifier, self.quota = Verifier(self.state), RateLimiter(rate_limit)
        self.host, self._port = host, port
        self._httpd: EmulatorHTTPServer | None = None

    @property
    def casing(self) -> str:
        """``camel`` (the service's documentation) or ``pascal`` (the official SDK)."""
        return self._casing

    @casing.setter
    def casing(self, value: str) -> None:  # InvalidInput, a ValueError, when not one of them
        self._casing = parse(CasingChoice, {"casing": value}, 0, "casing").casing

    def redactor(self) -> Callable[[str], str]:
        """Removes every secret the state holds now."""
        return redactor(self.state.secret_values())

    def admin(self, *, timeout: float = 30.0) -> EmulatorAdmin:
        """An admin client for this server (close it, or use it as a context manager)."""
        return EmulatorAdmin(self.url, self.admin_token, timeout=timeout)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

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
            self._httpd = httpd = EmulatorHTTPServer(self, (self.host, self._port))
            name = f"opensearch-emulator:{self.port}"
            serve = {"poll_interval": 0.05}
            threading.Thread(
                target=httpd.serve_forever, kwargs=serve, name=name, daemon=True
            ).start()
        return self

    def stop(self) -> None:
        """Stop accepting, close open keep-alive connections, release the port."""
        if self._httpd is not None:
            httpd, self._httpd = self._httpd, None
            httpd.shutdown()  # returns once serving stopped
            with httpd.connections_lock:
                for conn in list(httpd.connections):
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
            httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
