"""Fixtures for the end-to-end tests: a Pulumi CLI and a hermetic environment for it.

A missing CLI is an error, never a skip: `engine_bin_dir()` builds it when
needed and raises with the build's messages when it cannot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import PulumiProject, engine_bin_dir, hermetic_env


@pytest.fixture(scope="session")
def engine_dir() -> Path:
    return engine_bin_dir()


@pytest.fixture
def pulumi_env(tmp_path: Path, engine_dir: Path) -> dict[str, str]:
    return hermetic_env(tmp_path, bin_dir=engine_dir)


@pytest.fixture
def make_project(tmp_path: Path, pulumi_env: dict[str, str]):
    """Writes a Python project (Pulumi.yaml + __main__.py) and returns its PulumiProject."""

    def make(name: str, program: str, **files: str) -> PulumiProject:
        return PulumiProject.write(
            tmp_path / name, pulumi_env, name=name, program=program, files=files
        )

    return make
