"""`Identity`: which instance (and, for a task, which generation) a read is about.

It names itself in messages (`FunctionInstance my_app/ctr/ctr_test`) and makes the
resource id (segments percent-encoded, joined by '/').
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from .api.validation import check_generation, check_name
from .ids import make_id, parse_instance_id, parse_task_id

Latest = Literal["latest"]
Generation = int | Latest
Kind = Literal["FunctionInstance", "FunctionTask"]

INSTANCE: Kind = "FunctionInstance"
TASK: Kind = "FunctionTask"


@dataclass(frozen=True, slots=True)
class Identity:
    """An instance (`generation is None`) or one of its tasks (a number or "latest")."""

    app_group: str
    function_name: str
    instance_name: str
    generation: Generation | None = None

    @classmethod
    def checked(
        cls,
        app_group: object,
        function_name: object,
        instance_name: object,
        generation: object = None,
    ) -> Identity:
        """Raises InvalidInputError naming the first bad segment."""
        return cls(
            check_name("app group", app_group),
            check_name("function name", function_name),
            check_name("instance name", instance_name),
            None if generation is None else parse_generation(generation),
        )

    @classmethod
    def from_id(cls, kind: Kind, resource_id: str) -> Identity:
        if kind == TASK:
            return cls(*parse_task_id(resource_id))
        return cls(*parse_instance_id(resource_id))

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
        parts = [self.app_group, self.function_name, self.instance_name]
        if self.generation is not None:
            parts.append(str(self.generation))
        return "/".join(parts)

    @property
    def subject(self) -> str:
        """How messages name it: `FunctionTask my_app/ctr/ctr_test/latest`."""
        return f"{self.kind} {self.path}"

    @property
    def resource_id(self) -> str:
        segments: list[object] = [self.app_group, self.function_name, self.instance_name]
        if self.generation is not None:
            segments.append(self.generation)
        return make_id(*segments)

    def fields(self) -> dict[str, Any]:
        """The identity outputs every door shows."""
        return {
            "app_group": self.app_group,
            "function_name": self.function_name,
            "instance_name": self.instance_name,
        }

    def __str__(self) -> str:
        return self.path


def parse_generation(value: object) -> Generation:
    """A generation number (whole floats from the engine included, up to 2**53 - 1;
    beyond, it crosses as text) or "latest"."""
    if value == "latest":
        return "latest"
    return check_generation(value)
