"""Writing to stdout and stderr when they may be closed or broken.

The exit code is the verdict, so how the output fares must never change it:
- a stream closed when the command started (`>&-`, `2>&-`) is None in Python, and
  `print(file=None)` would write to stdout: a stderr line would land inside the JSON
  document. Nothing is written instead;
- a reader that went away (`| head -1`) fails the write: the stream's descriptor is
  pointed at /dev/null, so neither later writes nor the interpreter's final flush
  (which would turn the exit status into 120) fail again.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def out(text: str) -> None:
    """`text` and a newline on stdout, if anyone reads it."""
    put(sys.stdout, text + "\n")


def err(text: str) -> None:
    """`text` and a newline on stderr, if anyone reads it; never on stdout."""
    put(sys.stderr, text + "\n")


def put(stream: TextIO | None, text: str) -> bool:
    """Writes and flushes `text`; False when the stream is closed or its reader gone."""
    if stream is None:
        return False
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):  # BrokenPipeError, a closed descriptor or file
        silence(stream)
        return False
    return True


def silence(stream: TextIO) -> None:
    """Points the stream's descriptor at /dev/null: what it still buffers, and all
    it is given later, goes nowhere instead of failing."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not backed by a descriptor (a test's StringIO): nothing to flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    except OSError:
        pass
    finally:
        os.close(devnull)
