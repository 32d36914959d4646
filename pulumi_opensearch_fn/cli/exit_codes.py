"""Exit codes of `opensearch-fn`, and which error maps to which.

Kept free of heavy imports: the parser's epilog is built from `TABLE`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api.errors import OpenSearchFnError

OK = 0
NOT_MET = 1
USAGE = 2
NOT_FOUND = 3
AUTH = 4
FAILURE = 5
INTERRUPTED = 130

TABLE = (
    (OK, "success; with check, every expectation of every instance is met"),
    (NOT_MET, "expectations not met (including still unmet when --wait timed out)"),
    (USAGE, "usage error or bad input: arguments, instance names, credentials setup"),
    (NOT_FOUND, "not found: app group, instance or task (generation)"),
    (AUTH, "authentication failed or permission denied"),
    (FAILURE, "other API or network failure: throttled, server error, network, bad response"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)


def describe() -> str:
    """The table for --help and the module docstring."""
    return "\n".join(f"  {code:>3}  {text}" for code, text in TABLE)


def for_error(error: OpenSearchFnError) -> int:
    """The exit code for an error of the client."""
    from ..api import errors

    if isinstance(error, errors.InvalidInputError | errors.CredentialsError):
        return USAGE
    if isinstance(error, errors.NotFoundError):
        return NOT_FOUND
    if isinstance(error, errors.AuthenticationError | errors.PermissionDeniedError):
        return AUTH
    return FAILURE
