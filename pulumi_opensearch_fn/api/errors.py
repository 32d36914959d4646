"""Errors raised by the client, catchable at the level the caller cares about.

OpenSearchFnError
├── InvalidInputError          bad arguments, raised before any request
├── CredentialsError           no usable or contradictory credentials
├── ClientClosedError          a call on a client already closed
├── ApiError                   the service answered with an error
│   ├── NotFoundError
│   │   ├── InstanceNotFoundError   Instance.NotExist
│   │   ├── TaskNotFoundError       Task.NotExist
│   │   └── AppGroupNotFoundError   App.NotFound
│   ├── AuthenticationError    signature, access key, STS token, clock skew
│   ├── PermissionDeniedError  Forbidden.RAM and other 403s
│   ├── ThrottledError         Throttling*
│   ├── ServerError            5xx
│   └── BadRequestError        any other 4xx
├── NetworkError               connect errors, resets, timeouts
│   └── DeadlineExceededError  the total deadline passed
└── BadResponseError           a body that is not the JSON the API sends
"""

from __future__ import annotations

from .safe_text import safe


class OpenSearchFnError(Exception):
    """Base of every error this package raises."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        http_status: int | None = None,
    ) -> None:
        # Every error of the package is shown somewhere: mask secrets and strip
        # control characters here, once, whatever the text came from.
        message, code, request_id = safe(message).strip(), safe(code), safe(request_id)
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        details = [
            f"{label} {value}"
            for label, value in (
                ("code", self.code),
                ("HTTP", self.http_status),
                ("request id", self.request_id),
            )
            if value
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def about(self, subject: str, cls: type[OpenSearchFnError] | None = None) -> OpenSearchFnError:
        """The same error (or one of `cls`) with its message prefixed by what it concerns."""
        return (cls or OpenSearchFnError)(
            f"{subject}: {self.message}",
            code=self.code,
            request_id=self.request_id,
            http_status=self.http_status,
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the keyword-only fields when errors cross process boundaries.
        return (_rebuild, (type(self), self.message, self.code, self.request_id, self.http_status))


def _rebuild(
    cls: type[OpenSearchFnError], message: str, code: str, request_id: str, status: int | None
) -> OpenSearchFnError:
    return cls(message, code=code, request_id=request_id, http_status=status)


class InvalidInputError(OpenSearchFnError, ValueError):
    """An argument is invalid; no request was sent."""


class CredentialsError(OpenSearchFnError):
    """Credentials are missing, incomplete or contradictory."""


class ClientClosedError(OpenSearchFnError, RuntimeError):
    """A call on a client already closed; nothing was sent. (A RuntimeError too:
    what httpx raises for the same mistake.)"""


class ApiError(OpenSearchFnError):
    """The service answered with an error.

    `retry_after` is the wait in seconds the service asked for (`Retry-After` or
    `x-acs-retry-after`), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id, http_status=http_status)
        self.retry_after = retry_after


class NotFoundError(ApiError):
    """The addressed object does not exist."""


class InstanceNotFoundError(NotFoundError):
    """Instance.NotExist: no such function instance."""


class TaskNotFoundError(NotFoundError):
    """Task.NotExist: no such training task (generation)."""


class AppGroupNotFoundError(NotFoundError):
    """App.NotFound: no such app group (or it lives in another region)."""


class AuthenticationError(ApiError):
    """The request could not be authenticated."""


class PermissionDeniedError(ApiError):
    """The caller is authenticated but not allowed."""


class ThrottledError(ApiError):
    """The service throttled the request."""


class ServerError(ApiError):
    """The service failed (5xx)."""


class BadRequestError(ApiError):
    """The service rejected the request (any other 4xx)."""


class NetworkError(OpenSearchFnError):
    """The request did not get an answer: connect error, reset or timeout."""


class DeadlineExceededError(NetworkError):
    """The total time allowed for a call, retries included, ran out."""


class BadResponseError(OpenSearchFnError):
    """The answer was not the JSON the API sends (malformed, truncated, wrong shape)."""


_AUTH_CODES = (
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidSecurityToken",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
)
_NOT_FOUND = {
    "Instance.NotExist": InstanceNotFoundError,
    "Task.NotExist": TaskNotFoundError,
    "App.NotFound": AppGroupNotFoundError,
}


def error_class(code: str, http_status: int) -> type[ApiError]:
    """Maps an API error code and an error HTTP status (>= 400) to the class to raise.

    A NotExist code means "does not exist" only with a 4xx status: with a 5xx the
    service failed, and what it said about existence cannot be trusted.
    """
    if code in _NOT_FOUND and 400 <= http_status < 500:
        return _NOT_FOUND[code]
    if code.startswith("Throttling") or http_status == 429:
        return ThrottledError
    if code.startswith(_AUTH_CODES):
        return AuthenticationError
    if http_status == 403 or code.startswith("Forbidden"):
        return PermissionDeniedError
    if http_status >= 500:
        return ServerError
    if http_status == 404:
        return NotFoundError
    return BadRequestError


def transient(error: OpenSearchFnError) -> bool:
    """Whether reading again later may succeed: the one rule for every wait.

    Transient: throttling (`Throttling*`, 429), a server failure (any 5xx, a NotExist
    code with a 5xx included) and no answer at all (a network error, a call's own
    deadline). Everything else is a final answer that waiting cannot change: not
    found, authentication, permission, any other 4xx, bad input or credentials, and
    a broken answer (`BadResponseError`: something answers, but not with the API's
    JSON; waiting would only hide it until the timeout).
    """
    return isinstance(error, ThrottledError | ServerError | NetworkError)
