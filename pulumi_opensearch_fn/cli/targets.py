"""The instances `check` looks at: from the command line and/or an instances file."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from ..api.errors import InvalidInputError
from ..api.identity import INSTANCE, Identity

# Each instance is waited on by its own thread; this keeps that number sane.
MAX_TARGETS = 1000
# Room for MAX_TARGETS lines of the longest names, percent-encoded, with comments;
# reading stops there (`-f /dev/zero` must not fill memory).
MAX_FILE_BYTES = 4 * 2**20


def parse_lines(lines: Iterable[str], source: str) -> list[Identity]:
    """`app/function/instance` or `app function instance` a line; `#` starts a comment
    at the start of a line or after whitespace (a name may contain `#`)."""
    found = []
    for number, raw in enumerate(lines, 1):
        text = _strip_comment(raw).strip()
        if not text:
            continue
        words = text.split()
        try:
            if len(words) == 1:
                found.append(Identity.from_id(INSTANCE, words[0]))
            elif len(words) == 3:
                found.append(Identity(words[0], words[1], words[2]))
            else:
                raise InvalidInputError(
                    f"expected `app/function/instance` or `app function instance`,"
                    f" got {len(words)} words"
                )
        except InvalidInputError as exc:
            raise InvalidInputError(f"{source}:{number}: {exc.message}") from None
    return found


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    for i, char in enumerate(line):
        if char == "#" and line[i - 1] in " \t":
            return line[:i]
    return line


def load(
    positional: Sequence[str], path: str | None, stdin: TextIO | None = None
) -> list[Identity]:
    """Every target once, in the order given. Raises InvalidInputError naming the
    file and line of a bad entry."""
    found: list[Identity] = []
    if len(positional) % 3:
        raise InvalidInputError(
            f"give instances as APP FUNCTION INSTANCE (3 arguments each), got"
            f" {len(positional)}: {' '.join(positional)}; or use --instances-file"
        )
    found += [
        Identity(positional[i], positional[i + 1], positional[i + 2])
        for i in range(0, len(positional), 3)
    ]
    if path is not None:
        listed = _read_file(path, stdin)
        if not listed:
            raise InvalidInputError(f"instances file {path} lists no instances")
        found += listed
    if not found:
        raise InvalidInputError(
            "no instance to check: give APP FUNCTION INSTANCE or --instances-file"
        )
    unique = list(dict.fromkeys(found))
    if len(unique) > MAX_TARGETS:
        raise InvalidInputError(f"at most {MAX_TARGETS} instances at once, got {len(unique)}")
    return unique


def _read_file(path: str, stdin: TextIO | None) -> list[Identity]:
    if path == "-":
        return parse_lines(_bounded_text(stdin or sys.stdin, "<stdin>"), "<stdin>")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read instances file {path}: {exc.strerror or exc}"
        ) from None
    _check_size(len(data), f"instances file {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"instances file {path} is not UTF-8 text: {exc}") from None
    return parse_lines(text.splitlines(), path)


def _bounded_text(stream: TextIO, source: str) -> list[str]:
    """At most MAX_FILE_BYTES of a text stream (read as bytes when it has them)."""
    binary = getattr(stream, "buffer", None)
    try:
        if binary is not None:
            data: bytes = binary.read(MAX_FILE_BYTES + 1)
            _check_size(len(data), source)
            text = data.decode("utf-8")
        else:
            text = stream.read(MAX_FILE_BYTES + 1)
            _check_size(len(text), source)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{source} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {source}: {exc.strerror or exc}") from None
    return text.splitlines()


def _check_size(size: int, source: str) -> None:
    if size > MAX_FILE_BYTES:
        raise InvalidInputError(
            f"{source} is larger than {MAX_FILE_BYTES // 2**20} MiB;"
            f" list at most {MAX_TARGETS} instances"
        )
