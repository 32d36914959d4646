"""The `opensearch-fn` package schema, derived from the one output shape and Expect/Wait.

Nothing here is a second copy of a field: every output property comes from a dataclass
of `outputs.py` (its name, its type annotation, and the line its docstring table gives
it), every `Expect`/`Wait` property from `expectations.py` the same way, and the provider
configuration from `config.py`. Names become the schema's camelCase (`app_group` ->
`appGroup`). What only the schema has (the resources' and functions' own words, the
settings arguments) is written once, here.

The plugin serves this schema and checks its inputs against it; the SDKs are generated
from it. Print it with `python -m pulumi_opensearch_fn.plugin.schema`.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import json
import re
import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from importlib import metadata
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ..core.config import (
    CREDENTIAL_SOURCES,
    DEFAULT_MAX_CONCURRENT_READS,
    ENDPOINT_ENV,
    ENDPOINT_KEYS,
    MAX_CONCURRENT_READS_KEY,
    NAMESPACE,
    REGION_ENV,
    REGION_KEYS,
)
from ..core.expectations import Expect, Wait
from ..core.outputs import (
    IDENTITY_FIELDS,
    INSTANCE_OUTPUTS,
    LATEST_PREFIX,
    TASK_OUTPUTS,
    IdentityView,
    InstanceView,
    RequestView,
    TaskView,
    VerdictView,
)

PACKAGE = NAMESPACE
DISTRIBUTION = "pulumi-opensearch-fn"
ANY = "pulumi.json#/Any"


def token(name: str) -> str:
    return f"{PACKAGE}:index:{name}"


INSTANCE = token("FunctionInstance")
TASK = token("FunctionTask")
# The custom resource each of them registers: what it read, as the engine keeps it.
INSTANCE_STATE = token("FunctionInstanceState")
TASK_STATE = token("FunctionTaskState")
STATE_OF = {INSTANCE: INSTANCE_STATE, TASK: TASK_STATE}
EXPECT = token("Expect")
WAIT = token("Wait")
LISTED_TASK = token("GetFunctionTasksTask")
GET_INSTANCE = token("getFunctionInstance")
GET_TASK = token("getFunctionTask")
GET_LATEST_TASK = token("getLatestFunctionTask")
GET_TASKS = token("getFunctionTasks")
# Where a state resource gets, among its inputs, what its component read (see provider).
OBSERVED_INPUT = "__observed"
# Inputs a resource also shows as outputs, as given.
ECHOED = ("expect", "wait", "region", "endpoint")

_PRIMITIVES = ("boolean", "integer", "number", "string")


def camel(name: str) -> str:
    """`app_group` -> `appGroup`: the schema's property names."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Prop:
    """One property: `name` as the core names it (snake_case), `key` as the schema does."""

    name: str
    spec: Mapping[str, Any]
    description: str
    required: bool = False
    secret: bool = False
    default: Any = None
    alias: str | None = None  # a schema name other than camel(name)

    @property
    def key(self) -> str:
        return self.alias or camel(self.name)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.spec)
        if self.description:
            out["description"] = self.description
        if self.secret:
            out["secret"] = True
        # The schema allows defaults on primitive types only.
        if self.default is not None and out.get("type") in _PRIMITIVES:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Shape:
    """The properties of one side of a resource, a function or an object type."""

    props: tuple[Prop, ...]

    def by_key(self) -> dict[str, Prop]:
        return {p.key: p for p in self.props}

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"properties": {p.key: p.schema() for p in self.props}}
        required = [p.key for p in self.props if p.required]
        if required:
            out["required"] = required
        return out


@dataclass(frozen=True)
class Resource:
    token: str
    description: str
    inputs: Shape
    outputs: Shape
    component: bool = False

    def schema(self) -> dict[str, Any]:
        inputs, outputs = self.inputs.schema(), self.outputs.schema()
        out: dict[str, Any] = {"description": self.description, **outputs}
        if self.component:
            out["isComponent"] = True
        out["inputProperties"] = inputs["properties"]
        if "required" in inputs:
            out["requiredInputs"] = inputs["required"]
        return out


