"""Credential values out of what the emulator answers and logs, however a client echoed them.

The emulator knows every secret it accepts (access key secrets, STS tokens and
their secrets), so it can remove them wherever they show up: in plain text and
in the base64, hex and percent-encoded forms a header or query might carry.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
# Shorter values would redact ordinary words; real secrets and tokens are longer.
MIN_SECRET_LENGTH = 6


def forms(secret: str) -> set[str]:
    raw = secret.encode("utf-8")
    return {
        secret,
        base64.b64encode(raw).decode("ascii"),
        base64.urlsafe_b64encode(raw).decode("ascii"),
        base64.b64encode(raw).decode("ascii").rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }


class Redactor:
    """Replaces every form of every given secret; longest first, so none is left half-shown."""

    def __init__(self, secrets: Iterable[str]) -> None:
        found = {f for s in secrets if len(s) >= MIN_SECRET_LENGTH for f in forms(s)}
        self._forms = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text
