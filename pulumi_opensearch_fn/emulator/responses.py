"""Response bodies: the OpenSearch envelope, its errors and the gateway's errors."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Casing = Literal["camel", "pascal"]
CASINGS: tuple[Casing, ...] = ("camel", "pascal")
JSON_TYPE = "application/json;charset=utf-8"


@dataclass
class Response:
    status: int
    body: bytes
    request_id: str
    code: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


def new_request_id() -> str:
    # The service's samples show upper-case UUIDs.
    return str(uuid.uuid4()).upper()


def pascalize(value: Any) -> Any:
    """``requestId`` -> ``RequestId`` for every key, at every depth.

    ``extendInfo`` is a JSON *string*, so its inside is left alone.
    """
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascalize(v) for v in value]
    return value


def json_response(status: int, payload: Any, request_id: str, code: str = "") -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = [("x-acs-request-id", request_id)] if request_id else []
    return Response(status, body, request_id, code, headers)


def success(
    result: Any, request_id: str, latency_ms: int, casing: Casing, total_count: int | None = None
) -> Response:
    payload: dict[str, Any] = {
        "status": "OK",
        "requestId": request_id,
        "httpCode": 200,
        "code": "",
        "message": "",
        "latency": latency_ms,
    }
    if total_count is not None:
        payload["totalCount"] = total_count
    payload["result"] = result
    return json_response(200, pascalize(payload) if casing == "pascal" else payload, request_id)


def service_error(
    code: str, message: str, status: int, request_id: str, casing: Casing
) -> Response:
    """An error of OpenSearch itself (Instance.NotExist, InvalidParameter ...)."""
    payload = {"requestId": request_id, "httpCode": status, "code": code, "message": message}
    return json_response(
        status, pascalize(payload) if casing == "pascal" else payload, request_id, code
    )


def gateway_error(
    code: str,
    message: str,
    status: int,
    request_id: str,
    host: str,
    retry_after_ms: int | None = None,
) -> Response:
    """An error of the API gateway in front of the service: always PascalCase."""
    payload = {
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=OpenSearch&requestId={request_id}",
    }
    response = json_response(status, payload, request_id, code)
    if retry_after_ms is not None:
        response.headers.append(("x-acs-retry-after", str(retry_after_ms)))
    return response