@dataclass(frozen=True)
class Function:
    token: str
    description: str
    inputs: Shape
    outputs: Shape

    def schema(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "inputs": self.inputs.schema(),
            "outputs": self.outputs.schema(),
        }


# -- from Python to the schema ---------------------------------------------------------


_ENTRY = re.compile(r"^([a-z][a-z0-9_]*) {2,}(\S.*)$")
_MORE = re.compile(r"^ {2,}(\S.*)$")


def field_docs(cls: type) -> dict[str, str]:
    """The field table of a class docstring: `name  what it is`, continued on lines
    indented further. Lines for names that are not fields are left out."""
    known = {f.name for f in dataclasses.fields(cls)}
    docs: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
        entry, more = _ENTRY.match(line), _MORE.match(line)
        if entry and entry.group(1) in known:
            current = docs[entry.group(1)] = [entry.group(2)]
        elif more and current is not None:
            current.append(more.group(1))
        else:
            current = None
    return {name: _sentence(" ".join(words)) for name, words in docs.items()}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def type_spec(hint: Any) -> tuple[dict[str, Any], bool]:
    """The schema type for a Python annotation, and whether None is allowed.

    What the engine cannot carry is left out (`timedelta`), and where Python takes a
    mapping or a list (`metrics`), the schema offers the mapping: one form per property.
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        optional = type(None) in args
        members = [a for a in args if a not in (type(None), timedelta)]
        mappings = [m for m in members if get_origin(m) in (collections.abc.Mapping, dict)]
        specs: list[dict[str, Any]] = []
        for member in mappings or members:
            spec = type_spec(member)[0]
            if spec not in specs:
                specs.append(spec)
        return (specs[0] if len(specs) == 1 else {"oneOf": specs}), optional
    if origin is Literal:
        return type_spec(type(args[0]))[0], False
    if origin in (collections.abc.Mapping, dict):
        return {"type": "object", "additionalProperties": type_spec(args[1])[0]}, False
    if origin in (list, tuple, collections.abc.Iterable, collections.abc.Sequence):
        return {"type": "array", "items": type_spec(args[0])[0]}, False
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return {"type": simple[hint]}, False
    if hint is Any:
        return {"$ref": ANY}, False
    raise TypeError(f"no schema type for {hint!r}")


def view_props(view: type, names: Iterable[str] | None = None) -> list[Prop]:
    """Properties for the fields of a dataclass (all, or `names` in their order)."""
    hints = get_type_hints(view)
    docs = field_docs(view)
    fields = {f.name: f for f in dataclasses.fields(view)}
    props = []
    for name in fields if names is None else names:
        spec, optional = type_spec(hints[name])
        default = fields[name].default
        props.append(
            Prop(
                name,
                spec,
                docs.get(name, ""),
                required=not optional and default is dataclasses.MISSING,
                default=None if default is dataclasses.MISSING else default,
            )
        )
    return props


def _optional(props: Iterable[Prop]) -> list[Prop]:
    return [replace(p, required=False) for p in props]


def _latest_props() -> list[Prop]:
    """An instance's latest task, as `outputs.latest_task_fields` names it."""
    task = {p.name: p for p in view_props(TaskView)}
    generation = task["generation"]
    special = {
        "latest_generation": replace(
            generation,
            name="latest_generation",
            description="The latest training task's generation (null: no task yet).",
        ),
        "latest_success_generation": replace(
            generation,
            name="latest_success_generation",
            description="The latest successful training task's generation, when it was read:"
            " the latest task succeeded, or an expectation needed it (else null).",
        ),
    }
    props = []
    for name in (n for n in INSTANCE_OUTPUTS if n.startswith("latest_")):
        base = special.get(name) or task[name.removeprefix(LATEST_PREFIX)]
        description = special[name].description if name in special else (
            base.description.replace("The task", "The latest task")
            .replace("the task", "the latest task")
            .removesuffix(".")
            + " (null: no task yet)."
        )  # fmt: skip
        props.append(replace(base, name=name, description=description, required=False))
    return props


