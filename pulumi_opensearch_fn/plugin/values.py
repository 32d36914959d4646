"""Property values as the engine sends them, and plain Python values as the core reads them.

The engine carries every number as a double, marks secrets by wrapping them, and sends an
unknown value (a preview, an input that is another resource's output not known yet) as a
sentinel string. The core wants plain values: `plain` unwraps them and says whether any
was secret; `wrap` turns plain values back (ints as doubles, beyond 2**53 - 1 already text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.rpc import UNKNOWN

PropertyMap = dict[str, PropertyValue]


def plain(values: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], bool]:
    """The values unwrapped (null ones left out), and whether any of them was secret."""
    out = {key: _plain(value) for key, value in values.items() if value.value is not None}
    return out, any(value.contains_secret() for value in values.values())


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Mapping):
        return {key: _plain(item) for key, item in inner.items()}
    if isinstance(inner, tuple):
        return [_plain(item) for item in inner]
    if isinstance(inner, bool | float | str) or inner is None:
        return inner
    return UNKNOWN  # an asset, an archive, a resource reference: nothing the core reads


def wrap(values: Mapping[str, Any], *, secret: bool = False) -> PropertyMap:
    """Plain values as property values; every one of them secret with `secret`."""
    if not secret:  # `with_secret` copies each value: a component's outputs are many
        return {key: _wrap(value) for key, value in values.items()}
    return {key: _wrap(value).with_secret(True) for key, value in values.items()}


def _wrap(value: Any) -> PropertyValue:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value)
    if isinstance(value, int | float):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(key): _wrap(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([_wrap(item) for item in value])
    raise TypeError(f"no property value for {type(value).__name__}")


def has_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(has_unknown(item) for item in value)
    return False


def comparable(value: Any) -> Any:
    """A value as it compares across the engine, where every number becomes a double and
    an absent field and a null one are the same."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: comparable(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    return value
