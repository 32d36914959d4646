"""Attacks on a running emulator, by class; each must be refused or harmless.

The emulator runs as a child process (as `opensearch-fn emulator` would), so its
memory and its stderr are measured as a user would see them. Prints one table row
per class (attacks, held) for RELIABILITY.md. Exits 1 when any attack got through.

    .venv/bin/python benchmarks/attack_emulator.py
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from pulumi_opensearch_fn.emulator.verify import (
    roa_signature,
    roa_string_to_sign,
    v3_canonical_request,
    v3_signature,
    v3_string_to_sign,
)

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulator.process import RunningEmulator, emulator_process  # noqa: E402

AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
STS_AK, STS_SECRET, STS_TOKEN = (
    "STS.emulator-demo",
    "emulator-demo-sts-secret",
    "emulator-demo-sts-token",
)
INSTANCE = "/v4/openapi/app-groups/my_app/functions/ctr/instances/ctr_test"
ADMIN_INSTANCE = "/app-groups/my_app/functions/ctr/instances/ctr_test"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SECRETS = (SECRET, STS_SECRET, STS_TOKEN)

Reply = tuple[int, bytes]  # status 0: no answer


def send(port: int, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
    head = f"{method} {target} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head.encode("latin-1") + body)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0, b""
    data = b"".join(chunks)
    if not data:
        return 0, b""
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def secret_forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, base64.b64encode(raw), raw.hex().encode(), quote(secret, safe="").encode()]


def leaks(data: bytes) -> bool:
    return any(form in data for s in SECRETS for form in secret_forms(s))


class Attacks:
    def __init__(self, emu: RunningEmulator) -> None:
        self.port = int(emu.url.rsplit(":", 1)[1])
        self.token = emu.admin_token
        self.rows: list[tuple[str, int, int]] = []

    def admin(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        auth: str | None = None,
        host: str | None = None,
        content_type: str | None = "application/json",
        extra: list[tuple[str, str]] | None = None,
    ) -> Reply:
        headers = [("Host", host if host is not None else f"127.0.0.1:{self.port}")]
        headers.append(("Authorization", auth if auth is not None else f"Bearer {self.token}"))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        return send(self.port, method, "/_admin" + path, headers + (extra or []), body)

    def snapshot(self) -> bytes:
        """What an attack must not change: faults, clock, casing, nonces seen."""
        parts = [self.admin("GET", p)[1] for p in ("/faults", "/casing", "/clock/steps")]
        clock = json.loads(self.admin("GET", "/clock")[1])
        return b"|".join(parts) + str(clock["offsetMs"]).encode()

    def record(self, name: str, results: list[bool]) -> None:
        self.rows.append((name, len(results), sum(results)))

    # -- classes ------------------------------------------------------------------

    def without_token(self) -> None:
        variants = [
            "",
            "Bearer",
            "Bearer ",
            "Bearer wrong-token-of-enough-length",
            f"Bearer {self.token[:16]}",
            f"Bearer {self.token.upper()}",
            f"Basic {base64.b64encode(f'admin:{self.token}'.encode()).decode()}",
            f"Bearer {self.token}x",
        ]
        routes = [
            ("GET", "/state", b""),
            ("POST", "/faults", b'{"kind":"drop"}'),
            ("POST", "/clock/advance", b'{"seconds":600}'),
            ("PUT", "/casing", b'{"casing":"pascal"}'),
            ("DELETE", "/nonces", b""),
            ("GET", "/requests?headers=1", b""),
        ]
        before = self.snapshot()
        results = [self.admin(m, p, b, auth=v)[0] == 401 for v in variants for m, p, b in routes]
        # The token in the query or another header is not the token.
        for target in (f"/faults?token={self.token}", "/faults"):
            extra = [] if "?" in target else [("X-Admin-Token", self.token)]
            status, _ = self.admin("POST", target, b'{"kind":"drop"}', auth="", extra=extra)
            results.append(status == 401)
        results.append(self.snapshot() == before)
        self.record("admin API without this run's token", results)

    def host(self) -> None:
        hosts = [
            "evil.example.com",
            "evil.example.com:80",
            f"evil.example.com:{self.port}",
            "127.0.0.1.nip.io",
            "localhost.evil.example.com",
            "localhost@evil.example.com",
            "[::1",
            "[::1]x",
            "",
            "10.0.0.1",
            "0.0.0.0",
        ]
        before = self.snapshot()
        results = []
        for host in hosts:
            results.append(self.admin("GET", "/state", host=host)[0] == 403)
            results.append(self.admin("POST", "/faults", b'{"kind":"drop"}', host=host)[0] == 403)
        results.append(self.snapshot() == before)
        self.record("admin API under a non-loopback Host (DNS rebinding)", results)

    def content_type(self) -> None:
        types: list[str | None] = [
            None,
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "text/plain; application/json",
            "application/javascript",
        ]
        routes = [
            ("POST", "/faults", b'{"kind":"drop"}'),
            ("PUT", "/casing", b'{"casing":"pascal"}'),
            ("POST", "/clock/advance", b'{"seconds":600}'),
        ]
        before = self.snapshot()
        results = [
            self.admin(m, p, b, content_type=t)[0] == 415 for t in types for m, p, b in routes
        ]
        results.append(self.snapshot() == before)
        self.record("cross-origin admin bodies that are not application/json", results)

    def state_secrets(self) -> None:
        queries = ["", "?secrets=0", "?secrets=", "?secrets=no", "?Secrets=1", "?secret=1"]
        results = []
        for query in queries:
            status, body = self.admin("GET", "/state" + query)
            results.append(status == 200 and not leaks(body) and b"accessKeyId" in body)
        self.record("secrets in GET /_admin/state", results)

    def api_request(
        self,
        scheme: str,
        *,
        ak: str = AK,
        secret: str = SECRET,
        token: str | None = None,
        nonce: str | None = "fresh",
        extra: dict[str, str] | None = None,
        path: str = INSTANCE,
        query: str = "",
    ) -> Reply:
        headers: dict[str, list[str]] = {
            "host": [f"127.0.0.1:{self.port}"],
            "accept": ["application/json"],
            "x-acs-action": ["GetFunctionInstance"],
            "x-acs-version": ["2017-12-25"],
        }
        if nonce is not None:
            headers["x-acs-signature-nonce"] = [uuid.uuid4().hex if nonce == "fresh" else nonce]
        if token is not None:
            headers["x-acs-security-token"] = [token]
            headers["x-acs-accesskey-id"] = [ak]
        for name, value in (extra or {}).items():
            headers[name] = [value]
        pairs = [(k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p)]
        if scheme == "roa":
            headers["date"] = [format_datetime(datetime.now(UTC), usegmt=True)]
            headers["x-acs-signature-method"] = ["HMAC-SHA1"]
            headers["x-acs-signature-version"] = ["1.0"]
            sts = roa_string_to_sign("GET", path, pairs, headers)
            headers["authorization"] = [f"acs {ak}:{roa_signature(secret, sts)}"]
        else:
            headers["x-acs-date"] = [datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
            headers["x-acs-content-sha256"] = [EMPTY_SHA256]
            signed = sorted(headers)
            canonical = v3_canonical_request("GET", path, pairs, headers, signed, EMPTY_SHA256)
            signature = v3_signature(secret, v3_string_to_sign(canonical))
            headers["authorization"] = [
                f"ACS3-HMAC-SHA256 Credential={ak},SignedHeaders={';'.join(signed)},"
                f"Signature={signature}"
            ]
        flat = [(k, v[0]) for k, v in headers.items() if k != "host"]
        flat.insert(0, ("Host", headers["host"][0]))
        target = path + (f"?{query}" if query else "")
        return send(self.port, "GET", target, flat, b"")

    def answer_secrets(self) -> list[bytes]:
        answers = []
        for scheme in ("v3", "roa"):
            cases = [
                {"ak": STS_AK, "secret": "wrong", "token": STS_TOKEN},
                {"ak": STS_AK, "secret": STS_SECRET, "token": STS_TOKEN + "x"},
                {"ak": AK, "secret": STS_SECRET, "token": STS_TOKEN},
                {"ak": STS_AK, "secret": STS_SECRET, "token": STS_TOKEN},
                {"ak": AK, "secret": "wrong"},
                {"ak": STS_AK, "secret": STS_SECRET},
                {"ak": STS_AK, "secret": "x", "token": STS_TOKEN, "extra": {"x-echo": STS_TOKEN}},
            ]  # fmt: skip
            for case in cases:
                answers.append(self.api_request(scheme, **case)[1])  # type: ignore[arg-type]
        answers.append(self.admin("GET", "/requests?headers=1")[1])
        answers.append(self.admin("GET", "/counts")[1])
        return answers

    def replay(self) -> None:
        results = []
        for token in (None, STS_TOKEN):
            ak, secret = (STS_AK, STS_SECRET) if token else (AK, SECRET)
            for nonce in (None, ""):
                status, _ = self.api_request("roa", ak=ak, secret=secret, token=token, nonce=nonce)
                results.append(status == 400)
        for scheme in ("v3", "roa"):
            nonce = uuid.uuid4().hex
            first, _ = self.api_request(scheme, nonce=nonce)
            second, body = self.api_request(scheme, nonce=nonce)
            results.append(first == 200 and second == 400 and b"SignatureNonceUsed" in body)
        self.record("replay: ROA without a nonce, a nonce used twice", results)

    def malformed(self) -> None:
        digits = "9" * 5_000
        results = []
        task_path = INSTANCE + "/tasks/" + digits
        status, _ = self.api_request(
            "v3", path=task_path, extra={"x-acs-action": "GetFunctionTask"}
        )
        results.append(400 <= status < 500)
        for name in ("pageSize", "pageNumber", "startTime", "endTime"):
            status, body = self.api_request(
                "v3",
                path=INSTANCE + "/tasks",
                query=f"{name}={digits}",
                extra={"x-acs-action": "ListFunctionTasks"},
            )
            results.append(400 <= status < 500 and len(body) < 2_000)
        bodies = [
            ("POST", "/faults", b"[" * 200_000 + b"]" * 200_000),
            ("PUT", "/state", b'{"appGroups":' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001),
            ("POST", "/faults", b'{"kind":"drop","count":' + b"[" * 500 + b"]" * 500 + b"}"),
            ("POST", "/clock/advance", b'{"seconds":' + digits.encode() + b"}"),
            ("POST", "/clock/advance", b'{"seconds":NaN}'),
            ("POST", "/clock/advance", b'{"seconds":Infinity}'),
            ("POST", "/clock/advance", b'{"seconds":1e400}'),
            ("POST", "/clock/steps", b'{"seconds":1,"atRequest":' + digits.encode() + b"}"),
            ("POST", ADMIN_INSTANCE + "/training", b'{"durationS":1e300}'),
            ("POST", ADMIN_INSTANCE + "/tasks", b'{"startTime":' + digits.encode() + b"}"),
            ("POST", "/faults", b'{"kind":"\xff\xfe"}'),
            ("POST", "/faults", b"[]"),
        ]  # fmt: skip
        for method, path, body in bodies:
            status, _ = self.admin(method, path, body)
            results.append(400 <= status < 500)
        status, _ = self.admin("GET", "/requests?limit=" + digits)
        results.append(400 <= status < 500)
        results.append(self.admin("GET", "/health")[1] == b'{"ok":true}')
        self.record("malformed input: 5,000 digits, deep nesting, NaN/inf", results)

    def log_memory(self, pid: int) -> list[int]:
        """120 requests with ~5 MB of headers each, RSS (kB) before and after every 20.

        Held when the emulator's memory stays under its start plus the log's cap
        (16 MB) plus 64 MB for the HTTP parser's transient buffers."""
        big = "x" * 60_000
        rss = [rss_kb(pid)]
        answered = []
        for _ in range(6):
            for _ in range(20):
                extra = {f"x-big-{j}": big for j in range(80)}
                status, _ = self.api_request("v3", extra=extra)
                answered.append(status in (200, 400, 431))
            rss.append(rss_kb(pid))
        bounded = max(rss) - rss[0] < (16 + 64) * 1024
        self.record(
            "request log growth from large headers (120 requests, ~5 MB of headers each)",
            [ok and bounded for ok in answered],
        )
        return rss


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    with emulator_process("--port", "0", capture_stderr=True) as emu:
        attacks = Attacks(emu)
        steps: list[Callable[[], None]] = [
            attacks.without_token,
            attacks.host,
            attacks.content_type,
            attacks.state_secrets,
            attacks.replay,
            attacks.malformed,
        ]
        for step in steps:
            step()
        answers = attacks.answer_secrets()
        rss = attacks.log_memory(emu.proc.pid)
        emu.proc.terminate()
        _, err = emu.proc.communicate(timeout=10)
        answers.append(err.encode())
        attacks.record(
            "secrets in API answers, the request log and stderr", [not leaks(a) for a in answers]
        )
    print("| class | attacks | held |")
    print("|---|---|---|")
    for name, total, held in attacks.rows:
        print(f"| {name} | {total} | {held} |")
    total = sum(r[1] for r in attacks.rows)
    held = sum(r[2] for r in attacks.rows)
    print(f"| **all** | **{total}** | **{held}** |")
    print(f"emulator RSS (kB) before and after every 20 large-header requests: {rss}")
    print(json.dumps({"attacks": total, "held": held}))
    return 0 if held == total else 1


if __name__ == "__main__":
    sys.exit(main())