def _ordered(props: Iterable[Prop], names: Iterable[str]) -> tuple[Prop, ...]:
    """`props` in the order of `names`; a name without a property is a bug here."""
    found = {p.name: p for p in props}
    return tuple(found[name] for name in names)


def _ref(type_token: str) -> dict[str, str]:
    return {"$ref": f"#/types/{type_token}"}


def _summary(cls: type) -> str:
    return _sentence(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " "))


# -- the package ----------------------------------------------------------------------


def _settings() -> dict[str, Prop]:
    expect_doc = (
        _summary(Expect) + " Checked against a live read on every preview and up; unmet"
        " and enforced, the run fails naming each expectation, what was expected and"
        " what was seen."
    )
    return {
        "expect": Prop("expect", _ref(EXPECT), expect_doc),
        "wait": Prop("wait", _ref(WAIT), _summary(Wait) + " Needs `expect`."),
        "region": Prop(
            "region",
            {"type": "string"},
            "The region, e.g. `cn-hangzhou`, for this resource only (default: the provider's).",
        ),
        "endpoint": Prop(
            "endpoint",
            {"type": "string"},
            "The API endpoint URL, for this resource only (default: the provider's).",
        ),
    }


def _identity() -> list[Prop]:
    return view_props(IdentityView, IDENTITY_FIELDS)


@cache
def resources() -> dict[str, Resource]:
    settings = _settings()
    request = view_props(RequestView)[0]
    generation_input = replace(
        request,
        description="The generation to read: a number, or `latest` (the default).",
        required=False,
        alias="generation",
    )
    echoed = _optional(settings[name] for name in ECHOED)
    instance_outputs = _ordered(
        [*_identity(), *view_props(InstanceView), *_latest_props(), *view_props(VerdictView)],
        (*IDENTITY_FIELDS, *INSTANCE_OUTPUTS),
    )
    task_outputs = _ordered(
        [*_identity(), request, *view_props(TaskView), *view_props(VerdictView)],
        (*IDENTITY_FIELDS, *TASK_OUTPUTS),
    )
    instance_inputs = Shape((*_identity(), *settings.values()))
    task_inputs = Shape((*_identity(), generation_input, *settings.values()))
    instance = Resource(
        INSTANCE,
        "A trained algorithm instance of an OpenSearch app group (a CTR model, a"
        " ranking model ...), read live on every preview and up. With `expect`, the"
        " run fails (or, with `enforce: false`, warns) when it is not ready, whatever"
        " the engine's flags (`--target`, `--exclude` ...); with `wait`, `up` polls until"
        " it is. It only ever reads: nothing is created, changed or deleted in the cloud,"
        " and destroy only forgets it. Its id is `app/function/instance` (segments"
        " percent-encoded). What it read is kept by its child `FunctionInstanceState`,"
        " which `get` and import take.",
        instance_inputs,
        Shape((*instance_outputs, *echoed)),
        component=True,
    )
    task = Resource(
        TASK,
        "A training task (generation) of a function instance: a given number, or the"
        " latest. Read live on every preview and up, with the same `expect` and `wait`"
        " as an instance (but `taskStatus`, not `status`). It only ever reads. Its id is"
        " `app/function/instance/generation`. What it read is kept by its child"
        " `FunctionTaskState`, which `get` and import take.",
        task_inputs,
        Shape((*task_outputs, *echoed)),
        component=True,
    )
    return {
        INSTANCE: instance,
        TASK: task,
        INSTANCE_STATE: replace(
            instance,
            token=INSTANCE_STATE,
            description="What a `FunctionInstance` read, as the stack keeps it: the"
            " resource its drift, refresh, `get` and import work on. Read one by id"
            " (`app/function/instance`) with `get` or import; declare a `FunctionInstance`"
            " to gate on one.",
            component=False,
        ),
        TASK_STATE: replace(
            task,
            token=TASK_STATE,
            description="What a `FunctionTask` read, as the stack keeps it: the resource"
            " its drift, refresh, `get` and import work on. Read one by id"
            " (`app/function/instance/generation`) with `get` or import; declare a"
            " `FunctionTask` to gate on one.",
            component=False,
        ),
    }


