"""An emulator left running cannot be steered by a web page or a user without its token,
and keeps no secret and no unbounded memory in what it answers or logs."""

from __future__ import annotations

import base64
import json
import socket
import subprocess

import pytest

from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorAdminError, EmulatorServer
from pulumi_opensearch_fn.emulator.faults import LogEntry, RequestLog

from .helpers import (
    SECRET,
    STS_AK,
    STS_SECRET,
    STS_TOKEN,
    Raw,
    Reply,
    api_path,
    build,
    get,
    send,
)
from .process import COMMAND, emulator_process

INSTANCE = api_path("my_app", "ctr", "ctr_test")


def admin_request(
    server: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    token: str | None = "",
    host: str | None = None,
    content_type: str | None = "application/json",
) -> Reply:
    """An admin request laid out by hand: ``token=""`` means the server's own token."""
    headers = [("Host", f"127.0.0.1:{server.port}" if host is None else host)]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token or server.admin_token}"))
    if content_type is not None and (body or method != "GET"):
        headers.append(("Content-Type", content_type))
    headers.append(("Content-Length", str(len(body))))
    return send_with_body(server.port, Raw(method, "/_admin" + path, "", headers), body)


def send_with_body(port: int, raw: Raw, body: bytes) -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"{raw.method} {raw.target} HTTP/1.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in raw.headers) + "Connection: close\r\n\r\n"
        sock.sendall(head.encode("latin-1") + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    assert data, "the emulator closed the connection without answering"
    head_text, _, payload = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return Reply(int(lines[0].split()[1]), headers, payload)


# -- the token ---------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token-of-enough-length", "Bearer"])
def test_admin_needs_this_runs_token(server: EmulatorServer, token: str | None):
    reply = admin_request(server, "POST", "/faults", b'{"kind":"drop"}', token=token)
    assert reply.status == 401, reply.body
    assert "Bearer" in reply.json()["error"]
    assert server.faults.list() == []
    assert admin_request(server, "GET", "/health").json() == {"ok": True}


def test_each_server_has_its_own_token():
    with EmulatorServer() as one, EmulatorServer() as two:
        assert one.admin_token != two.admin_token
        with EmulatorAdmin(one.url, two.admin_token) as wrong, pytest.raises(EmulatorAdminError):
            wrong.health()
        with one.admin() as right:
            assert right.health()
            assert one.admin_token not in repr(right)


def test_a_given_token_is_used_and_a_weak_one_refused():
    with EmulatorServer(admin_token="t" * 16) as server, EmulatorAdmin(server.url, "t" * 16) as a:
        assert a.health()
    with pytest.raises(ValueError, match="at least 16"):
        EmulatorServer(admin_token="short")


# -- Host and Content-Type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("evil.example.com", False),
        ("evil.example.com:80", False),
        ("127.0.0.1.nip.io", False),
        ("localhost.evil.example.com", False),
        ("[::1", False),
        ("", False),
        ("localhost", True),
        ("localhost:9", True),
        ("app.localhost", True),
        ("127.0.0.1:9", True),
        ("[::1]:9", True),
    ],
)
def test_admin_answers_only_loopback_host_names(server: EmulatorServer, host: str, allowed: bool):
    reply = admin_request(server, "POST", "/faults", b'{"kind":"drop"}', host=host)
    assert (reply.status == 200) is allowed, (reply.status, reply.body)
    assert (server.faults.list() != []) is allowed


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
def test_admin_bodies_must_be_json(server: EmulatorServer, content_type: str | None):
    reply = admin_request(server, "POST", "/faults", b'{"kind":"drop"}', content_type=content_type)
    assert reply.status == 415, reply.body
    assert server.faults.list() == []
    bare = admin_request(server, "DELETE", "/faults", content_type=content_type)
    assert bare.status == 200, "a DELETE without a body needs no type"
    assert (
        admin_request(
            server,
            "POST",
            "/faults",
            b'{"kind":"drop"}',
            content_type="application/json; charset=utf-8",
        ).status
        == 200
    )


# -- secrets -------------------------------------------------------------------------


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), raw.hex()]


def test_state_leaves_secrets_out_unless_asked(server: EmulatorServer, admin: EmulatorAdmin):
    plain = json.dumps(admin.state())
    for secret in (SECRET, STS_SECRET, STS_TOKEN):
        assert secret not in plain
    assert "LTAI-emulator-demo" in plain and STS_AK in plain  # which keys exist still shows
    full = json.dumps(admin.state(secrets=True))
    assert SECRET in full and STS_TOKEN in full


def test_roa_signature_mismatch_does_not_echo_the_sts_token(server: EmulatorServer):
    reply = get(
        server.port,
        "GetFunctionInstance",
        INSTANCE,
        scheme="roa",
        ak=STS_AK,
        secret="not-the-secret",
        token=STS_TOKEN,
    )
    assert reply.code == "SignatureDoesNotMatch"
    assert "x-acs-security-token:<redacted>" in reply.json()["Message"]
    text = reply.body.decode() + json.dumps(reply.headers)
    for secret in (STS_TOKEN, STS_SECRET):
        for form in forms(secret):
            assert form not in text


def test_request_log_keeps_no_sts_token(server: EmulatorServer, admin: EmulatorAdmin):
    for scheme in ("v3", "roa"):
        reply = get(
            server.port,
            "GetFunctionInstance",
            INSTANCE,
            scheme=scheme,
            ak=STS_AK,
            secret=STS_SECRET,
            token=STS_TOKEN,
        )
        assert reply.status == 200
    logged = json.dumps(admin.requests(headers=True))
    assert "x-acs-security-token" in logged
    for form in forms(STS_TOKEN):
        assert form not in logged


