"""A local, faithful emulator of the OpenSearch function API: :class:`EmulatorServer`
(both signing schemes, documented errors, camelCase or PascalCase, faults, a quota, a
guarded admin API) and its admin client :class:`EmulatorAdmin`; :class:`EmulatorState`,
the model on a :class:`SimClock`, whose records (``state``) also describe the state file
and the admin API (``schema``). Each public name is imported ``as`` itself: exported.
"""

from .admin import EmulatorAdmin as EmulatorAdmin
from .admin import EmulatorAdminError as EmulatorAdminError
from .clock import SimClock as SimClock
from .faults import FaultSpec as FaultSpec
from .quota import RateLimit as RateLimit
from .server import EmulatorServer as EmulatorServer
from .state import EmulatorState as EmulatorState
from .state_file import StateFileError as StateFileError
from .state_file import dump_state as dump_state
from .state_file import load_state_file as load_state_file
from .state_file import parse_state as parse_state
from .state_file import sample_state as sample_state
from .state_file import sample_state_data as sample_state_data