def _listed_task() -> tuple[Prop, ...]:
    """A task as the functions return one: GetFunctionTaskResult's fields."""
    return (*view_props(IdentityView), *view_props(TaskView), *view_props(VerdictView))


@cache
def functions() -> dict[str, Function]:
    settings = _settings()
    expect, region, endpoint = settings["expect"], settings["region"], settings["endpoint"]
    status = Prop(
        "status",
        {"type": "string"},
        "Only tasks with this status: `success`, `failed` or `running`.",
    )
    generation = replace(
        view_props(TaskView, ["generation"])[0], description="The generation to read."
    )
    listed = _listed_task()
    instance = (*view_props(IdentityView), *view_props(InstanceView), *view_props(VerdictView))
    no_task_yet = _optional(p for p in listed if p.name not in VerdictView.__dataclass_fields__)
    verdict = view_props(VerdictView)
    return {
        GET_INSTANCE: Function(
            GET_INSTANCE,
            "Reads a function instance (GetFunctionInstance, detail). With `expect`, fails"
            " (or warns) when it is not ready; its latest tasks are read only when an"
            " expectation needs them.",
            Shape((*_identity(), expect, region, endpoint)),
            Shape(instance),
        ),
        GET_TASK: Function(
            GET_TASK,
            "Reads one training task by generation (GetFunctionTask).",
            Shape((*_identity(), replace(generation, required=True), expect, region, endpoint)),
            Shape(listed),
        ),
        GET_LATEST_TASK: Function(
            GET_LATEST_TASK,
            "Reads the newest training task (optionally the newest with `status`) in one"
            " request. With no such task, every task field is null.",
            Shape((*_identity(), status, expect, region, endpoint)),
            Shape((*no_task_yet, *verdict)),
        ),
        GET_TASKS: Function(
            GET_TASKS,
            "Lists an instance's training tasks (ListFunctionTasks, every page), newest first.",
            Shape(
                (
                    *_identity(),
                    status,
                    Prop(
                        "start_time",
                        {"type": "integer"},
                        "Only tasks from this time on, in epoch milliseconds.",
                    ),
                    Prop(
                        "end_time",
                        {"type": "integer"},
                        "Only tasks up to this time, in epoch milliseconds.",
                    ),
                    Prop("limit", {"type": "integer"}, "At most this many tasks, the newest."),
                    region,
                    endpoint,
                )
            ),
            Shape(
                (
                    *view_props(IdentityView),
                    replace(status, description="The status asked for, if any."),
                    Prop(
                        "tasks",
                        {"type": "array", "items": _ref(LISTED_TASK)},
                        "Every task that matched, newest first.",
                        required=True,
                    ),
                )
            ),
        ),
    }


@cache
def object_types() -> dict[str, Shape]:
    return {
        EXPECT: Shape(tuple(view_props(Expect))),
        WAIT: Shape(tuple(view_props(Wait))),
        LISTED_TASK: Shape(_listed_task()),
    }


def _type_descriptions() -> dict[str, str]:
    return {
        EXPECT: _summary(Expect),
        WAIT: _summary(Wait),
        LISTED_TASK: "One training task, as getFunctionTasks lists it.",
    }


