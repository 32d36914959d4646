"""Helpers for the stack tests: the example programs as throwaway projects on the emulator."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import REPO_ROOT, PulumiProject

EXAMPLES = REPO_ROOT / "examples"
APP, FUNCTION = "my_app", "ctr"
DEMO_KEY_ID, DEMO_KEY_SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
EXPECT_NO_CHANGES_EXIT = 7  # `--expect-no-changes` found changes


def example_project(
    tmp_path: Path,
    env: dict[str, str],
    example: str,
    endpoint: str,
    *,
    dirname: str | None = None,
    stack: str = "dev",
    config: dict[str, str] | None = None,
    key_id: str = DEMO_KEY_ID,
    key_secret: str = DEMO_KEY_SECRET,
    credentials_in_config: bool = True,
    timeout: float = 180.0,
) -> PulumiProject:
    """A copy of examples/EXAMPLE (with an absolute virtualenv), a new stack, its config set.

    The access key goes into stack config, or with `credentials_in_config=False` into
    the environment of every `pulumi` command.
    """
    program = (EXAMPLES / example / "__main__.py").read_text(encoding="utf-8")
    project = PulumiProject.write(
        tmp_path / (dirname or example), env, name=example, program=program, timeout=timeout
    )
    project.stack_init(stack)
    project.config_set("opensearch-fn:endpoint", endpoint)
    if credentials_in_config:
        project.config_set("opensearch-fn:accessKeyId", key_id)
        project.config_set("opensearch-fn:accessKeySecret", key_secret, secret=True)
    else:
        project.env |= {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key_secret,
        }
    for key, value in (config or {}).items():
        project.config_set(f"{example}:{key}", value)
    return project


def combined(result: Any) -> str:
    return f"{result.stdout}\n{result.stderr}"


def provider_blobs(value: Any) -> Iterator[str]:
    """Every `__provider` value (a plain string or a secret's plaintext) in an export."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "__provider":
                if isinstance(item, dict):
                    plaintext = item.get("plaintext")
                    yield plaintext if isinstance(plaintext, str) else json.dumps(item)
                elif isinstance(item, str):
                    yield item
            else:
                yield from provider_blobs(item)
    elif isinstance(value, list):
        for item in value:
            yield from provider_blobs(item)


def encoded_forms(secret: str) -> list[bytes]:
    """The secret as plain text, base64 (standard and URL-safe, all three alignments) and hex."""
    raw = secret.encode()
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode()}
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + raw)
            # Drop the characters that depend on the padding bytes and on what follows.
            skip = (pad * 8 + 5) // 6
            forms.add(encoded[skip : len(encoded) - 4])
    return [f for f in forms if len(f) >= 8]


def leaks(data: bytes, secrets: list[str]) -> list[str]:
    """Which secrets appear in data in any form of `encoded_forms` (names, not values)."""
    return [
        f"secret #{i}"
        for i, secret in enumerate(secrets)
        if any(form in data for form in encoded_forms(secret))
    ]


def decoded_blob(blob: str) -> bytes:
    try:
        return base64.b64decode(blob, validate=False)
    except ValueError:
        return blob.encode()
