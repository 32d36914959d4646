"""Reads in the program: a resource's live read starts when it is constructed.

The engine calls a provider's `Check` for one resource at a time, so a read made
there costs N round trips in series. Made here instead, the reads of a program run
concurrently, with at most `opensearch-fn:maxConcurrentReads` (default 32) requests in
flight, fewer while the service throttles (`api.limiter`), and what they saw reaches
the provider as inputs. An instance's two requests go at once. `Wait` polling on `up`
happens here too, every resource in parallel; a poll holds slots only while it reads.
The program's data sources take their slots from the same pool.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pulumi
from pulumi.runtime.proto import engine_pb2

from .api.errors import OpenSearchFnError
from .api.identity import Kind
from .api.limiter import AdaptiveLimiter
from .api.safe_text import safe
from .core.clients import client_for, close_clients
from .core.config import max_concurrent_reads
from .core.expectations import Observation, Result, all_met, progress_line
from .core.observe import observe
from .core.polling import read_failed_line, wait_until
from .core.request import ConfigSource, Problem, ReadRequest, parse_request
from .core.verdict import Verdict, failed, judge

if TYPE_CHECKING:
    from .api.client import OpenSearchFunctionClient
    from .core.config import Settings

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


log = logging.getLogger("pulumi_opensearch_fn.reads")


class ReadPool:
    """At most `limit` requests in flight for the program (fewer while the service
    throttles): each holds one of `slots`, whose changes are told to `say`.

    A read runs in one of `limit` threads; the second of two requests it makes at once
    (`both`) runs in one of `limit` more, which never wait for anything but a slot.
    The clients it hands out are its own: `close` closes them with its threads, and
    ends every wait for a slot.
    """

    def __init__(self, limit: int, *, say: Callable[[str], None] | None = None) -> None:
        self.limit = limit
        self.slots = AdaptiveLimiter(limit, on_change=say)
        self._threads = ThreadPoolExecutor(limit, thread_name_prefix="opensearch-fn-read")
        self._seconds = ThreadPoolExecutor(limit, thread_name_prefix="opensearch-fn-read-2")

    def client(self, settings: Settings) -> OpenSearchFunctionClient:
        """The cached client for `settings` whose requests hold this pool's slots."""
        return client_for(settings, max_connections=self.limit, request_slots=self.slots)

    def start(
        self, read: Callable[[], T], loop: asyncio.AbstractEventLoop | None = None
    ) -> asyncio.Future[T]:
        """Runs `read` in a thread from now on; its answer lands on `loop` (the running one)."""
        return asyncio.wrap_future(self._threads.submit(read), loop=loop)

    def both(self, first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
        """Both answers; `first`'s error wins, as if they had run one after the other."""
        later = self._seconds.submit(second)
        try:
            answer = first()
        except BaseException:
            later.cancel()
            raise
        return answer, later.result()

    def close(self) -> None:
        self.slots.close()
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._seconds.shutdown(wait=False, cancel_futures=True)
        close_clients(request_slots=self.slots)


# Each program's pool, by its event loop; a loop is held weakly, so a finished
# program (its loop closed, stopped or gone) keeps nothing alive.
_pools: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], ReadPool]] = {}
_pools_lock = threading.Lock()


def read_pool(config: ConfigSource, loop: asyncio.AbstractEventLoop | None = None) -> ReadPool:
    """The program's pool: one per event loop (a program runs on one).

    A new program's first read closes the pools (threads, clients, connections) of
    programs that have finished; programs still running (on other threads, as the
    Automation API may run them) keep theirs."""
    loop = loop or asyncio.get_running_loop()
    with _pools_lock:
        found = _pools.get(id(loop))
        if found is not None and found[0]() is loop:
            return found[1]
        # A refused setting changes nothing.
        pool = ReadPool(max_concurrent_reads(config), say=_program_log())
        finished = [key for key, (ref, _) in _pools.items() if _finished(ref())]
        closing = [_pools.pop(key)[1] for key in finished]
        _pools[id(loop)] = (weakref.ref(loop), pool)
    for done in closing:
        done.close()
    return pool


def _finished(loop: asyncio.AbstractEventLoop | None) -> bool:
    return loop is None or loop.is_closed() or not loop.is_running()


def _program_log() -> Callable[[str], None]:
    """Where the pool's lines go: the program's engine log, at info, on no resource
    (throttling concerns the whole program, and a person watching a slow `up` wants
    to know why; they come once per change, a few per episode). Called from the
    program, whose engine it keeps: the lines are sent from worker threads, which do
    not see the program's context. Without an engine (a provider process), the debug log."""
    engine = pulumi.runtime.settings.get_engine()
    if engine is None:
        return log.debug

    def say(line: str) -> None:
        try:
            engine.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=line, urn=""))
        except Exception:  # an engine gone away (the program ending) loses only a note
            log.debug(line)

    return say