@cache
def config() -> Shape:
    """The provider configuration: the `opensearch-fn:*` stack config keys (secrets marked)."""
    own, _, env = CREDENTIAL_SOURCES
    chain = ", then the default credentials chain (a profile, an ECS or OIDC role ...)"
    entries: list[tuple[str, str, tuple[str, ...], bool, str]] = [
        (REGION_KEYS[0], "The region, e.g. `cn-hangzhou`", REGION_ENV, False, ""),
        (ENDPOINT_KEYS[0], "The API endpoint URL (default: the region's)", (ENDPOINT_ENV,), False,
         ""),
        (own.access_key_id[0], "The AccessKey id", env.access_key_id, False, chain),
        (own.access_key_secret[0], "The AccessKey secret", env.access_key_secret, True, chain),
        (own.security_token[0], "The STS token, with an STS key pair", env.security_token, True,
         chain),
        (own.profile[0], "A profile of the Alibaba Cloud CLI configuration", env.profile, False,
         ""),
    ]  # fmt: skip
    props = [
        Prop(
            _unprefixed(key),
            {"type": "string"},
            f"{what}. Unset: the environment ({', '.join(names)}){more}."
            + (" Credentials are taken as one set, from the first source that has any." if more
               else ""),
            secret=secret,
            alias=_unprefixed(key),
        )
        for key, what, names, secret, more in entries
    ]  # fmt: skip
    props.append(
        Prop(
            _unprefixed(MAX_CONCURRENT_READS_KEY),
            {"type": "integer"},
            f"How many requests the provider has in flight at once"
            f" (default {DEFAULT_MAX_CONCURRENT_READS}).",
            alias=_unprefixed(MAX_CONCURRENT_READS_KEY),
        )
    )
    return Shape(tuple(props))


def _unprefixed(key: str) -> str:
    return key.removeprefix(f"{PACKAGE}:")


def package_version() -> str:
    return metadata.version(DISTRIBUTION)


def _urls() -> dict[str, str]:
    found = {}
    for entry in metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        found[label.strip()] = url.strip()
    return found


@cache
def package_schema() -> dict[str, Any]:
    """The whole schema, as `GetSchema` answers it."""
    meta = metadata.metadata(DISTRIBUTION)
    urls = _urls()
    repository = urls.get("Source", "")
    config_schema = config().schema()["properties"]
    descriptions = _type_descriptions()
    return {
        "name": PACKAGE,
        "displayName": "OpenSearch function instances",
        "version": package_version(),
        "description": meta["Summary"],
        "keywords": [*_listed(meta.get_all("Keywords")), "category/utility", "kind/native"],
        "homepage": urls.get("Homepage", ""),
        "repository": repository,
        "license": next(iter(meta.get_all("License-Expression") or []), "Apache-2.0"),
        "config": {"variables": config_schema},
        "provider": {
            "description": "The provider for `opensearch-fn` resources and functions.",
            "inputProperties": config_schema,
        },
        "types": {
            type_token: {
                "type": "object",
                "description": descriptions[type_token],
                **shape.schema(),
            }
            for type_token, shape in object_types().items()
        },
        "resources": {r.token: r.schema() for r in resources().values()},
        "functions": {f.token: f.schema() for f in functions().values()},
        # Versioned SDKs: the Go SDK gets its own go.mod (sdk/go) and both SDKs carry the
        # package's version instead of a ${VERSION} placeholder (tools/gen-sdk).
        "meta": {"supportPack": True},
        "language": {
            "go": {
                "importBasePath": repository.removeprefix("https://") + "/sdk/go/opensearchfn",
            },
            "nodejs": {"packageName": "@pulumi-opensearch-fn/opensearch-fn"},
        },
    }


def _listed(values: list[Any] | None) -> list[str]:
    return [word.strip() for value in values or [] for word in str(value).split(",")]


def schema_text() -> str:
    return json.dumps(package_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(schema_text())


if __name__ == "__main__":
    main()
