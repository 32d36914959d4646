"""The generated SDKs compile: the TypeScript SDK with `tsc` against @pulumi/pulumi from
npm, and loads in Node; the Go SDK builds and passes `go vet` against
github.com/pulumi/pulumi/sdk/v3. README's TypeScript and Go gates compile against them,
so the names the README shows are the SDKs' real ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .toolchain import (
    GO_PROGRAM,
    SDK,
    TEST_TIMEOUT,
    go_env,
    go_sdk_module,
    npm_modules,
    readme_block,
    require,
    run,
)

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)

# What a program compiles with: the SDK's own settings, without output.
PROGRAM_TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "ES2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "types": ["node"],
        "skipLibCheck": True,
        "noEmit": True,
    },
    "files": ["index.ts"],
}


class TypeScriptBuild:
    """The TypeScript SDK built as a user builds it (`tsc`, then package.json beside the
    output), and a program directory whose node_modules has it and the pinned packages."""

    def __init__(self, root: Path) -> None:
        self.node = require("node")
        self.modules = npm_modules()
        self.tsc = self.modules / "typescript" / "bin" / "tsc"
        self.name = json.loads((SDK / "nodejs" / "package.json").read_text())["name"]
        source, self.package = root / "sdk", root / "package"
        shutil.copytree(SDK / "nodejs", source)
        (root / "node_modules").symlink_to(self.modules, target_is_directory=True)
        run([self.node, self.tsc, "-p", source / "tsconfig.json", "--outDir", self.package], root)
        shutil.copyfile(source / "package.json", self.package / "package.json")
        self.program = root / "program"
        self._install(self.program / "node_modules")

    def _install(self, node_modules: Path) -> None:
        node_modules.mkdir(parents=True)
        for entry in self.modules.iterdir():
            (node_modules / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        destination = node_modules / self.name
        scope = destination.parent
        if scope != node_modules and scope.is_symlink():  # a scope the pins also use
            pinned = scope.resolve()
            scope.unlink()
            scope.mkdir()
            for entry in pinned.iterdir():
                (scope / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        scope.mkdir(exist_ok=True)
        shutil.copytree(self.package, destination)


@pytest.fixture(scope="module")
def typescript(tmp_path_factory) -> TypeScriptBuild:
    return TypeScriptBuild(tmp_path_factory.mktemp("typescript"))


def test_typescript_sdk_compiles_with_tsc(typescript):
    built = {p.relative_to(typescript.package).as_posix() for p in typescript.package.rglob("*")}
    sources = [
        p.relative_to(SDK / "nodejs").with_suffix("").as_posix()
        for p in (SDK / "nodejs").rglob("*.ts")
    ]
    assert sources
    for source in sources:
        assert {f"{source}.js", f"{source}.d.ts"} <= built, source


def test_typescript_sdk_loads_in_node(typescript):
    script = "console.log(JSON.stringify(Object.keys(require(process.argv[1]))))"
    exported = json.loads(run([typescript.node, "-e", script, typescript.name], typescript.program))
    assert {
        "FunctionInstance", "FunctionTask", "Provider", "getFunctionInstance",
        "getFunctionTask", "getLatestFunctionTask", "getFunctionTasks", "config", "types",
    } <= set(exported)  # fmt: skip


def test_readme_typescript_gate_compiles_against_the_sdk(typescript):
    (typescript.program / "index.ts").write_text(readme_block("typescript"))
    (typescript.program / "tsconfig.json").write_text(json.dumps(PROGRAM_TSCONFIG))
    run([typescript.node, typescript.tsc, "-p", "tsconfig.json"], typescript.program)


def test_go_sdk_builds_and_passes_go_vet(tmp_path):
    go = require("go")
    packages = f"{go_sdk_module()}/..."
    # From tests/sdk/go-program, a module whose go.mod replaces the SDK's with sdk/go and
    # pins github.com/pulumi/pulumi/sdk/v3; its go.sum must cover what the SDK needs.
    env = go_env("-mod=readonly", "-buildvcs=false")
    run([go, "build", packages], GO_PROGRAM, env=env, timeout=TEST_TIMEOUT - 60)
    run([go, "vet", packages], GO_PROGRAM, env=env, timeout=TEST_TIMEOUT - 60)


def test_readme_go_gate_builds_against_the_sdk(tmp_path):
    go = require("go")
    main = GO_PROGRAM / "main.go"
    assert main.read_text() == readme_block("go"), (
        "tests/sdk/go-program/main.go must be README's Go gate: copy it there"
    )
    assert run([shutil.which("gofmt") or "gofmt", "-l", main], GO_PROGRAM) == ""
    env = go_env("-mod=readonly", "-buildvcs=false")
    run([go, "build", "-o", tmp_path / "gate", "."], GO_PROGRAM, env=env, timeout=TEST_TIMEOUT - 60)
    run([go, "vet", "."], GO_PROGRAM, env=env, timeout=TEST_TIMEOUT - 60)
