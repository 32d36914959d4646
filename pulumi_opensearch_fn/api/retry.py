"""When and how long to wait before trying a request again."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import (
    DeadlineExceededError,
    InvalidInputError,
    NetworkError,
    OpenSearchFnError,
    ServerError,
    ThrottledError,
)

RETRIED_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter, inside a total deadline.

    `max_attempts=1` turns retries off. `deadline` (seconds) bounds one call,
    waits and retries included.
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    deadline: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidInputError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise InvalidInputError("retry delays must not be negative")
        if self.deadline <= 0:
            raise InvalidInputError("deadline must be positive")

    @staticmethod
    def retryable(error: OpenSearchFnError) -> bool:
        if isinstance(error, DeadlineExceededError):  # the time is up; a retry cannot help
            return False
        if isinstance(error, ThrottledError | NetworkError):
            return True
        return isinstance(error, ServerError) and error.http_status in RETRIED_STATUSES

    def delay(self, attempt: int, error: OpenSearchFnError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): the backoff,
        or longer when the service asked for it (`Retry-After`, `x-acs-retry-after`)."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        retry_after = getattr(error, "retry_after", None)
        return max(backoff, retry_after) if retry_after else backoff


NO_RETRY = RetryPolicy(max_attempts=1)
