"""A local, faithful emulator of the OpenSearch function API.

* :class:`EmulatorServer`: serves GetFunctionInstance, ListFunctionTasks and
  GetFunctionTask (both signing schemes verified, documented errors, camelCase
  or PascalCase bodies) plus an admin API under ``/_admin`` that wants the
  run's token, a loopback Host and JSON bodies (see ``admin_guard``).
* :class:`EmulatorAdmin`: a typed client for that admin API
  (``EmulatorAdmin(url, token)`` or ``server.admin()``).
* :class:`EmulatorState`: the model (app groups, functions, instances, tasks,
  credentials) with its simulated :class:`SimClock`.
* :func:`load_state_file`, :func:`parse_state`, :func:`dump_state`,
  :func:`sample_state`: the JSON state-file format (see ``state_file``).
* :class:`FaultSpec`: fault injection, also reachable in-process as
  ``server.faults.add(FaultSpec(...))``.
* ``process.emulator_process``: the emulator as a child process.
"""

from .admin import EmulatorAdmin, EmulatorAdminError
from .clock import SimClock
from .faults import FaultSpec
from .server import EmulatorServer
from .state import EmulatorState
from .state_file import (
    StateFileError,
    dump_state,
    load_state_file,
    parse_state,
    sample_state,
    sample_state_data,
)

__all__ = [
    "EmulatorAdmin",
    "EmulatorAdminError",
    "EmulatorServer",
    "EmulatorState",
    "FaultSpec",
    "SimClock",
    "StateFileError",
    "dump_state",
    "load_state_file",
    "parse_state",
    "sample_state",
    "sample_state_data",
]
