"""--debug logging to stderr, and scrubbing of secrets from everything shown.

The client never logs credentials; the scrubbing is a second line of defence
for messages that echo something unexpected (an error body, a file's contents).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

SECRET_ENV = (
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALICLOUD_SECURITY_TOKEN",
)
MASK = "***"
# Shorter values would mask ordinary words; real secrets are far longer.
_MIN_SECRET = 6
_secrets: set[str] = set()


def remember_secrets(*values: str | None) -> None:
    _secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)


def remember_secrets_from_env(env: Mapping[str, str]) -> None:
    remember_secrets(*(env.get(name) for name in SECRET_ENV))


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from ..core.printable import printable

        # Records carry server text (request ids, error codes): one printable line.
        return redact(printable(super().format(record)))


class _Quiet(logging.NullHandler):
    """On the root logger while a command runs: other packages' records (the credentials
    chain logs failed probes with tracebacks) stop there instead of reaching stderr
    through logging's last-resort handler. Our messages are printed, not logged."""


def quiet_others() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _Quiet) for h in root.handlers):
        root.addHandler(_Quiet())


def unquiet_others() -> None:
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _Quiet)]


def enable_debug() -> None:
    """Our loggers at DEBUG on stderr; httpx and httpcore stay quiet (their debug
    lines add nothing the client's own request line does not say)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("pulumi_opensearch_fn")
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def disable_debug() -> None:
    """Undoes enable_debug (main may run more than once in one process)."""
    logger = logging.getLogger("pulumi_opensearch_fn")
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
