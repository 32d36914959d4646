"""The client for GetFunctionInstance, ListFunctionTasks and GetFunctionTask."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from . import matching
from . import validation as v
from .answers import interpret, json_kind
from .body import read_body, resolve_max_response_bytes
from .credentials import ChainCredentials, Credentials, CredentialsProvider, StaticCredentials
from .endpoints import normalize_endpoint, region_endpoint
from .errors import (
    BadResponseError,
    ClientClosedError,
    DeadlineExceededError,
    InvalidInputError,
    NetworkError,
    OpenSearchFnError,
)
from .identity import Identity
from .limiter import RequestSlots, slots_of
from .matching import Question
from .models import FunctionInstance, FunctionTask, TaskPage, field_of
from .proxies import check_proxy_environment
from .retry import RetryPolicy
from .safe_text import SafeRecords
from .signing import SIGNERS

log = logging.getLogger("pulumi_opensearch_fn.api")
log.addFilter(SafeRecords())

API_VERSION = "2017-12-25"
USER_AGENT = "pulumi-opensearch-fn/0.1"
DEFAULT_PAGE_SIZE = 50
# However many tasks a server announces, listing reads at most this many pages.
MAX_PAGES = 1000
# Tries of one call, throttled ones the limiter answered included (those do not
# count against `max_attempts`); the deadline comes first.
MAX_TRIES = 100

Output = Literal["simple", "normal", "detail"]
TaskStatus = Literal["success", "failed", "running"]
Signature = Literal["v3", "roa"]


class OpenSearchFunctionClient:
    """A thread-safe client for the three read operations.

    Give `region` (public endpoint, or VPC with `vpc=True`) or `endpoint` (a URL;
    http allowed, e.g. for the emulator). Credentials: a `Credentials`, any
    provider with `get()`, a `profile` name, or nothing for the
    `alibabacloud-credentials` default chain (built on first use).

    Every call is bounded: `retry.deadline` covers connecting, waiting, retries and
    reading the body; an answer may be at most `max_response_bytes` once
    decompressed (default 8 MiB, or OPENSEARCH_FN_MAX_RESPONSE_BYTES). Redirects
    are never followed. `request_slots`, a semaphore or an `AdaptiveLimiter` shared by
    clients, bounds the requests they have in flight together; time spent waiting for
    a slot (no request out) does not count against the deadline. With an
    `AdaptiveLimiter`, throttling (`Throttling*`, 429, 503 `ServiceUnavailable`) cuts how
    many are allowed in flight, and a throttled try sent at more than that is retried
    without counting against `retry.max_attempts` (the deadline still bounds it).
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
        max_response_bytes: int | None = None,
        request_slots: RequestSlots | None = None,
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
        self.max_response_bytes = resolve_max_response_bytes(max_response_bytes)
        self.retry = retry or RetryPolicy()
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._host = httpx.URL(self.endpoint).netloc.decode("ascii")  # checked by endpoints
        self._user_agent = user_agent
        check_proxy_environment()  # httpx reads the proxy variables now
        try:
            self._http = httpx.Client(
                transport=transport,
                timeout=self._timeout,
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
                verify=_tls_verify(self.endpoint),
                trust_env=True,
                follow_redirects=False,
            )
        except (httpx.InvalidURL, ValueError, ImportError, OSError) as exc:
            # What the proxy check cannot foresee, or a CA bundle that cannot be read.
            raise InvalidInputError(
                "cannot set up HTTP from the environment (proxy variables, SSL_CERT_FILE,"
                f" REQUESTS_CA_BUNDLE): {type(exc).__name__}"
            ) from None
        self._closed = threading.Event()
        # Shared by clients that together keep at most N requests in flight: each try
        # holds a slot while it talks to the service (not while it waits to retry).
        self._slots = slots_of(request_slots)

    # -- the three operations -------------------------------------------------

    def get_function_instance(
        self, instance: Identity, *, output: Output = "normal"
    ) -> FunctionInstance:
        """GetFunctionInstance for `instance` (a task's identity names its instance)."""
        query = [("output", v.check_choice("output", output, v.OUTPUT_LEVELS))]
        body, request_id = self._call("GetFunctionInstance", instance.instance_path, query)
        asked = Question(instance.function_name, instance.instance_name)
        with _answer_of("GetFunctionInstance", request_id):
            return matching.instance_answer(_result(body, "GetFunctionInstance"), asked, request_id)

    def get_function_task(self, task: Identity) -> FunctionTask:
        """GetFunctionTask for `task`, whose generation is a number."""
        generation = v.check_generation(task.generation)
        asked = Question(task.function_name, task.instance_name, generation=generation)
        path = f"{task.instance_path}/tasks/{generation}"
        body, request_id = self._call("GetFunctionTask", path, [])
        with _answer_of("GetFunctionTask", request_id):
            return matching.task_answer(_result(body, "GetFunctionTask"), asked, request_id)

    def list_function_tasks_page(
        self,
        instance: Identity,
        *,
        status: TaskStatus | None = None,
        start_time: datetime | int | None = None,
        end_time: datetime | int | None = None,
        page_number: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> TaskPage:
        """One page, newest first (put in that order here, whatever order the answer
        has). With `status`, a task of another status in the answer is a
        BadResponseError. `total_count` is None when the answer has none."""
        path = f"{instance.instance_path}/tasks"
        query = _task_query(status, start_time, end_time)
        query += [
            ("pageNumber", str(v.check_positive("page_number", page_number))),
            ("pageSize", str(v.check_positive("page_size", page_size, v.MAX_PAGE_SIZE))),
        ]
        body, request_id = self._call("ListFunctionTasks", path, query)
        # Only `result: []` means "no tasks": null, missing or another type is a broken answer.
        items = _result(body, "ListFunctionTasks", list)
        asked = Question(instance.function_name, instance.instance_name, status=status)
        with _answer_of("ListFunctionTasks", request_id):
            tasks = matching.task_page(items, asked, request_id)
        return TaskPage(
            tasks=tasks,
            total_count=_total_count(body, request_id),
            page_number=page_number,
            page_size=page_size,
            request_id=request_id,
        )

    def list_function_tasks(
        self,
        instance: Identity,
        *,
        status: TaskStatus | None = None,
        start_time: datetime | int | None = None,
        end_time: datetime | int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        limit: int | None = None,
    ) -> Iterator[FunctionTask]:
        """All matching tasks, newest first, fetched page by page as iterated.

        `limit` bounds how many are returned (and so how many pages are read).
        Arguments are checked here, before iteration starts. Paging ends at the
        announced `totalCount` or a short page; a server that repeats a page, or
        still has more after MAX_PAGES pages, raises BadResponseError rather than
        returning a list that looks complete. A task repeated on the next page
        (a new task shifted the list) is returned once; a later page listing a
        generation newer than one already returned raises BadResponseError.
        """
        _task_query(status, start_time, end_time)
        v.check_positive("page_size", page_size, v.MAX_PAGE_SIZE)
        if limit is not None:
            v.check_positive("limit", limit)
            page_size = min(page_size, limit)

        def pages() -> Iterator[FunctionTask]:
            returned, seen = 0, set()
            total: int | None = None
            last: FunctionTask | None = None
            for page_number in range(1, MAX_PAGES + 1):
                page = self.list_function_tasks_page(
                    instance, status=status,
                    start_time=start_time, end_time=end_time,
                    page_number=page_number, page_size=page_size,
                )  # fmt: skip
                fresh = [t for t in page.tasks if t.generation not in seen]
                if page.tasks and not fresh:
                    raise BadResponseError(
                        f"ListFunctionTasks: page {page_number} repeats tasks already listed;"
                        " stopped paging",
                        request_id=page.request_id,
                    )
                for task in fresh:
                    if last is not None:
                        matching.check_listed_after(last, task, page_number, page.request_id)
                    last = task
                    seen.add(task.generation)
                    yield task
                    returned += 1
                    if limit is not None and returned >= limit:
                        return
                total = page.total_count
                if len(page.tasks) < page_size or (
                    total is not None and page_number * page_size >= total
                ):
                    return
            raise BadResponseError(
                f"ListFunctionTasks: still more tasks after {MAX_PAGES} pages"
                f" ({total if total is not None else 'an unknown number of'} announced);"
                " narrow the listing with a limit, a status or a time range"
            )

        return pages()

    def get_latest_function_task(
        self, instance: Identity, *, status: TaskStatus | None = None
    ) -> FunctionTask | None:
        """The newest task (optionally the newest with `status`) in one request; None if none."""
        page = self.list_function_tasks_page(instance, status=status, page_size=1)
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
        counted = 0  # tries that count against max_attempts
        for attempt in range(1, MAX_TRIES + 1):
            if deadline - time.monotonic() <= 0:
                break
            queued = time.monotonic()
            admitted = self._slots.take(action)
            if admitted is None:
                raise _closed(action)
            # Queued for a slot or its action's pace, the program's own: not the call's time.
            deadline += time.monotonic() - queued
            try:
                answer = self._attempt(action, path, query, url, attempt, deadline)
            except OpenSearchFnError as error:
                # A throttled try the limiter answered (fewer in flight, or a slower pace,
                # now than when it was sent) is retried so without using up an attempt.
                absorbed = self._slots.answered(admitted, error)
                counted += not absorbed
                if (
                    not retry.retryable(error)
                    or retry.max_attempts == 1
                    or counted >= retry.max_attempts
                    or attempt == MAX_TRIES
                ):
                    raise
                last = error
                pause = retry.delay(max(counted, 1), error)
                left = deadline - time.monotonic()
                if pause >= left:
                    raise self._out_of_time(action, error, pause, left) from None
                log.debug("%s: retrying in %.2fs after %s", action, pause, error)
                if self._closed.wait(pause):  # closed while pausing: stop now
                    raise _closed(action) from None
                continue
            except BaseException:
                # Every slot taken is answered (the limiter's probe waits for its wave).
                self._slots.answered(admitted, OpenSearchFnError(f"{action}: interrupted"))
                raise
            self._slots.answered(admitted, None)
            return answer
        raise DeadlineExceededError(
            f"{action} did not succeed within {retry.deadline:g}s"
            + (f"; last error: {last}" if last else ""),
            code=last.code if last else "",
            request_id=last.request_id if last else "",
            http_status=last.http_status if last else None,
        )

    def _out_of_time(
        self, action: str, error: OpenSearchFnError, pause: float, left: float
    ) -> DeadlineExceededError:
        """Fails at once, saying why, when the next try could only start past the deadline."""
        asked = getattr(error, "retry_after", None)
        why = (
            f"the service asked to retry after {asked:g}s"
            if asked is not None and asked >= pause
            else f"the next try is due in {pause:.2f}s"
        )
        return DeadlineExceededError(
            f"{action}: {why}, but only {max(left, 0.0):.2f}s of the {self.retry.deadline:g}s"
            f" deadline is left; last error: {error}",
            code=error.code,
            request_id=error.request_id,
            http_status=error.http_status,
        )

    def _attempt(
        self,
        action: str,
        path: str,
        query: list[tuple[str, str]],
        url: str,
        attempt: int,
        deadline: float,
    ) -> tuple[dict[str, Any], str]:
        """One try, holding the slot taken for it until the body is read."""
        try:
            content, response, started = self._exchange(action, path, query, url, deadline)
        finally:
            self._slots.give_back()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %s request_id=%s attempt=%d latency=%.1fms",
                action, path, response.status_code,
                response.headers.get("x-acs-request-id", "-")[:100], attempt,
                (time.perf_counter() - started) * 1000,
            )  # fmt: skip
        return interpret(
            action, response.status_code, response.reason_phrase, response.headers, content
        )

    def _exchange(
        self, action: str, path: str, query: list[tuple[str, str]], url: str, deadline: float
    ) -> tuple[bytes, httpx.Response, float]:
        """Sends the request and reads the body: the answer's bytes, its head and when
        it was sent (perf_counter)."""
        if self._closed.is_set():
            raise _closed(action)
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
        try:
            request = httpx.Request("GET", url, headers=headers)
        except UnicodeEncodeError:
            raise _unsendable(action) from None
        request.extensions["timeout"] = self._timeouts_within(deadline - time.monotonic())
        started = time.perf_counter()
        try:
            response = self._http.send(request, stream=True)
            try:
                content = read_body(
                    response, action, deadline=deadline, limit=self.max_response_bytes
                )
            finally:
                response.close()
        except httpx.LocalProtocolError:
            raise _unsendable(action) from None
        except RuntimeError:  # httpx's own error for a client closed while this try started
            if self._closed.is_set():
                raise _closed(action) from None
            raise
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"{action}: timed out talking to {self.endpoint} ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            raise NetworkError(f"{action}: connection to {self.endpoint} failed: {exc}") from None
        return content, response, started

    def _timeouts_within(self, remaining: float) -> dict[str, float | None]:
        """The configured timeouts, none longer than what is left of the deadline."""
        remaining = max(remaining, 0.001)
        limits = self._timeout.as_dict()
        return {k: remaining if t is None or t > remaining else t for k, t in limits.items()}


