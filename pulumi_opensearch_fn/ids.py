"""Resource ids: the identity segments, each percent-encoded as on the wire, joined by '/'."""

from __future__ import annotations

from urllib.parse import unquote

from .api.errors import InvalidInputError
from .api.validation import check_generation, check_name, encode_segment

NAMES = ("app group", "function name", "instance name")


def make_id(*segments: object) -> str:
    return "/".join(encode_segment(str(s)) for s in segments)


def parse_instance_id(resource_id: str) -> tuple[str, str, str]:
    parts = _split(resource_id, 3, "app/function/instance")
    app, function, instance = (check_name(n, p) for n, p in zip(NAMES, parts, strict=True))
    return app, function, instance


def parse_task_id(resource_id: str) -> tuple[str, str, str, int]:
    parts = _split(resource_id, 4, "app/function/instance/generation")
    app, function, instance = (check_name(n, p) for n, p in zip(NAMES, parts[:3], strict=True))
    return app, function, instance, check_generation(parts[3])


def _split(resource_id: str, count: int, shape: str) -> list[str]:
    parts = resource_id.split("/") if isinstance(resource_id, str) else []
    if len(parts) != count or not all(parts):
        raise InvalidInputError(
            f"id {resource_id!r} is not of the form {shape} (segments percent-encoded)"
        )
    return [unquote(p) for p in parts]
