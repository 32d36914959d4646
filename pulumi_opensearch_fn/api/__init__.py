"""HTTP client for the OpenSearch function API. Never imports pulumi.

Names load on first use, so that importing `api.errors` or `api.models` (the
provider's check, the command line's `--help`) does not pay for the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_names

if TYPE_CHECKING:
    from .client import OpenSearchFunctionClient
    from .credentials import ChainCredentials, Credentials, CredentialsProvider, StaticCredentials
    from .endpoints import normalize_endpoint, region_endpoint
    from .errors import (
        ApiError,
        AppGroupNotFoundError,
        AuthenticationError,
        BadRequestError,
        BadResponseError,
        ClientClosedError,
        CredentialsError,
        DeadlineExceededError,
        InstanceNotFoundError,
        InvalidInputError,
        NetworkError,
        NotFoundError,
        OpenSearchFnError,
        PermissionDeniedError,
        ServerError,
        TaskNotFoundError,
        ThrottledError,
    )
    from .identity import Identity
    from .models import (
        Belongs,
        ExtendInfo,
        FunctionInstance,
        FunctionTask,
        InstanceTask,
        Parameter,
        TaskPage,
    )
    from .retry import NO_RETRY, RetryPolicy
    from .signing import RoaSigner, V3Signer

_MODULES = {
    ".client": ("OpenSearchFunctionClient",),
    ".credentials": ("ChainCredentials", "Credentials", "CredentialsProvider", "StaticCredentials"),
    ".endpoints": ("normalize_endpoint", "region_endpoint"),
    ".errors": (
        "ApiError",
        "AppGroupNotFoundError",
        "AuthenticationError",
        "BadRequestError",
        "BadResponseError",
        "ClientClosedError",
        "CredentialsError",
        "DeadlineExceededError",
        "InstanceNotFoundError",
        "InvalidInputError",
        "NetworkError",
        "NotFoundError",
        "OpenSearchFnError",
        "PermissionDeniedError",
        "ServerError",
        "TaskNotFoundError",
        "ThrottledError",
    ),
    ".identity": ("Identity",),
    ".models": (
        "Belongs",
        "ExtendInfo",
        "FunctionInstance",
        "FunctionTask",
        "InstanceTask",
        "Parameter",
        "TaskPage",
    ),
    ".retry": ("NO_RETRY", "RetryPolicy"),
    ".signing": ("RoaSigner", "V3Signer"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "NO_RETRY",
    "ApiError",
    "AppGroupNotFoundError",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "Belongs",
    "ChainCredentials",
    "ClientClosedError",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "DeadlineExceededError",
    "ExtendInfo",
    "FunctionInstance",
    "FunctionTask",
    "Identity",
    "InstanceNotFoundError",
    "InstanceTask",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "OpenSearchFnError",
    "OpenSearchFunctionClient",
    "Parameter",
    "PermissionDeniedError",
    "RetryPolicy",
    "RoaSigner",
    "ServerError",
    "StaticCredentials",
    "TaskNotFoundError",
    "TaskPage",
    "ThrottledError",
    "V3Signer",
    "normalize_endpoint",
    "region_endpoint",
]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, __all__)
