"""``EmulatorAdmin``: a small typed client for the emulator's admin API."""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import httpx


class EmulatorAdminError(Exception):
    """The admin API refused a request; ``payload`` holds its JSON answer."""

    def __init__(self, status: int, payload: Any) -> None:
        message = payload.get("error") if isinstance(payload, dict) else None
        super().__init__(f"admin API answered {status}: {message or payload}")
        self.status = status
        self.payload = payload


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _segment(text: str) -> str:
    return quote(text, safe="~")


class EmulatorAdmin:
    """Drive a running emulator (tests, benchmarks, demos).

    ``url`` is the emulator's base URL and ``token`` its admin token: the first
    and second lines the ``emulator`` command prints, or ``EmulatorServer.url``
    and ``EmulatorServer.admin_token`` (``EmulatorServer.admin()`` does both).
    Every method raises :class:`EmulatorAdminError` when the emulator refuses
    the request.
    """

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        # No proxy: the emulator is always local.
        self._client = httpx.Client(
            base_url=self.url + "/_admin",
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {token}"},
        )

    def __repr__(self) -> str:
        return f"EmulatorAdmin({self.url!r})"  # never the token

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EmulatorAdmin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = {}  # the admin API wants every state change typed as JSON
        response = self._client.request(method, path, json=body, params=params)
        payload = response.json() if response.content else None
        if response.status_code >= 400:
            raise EmulatorAdminError(response.status_code, payload)
        return payload

    @staticmethod
    def _instance_path(app: str, function: str, instance: str) -> str:
        return (
            f"/app-groups/{_segment(app)}/functions/{_segment(function)}"
            f"/instances/{_segment(instance)}"
        )

    # -- clock and whole state ---------------------------------------------

    def health(self) -> bool:
        """True when the emulator answers."""
        return bool(self._call("GET", "/health").get("ok"))

    def clock(self) -> dict[str, int]:
        """The simulated clock: ``{"nowMs", "offsetMs"}``."""
        return cast(dict[str, int], self._call("GET", "/clock"))

    def advance_clock(self, seconds: float) -> int:
        """Move the simulated clock forward (tasks progress, runs finish); returns now in ms."""
        return int(self._call("POST", "/clock/advance", {"seconds": seconds})["nowMs"])

    def advance_clock_at_request(
        self, seconds: float, at_request: int, *, action: str | None = None
    ) -> int:
        """Advance the clock by ``seconds`` just before the ``at_request``-th API request
        from now (only requests of ``action``, when given) is answered; returns the
        step's id. Earlier requests see the old time, that one and later the new: a
        test can let a client see a run in progress, then finished, on any machine."""
        body: dict[str, Any] = {"seconds": seconds, "atRequest": at_request}
        if action is not None:
            body["action"] = action
        return int(self._call("POST", "/clock/steps", body)["id"])

    def clock_steps(self) -> list[dict[str, Any]]:
        """Steps not taken yet: ``{"id", "seconds", "atRequest", "action", "seen"}``."""
        return cast(list[dict[str, Any]], self._call("GET", "/clock/steps"))

    def clear_clock_steps(self) -> None:
        """Drop every step not taken yet."""
        self._call("DELETE", "/clock/steps")

    def state(self, *, secrets: bool = False) -> dict[str, Any]:
        """The whole state in the state-file format (see ``state_file``). Access key
        secrets and STS tokens are left out unless ``secrets=True`` (needed to load
        it back with ``load_state``)."""
        params = {"secrets": "1"} if secrets else None
        return cast(dict[str, Any], self._call("GET", "/state", params=params))

    def load_state(self, data: dict[str, Any]) -> dict[str, int]:
        """Replace the whole state with ``data`` (state-file format); returns its sizes.
        Invalid data raises with every problem in ``payload["problems"]``."""
        return cast(dict[str, int], self._call("PUT", "/state", data))

    def set_casing(self, casing: str) -> None:
        """Answer in ``"camel"`` (the service's docs) or ``"pascal"`` (the SDK's models)."""
        self._call("PUT", "/casing", {"casing": casing})

    # -- app groups, instances, tasks ---------------------------------------

    def add_app_group(self, app: str) -> None:
        """Create an empty app group (lookups in it answer Instance.NotExist, not App.NotFound)."""
        self._call("PUT", f"/app-groups/{_segment(app)}")

    def upsert_instance(
        self, app: str, function: str, instance: str, **fields: Any
    ) -> dict[str, Any]:
        """Create the instance (and its app group and function) or merge ``fields`` into it.

        Fields use the wire names, in camelCase or snake_case: ``status``,
        ``versionId``/``version_id``, ``createTime``, ``cron``, ``description``,
        ``belongs``, ``createParameters``, ``usageParameters``, ``extendInfo``,
        ``task``, ``functionType``, ``modelType``, ``source``. Returns the
        instance as GetFunctionInstance shows it (camelCase, with its task).
        """
        body = {_camel(k): v for k, v in fields.items()}
        return cast(
            dict[str, Any], self._call("PUT", self._instance_path(app, function, instance), body)
        )

    def set_instance_fields(
        self, app: str, function: str, instance: str, **fields: Any
    ) -> dict[str, Any]:
        """Like ``upsert_instance`` but the instance must exist (404 otherwise)."""
        body = {_camel(k): v for k, v in fields.items()}
        return cast(
            dict[str, Any], self._call("PATCH", self._instance_path(app, function, instance), body)
        )

    def set_instance_status(
        self, app: str, function: str, instance: str, status: str
    ) -> dict[str, Any]:
        """Set an existing instance's ``status`` (``available`` / ``unavailable``)."""
        return self.set_instance_fields(app, function, instance, status=status)

    def add_tasks(
        self,
        app: str,
        function: str,
        instance: str,
        count: int,
        *,
        status: str = "success",
        start_time: int | str | None = None,
        interval_s: float | None = None,
        duration_s: float = 600,
        metrics: dict[str, Any] | None = None,
        errors: list[Any] | None = None,
    ) -> tuple[int, int]:
        """Append ``count`` finished tasks (history) in one call; returns (first, last) generation.

        Without ``start_time``/``interval_s`` they are spread evenly between the
        latest existing task and now. ``start_time`` is epoch ms, ISO 8601 or
        ``now-3d``. The instance's task summary follows the newest one.
        """
        body: dict[str, Any] = {
            "count": count,
            "status": status,
            "durationS": duration_s,
            "metrics": metrics or {},
            "errors": errors or [],
        }
        if start_time is not None:
            body["startTime"] = start_time
        if interval_s is not None:
            body["intervalS"] = interval_s
        answer = self._call("POST", self._instance_path(app, function, instance) + "/tasks", body)
        return int(answer["first"]), int(answer["last"])

    def start_task(
        self,
        app: str,
        function: str,
        instance: str,
        duration_s: float,
        outcome: str = "success",
        metrics: dict[str, Any] | None = None,
        errors: list[Any] | None = None,
        run_id: str | None = None,
    ) -> int:
        """Start a training run now (simulated clock); returns its generation.

        It is ``running`` with progress = elapsed / ``duration_s`` until the
        clock passes its end; then it becomes ``outcome`` with ``metrics`` and
        ``errors`` in its extendInfo, and on success the instance's versionId
        goes up by one and its status becomes ``available``.
        """
        body: dict[str, Any] = {
            "durationS": duration_s,
            "outcome": outcome,
            "metrics": metrics or {},
            "errors": errors or [],
        }
        if run_id:
            body["runId"] = run_id
        answer = self._call(
            "POST", self._instance_path(app, function, instance) + "/training", body
        )
        return int(answer["generation"])

    # -- credentials ---------------------------------------------------------

    def add_access_key(
        self,
        access_key_id: str,
        access_key_secret: str,
        security_token: str | None = None,
        expiration: int | str | None = None,
        actions: list[str] | None = None,
    ) -> None:
        """Accept a key pair, or with ``security_token`` an STS credential expiring at
        ``expiration`` (epoch ms, ISO 8601, ``now+1h``; None = never). ``actions``
        limits what it may call (others get Forbidden.RAM)."""
        body: dict[str, Any] = {"accessKeyId": access_key_id, "accessKeySecret": access_key_secret}
        if security_token is not None:
            body.update(securityToken=security_token, expiration=expiration)
        if actions is not None:
            body["actions"] = actions
        self._call("POST", "/access-keys", body)

    def reset_nonces(self) -> None:
        """Forget every signature nonce seen (so a captured request may be replayed)."""
        self._call("DELETE", "/nonces")

    # -- faults and the request log --------------------------------------------

    def inject_fault(
        self,
        kind: str,
        count: int | None = None,
        rate: float | None = None,
        status: int | None = None,
        code: str | None = None,
        latency_ms: int | None = None,
        retry_after_ms: int | None = None,
        action: str | None = None,
        seed: int | None = None,
    ) -> int:
        """Add a fault; returns its id.

        ``kind``: ``throttle`` (code Throttling.User, status 400 or 429),
        ``error`` (status 500/502/503/504), ``latency`` (``latency_ms``),
        ``drop`` (close without answering), ``malformed`` (invalid JSON body),
        ``truncated`` (Content-Length larger than the bytes sent), ``cut``
        (JSON cut in half). It hits the next ``count`` requests, or each with
        probability ``rate`` (seeded by ``seed``), or with neither every
        request; ``action`` limits it to one API action. ``retry_after_ms``
        adds an ``x-acs-retry-after`` header to throttles and errors.
        """
        spec = {
            "kind": kind,
            "count": count,
            "rate": rate,
            "status": status,
            "code": code,
            "latencyMs": latency_ms,
            "retryAfterMs": retry_after_ms,
            "action": action,
            "seed": seed,
        }
        return int(
            self._call("POST", "/faults", {k: v for k, v in spec.items() if v is not None})["id"]
        )

    def faults(self) -> list[dict[str, Any]]:
        """The active faults, with how often each was applied and how many remain."""
        return cast(list[dict[str, Any]], self._call("GET", "/faults"))

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._call("DELETE", "/faults")

    def requests(self, limit: int | None = None, *, headers: bool = False) -> list[dict[str, Any]]:
        """The request log, oldest first (the last ``limit`` entries): time, method,
        path, query, action, scheme (v3|roa|none), accessKeyId, token, status,
        code, fault, latencyMs, and with ``headers=True`` the headers (values cut to
        2 kB, credential values redacted)."""
        params = {"headers": "1" if headers else "0"}
        if limit is not None:
            params["limit"] = str(limit)
        return cast(list[dict[str, Any]], self._call("GET", "/requests", params=params))

    def clear_requests(self) -> None:
        """Empty the request log and its counts."""
        self._call("DELETE", "/requests")

    def counts(self) -> dict[str, Any]:
        """``{"requests": {"total", "status:200", "code:...", "action:...", "scheme:...",
        "fault:..."}, "state": {sizes}, "nonces": n}``."""
        return cast(dict[str, Any], self._call("GET", "/counts"))
