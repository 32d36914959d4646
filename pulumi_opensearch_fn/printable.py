"""Text from the service made safe to show on a terminal, on one line.

Names, statuses, error messages and extendInfo come from the server. Shown raw, an
escape sequence in them could clear the screen, move the cursor or recolour, and
print a fake verdict; bidirectional overrides could make text read differently
from what it is. Such characters are shown as visible escapes (`\\x1b`, `\\u202e`)
instead, and line breaks become spaces so one message stays one line.
"""

from __future__ import annotations

import re

# C0 (but tab, newline and carriage return, handled below), DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Invisible format characters that reorder or hide text: zero-width, bidi marks,
# embeddings, overrides and isolates, line and paragraph separators, BOM.
_FORMAT = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_BREAKS = re.compile(r"\r\n|[\r\n\t]")


def printable(text: str) -> str:
    """`text` with line breaks and tabs as spaces and every control or format
    character as a visible escape."""
    text = _BREAKS.sub(" ", text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return _FORMAT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_safe(document: str) -> str:
    """JSON text with the characters `printable` escapes (beyond those JSON always
    escapes) written as `\\u` escapes: the same document, safe to print."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


# json.dumps(ensure_ascii=False) escapes C0 itself; DEL, C1 and format characters
# it leaves raw. They can only occur inside strings, where `\uXXXX` means the same.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def brief(value: object, limit: int = 60) -> str:
    """`repr(value)` for a message, cut to `limit` characters: input is named, not echoed."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
