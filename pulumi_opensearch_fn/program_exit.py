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
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import pulumi
import pulumi.log
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2_grpc

# The language host's "an error was already shown" exit status (no further message).
ALREADY_REPORTED_EXIT = 32
# The script the language host runs a program with; it logs a RunError, then exits 1.
EXEC_SCRIPT = "pulumi-language-python-exec"
# What the Python SDK says when a call meets the monitor the engine closed.
MONITOR_TERMINATED = "Resource monitor has terminated, shutting down"


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
        if not isinstance(settings.get_monitor(), resource_pb2_grpc.ResourceMonitorStub):
            return  # not a program under a real engine (yet): try again on the next call
        _installed.append(True)
        _drop_monitor_terminated()
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, _leave_quietly)


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
        reported = _exec_reports_run_error(msg)
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


def _exec_reports_run_error(msg: str) -> bool:
    """Is the language host's exec script logging the RunError that ended the program?"""
    caller = sys._getframe(2)  # the caller of error_once
    error = sys.exc_info()[1]
    return (
        os.path.basename(caller.f_code.co_filename) == EXEC_SCRIPT
        and isinstance(error, pulumi.RunError)
        and str(error) == msg
    )
