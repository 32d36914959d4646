"""Generations are exact at any size the API allows (up to 2**63 - 1): never read,
carried or compared as a float that may have been rounded."""

from __future__ import annotations

import asyncio

import pytest
from pulumi.runtime import rpc

from pulumi_opensearch_fn import Expect
from pulumi_opensearch_fn.api.errors import BadResponseError, InvalidInputError
from pulumi_opensearch_fn.api.models import FunctionTask
from pulumi_opensearch_fn.api.validation import check_generation
from pulumi_opensearch_fn.core.outputs import for_engine

BIG = 2**53 + 1  # 9007199254740993; the nearest float64 is 2**53
LARGEST = 2**63 - 1


def across_the_engine(fields: dict[str, object]) -> dict[str, object]:
    """What a provider gets back: the SDK's own serialization (numbers become float64)."""
    struct = asyncio.run(rpc.serialize_properties(fields, {}))
    return dict(rpc.deserialize_properties(struct))


@pytest.mark.parametrize("value", [BIG, LARGEST, 2**53 - 1])
def test_generations_cross_the_engine_exactly(value: int) -> None:
    fields = {"generation": value, "latest_generation": value, "requested_generation": value,
              "latest_success_generation": value, "version_id": value,
              "expect": {"min_generation": value}}  # fmt: skip
    crossed = across_the_engine(for_engine(fields))
    for key in ("generation", "latest_generation", "requested_generation",
                "latest_success_generation", "version_id"):  # fmt: skip
        assert check_generation(crossed[key]) == value
    assert Expect.from_value(crossed["expect"]).min_generation == value  # type: ignore[union-attr]


def test_small_numbers_stay_numbers() -> None:
    fields = {"generation": 3, "version_id": 2**53 - 1, "progress": 40, "expect": {"status": "a"}}
    assert for_engine(fields) == fields


def test_a_float_beyond_2_53_is_refused_as_a_generation() -> None:
    assert check_generation(float(2**53 - 1)) == 2**53 - 1
    assert check_generation(str(BIG)) == BIG
    with pytest.raises(InvalidInputError) as caught:
        check_generation(float(BIG))
    assert caught.value.message == (
        "generation 9007199254740992.0 is a float beyond 2**53 - 1, so it may be rounded;"
        " give it as an int or as text"
    )


def test_a_float_beyond_2_53_is_refused_as_min_generation() -> None:
    [(field, why)] = Expect(min_generation=float(BIG)).problems()
    assert (field, why) == (
        "min_generation",
        "min_generation 9007199254740992.0 is a float beyond 2**53 - 1, so it may be rounded;"
        " give it as an int or as text",
    )
    assert Expect(min_generation=str(BIG)).min_generation == BIG  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spelled", ["9.007199254740993e15", "9007199254740993.0", "9007199254740993"]
)
def test_answers_are_read_exactly_in_any_spelling(spelled: str) -> None:
    assert FunctionTask.from_body({"generation": spelled}).generation == BIG


def test_an_answer_with_a_float_beyond_2_53_is_a_bad_response() -> None:
    with pytest.raises(BadResponseError) as caught:
        FunctionTask.from_body({"generation": float(BIG)})
    assert caught.value.message == (
        "task: generation is 9007199254740992.0, a float beyond 2**53 - 1 that may be rounded;"
        " expected an integer or decimal text"
    )
