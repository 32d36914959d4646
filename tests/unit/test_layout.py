"""The layout shows the architecture: `core/` (what every door shares) and `api/` (the
HTTP client below it) import neither Pulumi nor a door; the doors stand above them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pulumi_opensearch_fn"
# The doors: the Python door's modules at the top level, the plugin, the command line.
DOORS = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
DOORS |= {"plugin", "cli", "emulator"}
LOWER = ("core", "api")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, as absolute dotted names (relative ones resolved)."""
    package = ["pulumi_opensearch_fn", *path.relative_to(PACKAGE).parent.parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("layer", LOWER)
def test_the_lower_layers_import_neither_pulumi_nor_a_door(layer: str) -> None:
    wrong = {}
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        bad = sorted(
            name
            for name in imported(path)
            if name == "pulumi"
            or name.startswith("pulumi.")
            or any(name.startswith(f"pulumi_opensearch_fn.{door}") for door in DOORS)
        )
        if bad:
            wrong[str(path.relative_to(PACKAGE))] = bad
    assert wrong == {}


def test_the_core_loads_without_pulumi() -> None:
    """Imported for real, every core and api module leaves `pulumi` unloaded."""
    modules = [
        f"pulumi_opensearch_fn.{layer}.{path.stem}"
        for layer in LOWER
        for path in sorted((PACKAGE / layer).glob("*.py"))
        if path.stem != "__init__"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"


def test_the_top_level_holds_only_doors_and_the_public_surface() -> None:
    """The pulumi-free core moved out: what is left at the top imports pulumi or serves
    one door (the Python door's helpers)."""
    assert not DOORS & {"identity", "expectations", "verdict", "outputs", "request"}
