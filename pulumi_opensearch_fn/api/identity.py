"""`Identity`: which instance (and, for a task, which generation) a read is about.

It names itself in messages (`FunctionInstance my_app/ctr/ctr_test`), makes the
resource id (segments percent-encoded, as on the wire, joined by '/') and the request
path. Names are validated here, once, when an `Identity` is made, whatever door they
come from: the client takes only an `Identity`, so no request carries an unchecked name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar
from urllib.parse import unquote

from .errors import InvalidInputError
from .validation import check_generation, check_name, encode_segment

T = TypeVar("T")
Latest = Literal["latest"]
Generation = int | Latest
Kind = Literal["FunctionInstance", "FunctionTask"]

INSTANCE: Kind = "FunctionInstance"
TASK: Kind = "FunctionTask"

# The identity's keys (inputs, outputs, JSON) and how messages name them.
KEYS = (
    ("app_group", "app group"),
    ("function_name", "function name"),
    ("instance_name", "instance name"),
)


@dataclass(frozen=True, slots=True)
class Identity:
    """An instance (`generation is None`) or one of its tasks (a number or "latest")."""

    app_group: str
    function_name: str
    instance_name: str
    generation: Generation | None = None

    def __post_init__(self) -> None:
        """Raises InvalidInputError naming the first bad segment."""
        for (key, _), value in zip(KEYS, self.names, strict=True):
            check_segment(key, value)
        if self.generation is not None:
            object.__setattr__(self, "generation", parse_generation(self.generation))

    @property
    def names(self) -> tuple[str, str, str]:
        return self.app_group, self.function_name, self.instance_name

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any], generation: object = None) -> Identity:
        """From its keys (`KEYS`) in inputs, outputs or state, checked."""
        app, function, instance = (fields.get(key) for key, _ in KEYS)
        return cls(app, function, instance, generation)  # type: ignore[arg-type]

    @classmethod
    def from_id(cls, kind: Kind, resource_id: str) -> Identity:
        """From a resource id; raises InvalidInputError for one of another shape."""
        count, shape = (
            (4, "app/function/instance/generation")
            if kind == TASK
            else (3, "app/function/instance")
        )
        parts = resource_id.split("/") if isinstance(resource_id, str) else []
        if len(parts) != count or not all(parts):
            raise InvalidInputError(
                f"id {resource_id!r} is not of the form {shape} (segments percent-encoded)"
            )
        names = [unquote(p) for p in parts]
        found = cls(names[0], names[1], names[2])
        return found.at(check_generation(names[3])) if kind == TASK else found

    @property
    def kind(self) -> Kind:
        return INSTANCE if self.generation is None else TASK

    @property
    def instance(self) -> Identity:
        return replace(self, generation=None)

    def at(self, generation: Generation) -> Identity:
        return replace(self, generation=generation)

    @property
    def path(self) -> str:
        """`app/function/instance[/generation]`, unencoded, for people."""
        parts = list(self.names)
        if self.generation is not None:
            parts.append(str(self.generation))
        return "/".join(parts)

    @property
    def subject(self) -> str:
        """How messages name it: `FunctionTask my_app/ctr/ctr_test/latest`."""
        return f"{self.kind} {self.path}"

    @property
    def resource_id(self) -> str:
        segments: list[object] = list(self.names)
        if self.generation is not None:
            segments.append(self.generation)
        return "/".join(encode_segment(str(s)) for s in segments)

    def fields(self) -> dict[str, Any]:
        """The identity outputs every door shows."""
        return {key: value for (key, _), value in zip(KEYS, self.names, strict=True)}

    @property
    def instance_path(self) -> str:
        """The instance's request path, segments percent-encoded."""
        app, function, instance = (encode_segment(name) for name in self.names)
        return f"/v4/openapi/app-groups/{app}/functions/{function}/instances/{instance}"

    def __str__(self) -> str:
        return self.path


def parse_generation(value: object) -> Generation:
    """A generation number (whole floats from the engine included, up to 2**53 - 1;
    beyond, it crosses as text) or "latest"."""
    if value == "latest":
        return "latest"
    return check_generation(value)


_LABELS = dict(KEYS)


def keyed(app_group: T, function_name: T, instance_name: T) -> dict[str, T]:
    """The names (or a program's inputs for them) under the identity's keys."""
    return dict(zip(_LABELS, (app_group, function_name, instance_name), strict=True))


def check_segment(key: str, value: object) -> str:
    """The one check of a name (`key` is one of `KEYS`): raises InvalidInputError."""
    return check_name(_LABELS[key], value)
