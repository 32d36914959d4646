"""The emulator as a child process: its CPU stays apart from the caller's (benchmarks,
load tests), and its command line and signals can be tested as users run it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

COMMAND = (sys.executable, "-m", "pulumi_opensearch_fn.emulator")


@contextmanager
def emulator_process(
    *args: str, capture_stderr: bool = False
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Starts `python -m pulumi_opensearch_fn.emulator ARGS`; yields it and the URL it printed.

    Its stderr is discarded unless captured (then the caller must read it). Stopped on
    exit (SIGTERM, then SIGKILL after 10 s) unless it already ended.
    """
    stderr = subprocess.PIPE if capture_stderr else subprocess.DEVNULL
    proc = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert proc.stdout is not None
        yield proc, proc.stdout.readline().strip()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
