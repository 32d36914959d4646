"""What an HTTP answer means: a JSON envelope with a result, or an error to raise.

Only a 200 with a JSON object body and no error code in it is a success. Every
other answer raises: an API error for an error status, a `BadResponseError` for
anything that is neither (1xx, 204, redirects, other 2xx, a body that is not a
JSON object, an error code inside a 200). A "not found" class is raised only where
it can be true: `Instance.NotExist` (and `App.NotFound`) for any of the three
actions, `Task.NotExist` for GetFunctionTask only, each with a 4xx status.
Everything else must never look like "it does not exist" or "there is nothing",
because callers drop state or pass a gate on those.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import ApiError, BadResponseError, TaskNotFoundError, error_class
from .models import field_of
from .safe_text import shown

# What is shown of server-supplied text in an error line.
MAX_MESSAGE = 300
MAX_CODE = 100
MAX_SNIPPET = 80
# Codes a successful envelope may carry.
_SUCCESS_CODES = ("", "OK", "Success", "200")
# Task.NotExist is an answer about a task only GetFunctionTask can give.
_TASK_ACTION = "GetFunctionTask"


def interpret(
    action: str, status: int, reason: str, headers: Mapping[str, str], content: bytes
) -> tuple[dict[str, Any], str]:
    """The envelope and request id of a successful answer; raises for anything else."""
    header_request_id = shown(headers.get("x-acs-request-id", ""), MAX_CODE)
    body, problem = _json_object(content)
    if status >= 400:
        raise _api_error(action, status, headers, body, header_request_id, content)
    if status != 200:
        raise BadResponseError(
            f"{action}: unexpected HTTP {status} {shown(reason, MAX_SNIPPET)}".rstrip()
            + _redirect_note(status, headers)
            + (" with an empty body" if not content else ""),
            request_id=header_request_id,
            http_status=status,
        )
    if body is None:
        raise BadResponseError(
            f"{action}: {problem}", request_id=header_request_id, http_status=status
        )
    request_id = _text(field_of(body, "requestId"), MAX_CODE) or header_request_id
    code = _text(field_of(body, "code"), MAX_CODE)
    body_status = field_of(body, "httpCode")
    if code not in _SUCCESS_CODES or (_is_int(body_status) and body_status >= 400):
        message = _text(field_of(body, "message"), MAX_MESSAGE) or "no message"
        raise BadResponseError(
            f"{action}: HTTP 200 carries an error ({message})",
            code=code,
            request_id=request_id,
            http_status=status,
        )
    return body, request_id


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked to wait: `x-acs-retry-after` (milliseconds) or
    `Retry-After` (seconds or an HTTP date); the longer when both are given."""
    waits = []
    acs = _seconds(headers.get("x-acs-retry-after", ""), scale=0.001)
    if acs is not None:
        waits.append(acs)
    standard = headers.get("retry-after", "").strip()
    if standard:
        wait = _seconds(standard, scale=1.0)
        if wait is None:
            wait = _until(standard, time.time() if now is None else now)
        if wait is not None:
            waits.append(wait)
    return max(waits) if waits else None


def _seconds(text: str, *, scale: float) -> float | None:
    """A non-negative number of seconds, or None when `text` is not a finite number."""
    text = text.strip()
    if not text or len(text) > 40:
        return None
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return max(0.0, value) if math.isfinite(value) else None


def _until(text: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - now)


def _api_error(
    action: str,
    status: int,
    headers: Mapping[str, str],
    body: dict[str, Any] | None,
    header_request_id: str,
    content: bytes,
) -> ApiError | BadResponseError:
    wait = retry_after(headers)
    if body is None:
        # Read well past what is shown, so a secret cut at this edge is never shown.
        snippet = content[: MAX_MESSAGE * 8].decode("utf-8", "replace").strip()
        return error_class("", status)(
            f"{action} failed with HTTP {status}: {shown(snippet, MAX_MESSAGE) or 'empty body'}",
            request_id=header_request_id,
            http_status=status,
            retry_after=wait,
        )
    request_id = _text(field_of(body, "requestId"), MAX_CODE) or header_request_id
    code = _text(field_of(body, "code"), MAX_CODE)
    message = _text(field_of(body, "message"), MAX_MESSAGE) or f"HTTP {status}"
    cls = error_class(code, status)
    if cls is TaskNotFoundError and action != _TASK_ACTION:
        return BadResponseError(
            f"{action}: {message} (a {code} answer to {action} makes no sense)",
            code=code,
            request_id=request_id,
            http_status=status,
        )
    return cls(
        f"{action}: {message}",
        code=code,
        request_id=request_id,
        http_status=status,
        retry_after=wait,
    )


def _json_object(content: bytes) -> tuple[dict[str, Any] | None, str]:
    """The body as a JSON object, or None and why not."""
    if not content:
        return None, "the answer has an empty body"
    try:
        body = _DECODER.decode(content.decode("utf-8"))
    except RecursionError:
        return None, "the answer is not a JSON object it can read (nested too deeply)"
    except ValueError as exc:
        return None, (
            f"the answer is not a JSON object (invalid JSON: {shown(str(exc), MAX_SNIPPET)};"
            f" {len(content)} bytes: {_snippet(content)!r})"
        )
    if not isinstance(body, dict):
        return None, f"the answer is a JSON {json_kind(body)}, not an object"
    return body, ""


def json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return names.get(type(value), type(value).__name__)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{shown(text, 20)} is out of range")
    return value


# One decoder for every answer (json.loads with hooks would build one per call). The
# API sends UTF-8 JSON; NaN, Infinity and numbers too large for a float are refused.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _snippet(content: bytes) -> str:
    return shown(content[: MAX_SNIPPET * 8].decode("utf-8", "replace").strip(), MAX_SNIPPET)


def _text(value: object, limit: int) -> str:
    if value is None:
        return ""
    return shown(value if isinstance(value, str) else json.dumps(value)[:limit], limit)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _redirect_note(status: int, headers: Mapping[str, str]) -> str:
    location = headers.get("location", "")
    if 300 <= status < 400:
        return (
            f" (a redirect{f' to {shown(location, MAX_SNIPPET)}' if location else ''};"
            " redirects are not followed)"
        )
    return ""
