"""`FunctionInstance` and `FunctionTask` as remote components: what `Construct` registers.

The engine calls a remote component's `Construct` on every registration, whatever
`--target`, `--exclude` or `--continue-on-error` say, and handles registrations
concurrently. So the plugin judges the gate there (see the provider's `construct`), and
a component that passes registers one custom child, its state resource, whose inputs
are the component's and what it read: the engine calls the provider for that child's
diff (drift), refresh, `get` and import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime.settings
from pulumi.errors import InputPropertiesError

from ..api.safe_text import safe

STACK_TYPE = "pulumi:pulumi:Stack"


async def component_urn(options: pulumi.ResourceOptions, type_: str, name: str) -> str:
    """The URN the component will have, for its log lines before it is registered."""
    qualified = type_
    if options.parent is not None:
        parent = await options.parent.urn.future()
        parent_type = (parent or "").split("::")[2:3]
        if parent_type and parent_type[0] != STACK_TYPE:
            qualified = f"{parent_type[0]}${type_}"
    stack, project = pulumi.get_stack(), pulumi.get_project()
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


async def register(
    type_: str,
    name: str,
    options: pulumi.ResourceOptions,
    *,
    state_type: str,
    state_inputs: Mapping[str, Any],
    secret: bool,
) -> str:
    """Registers the component and its state resource; returns the component's URN.

    Both are registered only once the gate has passed: a failing gate leaves nothing
    registered, so nothing that depends on the component can be. The component's outputs
    reach the program from `Construct`; state keeps them once, on the state resource
    (registered on the component as well, every up wrote them twice: a 50-model up at
    50 ms per request took 15% longer)."""
    # The SDK sends the engine a debug line for each step of a registration, each one a
    # blocking call on the event loop every Construct shares: 50 components spent most
    # of their time there. In this Construct's context only, it has no engine to send
    # them to (its errors still reach stderr; the provider's own lines have their channel).
    pulumi.runtime.settings.SETTINGS.engine = None
    component = pulumi.ComponentResource(type_, name, None, options)
    pulumi.CustomResource(
        state_type,
        name,
        {key: _secret(value, secret) for key, value in state_inputs.items()},
        pulumi.ResourceOptions(parent=component),
    )
    component.register_outputs({})
    return await component.urn.future() or ""


def _secret(value: Any, secret: bool) -> Any:
    return pulumi.Output.secret(value) if secret else value


def invalid_properties(failures: list[tuple[str, str]]) -> InputPropertiesError:
    """Bad input as the engine shows it: one line per problem, naming the property."""
    errors = [{"property_path": prop, "reason": safe(why)} for prop, why in failures]
    return InputPropertiesError("invalid input", errors)  # type: ignore[arg-type]