def _closed(action: str) -> ClientClosedError:
    return ClientClosedError(f"{action}: the client is closed; nothing was sent")


def _unsendable(action: str) -> InvalidInputError:
    """A header HTTP cannot carry. Its text is not quoted: it may be the Authorization
    header (credentials are checked when made, so this is a second line of defence)."""
    return InvalidInputError(
        f"{action}: a request header holds a character HTTP does not allow (a non-ASCII"
        " character or a line break); nothing was sent"
    )


@contextmanager
def _answer_of(action: str, request_id: str) -> Iterator[None]:
    """Names the action and request in a model's complaint about the answer."""
    try:
        yield
    except BadResponseError as error:
        if error.message.startswith(action):
            raise
        raise BadResponseError(
            f"{action}: {error.message}", request_id=request_id, http_status=200
        ) from None
    except RecursionError:  # a nested JSON string inside the answer (extendInfo)
        raise BadResponseError(
            f"{action}: the answer holds JSON nested too deeply to read",
            request_id=request_id,
            http_status=200,
        ) from None


def _result(body: dict[str, Any], action: str, kind: type = dict) -> Any:
    """The `result` of a successful envelope, which must be there and of `kind`."""
    result = field_of(body, "result")
    if not isinstance(result, kind):
        shown = "missing or null" if result is None else f"a JSON {json_kind(result)}"
        expected = "a list of tasks" if kind is list else "an object"
        raise BadResponseError(
            f"{action}: the answer's result is {shown}, expected {expected}",
            request_id=str(field_of(body, "requestId") or "")[:100],
            http_status=200,
        )
    return result


def _total_count(body: dict[str, Any], request_id: str) -> int | None:
    value = field_of(body, "totalCount")
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadResponseError(
            f"ListFunctionTasks: totalCount is {str(value)[:40]!r}, expected a whole number",
            request_id=request_id,
        )
    return value


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
