"""The client for GetFunctionInstance, ListFunctionTasks and GetFunctionTask."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from . import validation as v
from .credentials import ChainCredentials, Credentials, CredentialsProvider, StaticCredentials
from .endpoints import normalize_endpoint, region_endpoint
from .errors import (
    BadResponseError,
    DeadlineExceededError,
    InvalidInputError,
    NetworkError,
    OpenSearchFnError,
    ThrottledError,
    error_class,
)
from .models import FunctionInstance, FunctionTask, TaskPage, field_of
from .retry import RetryPolicy
from .signing import SIGNERS

log = logging.getLogger("pulumi_opensearch_fn.api")

API_VERSION = "2017-12-25"
USER_AGENT = "pulumi-opensearch-fn/0.1"
DEFAULT_PAGE_SIZE = 50

Output = Literal["simple", "normal", "detail"]
TaskStatus = Literal["success", "failed", "running"]
Signature = Literal["v3", "roa"]


class OpenSearchFunctionClient:
    """A thread-safe client for the three read operations.

    Give `region` (public endpoint, or VPC with `vpc=True`) or `endpoint` (a URL;
    http allowed, e.g. for the emulator). Credentials: a `Credentials`, any
    provider with `get()`, a `profile` name, or nothing for the
    `alibabacloud-credentials` default chain (built on first use).
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        vpc: bool = False,
        credentials: Credentials | CredentialsProvider | None = None,
        profile: str | None = None,
        signature: Signature = "v3",
        retry: RetryPolicy | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_connections: int = 8,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if endpoint:
            self.endpoint = normalize_endpoint(endpoint)
        elif region:
            self.endpoint = region_endpoint(region, vpc=vpc)
        else:
            raise InvalidInputError(
                "no region or endpoint: set opensearch-fn:region (or ALIBABA_CLOUD_REGION_ID),"
                " or an endpoint URL"
            )
        if credentials is not None and profile is not None:
            raise InvalidInputError("give credentials or a profile, not both")
        self._credentials: CredentialsProvider = (
            StaticCredentials(credentials)
            if isinstance(credentials, Credentials)
            else credentials or ChainCredentials(profile)
        )
        self._signer = SIGNERS[v.check_choice("signature", signature, SIGNERS)]
        self.retry = retry or RetryPolicy()
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._host = httpx.URL(self.endpoint).netloc.decode("ascii")
        self._user_agent = user_agent
        self._http = httpx.Client(
            transport=transport,
            timeout=self._timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            verify=_tls_verify(self.endpoint),
            trust_env=True,
        )
        self._closed = threading.Event()

    # -- the three operations -------------------------------------------------

    def get_function_instance(
        self, app_group: str, function_name: str, instance_name: str, *, output: Output = "normal"
    ) -> FunctionInstance:
        path = _instance_path(app_group, function_name, instance_name)
        query = [("output", v.check_choice("output", output, v.OUTPUT_LEVELS))]
        body, request_id = self._call("GetFunctionInstance", path, query)
        return FunctionInstance.from_body(field_of(body, "result"), request_id)

    def get_function_task(
        self, app_group: str, function_name: str, instance_name: str, generation: int | str
    ) -> FunctionTask:
        path = (
            f"{_instance_path(app_group, function_name, instance_name)}"
            f"/tasks/{v.check_generation(generation)}"
        )
        body, request_id = self._call("GetFunctionTask", path, [])
        return FunctionTask.from_body(field_of(body, "result"), request_id)

    def list_function_tasks_page(
        self,
        app_group: str,
        function_name: str,
        instance_name: str,
        *,
        status: TaskStatus | None = None,
        start_time: datetime | int | None = None,
        end_time: datetime | int | None = None,
        page_number: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> TaskPage:
        """One page, newest first."""
        path = f"{_instance_path(app_group, function_name, instance_name)}/tasks"
        query = _task_query(status, start_time, end_time)
        query += [
            ("pageNumber", str(v.check_positive("page_number", page_number))),
            ("pageSize", str(v.check_positive("page_size", page_size, v.MAX_PAGE_SIZE))),
        ]
        body, request_id = self._call("ListFunctionTasks", path, query)
        items = field_of(body, "result") or []
        if not isinstance(items, list):
            raise BadResponseError("ListFunctionTasks result is not a list")
        total = field_of(body, "totalCount")
        return TaskPage(
            tasks=tuple(FunctionTask.from_body(item, request_id) for item in items),
            total_count=int(total) if isinstance(total, int | str) and str(total).isdigit() else 0,
            page_number=page_number,
            page_size=page_size,
            request_id=request_id,
        )

    def list_function_tasks(
        self,
        app_group: str,
        function_name: str,
        instance_name: str,
        *,
        status: TaskStatus | None = None,
        start_time: datetime | int | None = None,
        end_time: datetime | int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        limit: int | None = None,
    ) -> Iterator[FunctionTask]:
        """All matching tasks, newest first, fetched page by page as iterated.

        `limit` bounds how many are returned (and so how many pages are read).
        Arguments are checked here, before iteration starts.
        """
        _instance_path(app_group, function_name, instance_name)
        _task_query(status, start_time, end_time)
        v.check_positive("page_size", page_size, v.MAX_PAGE_SIZE)
        if limit is not None:
            v.check_positive("limit", limit)
            page_size = min(page_size, limit)

        def pages() -> Iterator[FunctionTask]:
            returned, page_number = 0, 1
            while True:
                page = self.list_function_tasks_page(
                    app_group, function_name, instance_name, status=status,
                    start_time=start_time, end_time=end_time,
                    page_number=page_number, page_size=page_size,
                )  # fmt: skip
                for task in page.tasks:
                    yield task
                    returned += 1
                    if limit is not None and returned >= limit:
                        return
                if len(page.tasks) < page_size or page_number * page_size >= page.total_count:
                    return
                page_number += 1

        return pages()

    def get_latest_function_task(
        self,
        app_group: str,
        function_name: str,
        instance_name: str,
        *,
        status: TaskStatus | None = None,
    ) -> FunctionTask | None:
        """The newest task (optionally the newest with `status`) in one request; None if none."""
        page = self.list_function_tasks_page(
            app_group, function_name, instance_name, status=status, page_size=1
        )
        return page.tasks[0] if page.tasks else None

    # -- plumbing ---------------------------------------------------------------

    def close(self) -> None:
        self._closed.set()
        self._http.close()

    def __enter__(self) -> OpenSearchFunctionClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self, action: str, path: str, query: list[tuple[str, str]]
    ) -> tuple[dict[str, Any], str]:
        retry = self.retry
        deadline = time.monotonic() + retry.deadline
        url = self.endpoint + path + (f"?{urlencode(query)}" if query else "")
        last: OpenSearchFnError | None = None
        for attempt in range(1, retry.max_attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return self._attempt(action, path, query, url, attempt, remaining)
            except OpenSearchFnError as error:
                if not retry.retryable(error) or attempt == retry.max_attempts:
                    raise
                last = error
                pause = retry.delay(attempt, error)
                if time.monotonic() + pause >= deadline:
                    break
                log.debug("%s: retrying in %.2fs after %s", action, pause, error)
                time.sleep(pause)
        raise DeadlineExceededError(
            f"{action} did not succeed within {retry.deadline:g}s"
            + (f"; last error: {last}" if last else ""),
            code=last.code if last else "",
            request_id=last.request_id if last else "",
            http_status=last.http_status if last else None,
        )

    def _attempt(
        self,
        action: str,
        path: str,
        query: list[tuple[str, str]],
        url: str,
        attempt: int,
        remaining: float,
    ) -> tuple[dict[str, Any], str]:
        headers = self._signer.sign(
            "GET",
            path,
            query,
            {
                "host": self._host,
                "accept": "application/json",
                "x-acs-action": action,
                "x-acs-version": API_VERSION,
                "user-agent": self._user_agent,
            },
            self._credentials.get(),
        )
        # A prepared request skips the client's URL, header and cookie merging: nothing
        # here needs it, and it is a good part of the client's CPU per call.
        request = httpx.Request("GET", url, headers=headers)
        request.extensions["timeout"] = self._timeouts_within(remaining)
        started = time.perf_counter()
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"{action}: timed out talking to {self.endpoint} ({exc!r})"
            ) from None
        except httpx.TransportError as exc:
            raise NetworkError(f"{action}: connection to {self.endpoint} failed: {exc}") from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s request_id=%s attempt=%d latency=%.1fms",
                action, path, response.status_code,
                response.headers.get("x-acs-request-id", "-"), attempt,
                (time.perf_counter() - started) * 1000,
            )  # fmt: skip
        return _parse(action, response)

    def _timeouts_within(self, remaining: float) -> dict[str, float | None]:
        """The configured timeouts, none longer than what is left of the deadline."""
        limits = self._timeout.as_dict()
        return {k: remaining if t is None or t > remaining else t for k, t in limits.items()}