class Log(Protocol):
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...


class LogTarget:
    """Attaches log lines to a resource's row before the resource is registered
    (its registration waits for this read), by the URN it will have. Lines carry
    server text: each goes through the one rule for text a person sees.

    The URN is made with the first line: most reads log none, and the SDK's
    `create_urn` makes several outputs and tasks (about as much CPU as one request)."""

    def __init__(self, name: str, type_: str, parent: pulumi.Resource | None) -> None:
        self._urn_of = (name, type_, parent)
        self._urn: pulumi.Output[str] | None = None

    @property
    def urn(self) -> pulumi.Output[str]:
        if self._urn is None:
            self._urn = pulumi.resource.create_urn(*self._urn_of)
        return self._urn

    def info(self, message: str) -> None:
        pulumi.log.info(safe(message), resource=self)  # type: ignore[arg-type]

    def warn(self, message: str) -> None:
        pulumi.log.warn(safe(message), resource=self)  # type: ignore[arg-type]

    async def error(self, message: str) -> None:
        """Sent before it returns: the program is about to fail, and `pulumi.log` sends a
        line for a resource only once its URN resolves, which a failing program may never
        get to."""
        urn = await self.urn.future()
        engine = pulumi.runtime.settings.get_engine()
        if engine is None or not urn:
            pulumi.log.error(message)
            return
        engine.Log(engine_pb2.LogRequest(severity=engine_pb2.ERROR, message=message, urn=urn))


def begin_read(
    kind: Kind,
    inputs: Mapping[str, Any],
    *,
    dry_run: bool,
    log: Log,
    config: ConfigSource = pulumi.runtime.get_config,
    loop: asyncio.AbstractEventLoop | None = None,
) -> asyncio.Future[Verdict]:
    """Parses the inputs once, reads (and on `up` waits), and judges; never raises.

    The verdict carries what was read (`Verdict.outputs`) and the action the provider's
    check takes (`Verdict.gate`). The first requests go out now, so a program
    constructing many resources has their reads in flight before it finishes. The rest
    runs on `loop` (default: the running one), whenever it runs."""
    loop = loop or asyncio.get_running_loop()
    request, problems = parse_request(kind, inputs, config)
    if request is None:
        return _done(loop, invalid_input(problems))
    try:
        pool = read_pool(config, loop)
        client = pool.client(request.settings)
    except OpenSearchFnError as error:
        return _done(loop, failed(request.subject, error))
    read = functools.partial(observe, client, request.identity, request.expect, both=pool.both)
    first = pool.start(read, loop)
    finish = _finish(pool, request, read, first, dry_run=dry_run, log=log)
    return asyncio.ensure_future(finish, loop=loop)


def _done(loop: asyncio.AbstractEventLoop, verdict: Verdict) -> asyncio.Future[Verdict]:
    future: asyncio.Future[Verdict] = loop.create_future()
    future.set_result(verdict)
    return future


async def _finish(
    pool: ReadPool,
    request: ReadRequest,
    read: Callable[[], Observation],
    first: asyncio.Future[Observation],
    *,
    dry_run: bool,
    log: Log,
) -> Verdict:
    """Waits for the first read (and on `up` polls), judges, and logs the verdict."""
    expect, wait, subject = request.expect, request.wait, request.subject
    waiting = wait is not None and expect is not None and not dry_run
    try:
        if waiting and expect is not None and wait is not None:
            shown = False  # a first read that passes has nothing to report

            def report(seen: Observation, results: list[Result], elapsed: float) -> None:
                nonlocal shown
                if shown or not all_met(results):
                    log.info(progress_line(subject, seen, elapsed))
                    shown = True

            def retrying(error: OpenSearchFnError, elapsed: float) -> None:
                nonlocal shown
                log.info(read_failed_line(subject, error, elapsed))
                shown = True

            seen = await wait_until(
                lambda: pool.start(read), expect, wait, first=first,
                report=report, retrying=retrying,
            )  # fmt: skip
        else:
            seen = await first
    except OpenSearchFnError as error:
        return failed(subject, error)
    return announced(judge(subject, expect, seen, wait=wait, waited=waiting), log)


def invalid_input(problems: list[Problem]) -> Verdict:
    """Inputs no read can be made of: the run fails, naming each input's problem."""
    why = "; ".join(f"{prop}: {reason}" if prop else reason for prop, reason in problems)
    return Verdict(action="fail", message=f"invalid input: {why}")


def announced(verdict: Verdict, log: Log) -> Verdict:
    """Logs the verdict's note and warning on the resource's row; its message made safe
    here, where the credentials (and so the secrets to mask) are known."""
    if verdict.note:
        log.info(verdict.note)
    if verdict.action == "warn" and verdict.message:
        log.warn(verdict.message)
    return replace(verdict, message=safe(verdict.message) if verdict.message else None)
