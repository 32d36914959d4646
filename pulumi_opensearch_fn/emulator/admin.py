"""``EmulatorAdmin``: the admin API's client. Bodies are the records the emulator
validates, built by ``schema.body``: keyword arguments are a record's fields by name
(``state.Instance``, ``TaskBatch``, ``Training``, ``faults.FaultSpec``...), so an
unknown one fails here and a bad value there, with every problem named."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, cast
from urllib.parse import quote

import httpx

from .admin_api import Advance, CasingChoice
from .clock import ClockStep
from .faults import FaultSpec
from .quota import RateLimit
from .schema import body
from .state import AccessKey, Instance, StsToken, TaskBatch, Training


class EmulatorAdminError(Exception):
    """The admin API refused a request; ``payload`` holds its JSON answer."""

    def __init__(self, status: int, payload: Any) -> None:
        message = payload.get("error") if isinstance(payload, dict) else None
        super().__init__(f"admin API answered {status}: {message or payload}")
        self.status, self.payload = status, payload


class EmulatorAdmin(AbstractContextManager["EmulatorAdmin"]):
    """Drive a running emulator: ``EmulatorAdmin(url, token)`` with the two lines the
    ``emulator`` command prints first, or ``EmulatorServer.admin()``. Every method
    raises :class:`EmulatorAdminError` when the emulator refuses the request."""

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        auth = {"Authorization": f"Bearer {token}"}  # and no proxy: the emulator is local
        base = self.url + "/_admin"
        self._client = httpx.Client(base_url=base, timeout=timeout, trust_env=False, headers=auth)

    def __repr__(self) -> str:
        return f"EmulatorAdmin({self.url!r})"  # never the token

    def close(self) -> None:
        self._client.close()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, sent: Any = None, **params: str) -> Any:
        response = self._client.request(method, path, json=sent, params=params or None)
        payload = response.json() if response.content else None
        if response.status_code >= 400:
            raise EmulatorAdminError(response.status_code, payload)
        return payload

    @staticmethod
    def _path(app: str, fn: str, inst: str, then: str = "") -> str:
        app, fn, inst = (quote(name, safe="~") for name in (app, fn, inst))
        return f"/app-groups/{app}/functions/{fn}/instances/{inst}{then}"

    def health(self) -> bool:
        return bool(self._call("GET", "/health").get("ok"))

    def clock(self) -> dict[str, int]:
        """The simulated clock: ``{"nowMs", "offsetMs"}``."""
        return dict(self._call("GET", "/clock"))

    def advance_clock(self, seconds: float) -> int:
        """Move the simulated clock forward (runs progress and finish); returns now in ms."""
        return int(self._call("POST", "/clock/advance", body(Advance, seconds=seconds))["nowMs"])

    def advance_clock_at_request(
        self, seconds: float, at_request: int, *, action: str | None = None
    ) -> int:
        """Move the clock by ``seconds`` just before the ``at_request``-th API request from
        now (of ``action`` only, when given) is answered (see ``clock``); returns its id."""
        step = body(ClockStep, seconds=seconds, at_request=at_request, action=action)
        return int(self._call("POST", "/clock/steps", step)["id"])

    def clock_steps(self) -> list[dict[str, Any]]:
        """Steps not taken yet: ``{"seconds", "atRequest", "action", "id", "seen"}``."""
        return list(self._call("GET", "/clock/steps"))

    def clear_clock_steps(self) -> None:
        self._call("DELETE", "/clock/steps")

    def state(self, *, secrets: bool = False) -> dict[str, Any]:
        """The whole state in the state-file format; key secrets and STS tokens only
        with ``secrets=True`` (needed to load it back)."""
        return dict(self._call("GET", "/state", **({"secrets": "1"} if secrets else {})))

    def load_state(self, data: dict[str, Any]) -> dict[str, int]:
        """Replace the whole state with ``data`` (state-file format); returns its sizes."""
        return dict(self._call("PUT", "/state", data))

    def set_casing(self, casing: str) -> None:
        """Answer in ``"camel"`` (the service's docs) or ``"pascal"`` (the SDK's models)."""
        self._call("PUT", "/casing", body(CasingChoice, casing=casing))

    def add_app_group(self, app: str) -> None:
        """An empty app group: lookups in it answer Instance.NotExist, not App.NotFound."""
        self._call("PUT", f"/app-groups/{quote(app, safe='~')}", {})  # every change is JSON

    def upsert_instance(self, app: str, fn: str, inst: str, **fields: Any) -> dict[str, Any]:
        """Create the instance (and its app group and function) or merge ``fields`` (of
        ``state.Instance``: ``status``, ``version_id``...); returns it as the API shows it."""
        return dict(self._call("PUT", self._path(app, fn, inst), body(Instance, **fields)))

    def set_instance_fields(self, app: str, fn: str, inst: str, **fields: Any) -> dict[str, Any]:
        """Like ``upsert_instance``, but the instance must exist (404 otherwise)."""
        return dict(self._call("PATCH", self._path(app, fn, inst), body(Instance, **fields)))

    def set_instance_status(self, app: str, fn: str, inst: str, status: str) -> dict[str, Any]:
        return self.set_instance_fields(app, fn, inst, status=status)

    def add_tasks(
        self, app: str, fn: str, inst: str, count: int = 1, **options: Any
    ) -> tuple[int, int]:
        """Append ``count`` finished tasks (``options``: ``state.TaskBatch``'s fields);
        returns their (first, last) generation."""
        batch = body(TaskBatch, count=count, **options)
        answer = self._call("POST", self._path(app, fn, inst, "/tasks"), batch)
        return int(answer["first"]), int(answer["last"])

    def start_task(self, app: str, fn: str, inst: str, duration_s: float, **options: Any) -> int:
        """Start a training run now (``options``: ``state.Training``'s fields, the module
        says how it runs); returns its generation."""
        run = body(Training, duration_s=duration_s, **options)
        return int(self._call("POST", self._path(app, fn, inst, "/training"), run)["generation"])

    def add_access_key(
        self,
        access_key_id: str,
        access_key_secret: str,
        security_token: str | None = None,
        expiration: int | str | None = None,
        actions: list[str] | None = None,
    ) -> None:
        """Accept a key pair, or with ``security_token`` an STS credential expiring at
        ``expiration`` (epoch ms, ISO 8601, ``now+1h``; None: never). ``actions`` limits
        what it may call (others get Forbidden.RAM)."""
        key = body(AccessKey, access_key_id=access_key_id, secret=access_key_secret)
        if security_token is not None:
            key = body(StsToken, token=security_token, expires_ms=expiration, **key)
        self._call("POST", "/access-keys", {**key, "actions": actions})

    def reset_nonces(self) -> None:
        """Forget every signature nonce seen (so a captured request may be replayed)."""
        self._call("DELETE", "/nonces")

    def inject_fault(self, kind: str, **options: Any) -> int:
        """Add a fault (``options``: ``faults.FaultSpec``'s fields); returns its id."""
        return int(self._call("POST", "/faults", body(FaultSpec, kind=kind, **options))["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The active faults, with how often each was applied and how many remain."""
        return list(self._call("GET", "/faults"))

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_rate_limit(self, requests: int, period_s: float) -> None:
        """Let each access key call each action ``requests`` times per ``period_s`` (a
        full token bucket, refilled continuously); beyond, ``Throttling.User``."""
        self._call("PUT", "/rate-limit", body(RateLimit, requests=requests, period_s=period_s))

    def rate_limit(self) -> dict[str, Any] | None:
        """``{"requests", "periodS"}``, or None when there is no limit."""
        return cast("dict[str, Any] | None", self._call("GET", "/rate-limit"))

    def clear_rate_limit(self) -> None:
        self._call("DELETE", "/rate-limit")

    def requests(self, limit: int | None = None, *, headers: bool = False) -> list[dict[str, Any]]:
        """The request log, oldest first (the last ``limit``): ``faults.LogEntry``'s
        fields, ``headers`` (cut, credentials redacted) only when asked."""
        last = {} if limit is None else {"limit": str(limit)}
        return list(self._call("GET", "/requests", headers="1" if headers else "0", **last))

    def clear_requests(self) -> None:
        """Empty the request log and its counts."""
        self._call("DELETE", "/requests")

    def counts(self) -> dict[str, Any]:
        """``{"requests": {"total", "status:200", ...}, "state": {sizes}, "nonces": n}``."""
        return dict(self._call("GET", "/counts"))