def _parse(action: str, response: httpx.Response) -> tuple[dict[str, Any], str]:
    status = response.status_code
    try:
        body = json.loads(response.content) if response.content else {}
    except ValueError:
        body = None
    header_request_id = response.headers.get("x-acs-request-id", "")
    if not isinstance(body, dict):
        snippet = response.text[:200].strip()
        if status >= 400:
            raise error_class("", status)(
                f"{action} failed with HTTP {status}: {snippet or 'empty body'}",
                request_id=header_request_id,
                http_status=status,
            )
        raise BadResponseError(
            f"{action}: the response is not a JSON object ({len(response.content)} bytes:"
            f" {snippet[:80]!r})",
            request_id=header_request_id,
            http_status=status,
        )
    request_id = str(field_of(body, "requestId") or header_request_id)
    code = str(field_of(body, "code") or "")
    if status >= 400:
        message = str(field_of(body, "message") or f"HTTP {status}")
        cls = error_class(code, status)
        text = f"{action}: {message}"
        if cls is ThrottledError:
            raise ThrottledError(
                text, code=code, request_id=request_id, http_status=status,
                retry_after=_retry_after(response),
            )  # fmt: skip
        raise cls(text, code=code, request_id=request_id, http_status=status)
    return body, request_id


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("x-acs-retry-after")
    try:
        return max(0.0, float(value) / 1000) if value else None
    except ValueError:
        return None


