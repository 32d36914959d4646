"""A quiet end for a Pulumi program that fails or that the engine stops.

When a resource fails (an unmet expectation, an API error, an unknown instance),
the engine reports it, closes its resource monitor and cancels the program: the
official Python language host sends the program SIGINT, then kills it 5 s later.
A program still waiting on outputs would then print two `KeyboardInterrupt`
tracebacks (one from the event loop, one from the executor's shutdown), and one
whose next call meets the closed monitor logs "Resource monitor has terminated,
shutting down" as an error of its own. A program ended by a `RunError` (a data
source's `DataSourceError`) shows its message, then exits with status 1, which
the engine reports once more as "program exited with non-zero exit code: 1".
None of these say anything the user has not already been told, so the program
leaves quietly instead: exit status 32, which the language host reads as "the
user has already seen the error".

`install()` takes effect only in a program that the language host runs, in its main
thread, talking to a real engine over gRPC, and whose SIGINT handler is still
Python's default: never in a provider process, under mocks, in an Automation API
inline program (there only the monitor message is dropped) or over a user's own
handler.

It patches `pulumi.log.error`, and reads which file called it (`sys._getframe`).
`install()` first checks what that assumes (`problems()`, and the exec script the
language host runs); when a check fails it leaves pulumi as it is and says so in
one line (`patches.report_skipped`).
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import os
import re
import signal
import sys
import threading
from types import FrameType
from typing import Any

import grpc
import pulumi
import pulumi.log
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2_grpc

from .patches import report_skipped

# The language host's "an error was already shown" exit status (no further message).
ALREADY_REPORTED_EXIT = 32
# The script the language host runs a program with; it logs a RunError, then exits 1.
EXEC_SCRIPT = "pulumi-language-python-exec"
# What the Python SDK says when a call meets the monitor the engine closed.
MONITOR_TERMINATED = "Resource monitor has terminated, shutting down"
# How the exec script reports the RunError that ended a program (at its top level).
_LOGS_RUN_ERROR = re.compile(
    r"except\s+pulumi\.RunError\s+as\s+(\w+)\s*:\s*pulumi\.log\.error\(\s*str\(\s*\1\s*\)\s*\)"
)
_MAX_SCRIPT_BYTES = 1 << 20


class ShownError(pulumi.RunError):
    """A `RunError` whose reason the program has already shown where it belongs (on a
    resource's row): the language host's exec script does not repeat it."""


_lock = threading.Lock()
_installed: list[bool] = []  # holds True once installed


def install() -> None:
    """Idempotent; cheap enough to call from every resource and data source."""
    if _installed:
        return
    with _lock:
        if _installed:
            return
        if _no_engine_yet():
            return  # not a program under a real engine (yet): try again on the next call
        _installed.append(True)
        found = problems() + exec_script_problems(_outermost_file())
        if found:
            report_skipped("program_exit", found)
            return
        _drop_monitor_terminated()
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, _leave_quietly)


def _no_engine_yet() -> bool:
    stub = getattr(resource_pb2_grpc, "ResourceMonitorStub", None)
    get_monitor = getattr(settings, "get_monitor", None)
    if not (isinstance(stub, type) and callable(get_monitor)):
        return False  # cannot tell: `problems()` says why
    return not isinstance(get_monitor(), stub)


def _leave_quietly(_signum: int, _frame: FrameType | None) -> None:
    """Ends the process at once: the engine has stopped the run and reported why."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken: nothing to add
            stream.flush()
    os._exit(ALREADY_REPORTED_EXIT)


def _drop_monitor_terminated() -> None:
    error = pulumi.log.error

    def error_once(msg: str, *args: Any, **kwargs: Any) -> None:
        terminated = msg.strip() == MONITOR_TERMINATED
        reported = _exec_reports_run_error(msg, _caller())
        if not terminated and not (reported and isinstance(sys.exc_info()[1], ShownError)):
            error(msg, *args, **kwargs)
        if not (reported and signal.getsignal(signal.SIGINT) is _leave_quietly):
            return
        if terminated:  # the engine is gone: nothing is left to finish
            _leave_quietly(signal.SIGINT, None)
        # The program's last word, now shown. The exec script still waits for the calls
        # in flight (the engine reports their resources' errors), then would exit with
        # status 1, which the engine reports once more as "program exited with non-zero
        # exit code: 1": the status becomes "already reported" instead.
        atexit.register(_leave_quietly, signal.SIGINT, None)

    pulumi.log.error = error_once


def _exec_reports_run_error(msg: str, caller: FrameType) -> bool:
    """Is the language host's exec script logging the RunError that ended the program?"""
    error = sys.exc_info()[1]
    return (
        os.path.basename(caller.f_code.co_filename) == EXEC_SCRIPT
        and isinstance(error, pulumi.RunError)
        and str(error) == msg
    )


def _caller() -> FrameType:
    """The frame of the function that called the one calling this."""
    return sys._getframe(2)


# -- what the patch assumes, checked before it is applied ----------------------


def problems() -> list[str]:
    """What this patch assumes of the pulumi SDK and of Python, and does not hold."""
    found = []
    try:
        parameters = list(inspect.signature(pulumi.log.error).parameters)
    except (AttributeError, TypeError, ValueError):
        parameters = []
    if parameters[:1] != ["msg"]:
        found.append("pulumi.log.error(msg, ...) is not there")
    run_error = getattr(pulumi, "RunError", None)
    if not (isinstance(run_error, type) and issubclass(run_error, Exception)):
        found.append("pulumi.RunError is not there")
    if not isinstance(getattr(resource_pb2_grpc, "ResourceMonitorStub", None), type):
        found.append("pulumi.runtime.proto.resource_pb2_grpc.ResourceMonitorStub is not there")
    if not callable(getattr(settings, "get_monitor", None)):
        found.append("pulumi.runtime.settings.get_monitor is not there")
    if _monitor_gone_message() != MONITOR_TERMINATED:
        found.append(f"the SDK no longer reports a closed monitor as {MONITOR_TERMINATED!r}")
    if not _getframe_finds_the_caller():
        found.append("sys._getframe(2) does not find the caller's caller")
    return found


class _Unavailable(grpc.RpcError):  # type: ignore[misc]
    """What a call to a monitor the engine closed raises."""

    def code(self) -> Any:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "the engine has shut down"


def _monitor_gone_message() -> str | None:
    try:
        return str(settings.grpc_error_to_exception(_Unavailable())).strip()
    except Exception:  # any failure means: not as assumed
        return None


def _getframe_finds_the_caller() -> bool:
    def patched() -> FrameType:  # stands for error_once
        return _caller()

    try:
        return patched().f_code is _getframe_finds_the_caller.__code__
    except (AttributeError, ValueError):  # no sys._getframe, or a shallower stack
        return False


def _outermost_file() -> str:
    """The file of the outermost frame of this thread: the exec script under a language host."""
    if not hasattr(sys, "_getframe"):
        return ""  # `problems()` says so
    frame = sys._getframe(0)
    while frame.f_back is not None:
        frame = frame.f_back
    return frame.f_code.co_filename


def exec_script_problems(outermost: str) -> list[str]:
    """Under the language host: is its exec script the one this patch knows? (The script
    comes with the Pulumi CLI, not the SDK, so it is checked where the program runs.)"""
    name = os.path.basename(outermost)
    if not name.startswith("pulumi-language-python"):
        return []  # not started by the exec script: mocks, an Automation API inline program
    if name != EXEC_SCRIPT:
        return [f"the language host runs programs with {name!r}, not {EXEC_SCRIPT!r}"]
    try:
        with open(outermost, "rb") as script:
            source = script.read(_MAX_SCRIPT_BYTES).decode("utf-8", "replace")
    except OSError as exc:
        return [f"cannot read {EXEC_SCRIPT} ({type(exc).__name__})"]
    if not _LOGS_RUN_ERROR.search(source):
        return [f"{EXEC_SCRIPT} no longer reports a RunError with pulumi.log.error(str(e))"]
    return []
