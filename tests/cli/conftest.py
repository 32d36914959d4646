"""Fixtures: a real emulator on loopback, and the CLI run as a subprocess or in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_opensearch_fn.cli import main
from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer

APP, FN = "my_app", "ctr"
AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
# Every variable the CLI could take settings or credentials from.
_OURS = ("ALIBABA_CLOUD_", "ALICLOUD_", "OPENSEARCH_FN_")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
SUBPROCESS_TIMEOUT = 60


@dataclass
class Ran:
    code: int
    out: str
    err: str


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any setting of ours, with a throwaway HOME
    (no real credentials files), no proxies, and the demo access key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS) and k not in _PROXIES}
    env.update(
        HOME=str(home),
        NO_PROXY="127.0.0.1,localhost",
        ALIBABA_CLOUD_ACCESS_KEY_ID=AK,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    return emulator


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return clean_env(home)


def run_cli(
    *args: str,
    env: Mapping[str, str],
    input: str | None = None,
    timeout: float = SUBPROCESS_TIMEOUT,
) -> Ran:
    """The CLI as users run it: a separate process."""
    proc = subprocess.run(
        [sys.executable, "-m", "pulumi_opensearch_fn.cli", *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """The CLI in this process (faster): `cli(*argv)` -> Ran, with `env` as os.environ."""
    for key in list(os.environ):
        if key.startswith(_OURS) or key in _PROXIES:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*argv: str) -> Ran:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def add_instances(admin: EmulatorAdmin, count: int, app: str = "fleet") -> list[str]:
    """`count` available instances, each with two successful tasks; their names."""
    names = [f"model_{i:02d}" for i in range(count)]
    for name in names:
        admin.upsert_instance(app, FN, name, status="available", version_id=2)
        admin.add_tasks(app, FN, name, 2, metrics={"recall": 91})
    return names


class Proc:
    """The CLI running in the background, its output collected line by line."""

    def __init__(self, *args: str, env: Mapping[str, str]) -> None:
        import queue
        import threading

        self.popen = subprocess.Popen(
            [sys.executable, "-m", "pulumi_opensearch_fn.cli", *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(self.popen.stdout, self.out), daemon=True),
            threading.Thread(
                target=self._read, args=(self.popen.stderr, self.err, self._lines), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str], lines=None) -> None:
        for line in stream:
            into.append(line)
            if lines is not None:
                lines.put(line)

    def wait_for_stderr(self, needle: str, timeout: float = 20.0) -> str:
        """The first stderr line containing `needle`; fails after `timeout` seconds."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if needle in line:
                return line
        self.kill()
        raise AssertionError(f"no stderr line with {needle!r} in {timeout}s: {''.join(self.err)}")

    def first_stdout_line(self, timeout: float = 10.0) -> str:
        import time

        deadline = time.monotonic() + timeout
        while not self.out and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.out, f"nothing on stdout in {timeout}s"
        return self.out[0].strip()

    def wait(self, timeout: float = 30.0) -> Ran:
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for reader in self._readers:
            reader.join(timeout=5)
        return Ran(code, "".join(self.out), "".join(self.err))

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)