def _instance_path(app_group: str, function_name: str, instance_name: str) -> str:
    app = v.encode_segment(v.check_name("app group", app_group))
    fn = v.encode_segment(v.check_name("function name", function_name))
    inst = v.encode_segment(v.check_name("instance name", instance_name))
    return f"/v4/openapi/app-groups/{app}/functions/{fn}/instances/{inst}"


def _task_query(
    status: str | None, start_time: datetime | int | None, end_time: datetime | int | None
) -> list[tuple[str, str]]:
    query: list[tuple[str, str]] = []
    if status is not None:
        query.append(("status", v.check_choice("status", status, v.TASK_STATUSES)))
    start = v.to_epoch_ms("start_time", start_time)
    end = v.to_epoch_ms("end_time", end_time)
    v.check_time_range(start, end)
    if start is not None:
        query.append(("startTime", str(start)))
    if end is not None:
        query.append(("endTime", str(end)))
    return query


def _tls_verify(endpoint: str) -> str | bool:
    """What httpx checks TLS certificates against.

    A plain-http endpoint (the emulator) makes no TLS connection unless its proxy is
    https, so it skips loading the CA bundle, which costs ~50 ms per client.
    """
    proxies = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    if endpoint.startswith("http://") and not any(
        os.environ.get(name, "").lower().startswith("https://") for name in proxies
    ):
        return False
    return _ca_bundle()


def _ca_bundle() -> str | bool:
    # httpx reads SSL_CERT_FILE/SSL_CERT_DIR itself; honour the requests/curl names too.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if os.environ.get(name) and not os.environ.get("SSL_CERT_FILE"):
            return os.environ[name]
    return True
