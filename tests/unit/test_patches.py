"""The patches to pulumi internals check what they patch first: applied when it is as
assumed, otherwise left out with one line saying why (never a crash, never silently).

Both ends of the declared pulumi range: tests/compat/test_pulumi_range.py.
"""

from __future__ import annotations

import signal
import sys
import traceback
import types
from importlib.machinery import ModuleSpec
from typing import Any

import pulumi
import pulumi.log
import pytest
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2_grpc

from pulumi_opensearch_fn import patches, program_exit, server_errors
from pulumi_opensearch_fn.api.errors import OpenSearchFnError

# The lines of the official exec script (Pulumi CLI 3.274.1) that the patch relies on.
EXEC_SCRIPT_TAIL = """
    try:
        coro = pulumi.runtime.run_in_stack(run)
        loop.run_until_complete(coro)
        exit_code = 0
    except pulumi.RunError as e:
        pulumi.log.error(str(e))
    except Exception:  # noqa -- we really want to catch any exception here
        pass
"""


class Signals:
    """`signal` as program_exit sees it: the process's own handlers stay untouched."""

    SIGINT = signal.SIGINT
    default_int_handler = signal.default_int_handler

    def __init__(self) -> None:
        self.handler: Any = signal.default_int_handler

    def getsignal(self, _number: int) -> Any:
        return self.handler

    def signal(self, _number: int, handler: Any) -> None:
        self.handler = handler


@pytest.fixture(autouse=True)
def signals(monkeypatch: pytest.MonkeyPatch) -> Signals:
    """Each test installs as a new process would (`monkeypatch` undoes every patch)."""
    monkeypatch.setattr(program_exit, "_installed", [])
    monkeypatch.setattr(patches, "_reported", set())
    monkeypatch.setattr(pulumi.log, "error", pulumi.log.error)
    fake = Signals()
    monkeypatch.setattr(program_exit, "signal", fake)
    return fake


def under_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = object.__new__(resource_pb2_grpc.ResourceMonitorStub)
    monkeypatch.setattr(settings, "get_monitor", lambda: stub)


def test_every_check_holds_under_the_pinned_pulumi() -> None:
    assert patches.problems() == {"program_exit": [], "server_errors": []}


def test_program_exit_applied_when_as_assumed(monkeypatch, capsys, signals) -> None:
    logged = []

    def error(msg: str, resource: Any = None, stream_id: Any = None, ephemeral: Any = None):
        logged.append(msg)

    monkeypatch.setattr(pulumi.log, "error", error)
    under_an_engine(monkeypatch)
    program_exit.install()
    assert pulumi.log.error is not error
    assert signals.handler is program_exit._leave_quietly
    pulumi.log.error("a resource failed")
    pulumi.log.error(program_exit.MONITOR_TERMINATED)  # says nothing the user needs
    assert logged == ["a resource failed"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        (lambda m: m.setattr(pulumi.log, "error", lambda text: None), "pulumi.log.error(msg, ...)"),
        (lambda m: m.delattr(pulumi.log, "error"), "pulumi.log.error(msg, ...) is not there"),
        (
            lambda m: m.setattr(settings, "grpc_error_to_exception", lambda e: Exception("gone")),
            "no longer reports a closed monitor as 'Resource monitor has terminated",
        ),
        (lambda m: m.delattr(settings, "grpc_error_to_exception"), "closed monitor"),
        (lambda m: m.setattr(program_exit, "_caller", lambda: sys._getframe(1)), "_getframe(2)"),
    ],
    ids=[
        "log.error renamed its message",
        "no log.error",
        "another monitor message",
        "no grpc_error_to_exception",
        "frames counted otherwise",
    ],
)
def test_program_exit_left_out_when_not_as_assumed(monkeypatch, capsys, signals, patch, why):
    under_an_engine(monkeypatch)
    patch(monkeypatch)
    before = getattr(pulumi.log, "error", None)
    program_exit.install()
    program_exit.install()
    assert getattr(pulumi.log, "error", None) is before  # left as it was
    assert signals.handler is signal.default_int_handler
    [line] = capsys.readouterr().err.splitlines()  # once
    assert line.startswith("warning: pulumi-opensearch-fn: program_exit not applied under pulumi")
    assert why in line


