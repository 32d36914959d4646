"""Secrets are masked in every encoding; server text loses its control characters."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from pulumi_opensearch_fn.api import Credentials, InvalidInputError, errors
from pulumi_opensearch_fn.api.answers import retry_after
from pulumi_opensearch_fn.api.safe_text import (
    MASK,
    redact,
    remember_secret,
    safe,
    shown,
    strip_controls,
)

SECRET = "unit-canary/secret+value=1"


@pytest.fixture(autouse=True)
def registered() -> None:
    remember_secret(SECRET)


def encodings(value: str, prefix: str = "") -> list[str]:
    raw = (prefix + value + "!").encode()
    return [
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
        raw.hex().upper(),
        quote(prefix + value, safe=""),
        quote_plus(prefix + value),
        json.dumps(prefix + value).replace("/", "\\/"),
    ]


@pytest.mark.parametrize("prefix", ["", "x", "xy"])
def test_every_encoding_at_every_alignment_is_masked(prefix: str) -> None:
    for form in [SECRET, *encodings(SECRET, prefix)]:
        text = f"server said {form} end"
        masked = redact(text)
        assert masked.count(MASK) == 1, (form, masked)
        # Only the few characters that also encode the prefix or the "!" may remain.
        remaining = len(form) - (len(text) - len(masked) + len(MASK))
        assert remaining <= 4 + 3 * len(prefix), (form, masked)


def test_credentials_register_their_secret_and_token() -> None:
    Credentials("AK", "credentials-registered-secret", "credentials-registered-token")
    assert redact("a credentials-registered-secret b credentials-registered-token") == (
        f"a {MASK} b {MASK}"
    )


def test_every_error_is_safe_whatever_its_text() -> None:
    error = errors.ServerError(
        f"boom \x1b[2J{SECRET}\r\nfake line", code=f"C\x07{SECRET}", request_id="r\x9b1"
    )
    assert SECRET not in str(error)
    assert str(error).isprintable()
    assert "fake line" in str(error)


def test_a_secret_split_by_a_control_character_is_still_masked() -> None:
    split = SECRET[:5] + "\x1b[0m" + SECRET[5:]
    assert SECRET not in safe(split)


def test_short_values_are_not_registered() -> None:
    remember_secret("short")
    assert redact("a short word") == "a short word"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[2J\x1b[Hready", "ready"),
        ("\x1b]0;title\x07ready", "ready"),
        ("\x1b]8;;http://x\x1b\\link", "link"),
        ("a\r\nb\tc", "a b c"),
        ("\x9b31mred\x9b0m", "red"),
        ("\u202eevil\u2066x\u2069", "evilx"),
        ("nul\x00del\x7fc1\x85", "nuldelc1"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("no\u00a0break", "no break"),
        ("plain text, ünïcode, 中文", "plain text, ünïcode, 中文"),
    ],
)
def test_control_characters_and_escape_sequences_are_stripped(text: str, expected: str) -> None:
    assert strip_controls(text) == expected


def test_shown_cuts_after_masking() -> None:
    text = "x" * 290 + SECRET
    assert SECRET[:8] not in shown(text, 300)
    assert shown("y" * 1000, 10) == "y" * 10 + "... (990 more characters)"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "Thu, 01 Jan 2026 00:01:00 GMT"}, 60.0),
        ({"retry-after": "Wed, 31 Dec 2025 23:00:00 GMT"}, 0.0),
        ({"x-acs-retry-after": "1500"}, 1.5),
        ({"x-acs-retry-after": "1500", "retry-after": "2"}, 2.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "9" * 100}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_dates_and_milliseconds(headers, seconds) -> None:
    now = 1767225600.0  # 2026-01-01T00:00:00Z
    assert retry_after(headers, now=now) == seconds


def test_invalid_input_errors_are_safe_too() -> None:
    assert "\x1b" not in str(InvalidInputError("bad \x1b[2J input"))
