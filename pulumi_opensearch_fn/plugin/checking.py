"""Inputs checked against the schema: unknown properties, missing ones, wrong types.

Every problem is (property, reason): the top-level property the engine names, and one
line that names the property's full path (`expect.minGeneration: must be an integer,
got "3.5"`). A value not known yet (a preview) matches any type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.printable import brief
from . import schema
from .values import has_unknown

Problem = tuple[str, str]

_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map",
}


def shape_problems(shape: schema.Shape, values: Mapping[str, Any]) -> list[Problem]:
    """Every problem with `values` (plain, by schema name) as inputs of `shape`."""
    props = shape.by_key()
    found: list[Problem] = []
    for key, value in values.items():
        prop = props.get(key)
        if prop is None:
            found.append((key, f"{key}: no such property; known: {', '.join(sorted(props))}"))
        else:
            found += [(key, why) for why in value_problems(key, prop.spec, value)]
    for key, prop in props.items():
        if prop.required and values.get(key) is None:
            found.append((key, f"{key}: required, and missing"))
    return found


def value_problems(path: str, spec: Mapping[str, Any], value: Any) -> list[str]:
    """Every problem with one value, each line naming where it is."""
    if has_unknown(value) and not isinstance(value, Mapping | list):
        return []
    ref = spec.get("$ref", "")
    if ref == schema.ANY:
        return []
    if ref:
        shape = schema.object_types()[ref.removeprefix("#/types/")]
        if not isinstance(value, Mapping):
            return [f"{path}: must be a map, got {_shown(value)}"]
        nested = shape_problems(shape, value)
        return [f"{path}.{why}" for _, why in nested]
    if "oneOf" in spec:
        members = spec["oneOf"]
        if any(not value_problems(path, member, value) for member in members):
            return []
        wanted = " or ".join(_NAMES.get(m.get("type", ""), "a value") for m in members)
        return [f"{path}: must be {wanted}, got {_shown(value)}"]
    kind = spec.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: must be a list, got {_shown(value)}"]
        items = spec.get("items", {})
        return [
            why
            for i, item in enumerate(value)
            for why in value_problems(f"{path}[{i}]", items, item)
        ]
    if kind == "object":
        if not isinstance(value, Mapping):
            return [f"{path}: must be a map, got {_shown(value)}"]
        items = spec.get("additionalProperties", {})
        return [
            why for k, item in value.items() for why in value_problems(f"{path}.{k}", items, item)
        ]
    if kind is not None and not _is(kind, value):
        return [f"{path}: must be {_NAMES[kind]}, got {_shown(value)}"]
    return []


def _is(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return kind == "number" or float(value).is_integer()


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"text {brief(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return brief(value)
