"""A local, faithful emulator of the OpenSearch function API: :class:`EmulatorServer`
(both signing schemes, documented errors, camelCase or PascalCase, faults, a guarded
admin API) and its admin client :class:`EmulatorAdmin`; :class:`EmulatorState`, the model
on a :class:`SimClock`, whose records (``state``) also describe the state file and the
admin API (``schema``); ``process.emulator_process``: the emulator as a child process.
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
