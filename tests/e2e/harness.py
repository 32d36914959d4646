"""Runs Pulumi projects with the real Pulumi CLI, for the end-to-end tests and the demo.

`engine_bin_dir()` finds or builds the CLI (through `scripts/pulumi-engine`),
`hermetic_env()` gives an environment that touches nothing outside a temporary
directory (local file backend, own PULUMI_HOME, no access token, no plugin
downloads), and `PulumiProject` drives one project directory:

    env = hermetic_env(tmp_path)
    project = PulumiProject.write(tmp_path / "proj", env, name="demo", program=SOURCE)
    project.stack_init("dev")
    project.up()
    assert project.outputs()["answer"] == 42

Projects use `runtime: {name: python, options: {virtualenv: <abs path>}}`, so
both the program and the dynamic providers it registers run with this
repository's virtualenv (or the one given), which has `pulumi_opensearch_fn`.
"""

from __future__ import annotations

import compileall
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO_ROOT / "scripts" / "pulumi-engine"
DEFAULT_PASSPHRASE = "e2e-passphrase"  # protects throwaway local stacks only
DEFAULT_COMMAND_TIMEOUT = 300.0
# A cold build of the CLI takes many minutes; scripts/pulumi-engine bounds it itself.
ENGINE_TIMEOUT = float(os.environ.get("PULUMI_ENGINE_BUILD_TIMEOUT", "3000")) + 300.0


class EngineUnavailableError(RuntimeError):
    """The Pulumi CLI could not be found or built."""