# -- replay ---------------------------------------------------------------------------


def test_roa_without_nonce_is_refused_as_replayable(server: EmulatorServer):
    raw = build("GetFunctionInstance", INSTANCE, scheme="roa", with_nonce=False)
    assert raw.header("x-acs-signature-nonce") is None
    reply = send(server.port, raw)
    assert (reply.status, reply.code) == (400, "IncompleteSignature")
    assert "replayed" in reply.json()["Message"]
    assert send(server.port, build("GetFunctionInstance", INSTANCE, scheme="roa")).status == 200


# -- bounded memory ---------------------------------------------------------------------


def test_request_log_is_capped_in_bytes_headers_included(server: EmulatorServer):
    big = "x" * 60_000
    for i in range(20):
        raw = build("GetFunctionInstance", INSTANCE, extra={f"x-big-{j}": big for j in range(8)})
        assert send(server.port, raw).status == 200, i
    entries = server.log.entries()
    assert len(entries) == 20
    # 20 x 8 x 60 kB arrived; each kept value is cut to a couple of kB.
    assert server.log.size_bytes < 20 * 8 * 3_000
    assert all(len(v) <= 2_100 for e in entries for _, v in e.headers)


def test_request_log_drops_oldest_beyond_its_byte_cap():
    log = RequestLog(max_bytes=50_000)
    headers = tuple((f"x-h{i}", "v" * 2_000) for i in range(10))
    for i in range(100):
        log.add(
            LogEntry(0.0, "GET", f"/{i}", "", None, "v3", None, False, 200, "", None, 1.0, headers)
        )
    kept = log.entries()
    assert 0 < len(kept) < 100 and kept[-1].path == "/99"
    assert log.size_bytes <= 50_000
    assert log.counts()["total"] == 100  # counts still see every request


# -- malformed input: a 4xx, never a 500 or a dropped connection ---------------------------


def test_huge_generation_and_paging_numbers_are_400(server: EmulatorServer):
    digits = "9" * 5_000
    task = get(
        server.port, "GetFunctionTask", api_path("my_app", "ctr", "ctr_test", generation=digits)
    )
    assert (task.status, task.code) == (400, "InvalidParameter")
    tasks = get(server.port, "ListFunctionTasks", api_path("my_app", "ctr", "ctr_test", tasks=True),
                {"pageSize": digits})  # fmt: skip
    assert (tasks.status, tasks.code) == (400, "InvalidParameter")
    assert len(tasks.body) < 1_000, "the answer does not echo the whole number"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/faults", b"[" * 200_000 + b"]" * 200_000),
        ("/faults", b'{"kind":"drop","count":' + b"[" * 500 + b"1" + b"]" * 500 + b"}"),
        ("/clock/advance", b'{"seconds": ' + b"9" * 5_000 + b"}"),
        ("/clock/advance", b'{"seconds": 1e400}'),
        ("/clock/advance", b'{"seconds": NaN}'),
        ("/app-groups/my_app/functions/ctr/instances/ctr_test/training", b'{"durationS": 1e300}'),
        (
            "/app-groups/my_app/functions/ctr/instances/ctr_test/tasks",
            b'{"startTime": ' + b"9" * 4_000 + b"}",
        ),
    ],
    ids=["nested-200000", "nested-500", "5000-digits", "inf", "nan", "huge-duration", "huge-time"],
)
def test_hostile_admin_bodies_are_400(server: EmulatorServer, path: str, body: bytes):
    reply = admin_request(server, "POST", path, body)
    assert reply.status == 400, (reply.status, reply.body[:200])
    assert admin_request(server, "GET", "/health").json() == {"ok": True}


# -- the command line ---------------------------------------------------------------------


def test_command_prints_url_then_token_and_takes_one_from_the_environment(monkeypatch):
    with emulator_process("--port", "0") as (_, url, token):
        assert url.startswith("http://127.0.0.1:") and len(token) >= 16
        with EmulatorAdmin(url, token) as admin:
            assert admin.health()
    monkeypatch.setenv("OPENSEARCH_FN_EMULATOR_ADMIN_TOKEN", "from-the-harness-0123")
    with emulator_process("--port", "0") as (_, url, token):
        assert token == "from-the-harness-0123"
        with EmulatorAdmin(url, token) as admin:
            assert admin.health()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin-token", "short"], "at least 16"),
        (["--port", "99999"], "0 to 65535"),
        (["--port", "9" * 5_000], "0 to 65535"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args: list[str], message: str):
    result = subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("scheme", ["v3", "roa"])
def test_secrets_a_client_echoes_are_redacted_in_answers_and_log(
    server: EmulatorServer, admin: EmulatorAdmin, scheme: str
):
    echoed = {
        "x-acs-echo": STS_TOKEN,  # signed by ROA, so quoted in its mismatch message
        "x-echo-b64": base64.b64encode(SECRET.encode()).decode(),
        "x-echo-hex": STS_SECRET.encode().hex(),
    }
    reply = get(
        server.port,
        "GetFunctionInstance",
        INSTANCE,
        {"q": SECRET},
        scheme=scheme,
        ak=STS_AK,
        secret="not-the-secret",
        token=STS_TOKEN,
        extra=echoed,
    )
    assert reply.code == "SignatureDoesNotMatch"
    text = reply.body.decode() + json.dumps(admin.requests(headers=True))
    assert "<redacted>" in text
    for secret in (SECRET, STS_SECRET, STS_TOKEN):
        for form in forms(secret):
            assert form not in text
