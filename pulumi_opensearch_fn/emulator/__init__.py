"""A local, faithful emulator of the OpenSearch function API.

* :class:`EmulatorServer` serves GetFunctionInstance, ListFunctionTasks and
  GetFunctionTask (both signing schemes verified, documented errors, camelCase or
  PascalCase) and a guarded admin API under ``/_admin`` (see ``admin_api``).
* :class:`EmulatorAdmin` is that API's client (``server.admin()``).
* :class:`EmulatorState` is the model, on a simulated :class:`SimClock`; its records
  (``state``) are also the state file's and the admin API's description (``schema``).
* :func:`load_state_file`, :func:`parse_state`, :func:`dump_state`, :func:`sample_state`:
  the state file (``state_file``). :class:`FaultSpec`: fault injection (``faults``).
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