class PulumiCommandError(RuntimeError):
    """A `pulumi` command exited with an unexpected status or ran out of time."""

    def __init__(self, message: str, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(message)
        self.result = result


def default_venv() -> Path:
    """The repository's virtualenv, else the one running this code."""
    repo_venv = REPO_ROOT / ".venv"
    if (repo_venv / "bin" / "python").exists():
        return repo_venv
    return Path(sys.prefix)


def compile_package() -> None:
    """Compiles the package's bytecode where it is stale, as installing its wheel does
    (and `scripts/bootstrap`): under PYTHONDONTWRITEBYTECODE, sources edited since would
    otherwise be compiled again by every process the engine starts, and timed so."""
    if not compileall.compile_dir(REPO_ROOT / "pulumi_opensearch_fn", quiet=1):
        raise SystemExit("compileall failed on pulumi_opensearch_fn")


@functools.cache
def engine_bin_dir() -> Path:
    """The directory holding `pulumi` and the Python language host (built on first use).

    Raises EngineUnavailableError with the script's messages when there is none.
    """
    try:
        proc = subprocess.run(
            [str(ENGINE_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=ENGINE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineUnavailableError(f"{ENGINE_SCRIPT} could not run: {exc}") from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise EngineUnavailableError(
            f"{ENGINE_SCRIPT} exited with code {proc.returncode} and no Pulumi CLI:\n{tail}"
        )
    bin_dir = Path(lines[-1])
    missing = [
        name
        for name in (
            "pulumi",
            "pulumi-language-python",
            "pulumi-language-python-exec",
            "pulumi-resource-pulumi-python",
        )
        if not os.access(bin_dir / name, os.X_OK)
    ]
    if missing:
        raise EngineUnavailableError(f"{bin_dir} lacks {', '.join(missing)}")
    return bin_dir


def hermetic_env(
    tmpdir: Path,
    *,
    bin_dir: Path | None = None,
    venv: Path | None = None,
    passphrase: str = DEFAULT_PASSPHRASE,
) -> dict[str, str]:
    """An environment for `pulumi` whose state, home and plugins all live under tmpdir.

    Every inherited PULUMI_* variable is dropped (PULUMI_ACCESS_TOKEN above all),
    so nothing reaches the Pulumi Cloud or the user's own stacks.
    """
    bin_dir = bin_dir if bin_dir is not None else engine_bin_dir()
    venv = venv if venv is not None else default_venv()
    state = tmpdir / "pulumi-state"
    home = tmpdir / "pulumi-home"
    state.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(
        {
            "PATH": os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)]),
            "PULUMI_BACKEND_URL": state.resolve().as_uri(),
            "PULUMI_HOME": str(home.resolve()),
            "PULUMI_CONFIG_PASSPHRASE": passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_CREDENTIAL_STORE": "plaintext",
            "PULUMI_PYTHON_CMD": str(venv / "bin" / "python"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def project_yaml(name: str, venv: Path | None = None, description: str = "") -> str:
    """A Pulumi.yaml for a Python project that runs with the given virtualenv."""
    venv = (venv if venv is not None else default_venv()).resolve()
    return (
        f"name: {json.dumps(name)}\n"
        f"description: {json.dumps(description or name)}\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {json.dumps(str(venv))}\n"
    )


class PulumiProject:
    """One Pulumi project directory, driven through the `pulumi` CLI."""

    def __init__(
        self,
        dir: Path,
        env: Mapping[str, str],
        *,
        stack: str | None = None,
        timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        self.dir = Path(dir)
        self.env = dict(env)
        self.stack = stack
        self.timeout = timeout
        found = shutil.which("pulumi", path=self.env.get("PATH"))
        if found is None:
            raise EngineUnavailableError("no `pulumi` on the PATH of the given environment")
        self.pulumi = found

    @classmethod
    def write(
        cls,
        dir: Path,
        env: Mapping[str, str],
        *,
        name: str,
        program: str,
        venv: Path | None = None,
        files: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> PulumiProject:
        """Writes Pulumi.yaml, __main__.py (the program) and any extra files into dir."""
        dir.mkdir(parents=True, exist_ok=True)
        (dir / "Pulumi.yaml").write_text(project_yaml(name, venv), encoding="utf-8")
        (dir / "__main__.py").write_text(program, encoding="utf-8")
        for rel, text in (files or {}).items():
            path = dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return cls(dir, env, timeout=timeout)

    # The command runner.

    def run(
        self, *args: str, check: bool = True, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs `pulumi ARGS --non-interactive --color=never` in the project directory.

        With check, a non-zero exit raises PulumiCommandError carrying the output.
        Past the timeout the whole process group (CLI, language host, providers)
        is killed and PulumiCommandError raised whatever check says.
        """
        split = args.index("--") if "--" in args else len(args)  # flags go before a `--`
        command = [self.pulumi, *args[:split], "--non-interactive", "--color=never", *args[split:]]
        limit = timeout if timeout is not None else self.timeout
        proc = subprocess.Popen(
            command,
            cwd=self.dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            result = subprocess.CompletedProcess(command, -signal.SIGKILL, stdout, stderr)
            raise PulumiCommandError(
                f"`pulumi {' '.join(args)}` passed {limit:.0f}s\n{_tail(stdout, stderr)}", result
            ) from None
        result = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
        if check and proc.returncode != 0:
            raise PulumiCommandError(
                f"`pulumi {' '.join(args)}` exited with code {proc.returncode}\n"
                f"{_tail(stdout, stderr)}",
                result,
            )
        return result

    def _stack_args(self) -> list[str]:
        return ["--stack", self.stack] if self.stack else []

    # Stacks and configuration.

    def stack_init(self, name: str = "dev") -> subprocess.CompletedProcess[str]:
        result = self.run("stack", "init", name)
        self.stack = name
        return result

    def config_set(
        self, key: str, value: str, secret: bool = False
    ) -> subprocess.CompletedProcess[str]:
        flags = ["--secret"] if secret else ["--plaintext"]
        return self.run("config", "set", *self._stack_args(), *flags, "--", key, value)

    # Operations. Extra arguments go to the CLI as they are.

    def preview(
        self, *extra: str, expect_no_changes: bool = False, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        flags = ["--expect-no-changes"] if expect_no_changes else []
        return self.run("preview", *self._stack_args(), *flags, *extra, check=check)

    def up(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *self._stack_args(), *extra, check=check)

    def refresh(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("refresh", "--yes", *self._stack_args(), *extra, check=check)

    def destroy(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "--yes", *self._stack_args(), *extra, check=check)

    # State.

    def outputs(self) -> dict[str, Any]:
        """The stack outputs, secrets in plain text."""
        result = self.run("stack", "output", *self._stack_args(), "--json", "--show-secrets")
        return _json_object(result.stdout)

    def export(self) -> dict[str, Any]:
        """The stack's deployment (`pulumi stack export`), secrets in plain text."""
        result = self.run("stack", "export", *self._stack_args(), "--show-secrets")
        return _json_object(result.stdout)

    def resources(self, type_token: str | None = None) -> list[dict[str, Any]]:
        """The resources in state, optionally only those of one type."""
        resources: list[dict[str, Any]] = self.export().get("deployment", {}).get("resources") or []
        return [r for r in resources if type_token is None or r.get("type") == type_token]


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _tail(stdout: str, stderr: str, lines: int = 60) -> str:
    out = "\n".join(stdout.rstrip().splitlines()[-lines:])
    err = "\n".join(stderr.rstrip().splitlines()[-lines:])
    return f"--- stdout (tail) ---\n{out}\n--- stderr (tail) ---\n{err}"
