"""Settings and the client for one run, from the command line and the environment.

Credentials never come from the command line. `--profile` wins over everything:
access keys in the environment are then ignored.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from . import logs

if TYPE_CHECKING:
    from ..api import OpenSearchFunctionClient
    from ..api.limiter import AdaptiveLimiter
    from ..core.config import Settings

log = logging.getLogger("pulumi_opensearch_fn.cli")


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Raises CredentialsError / InvalidInputError for a bad setup, before any request."""
    from ..core.config import CREDENTIAL_SOURCES, resolve_settings

    env = dict(environ)
    logs.remember_secrets_from_env(env)
    if args.profile:
        from ..api.credentials import credential_problem
        from ..api.errors import CredentialsError

        problem = credential_problem(args.profile, in_header=False)
        if problem:  # named as given, not as the variable it is passed on in
            raise CredentialsError(f"--profile {problem}")
        for source in CREDENTIAL_SOURCES:
            if source.label == "environment":
                for key in (*source.access_key_id, *source.access_key_secret,
                            *source.security_token, *source.profile):  # fmt: skip
                    env.pop(key, None)
                env[source.profile[0]] = args.profile
    settings = resolve_settings({}, env, region=args.region, endpoint=args.endpoint)
    # A region or endpoint given on the command line beats one from the environment.
    return settings.with_overrides(region=args.region, endpoint=args.endpoint)


def open_client(
    settings: Settings, *, max_connections: int = 8, request_slots: AdaptiveLimiter | None = None
) -> OpenSearchFunctionClient:
    """The client, with credentials checked now so a bad setup fails once, up front;
    its requests take `request_slots`, the run's."""
    from ..api.credentials import ChainCredentials
    from ..core.clients import new_client

    if settings.credentials is not None:
        logs.remember_secrets(
            settings.credentials.access_key_secret, settings.credentials.security_token
        )
        client = new_client(settings, max_connections=max_connections, request_slots=request_slots)
        source = settings.credentials_source
    else:
        # A profile or the default chain: resolve it once here (the provider keeps its
        # chain, so temporary credentials still refresh during a long --wait).
        provider = ChainCredentials(settings.profile)
        found = provider.get()
        logs.remember_secrets(found.access_key_secret, found.security_token)
        client = new_client(
            settings,
            max_connections=max_connections,
            credentials=provider,
            request_slots=request_slots,
        )
        source = (
            f"profile {settings.profile!r}" if settings.profile else settings.credentials_source
        )
    log.debug("endpoint %s, credentials from %s", client.endpoint, source)
    return client
