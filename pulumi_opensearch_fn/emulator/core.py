"""What the HTTP handlers share: state, faults, request log, verifier, casing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .admin_guard import new_token
from .clock_steps import ClockSteps
from .faults import FaultInjector, RequestLog
from .redaction import Redactor
from .responses import Casing
from .state import EmulatorState
from .verify import Verifier


@dataclass
class Backend:
    """One per server; in-process users reach the same objects as the admin API."""

    state: EmulatorState
    casing: Casing = "camel"
    admin_token: str = field(default_factory=new_token)
    clock_steps: ClockSteps = field(default_factory=ClockSteps)
    faults: FaultInjector = field(default_factory=FaultInjector)
    log: RequestLog = field(default_factory=RequestLog)
    verifier: Verifier = field(init=False)
    _redactor: tuple[tuple[str, ...], Redactor] = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.state)
        self._redactor = ((), Redactor(()))

    def redactor(self) -> Redactor:
        """Removes every secret the state holds now; rebuilt only when credentials change."""
        secrets = self.state.secret_values()
        known, redactor = self._redactor
        if secrets != known:
            redactor = Redactor(secrets)
            self._redactor = (secrets, redactor)
        return redactor


# Admin bodies are small objects; deeper nesting is an attack on the parser, not data.
MAX_ADMIN_DEPTH = 32


def decode_json(body: bytes) -> Any:
    """Admin request bodies: empty means {}; ValueError on bad JSON, NaN or infinity,
    nesting deeper than ``MAX_ADMIN_DEPTH`` or numbers too long to convert."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_ADMIN_DEPTH} levels") from None
    if depth_exceeds(data, MAX_ADMIN_DEPTH):
        raise ValueError(f"nested deeper than {MAX_ADMIN_DEPTH} levels")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def depth_exceeds(data: Any, limit: int) -> bool:
    """Iterative, so the check itself cannot overflow the stack."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return False
