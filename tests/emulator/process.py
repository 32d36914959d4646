"""The emulator as a child process (tests and benchmarks): its CPU stays apart from the
caller's, and its command line and signals can be tested as users run it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from pulumi_opensearch_fn.emulator import EmulatorAdmin

COMMAND = (sys.executable, "-m", "pulumi_opensearch_fn.emulator")


class RunningEmulator(NamedTuple):
    proc: subprocess.Popen[str]
    url: str
    admin_token: str

    def admin(self) -> EmulatorAdmin:
        return EmulatorAdmin(self.url, self.admin_token)


@contextmanager
def emulator_process(*args: str, capture_stderr: bool = False) -> Iterator[RunningEmulator]:
    """Starts `python -m pulumi_opensearch_fn.emulator ARGS`; yields it with the URL and
    admin token it printed (empty strings when none). Its stderr is discarded unless
    captured (then the caller reads it); on exit it gets SIGTERM, then SIGKILL after 10 s."""
    stderr = subprocess.PIPE if capture_stderr else subprocess.DEVNULL
    proc = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        token = proc.stdout.readline().strip() if url else ""
        yield RunningEmulator(proc, url, token)
    finally:
        stop(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 10 s; returns once it has exited."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait(timeout=10)
