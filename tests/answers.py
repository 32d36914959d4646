"""Random answers for the hostile server: each right or wrong about what was asked.

Every strategy draws an answer field by field, each field from values that fit the
question (`instanceName` "ctr_test", generation 3, status `success` for a list
asked for successful tasks) or from values that do not (another name, a blank or
missing status, another generation, a failed task in a `status=success` list, a
generation listed twice). A drawn answer comes with `clean`: True when every field
fits, so the code under test must take it; otherwise it must refuse it.

    answer = data.draw(instance_answers())
    server.serve(answer.reply, action="GetFunctionInstance")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pulumi_opensearch_fn.api.errors import OpenSearchFnError
from pulumi_opensearch_fn.emulator.app import pascalize

from .hostile import INSTANCE, Reply, Seen, envelope, json_reply, task

FN, INST, GENERATION = "ctr", "ctr_test", 3
# One hostile server per test, its script reset each example: keep them bounded.
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_ABSENT = object()
T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """A drawn answer: its `result`, whether it fits the question, and the reply."""

    result: Any
    clean: bool
    pascal: bool = False

    @property
    def reply(self) -> Reply:
        body = envelope(result=self.result, totalCount=_count(self.result))
        return json_reply(pascalize(body) if self.pascal else body)


def _count(result: Any) -> int | None:
    return len(result) if isinstance(result, list) else None


@st.composite
def _field(
    draw: st.DrawFn, good: list[Any], bad: list[Any], often: bool = False
) -> tuple[Any, bool]:
    """A value that fits (True) or, about one time in six (`often`: one in two), one that
    does not (False), so most answers are clean or wrong in one field; _ABSENT leaves
    the key out."""
    if bad and not draw(st.sampled_from((True, False) if often else _MOSTLY_GOOD)):
        return draw(st.sampled_from(bad)), False
    return draw(st.sampled_from(good)), True


_MOSTLY_GOOD = (True, True, True, True, True, False)


def _build(base: dict[str, Any], drawn: dict[str, tuple[Any, bool]]) -> tuple[dict[str, Any], bool]:
    body = {k: v for k, v in base.items() if k not in drawn}
    for key, (value, _) in drawn.items():
        if value is not _ABSENT:
            body[key] = value
    return body, all(ok for _, ok in drawn.values())


_FOREIGN_NAMES = ["other", "", " ", "CTR_TEST", "ctr_test ", "ctr_test\x1b[2J", 5, ["ctr_test"]]
_BLANK = [_ABSENT, None, "", "  ", 3, ["available"]]


@st.composite
def instance_answers(draw: st.DrawFn) -> Answer:
    """GetFunctionInstance's result for ctr/ctr_test."""
    if draw(st.integers(0, 9)) == 0:
        return Answer(draw(st.sampled_from([{}, {"result": {}}])), False)
    body, clean = _build(
        INSTANCE,
        {
            "instanceName": draw(_field([INST], [_ABSENT, None, *_FOREIGN_NAMES])),
            "functionName": draw(_field([FN, _ABSENT, None], ["ctr2", "", "CTR", 7])),
            "status": draw(_field(["available", "unavailable"], _BLANK)),
            "versionId": draw(_field([3, "3", _ABSENT, None], [])),
        },
    )
    return Answer(body, clean, pascal=draw(st.booleans()))


def _task(
    draw: st.DrawFn,
    generation: st.SearchStrategy[tuple[Any, bool]],
    statuses: list[str],
    wrong: str = "any",
) -> tuple[dict[str, Any], bool]:
    """A task; only the fields `wrong` names ("status", "names", or "any") may be wrong,
    and a named kind is wrong often."""
    others = [s for s in ("success", "failed", "running") if s not in statuses]
    bad_status = {"status": others or _BLANK, "any": [*others * 3, *_BLANK]}.get(wrong, [])
    bad_fn, bad_inst = (["other", "", 5], ["other", 5]) if wrong in ("names", "any") else ([], [])
    often = wrong != "any"
    return _build(
        task(GENERATION),
        {
            "generation": draw(generation),
            "status": draw(_field(statuses, bad_status, often)),
            "functionName": draw(_field([FN, _ABSENT, None], bad_fn, often)),
            "instanceName": draw(_field([_ABSENT, INST], bad_inst, often)),
        },
    )


@st.composite
def task_answers(draw: st.DrawFn) -> Answer:
    """GetFunctionTask's result for generation 3."""
    if draw(st.integers(0, 9)) == 0:
        return Answer({}, False)
    generation = _field(
        [str(GENERATION), GENERATION, f"{GENERATION}.0", " 3"],
        [_ABSENT, None, "4", 4, 2, "0", "three", 3.5],
    )
    body, clean = _task(draw, generation, ["success", "failed", "running"])
    return Answer(body, clean, pascal=draw(st.booleans()))


@st.composite
def task_lists(draw: st.DrawFn, status: str | None = None) -> Answer:
    """ListFunctionTasks' result, asked with `status` (or none), in any order. One kind of
    flaw per list (or any), so a single missing check shows."""
    statuses = [status] if status else ["success", "failed", "running"]
    wrong = draw(st.sampled_from(["status", "generation", "names", "any"]))
    items, clean, listed = [], True, set()
    for _ in range(draw(st.integers(0, 4))):
        number = draw(st.integers(1, 12))
        bad = [_ABSENT, "x"] if wrong in ("generation", "any") else []
        generation = _field([str(number), number], bad, wrong == "generation")
        body, ok = _task(draw, generation, statuses, wrong)
        if "generation" in body and body["generation"] != "x":
            ok = ok and number not in listed  # the same generation twice in one page
            listed.add(number)
        items.append(body)
        clean = clean and ok
    return Answer(draw(st.permutations(items)), clean, pascal=draw(st.booleans()))


def statuses_of(answer: Answer) -> dict[int, str]:
    """Generation -> status, for the tasks of a drawn list (those with a usable generation)."""
    found = {}
    for item in answer.result if isinstance(answer.result, list) else [answer.result]:
        generation = item.get("generation")
        if isinstance(generation, int) or (isinstance(generation, str) and generation.isdigit()):
            found[int(generation)] = item.get("status")
    return found


def attempt(call: Callable[[], T]) -> tuple[T | None, OpenSearchFnError | None]:
    """What `call` returned, or the package's error it raised."""
    try:
        return call(), None
    except OpenSearchFnError as error:
        return None, error


class Script:
    """Routes ListFunctionTasks by its status query: the latest task, and the success list."""

    def __init__(self) -> None:
        self.latest: Reply = json_reply(envelope(result=[task(GENERATION)], totalCount=1))
        self.success: Reply = self.latest

    def __call__(self, seen: Seen) -> Reply:
        query = parse_qs(seen.query)
        return self.success if query.get("status") == ["success"] else self.latest
