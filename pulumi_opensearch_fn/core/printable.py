"""Text from the service made safe to show on a terminal, on one line.

Names, statuses, error messages and extendInfo come from the server. Shown raw, an
escape sequence in them could clear the screen, move the cursor or recolour, and
print a fake verdict; bidirectional overrides could make text read differently
from what it is. Such characters are removed (the same rule as every error of the
package, `api.safe_text`), and line breaks become spaces so one message stays one line.
"""

from __future__ import annotations

import re

from ..api.safe_text import strip_controls


def printable(text: str) -> str:
    """`text` on one line, without escape sequences, control or format characters."""
    return strip_controls(text)


def json_safe(document: str) -> str:
    """JSON text with the characters `printable` escapes (beyond those JSON always
    escapes) written as `\\u` escapes: the same document, safe to print."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


# json.dumps(ensure_ascii=False) escapes C0 itself; DEL, C1 and format characters
# it leaves raw. They can only occur inside strings, where `\uXXXX` means the same.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def brief(value: object, limit: int = 60) -> str:
    """`repr(value)` for a message, cut when longer than `limit` characters (text is cut
    inside its quotes): input is named, not echoed."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[: limit - 3] + "...")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
