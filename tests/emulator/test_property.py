"""Property: whatever the official SDK signs verifies; any single change to it does not."""

from __future__ import annotations

import string
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode

import pytest
from alibabacloud_opensearch20171225 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_opensearch_fn.emulator import EmulatorServer, sample_state

from .helpers import AUTH_CODES, STS_TOKEN, Raw, send
from .test_sdk import sdk

# Names with the characters that matter on the wire: space, '/', '~', '*', '+', '%', unicode.
NAME = st.text(
    alphabet=st.one_of(
        st.sampled_from(" /~*+%&=?#_-.'éü中"),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    min_size=1,
    max_size=10,
)
QUERY_VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
)
SUFFIX = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=4)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def srv() -> Iterator[EmulatorServer]:
    with EmulatorServer(sample_state(), casing="pascal") as server:
        yield server


def call(
    server: EmulatorServer,
    signing: str | None,
    token: bool,
    names: tuple[str, str, str],
    op: str,
    value: str,
) -> str:
    """Call through the SDK; returns the error code, or '' on success."""
    client = sdk(server, signing, token)
    app, function, instance = names
    try:
        if op == "instance":
            client.get_function_instance(
                app, function, instance, models.GetFunctionInstanceRequest()
            )
        elif op == "tasks":
            request = models.ListFunctionTasksRequest(status=value, page_size=3, start_time=0)
            client.list_function_tasks(app, function, instance, request)
        else:
            client.get_function_task(app, function, instance, value or "1")
    except ClientException as exc:
        return str(exc.code)
    return ""


def captured(server: EmulatorServer) -> Raw:
    """The last request as logged, with the STS token the log redacts put back."""
    entry = server.log.entries(1)[0]
    headers = [
        (k, STS_TOKEN if k.lower() == "x-acs-security-token" else v) for k, v in entry.headers
    ]
    return Raw(entry.method, entry.path, entry.query, headers)


def signed_names(raw: Raw) -> list[str]:
    auth = raw.header("authorization") or ""
    if auth.startswith("ACS3-"):
        return auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    names = {k.lower() for k, _ in raw.headers}
    return sorted(n for n in names if n.startswith("x-acs-") or n in ("accept", "date"))


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, int, str]:
    kind = draw(
        st.sampled_from(["header", "path", "query-add", "query-change", "query-drop", "sig"])
    )
    return kind, draw(st.integers(min_value=0, max_value=10_000)), draw(SUFFIX)


def mutate(raw: Raw, kind: str, pick: int, suffix: str) -> Raw | None:
    """One semantic change to a signed request, or None when it does not apply."""
    if kind == "header":
        names = signed_names(raw)
        name = names[pick % len(names)]
        return raw.replace_header(name, (raw.header(name) or "") + suffix)
    if kind == "path":
        at = 1 + pick % (len(raw.path) - 1)
        return Raw(raw.method, raw.path[:at] + suffix + raw.path[at:], raw.query, raw.headers)
    pairs = parse_qsl(raw.query, keep_blank_values=True)
    if kind == "query-add":
        return Raw(raw.method, raw.path, urlencode([*pairs, ("x" + suffix, suffix)]), raw.headers)
    if kind in ("query-change", "query-drop") and pairs:
        i = pick % len(pairs)
        key, value = pairs[i]
        changed = (
            pairs[:i] + ([] if kind == "query-drop" else [(key, value + suffix)]) + pairs[i + 1 :]
        )
        return Raw(raw.method, raw.path, urlencode(changed), raw.headers)
    if kind == "sig":
        auth = raw.header("authorization") or ""
        at = len(auth) - 1 - pick % 8
        new_char = "0" if auth[at] != "0" else "1"
        return raw.replace_header("authorization", auth[:at] + new_char + auth[at + 1 :])
    return None


@SETTINGS
@given(
    names=st.tuples(NAME, NAME, NAME),
    signing=st.sampled_from([None, "v2"]),
    token=st.booleans(),
    op=st.sampled_from(["instance", "tasks", "task"]),
    value=QUERY_VALUE,
    exists=st.booleans(),
    change=mutation(),
)
def test_sdk_signed_requests_verify_and_mutations_are_rejected(
    srv: EmulatorServer,
    names: tuple[str, str, str],
    signing: str | None,
    token: bool,
    op: str,
    value: str,
    exists: bool,
    change: tuple[str, int, str],
):
    if exists:
        srv.state.upsert_instance(*names)
    code = call(srv, signing, token, names, op, value)
    # Verified: only the service's own answers (or success) may come back.
    assert code not in AUTH_CODES, code
    if exists and op == "instance":
        assert code == ""
    raw = captured(srv)

    srv.verifier.nonces.clear()
    replay = send(srv.port, raw)
    assert replay.code not in AUTH_CODES, "the captured request must verify again"

    mutated = mutate(raw, *change)
    if mutated is None:
        return
    srv.verifier.nonces.clear()
    reply = send(srv.port, mutated)
    assert reply.status >= 400 and reply.code in AUTH_CODES, (change, reply.status, reply.body)
