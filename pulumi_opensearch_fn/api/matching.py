"""Does the answer answer the question? Checked before anything is judged or stored.

Every instance and task the client returns is read here, so the provider's refresh,
the data sources and the command line get the same checks. Taking a wrong answer
would write a stranger's values into state or judge a failed generation as the
latest success; each of these is a `BadResponseError` instead:

- A naming field that differs from the request: `instanceName` and `functionName`
  (instances and tasks), `generation` (GetFunctionTask). Both values are named. A
  naming field the answer leaves out (absent or null) is fine, except an instance's
  `instanceName`, which every instance carries. No answer names the app group.
- A required field missing or of the wrong type: an instance needs its
  `instanceName` and `status`, a task its `generation` and `status` (non-empty text;
  `{}` is no instance).
- A task of another status in a list asked for one status: the list is refused, not
  trimmed, because trimming could turn "the server ignored the filter" into "no
  successful task".
- The same generation twice in one page, or a later page listing a generation newer
  than one already listed. Within a page the tasks are put newest first, whatever
  order they came in: the API documents newest first (by start time); each run gets
  the next generation, so the highest generation is the newest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .answers import json_kind
from .errors import BadResponseError
from .models import FunctionInstance, FunctionTask, JsonObject, field_of
from .safe_text import shown

# How much of a server-sent name an error line shows.
MAX_NAME_SHOWN = 80


@dataclass(frozen=True, slots=True)
class Question:
    """What a request asked for: the answer must not name anything else."""

    function_name: str
    instance_name: str
    generation: int | None = None  # GetFunctionTask
    status: str | None = None  # ListFunctionTasks' status filter


def instance_answer(result: object, asked: Question, request_id: str = "") -> FunctionInstance:
    """GetFunctionInstance's `result`, checked against the question, as an instance."""
    body = _object(result, "the instance")
    _same_name(body, "instanceName", "instance", asked.instance_name, required=True)
    _same_name(body, "functionName", "function", asked.function_name)
    _text(body, "status", "the instance")
    return FunctionInstance.from_body(body, request_id)


def task_answer(result: object, asked: Question, request_id: str = "") -> FunctionTask:
    """A task (GetFunctionTask's `result`, or a list item), checked against the question."""
    body = _object(result, "the task")
    _same_name(body, "functionName", "function", asked.function_name)
    _same_name(body, "instanceName", "instance", asked.instance_name)
    task = FunctionTask.from_body(body, request_id)  # refuses a task without a generation
    what = f"task {task.generation}"
    status = _text(body, "status", what)
    if asked.generation is not None and task.generation != asked.generation:
        raise BadResponseError(
            f"the answer is about generation {task.generation}, not {asked.generation}"
        )
    if asked.status is not None and status != asked.status:
        raise BadResponseError(
            f"asked for {asked.status} tasks, the answer lists {what} with status"
            f" {shown(status, MAX_NAME_SHOWN)!r}"
        )
    return task


def task_page(
    items: Sequence[object], asked: Question, request_id: str = ""
) -> tuple[FunctionTask, ...]:
    """A page of ListFunctionTasks, each task checked, newest first."""
    tasks = [task_answer(item, asked, request_id) for item in items]
    listed: set[int] = set()
    for task in tasks:
        if task.generation in listed:
            raise BadResponseError(f"the answer lists generation {task.generation} more than once")
        listed.add(task.generation)
    return tuple(sorted(tasks, key=newest_first))


def newest_first(task: FunctionTask) -> int:
    """Sort key: the highest generation first."""
    return -task.generation


def check_listed_after(
    previous: FunctionTask, task: FunctionTask, page_number: int, request_id: str = ""
) -> None:
    """A task first seen on a later page must be older than every one listed before."""
    if task.generation > previous.generation:
        raise BadResponseError(
            f"ListFunctionTasks: page {page_number} lists generation {task.generation},"
            f" newer than generation {previous.generation} listed before it; the list is"
            " not newest first",
            request_id=request_id,
        )


def _object(value: object, what: str) -> JsonObject:
    if not isinstance(value, Mapping):
        raise BadResponseError(f"{what} is a JSON {json_kind(value)}, expected an object")
    return value


def _same_name(
    body: JsonObject, key: str, kind: str, asked: str, *, required: bool = False
) -> None:
    value = field_of(body, key)
    if value is None:
        if required:
            raise BadResponseError(
                f"the answer names no {kind} (no {key}); asked for {_quoted(asked)}"
            )
        return
    if not isinstance(value, str):
        raise BadResponseError(
            f"the answer's {key} is a JSON {json_kind(value)}, expected the {kind} name"
            f" {_quoted(asked)}"
        )
    if value != asked:
        raise BadResponseError(f"the answer is about {kind} {_quoted(value)}, not {_quoted(asked)}")


def _text(body: JsonObject, key: str, what: str) -> str:
    """A required, non-empty text field."""
    value: Any = field_of(body, key)
    if value is None:
        raise BadResponseError(f"{what} has no {key}")
    if not isinstance(value, str):
        raise BadResponseError(f"{what}'s {key} is a JSON {json_kind(value)}, expected text")
    if not value.strip():
        raise BadResponseError(f"{what}'s {key} is blank")
    return value


def _quoted(name: str) -> str:
    return repr(shown(name, MAX_NAME_SHOWN))
