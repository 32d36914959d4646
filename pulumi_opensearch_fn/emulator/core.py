"""What the HTTP handlers share: state, faults, request log, verifier, casing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultInjector, RequestLog
from .responses import Casing
from .state import EmulatorState
from .verify import Verifier


@dataclass
class Backend:
    """One per server; in-process users reach the same objects as the admin API."""

    state: EmulatorState
    casing: Casing = "camel"
    faults: FaultInjector = field(default_factory=FaultInjector)
    log: RequestLog = field(default_factory=RequestLog)
    verifier: Verifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.state)


def decode_json(body: bytes) -> Any:
    """Admin request bodies: empty means {}; raises ValueError on bad JSON."""
    return json.loads(body) if body.strip() else {}
