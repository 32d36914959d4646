"""One settings object from per-resource arguments, stack config, `alicloud:*` and the environment.

Lookup order for each setting: a per-resource argument (region, endpoint only),
`opensearch-fn:*` stack config, pulumi-alicloud's `alicloud:*` keys, the
environment, then (credentials only) the `alibabacloud-credentials` default chain.
Credentials are taken as one set from the first source that has any of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..api.errors import CredentialsError, InvalidInputError
from ..api.validation import check_region
from .printable import brief

if TYPE_CHECKING:
    from ..api.credentials import Credentials

ENDPOINT_ENV = "OPENSEARCH_FN_ENDPOINT"

NAMESPACE = "opensearch-fn"  # the stack config namespace, and the provider package's name
REGION_KEYS = ("opensearch-fn:region", "alicloud:region")
REGION_ENV = ("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION")
ENDPOINT_KEYS = ("opensearch-fn:endpoint",)
# How many requests a program's reads have in flight at once, at most: the ceiling of
# its limiter, which has fewer in flight while the service throttles (api.limiter).
MAX_CONCURRENT_READS_KEY = "opensearch-fn:maxConcurrentReads"
DEFAULT_MAX_CONCURRENT_READS = 32
_MAX_DIGITS = 9  # int() of a longer text costs time and means nothing here


@dataclass(frozen=True, slots=True)
class _CredentialSource:
    """Where one set of credentials may come from, and the names of its four keys."""

    label: str
    access_key_id: tuple[str, ...]
    access_key_secret: tuple[str, ...]
    security_token: tuple[str, ...]
    profile: tuple[str, ...]


CREDENTIAL_SOURCES = (
    _CredentialSource(
        "stack config opensearch-fn:*",
        ("opensearch-fn:accessKeyId",),
        ("opensearch-fn:accessKeySecret",),
        ("opensearch-fn:securityToken",),
        ("opensearch-fn:profile",),
    ),
    _CredentialSource(
        "stack config alicloud:*",
        ("alicloud:accessKey",),
        ("alicloud:secretKey",),
        ("alicloud:securityToken",),
        ("alicloud:profile",),
    ),
    _CredentialSource(
        "environment",
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"),
        ("ALIBABA_CLOUD_PROFILE",),
    ),
)

# Every stack config key the package reads, for callers that collect config.
CONFIG_KEYS = (
    *REGION_KEYS,
    *ENDPOINT_KEYS,
    *(key for s in CREDENTIAL_SOURCES[:2] for key in (*s.access_key_id, *s.access_key_secret)),
    *(key for s in CREDENTIAL_SOURCES[:2] for key in (*s.security_token, *s.profile)),
)


@dataclass(frozen=True)
class Settings:
    """Where to send requests and with which credentials. Never pickled into state."""

    region: str | None = None
    endpoint: str | None = None
    credentials: Credentials | None = field(default=None, repr=False)
    profile: str | None = None
    credentials_source: str = "default credentials chain"

    def with_overrides(self, *, region: str | None, endpoint: str | None) -> Settings:
        """Per-resource `region` / `endpoint` win over everything else."""
        if not region and not endpoint:
            return self
        from ..api.endpoints import normalize_endpoint  # the HTTP client's URL parser

        return Settings(
            region=region or self.region,
            endpoint=normalize_endpoint(endpoint)
            if endpoint
            else (None if region else self.endpoint),
            credentials=self.credentials,
            profile=self.profile,
            credentials_source=self.credentials_source,
        )

    @property
    def target(self) -> str:
        """Cache key and message text for where requests go."""
        return self.endpoint or f"region {self.region}"


def resolve_settings(
    config: Mapping[str, object] | Callable[[str], object | None],
    env: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
    endpoint: str | None = None,
) -> Settings:
    """Builds Settings from stack config (a mapping or a lookup function) and the environment.

    Raises CredentialsError when the first source with credentials is incomplete or
    contradictory, and InvalidInputError for a malformed region or endpoint.
    """
    from ..api.endpoints import normalize_endpoint  # the HTTP client's URL parser

    lookup = config.get if isinstance(config, Mapping) else config
    environ = os.environ if env is None else env

    def config_item(keys: tuple[str, ...]) -> tuple[str, str] | None:
        for key in keys:
            value = lookup(key)
            if value not in (None, ""):
                return key, str(value)
        return None

    def env_item(keys: tuple[str, ...]) -> tuple[str, str] | None:
        return next(((k, environ[k]) for k in keys if environ.get(k)), None)

    def from_config(keys: tuple[str, ...]) -> str | None:
        item = config_item(keys)
        return item[1] if item else None

    def from_env(keys: tuple[str, ...]) -> str | None:
        item = env_item(keys)
        return item[1] if item else None

    region = region or from_config(REGION_KEYS) or from_env(REGION_ENV)
    endpoint = endpoint or from_config(ENDPOINT_KEYS) or from_env((ENDPOINT_ENV,))
    if region:
        check_region(region)
    if endpoint:
        endpoint = normalize_endpoint(endpoint)

    for source in CREDENTIAL_SOURCES:
        get = from_env if source.label == "environment" else from_config
        key_id, secret = get(source.access_key_id), get(source.access_key_secret)
        token, profile = get(source.security_token), get(source.profile)
        if not any((key_id, secret, token, profile)):
            continue
        named = env_item if source.label == "environment" else config_item
        _check_text(source, named)
        _check_complete(source, key_id, secret, token, profile)
        from ..api.credentials import Credentials

        return Settings(
            region=region,
            endpoint=endpoint,
            credentials=Credentials(key_id, secret, token) if key_id and secret else None,
            profile=profile if not key_id else None,
            credentials_source=source.label,
        )
    return Settings(region=region, endpoint=endpoint)


def _check_text(
    source: _CredentialSource, named: Callable[[tuple[str, ...]], tuple[str, str] | None]
) -> None:
    """Refuses, naming the key, a value no request can carry (a trailing newline, a
    non-ASCII key id); the message never holds the value, not even masked."""
    from ..api.credentials import credential_problem

    for keys, in_header in (
        (source.access_key_id, True),
        (source.access_key_secret, False),
        (source.security_token, True),
        (source.profile, False),
    ):
        item = named(keys)
        problem = credential_problem(item[1], in_header=in_header) if item else None
        if item and problem:
            raise CredentialsError(f"{item[0]} ({source.label}) {problem}")


def _check_complete(
    source: _CredentialSource,
    key_id: str | None,
    secret: str | None,
    token: str | None,
    profile: str | None,
) -> None:
    names = f"{source.access_key_id[0]} and {source.access_key_secret[0]}"
    if profile and (key_id or secret or token):
        raise CredentialsError(
            f"{source.label} sets both a profile ({source.profile[0]}) and access keys;"
            f" set either {source.profile[0]} or {names}, not both"
        )
    if key_id and not secret:
        raise CredentialsError(
            f"{source.label} sets {source.access_key_id[0]} without"
            f" {source.access_key_secret[0]}; set both"
        )
    if secret and not key_id:
        raise CredentialsError(
            f"{source.label} sets {source.access_key_secret[0]} without"
            f" {source.access_key_id[0]}; set both"
        )
    if token and not key_id:
        raise CredentialsError(
            f"{source.label} sets {source.security_token[0]} without access keys; set {names}"
            " (the STS key pair) as well"
        )


def max_concurrent_reads(config: Mapping[str, object] | Callable[[str], object | None]) -> int:
    """`opensearch-fn:maxConcurrentReads`, a whole number >= 1 (default 32)."""
    lookup = config.get if isinstance(config, Mapping) else config
    value = lookup(MAX_CONCURRENT_READS_KEY)
    if value in (None, ""):
        return DEFAULT_MAX_CONCURRENT_READS
    text = str(value).strip()
    # ASCII digits only: isdigit() takes '²', which int() refuses; and few of them.
    if not (text.isascii() and text.isdigit()) or int(text[: _MAX_DIGITS + 1]) < 1:
        raise InvalidInputError(
            f"{MAX_CONCURRENT_READS_KEY} must be a whole number >= 1, got {brief(value)}"
        )
    if len(text) > _MAX_DIGITS:
        raise InvalidInputError(f"{MAX_CONCURRENT_READS_KEY} {brief(value)} is too large")
    return int(text)
