"""The admin API under ``/_admin``: JSON routes that change what the emulator answers.

It can rewrite every answer, so an emulator left running must not be steerable by a web
page (DNS rebinding, cross-origin ``text/plain`` POSTs) or a local user without the
run's token: each request needs a loopback peer and ``Host`` name, ``Authorization:
Bearer TOKEN`` and, with a body or a state-changing method, ``application/json``.
Bodies are records (of ``state``, ``clock``, ``faults``, ``quota``; ``admin`` sends them);
errors: ``{"error", "problems"?, "code"?}``::

    GET health, counts | GET, PUT state[?secrets=1] | GET clock | POST clock/advance
    GET, POST, DELETE clock/steps, faults | GET, PUT casing | GET, PUT, DELETE rate-limit
    GET, DELETE requests[?limit=N&headers=1] | DELETE nonces | POST access-keys
    PUT app-groups/APP
    PUT, PATCH app-groups/APP/functions/FN/instances/I[/tasks (POST) | /training (POST)]
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl, unquote

from .clock import ClockStep
from .faults import FaultSpec
from .quota import RateLimit
from .schema import SECONDS, Check, InvalidInput, Reader, dump, parse, read_json
from .state import AccessKey, Instance, OpenSearchError, StsToken, TaskBatch, Training
from .state_file import dump_state, parse_state

if TYPE_CHECKING:
    from .server import EmulatorServer

TOKEN_ENV = "OPENSEARCH_FN_EMULATOR_ADMIN_TOKEN"  # noqa: S105 (a variable name)
MIN_TOKEN_LENGTH = 16
CASINGS = ("camel", "pascal")


@dataclass
class Advance:
    seconds: Annotated[float, SECONDS]


@dataclass
class CasingChoice:
    casing: Annotated[str, Check(choices=CASINGS)]


def check_token(token: str) -> str:
    """The token as given by a harness; ValueError when it is too easy to guess."""
    if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or " " in token:
        wanted = f"at least {MIN_TOKEN_LENGTH} printable characters without spaces"
        raise ValueError(f"the admin token must be {wanted}")
    return token


def is_loopback_address(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


def is_loopback_host_header(value: str) -> bool:
    """``localhost``, ``127.0.0.1:PORT``, ``[::1]:PORT``: names only this machine answers to."""
    host = value.strip().lower()
    if host.startswith("["):
        name, closed, rest = host[1:].partition("]")
        if not closed or (rest and not (rest.startswith(":") and rest[1:].isdecimal())):
            return False
        return is_loopback_address(name)
    name, _, port = host.partition(":")
    if port and not port.isdecimal():
        return False
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or is_loopback_address(name)


def refusal(
    token: str, peer: str, method: str, headers: dict[str, list[str]], body: bytes
) -> tuple[int, str] | None:
    """(status, why) this admin request from ``peer`` (an IP address) is refused, or None."""
    if not is_loopback_address(peer):
        return 403, "the admin API is loopback only"
    hosts = headers.get("host", [])
    if len(hosts) != 1 or not is_loopback_host_header(hosts[0]):
        return 403, "the admin API answers only loopback Host names"
    sent = (headers.get("authorization") or [""])[0]
    given = sent[7:].strip().encode("utf-8", "replace")
    if not sent.startswith("Bearer ") or not hmac.compare_digest(given, token.encode("utf-8")):
        return 401, "the admin API needs 'Authorization: Bearer TOKEN' with this run's admin token"
    # Browsers send text/plain and form bodies cross-origin without a preflight.
    types = headers.get("content-type", [])
    is_json = len(types) == 1 and types[0].split(";", 1)[0].strip().lower() == "application/json"
    if (body or method in ("POST", "PUT", "PATCH")) and not is_json:
        return 415, "admin request bodies must be sent as application/json"
    return None


def handle_admin(
    emulator: EmulatorServer, method: str, raw_path: str, raw_query: str, body: bytes
) -> tuple[int, Any]:
    """(status, JSON answer) of an admin request that passed ``refusal``."""
    parts = [unquote(p, errors="replace") for p in raw_path.split("/")[2:] if p != ""]
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    try:
        data = read_json(body) if body.strip() else {}
        return 200, _route(emulator, method, parts, query, data)
    except InvalidInput as exc:
        return 400, {"error": str(exc), "problems": exc.problems}
    except OpenSearchError as exc:  # conflicts and unknown routes too
        return exc.status, {"error": exc.message, "code": exc.code}
    except (ValueError, OverflowError) as exc:
        return 400, {"error": str(exc)}


def _route(
    emu: EmulatorServer, method: str, parts: list[str], query: dict[str, str], data: Any
) -> Any:
    state, now = emu.state, emu.state.now_ms()
    match method, parts:
        case "GET", ["health"]:
            return {"ok": True}
        case "GET", ["state"]:
            return dump_state(state, secrets=query.get("secrets") in ("1", "true", "yes"))
        case "PUT", ["state"]:  # everything, the clock offset too (0 when not given)
            state.replace_with(parse_state(data, "(request body)", state.clock.fresh()))
            return state.counts()
        case ("GET", ["clock"]) | ("POST", ["clock", "advance"]):
            if method == "POST":
                state.advance_clock(parse(Advance, data, now).seconds)
            return {"nowMs": state.now_ms(), "offsetMs": state.clock.offset_ms}
        case "GET", ["clock", "steps"]:
            return dump(emu.clock_steps.list())
        case "POST", ["clock", "steps"]:
            return {"id": emu.clock_steps.add(parse(ClockStep, data, now))}
        case "GET" | "PUT", ["casing"]:
            if method == "PUT":
                emu.casing = parse(CasingChoice, data, now).casing
            return {"casing": emu.casing}
        case "POST", ["access-keys"]:
            secured = isinstance(data, dict) and data.get("securityToken")
            record: type[AccessKey | StsToken] = StsToken if secured else AccessKey
            state.add_credential(key := parse(record, data, now))
            return {"accessKeyId": key.access_key_id}
        case "GET" | "PUT", ["rate-limit"]:
            if method == "PUT":
                emu.quota.set(parse(RateLimit, data, now))
            return dump(emu.quota.limit)
        case "GET", ["faults"]:
            return dump(emu.faults.list())
        case "POST", ["faults"]:
            return {"id": emu.faults.add(parse(FaultSpec, data, now))}
        case "GET", ["requests"]:
            limit = query.get("limit", "")
            entries = emu.log.entries(int(limit) if limit.isdecimal() else None)
            headers = query.get("headers") in ("1", "true", "yes")
            return [e.to_json(headers=headers) for e in entries]
        case "GET", ["counts"]:
            nonces = len(emu.verifier.nonces)
            return {"requests": emu.log.counts(), "state": state.counts(), "nonces": nonces}
        case "DELETE", ["clock", "steps"] | ["faults"] | ["requests"] | ["nonces"] | ["rate-limit"]:
            kept: dict[str, Any] = {"clock/steps": emu.clock_steps, "faults": emu.faults}
            kept |= {"requests": emu.log, "nonces": emu.verifier.nonces, "rate-limit": emu.quota}
            kept["/".join(parts)].clear()
            return {"cleared": True}
        case "PUT", ["app-groups", app]:
            state.add_app_group(app)
            return {"appGroup": app}
        case "PUT" | "PATCH", ["app-groups", app, "functions", fn, "instances", name]:
            read = Reader(now)
            fields = read.fields(Instance, data, "", partial=True)
            if fields is None:
                raise InvalidInput("request body", read.problems)
            state.upsert_instance(app, fn, name, fields, create=method == "PUT")
            return state.get_instance(app, fn, name)
        case "POST", ["app-groups", app, "functions", fn, "instances", name, "tasks"]:
            first, last = state.add_tasks(app, fn, name, parse(TaskBatch, data, now))
            return {"first": first, "last": last}
        case "POST", ["app-groups", app, "functions", fn, "instances", name, "training"]:
            return {"generation": state.start_task(app, fn, name, parse(Training, data, now))}
    message = f"no admin route {method} /_admin/{'/'.join(parts)}"
    raise OpenSearchError("NoSuchRoute", message, 404)