def test_program_exit_is_not_checked_without_an_engine(monkeypatch, capsys) -> None:
    """Under mocks or in a provider process nothing is patched, so nothing is said."""
    monkeypatch.setattr(pulumi.log, "error", lambda text: None)
    program_exit.install()
    assert program_exit._installed == []
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("name", "source", "found"),
    [
        ("pulumi-language-python-exec", EXEC_SCRIPT_TAIL, None),
        ("__main__.py", "", None),  # not started by a language host: nothing to check
        ("<frozen runpy>", "", None),
        ("pulumi-language-python-exec.py", EXEC_SCRIPT_TAIL, "runs programs with"),
        (
            "pulumi-language-python-exec",
            EXEC_SCRIPT_TAIL.replace("pulumi.log.error(str(e))", "report(e)"),
            "no longer reports a RunError",
        ),
    ],
)
def test_the_exec_script_is_the_one_assumed(tmp_path, name, source, found) -> None:
    script = tmp_path / name
    script.write_text(source)
    problems = program_exit.exec_script_problems(str(script))
    if found is None:
        assert problems == []
    else:
        [problem] = problems
        assert found in problem


def test_an_unreadable_exec_script_is_a_problem(tmp_path) -> None:
    [problem] = program_exit.exec_script_problems(str(tmp_path / "pulumi-language-python-exec"))
    assert "cannot read pulumi-language-python-exec" in problem


# -- server_errors -----------------------------------------------------------------


class Context:
    details = ""

    def abort(self, _code: object, details: str) -> None:
        self.details = details
        raise RuntimeError("aborted")


def fake_server(monkeypatch, **names: Any) -> types.ModuleType:
    """A provider server's `__main__`: pulumi's server module, without serving."""
    server = types.ModuleType("__main__")
    server_errors.server_namespace(server.__dict__)  # its functions see the module's names
    server.__dict__.update(names)
    server.__spec__ = ModuleSpec("pulumi.dynamic.__main__", None)
    monkeypatch.setitem(sys.modules, "__main__", server)
    return server


def answer(server: types.ModuleType, error: Exception) -> str:
    def method(_self, _request, _context):
        raise error

    context = Context()
    with pytest.raises(RuntimeError, match="aborted"):
        server._abort_with_traceback(method)(None, None, context)
    return context.details


def test_server_errors_applied_when_as_assumed(monkeypatch, capsys) -> None:
    server = fake_server(monkeypatch)
    server_errors.install()
    assert answer(server, OpenSearchFnError("FunctionInstance x: refused")) == (
        "FunctionInstance x: refused"
    )
    assert answer(server, ValueError("a bug")).startswith("Traceback (most recent call last)")
    assert capsys.readouterr().err == ""


def _reprs(fn):
    def wrapper(self, request, context):
        try:
            return fn(self, request, context)
        except Exception as exc:
            context.abort(None, repr(exc))

    return wrapper


@pytest.mark.parametrize(
    ("names", "why"),
    [
        ({"traceback": None}, "has no module-level `traceback`"),  # pulumi before 3.260
        ({"_abort_with_traceback": None}, "has no _abort_with_traceback"),
        ({"_abort_with_traceback": _reprs}, "does not answer a failed method with"),
    ],
    ids=["no traceback", "no wrapper", "a wrapper of another kind"],
)
def test_server_errors_left_out_when_not_as_assumed(monkeypatch, capsys, names, why) -> None:
    server = fake_server(monkeypatch, **names)
    server_errors.install()
    server_errors.install()
    assert server.traceback is names.get("traceback", traceback)  # left as it was
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: pulumi-opensearch-fn: server_errors not applied under pulumi")
    assert why in line
