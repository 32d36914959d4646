"""HTTP client for the OpenSearch function API. Never imports pulumi."""

from .client import OpenSearchFunctionClient
from .credentials import ChainCredentials, Credentials, CredentialsProvider, StaticCredentials
from .endpoints import normalize_endpoint, region_endpoint
from .errors import (
    ApiError,
    AppGroupNotFoundError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
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

__all__ = [
    "NO_RETRY",
    "ApiError",
    "AppGroupNotFoundError",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "Belongs",
    "ChainCredentials",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "DeadlineExceededError",
    "ExtendInfo",
    "FunctionInstance",
    "FunctionTask",
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
