"""Access keys and where they come from.

Explicit keys (or a named profile) win; only when there are none is the
`alibabacloud-credentials` default chain built, lazily, because importing that
package is slow, it reads its environment at import time, and its chain starts
probes and a background thread.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import CredentialsError
from .safe_text import SafeRecords, remember_secret

log = logging.getLogger(__name__)
log.addFilter(SafeRecords())

# Key ids and STS tokens travel in request headers: printable ASCII, no spaces.
_HEADER_TEXT = re.compile(r"[\x21-\x7e]+")


def credential_problem(value: str, *, in_header: bool) -> str | None:
    """Why `value` cannot be a key id or STS token (`in_header`) or a key secret or
    profile name, or None. Says where the bad character is, never what the value is."""
    if in_header:
        rule = "it must be printable ASCII without spaces"
        bad = next((i for i, ch in enumerate(value) if not _HEADER_TEXT.fullmatch(ch)), None)
    else:
        rule = "it must be printable text without surrounding spaces"
        bad = next((i for i, ch in enumerate(value) if not ch.isprintable()), None)
        if bad is None and value != value.strip():
            return f"starts or ends with a space; {rule}"
    if bad is None:
        return None
    char = value[bad]
    what = (
        "a line break"
        if char in "\r\n"
        else "a space"
        if char.isspace()
        else "a non-ASCII character"
        if char.isprintable()
        else "a control character or a byte that is not UTF-8"
    )
    return f"contains {what} (character {bad + 1} of {len(value)}); {rule}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """One set of keys. The secret and the token never show in repr or str."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key_id or not self.access_key_secret:
            raise CredentialsError(
                "an access key needs both an id and a secret "
                "(set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)"
            )
        # From now on no error or log line of the package can show them.
        remember_secret(self.access_key_secret, self.security_token)
        # Refused here, before any request: httpx would fail on the header (and its
        # error quotes the Authorization header), or the signature could never match.
        for name, value, in_header in (
            ("the access key id", self.access_key_id, True),
            ("the access key secret", self.access_key_secret, False),
            ("the STS token", self.security_token or "", True),
        ):
            problem = credential_problem(value, in_header=in_header) if value else None
            if problem:
                raise CredentialsError(f"{name} {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Never let a secret be pickled into Pulumi state by accident.
        raise TypeError("Credentials cannot be pickled")


class CredentialsProvider(Protocol):
    def get(self) -> Credentials: ...


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    credentials: Credentials

    def get(self) -> Credentials:
        return self.credentials


class ChainCredentials:
    """The `alibabacloud-credentials` default chain, or one named profile.

    Built on first use. A profile given here is passed to the profile providers
    directly, so it takes effect even though that package reads
    ALIBABA_CLOUD_PROFILE when it is imported.
    """

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile
        self._provider: Any = None
        self._lock = threading.Lock()

    def get(self) -> Credentials:
        with self._lock:
            if self._provider is None:
                self._provider = _build_chain(self.profile)
            provider = self._provider
        try:
            found = provider.get_credentials()
        except Exception as exc:
            where = f"profile {self.profile!r}" if self.profile else "the default credentials chain"
            raise CredentialsError(
                f"no credentials from {where}: {_first_line(exc)}. Set ALIBABA_CLOUD_ACCESS_KEY_ID"
                " and ALIBABA_CLOUD_ACCESS_KEY_SECRET, the opensearch-fn:accessKeyId and"
                " opensearch-fn:accessKeySecret stack config, or a profile"
            ) from None
        return Credentials(
            access_key_id=found.get_access_key_id() or "",
            access_key_secret=found.get_access_key_secret() or "",
            security_token=found.get_security_token() or None,
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"profile": self.profile}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["profile"])  # type: ignore[misc]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _build_chain(profile: str | None) -> Any:
    from alibabacloud_credentials.provider import (
        CLIProfileCredentialsProvider,
        ProfileCredentialsProvider,
    )
    from alibabacloud_credentials.provider.default import DefaultCredentialsProvider

    _route_package_logging()
    if profile is None:
        return DefaultCredentialsProvider()
    return _FirstOf(
        [
            CLIProfileCredentialsProvider(profile_name=profile),
            ProfileCredentialsProvider(profile_name=profile),
        ]
    )


def _route_package_logging() -> None:
    # The package attaches its own stderr handler to the "credentials" logger,
    # so failed probes print tracebacks; send them through normal logging instead.
    package_log = logging.getLogger("credentials")
    for handler in list(package_log.handlers):
        package_log.removeHandler(handler)
    package_log.setLevel(logging.NOTSET)
    package_log.propagate = True


class _FirstOf:
    def __init__(self, providers: list[Any]) -> None:
        self.providers = providers

    def get_credentials(self) -> Any:
        problems = []
        for provider in self.providers:
            try:
                return provider.get_credentials()
            except Exception as exc:
                problems.append(_first_line(exc))
        raise CredentialsError("; ".join(problems))
