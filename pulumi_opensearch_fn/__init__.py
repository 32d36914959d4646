"""Pulumi data sources, read-only resources and deployment gates for Alibaba Cloud
OpenSearch function instances (trained algorithm models) and their training tasks.

Names load on first use, so `import pulumi_opensearch_fn.api` (the HTTP client,
used by the command line) does not pay for importing `pulumi`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.lazy import lazy_names

if TYPE_CHECKING:
    from .api import Identity, OpenSearchFnError, OpenSearchFunctionClient
    from .core.expectations import Expect, Wait
    from .functions import (
        DataSourceError,
        GetFunctionInstanceResult,
        GetFunctionTaskResult,
        GetFunctionTasksResult,
        get_function_instance,
        get_function_instance_output,
        get_function_task,
        get_function_task_output,
        get_function_tasks,
        get_function_tasks_output,
        get_latest_function_task,
        get_latest_function_task_output,
    )
    from .resources import FunctionInstance, FunctionTask, GateFailedError

_EXPORTS = {
    "Expect": ".core.expectations",
    "Wait": ".core.expectations",
    "FunctionInstance": ".resources",
    "FunctionTask": ".resources",
    "GateFailedError": ".resources",
    "DataSourceError": ".functions",
    "GetFunctionInstanceResult": ".functions",
    "GetFunctionTaskResult": ".functions",
    "GetFunctionTasksResult": ".functions",
    "get_function_instance": ".functions",
    "get_function_instance_output": ".functions",
    "get_function_task": ".functions",
    "get_function_task_output": ".functions",
    "get_function_tasks": ".functions",
    "get_function_tasks_output": ".functions",
    "get_latest_function_task": ".functions",
    "get_latest_function_task_output": ".functions",
    "Identity": ".api",
    "OpenSearchFnError": ".api",
    "OpenSearchFunctionClient": ".api",
}

__all__ = [
    "DataSourceError",
    "Expect",
    "FunctionInstance",
    "FunctionTask",
    "GateFailedError",
    "GetFunctionInstanceResult",
    "GetFunctionTaskResult",
    "GetFunctionTasksResult",
    "Identity",
    "OpenSearchFnError",
    "OpenSearchFunctionClient",
    "Wait",
    "get_function_instance",
    "get_function_instance_output",
    "get_function_task",
    "get_function_task_output",
    "get_function_tasks",
    "get_function_tasks_output",
    "get_latest_function_task",
    "get_latest_function_task_output",
]


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, __all__)
