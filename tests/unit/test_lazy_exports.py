"""The lazily loaded packages name each public name three times, and the three agree.

`__all__` and the `TYPE_CHECKING` imports are what type checkers read (both must be
written out: neither can be computed); `_EXPORTS` is what `lazy.lazy_names` loads
from at run time. A name missing from one of them would type-check and fail when
used, or work and not type-check, or be left out of `from ... import *`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from types import ModuleType

import pytest

PACKAGES = ["pulumi_opensearch_fn", "pulumi_opensearch_fn.api"]


def type_checking_imports(module: ModuleType) -> dict[str, str]:
    """Name -> relative module, from the `if TYPE_CHECKING:` block of `module`'s source."""
    tree = ast.parse(inspect.getsource(module))
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    names: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        for alias in node.names:
            assert alias.asname is None, ast.unparse(node)
            assert alias.name not in names, f"{alias.name} imported twice"
            names[alias.name] = "." * node.level + (node.module or "")
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_all_exports_and_type_checking_imports_agree(package: str) -> None:
    module = importlib.import_module(package)
    exports: dict[str, str] = module._EXPORTS
    declared = type_checking_imports(module)
    assert len(module.__all__) == len(set(module.__all__)), "a name twice in __all__"
    assert set(module.__all__) == set(exports), "__all__ and _EXPORTS differ"
    assert declared == exports, "the TYPE_CHECKING imports and _EXPORTS differ"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_loads_from_its_module(package: str) -> None:
    """In a fresh interpreter: each name resolves, to the object its module defines,
    and `dir()` and `import *` see every one."""
    script = f"""
import importlib
package = importlib.import_module({package!r})
for name, where in package._EXPORTS.items():
    source = importlib.import_module(where, {package!r})
    assert getattr(package, name) is getattr(source, name), name
    assert name in dir(package), name
star = {{}}
exec("from {package} import *", star)
assert set(package.__all__) <= set(star), set(package.__all__) - set(star)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match="has no attribute 'NotAName'"):
        _ = module.NotAName
