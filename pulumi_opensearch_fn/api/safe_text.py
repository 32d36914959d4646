"""Text made safe to show: secrets masked, control characters gone, one line.

Every error this package raises and every line its client logs goes through
`safe`. Secrets are registered when `Credentials` are made, so whatever a server
echoes back (a header, a signature input, an encoded copy) is masked before it
reaches a terminal, a log, a Pulumi message or state.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import unicodedata
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values would mask ordinary words; real secrets (30 characters) and STS
# tokens are far longer.
MIN_SECRET_LENGTH = 10
# Escape sequences go whole (CSI, OSC, other ESC forms, 8-bit CSI); then line breaks
# and tabs become one space; then every other character Python does not call
# printable goes (C0 and C1 controls, DEL, format characters such as bidirectional
# overrides and zero-width spaces), except other space characters, which become a space.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: ESC [ params intermediates final
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: ESC ] ... BEL or ST
    r"|\x1b[@-_]?"  # any other ESC form, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
)
# A line break takes the blanks around it: a quoted multi-line text reads as one line.
_BREAKS = re.compile(r"[ \t]*[\t\n\r\u2028\u2029][\s\u2028\u2029]*")


class _Secrets:
    """The registered secrets, and every form of them, longest first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: set[str] = set()
        self.forms: tuple[str, ...] = ()  # replaced whole, so readers need no lock


_SECRETS = _Secrets()


def remember_secret(*values: str | None) -> None:
    """Registers values to mask from now on, in every encoding a server might echo."""
    wanted = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
    with _SECRETS.lock:
        new = wanted - _SECRETS.values
        if not new:
            return
        _SECRETS.values.update(new)
        forms = set(_SECRETS.forms)
        for secret in new:
            forms.update(f for f in encodings(secret) if len(f) >= MIN_SECRET_LENGTH)
        _SECRETS.forms = tuple(sorted(forms, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every registered secret masked, in any of its encodings."""
    for form in _SECRETS.forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def strip_controls(text: str) -> str:
    """One line without escape sequences or control characters (tabs and newlines
    become single spaces), so server text cannot move the cursor or fake output."""
    if text.isprintable():  # the common case, checked at C speed
        return text
    text = _BREAKS.sub(" ", _ESCAPES.sub("", text))
    return "".join(
        ch if ch.isprintable() else " " if unicodedata.category(ch) == "Zs" else "" for ch in text
    )


def safe(text: str) -> str:
    """What may be shown: secrets masked, then control characters stripped, then
    masked again (a control character inside a secret could hide it from the first pass)."""
    return redact(strip_controls(redact(text)))


def shown(text: str, limit: int) -> str:
    """Server text as an error line may show it: made safe first, so cutting it can
    never leave part of a secret, then cut to about `limit` characters."""
    return shorten(safe(text), limit)


def shorten(text: str, limit: int) -> str:
    """At most about `limit` characters; says how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def encodings(secret: str) -> set[str]:
    """Every form of ``secret`` a server or a log might show: plain, percent, JSON, hex, base64."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret, safe="").lower(),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        binascii.hexlify(raw).decode(),
        binascii.hexlify(raw).decode().upper(),
    }
    forms.update(_base64_cores(raw))
    return forms


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters that depend on `raw` alone, at each of the three byte
    alignments it can have inside a longer encoded text, in both alphabets."""
    cores = set()
    for offset in range(3):
        padded = b"\0" * offset + raw
        # Character i covers bits [6i, 6i + 6); keep those inside the secret's bits.
        start = -(-8 * offset // 6)
        end = 8 * len(padded) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            cores.add(encode(padded).decode()[start:end])
    return cores


class SafeRecords(logging.Filter):
    """On a logger: its records are made safe before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = safe(record.getMessage())
        record.args = None
        return True
