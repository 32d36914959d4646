#!/usr/bin/env bash
# build.sh VERSION DEST: builds the Pulumi CLI VERSION from its Go modules into DEST/bin.
# Called by scripts/pulumi-engine, which holds the lock and the time limit, sends this
# script's output to a log file and shows the `phase:` lines as progress.
set -euo pipefail
version=$1
dest=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
phase() { printf 'phase: %s\n' "$*"; }
log() { printf 'engine build: %s\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$dest"
mkdir -p "$dest/bin"
cd "$work"

# -mod=mod: the wrapper module's go.sum is written as modules resolve. The module and
# build caches (GOMODCACHE, GOCACHE) are Go's own, shared with every later build: a
# rebuild of the same or a nearby release compiles only what changed.
export GOFLAGS=-mod=mod CGO_ENABLED=0
go mod init opensearch-fn.local/pulumi-engine

phase "resolving github.com/pulumi/pulumi/pkg/v3@v$version"
pkg_info=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version")
pkg_mod=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])' <<<"$pkg_info")
pkg_hash=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("Origin",{}).get("Hash",""))' <<<"$pkg_info")

# pkg/v3 must be built against sdk/v3 at exactly the same version, with the
# non-local replace directives of pkg/go.mod repeated here (Go ignores a
# dependency's replaces).
python3 - "$pkg_mod" <<'PY' | while read -r line; do go mod edit -replace "$line"; done
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^replace\s*\((.*?)^\)", text, re.S | re.M)
lines = [l for b in blocks for l in b.splitlines()] + re.findall(r"^replace\s+([^(].*)$", text, re.M)
for line in lines:
    line = line.split("//")[0].strip()
    if "=>" not in line:
        continue
    old, new = (part.strip() for part in line.split("=>"))
    if new.startswith((".", "/")):
        continue  # local paths only make sense inside the pulumi repository
    old_path = old.split()[0]
    new_path, new_version = new.split()
    print(f"{old_path}={new_path}@{new_version}")
PY
go mod edit -require "github.com/pulumi/pulumi/pkg/v3@v$version" -require "github.com/pulumi/pulumi/sdk/v3@v$version"
phase "downloading modules"
# `go get` fetches the module graph; `go mod download` then fetches every module zip
# the build needs in parallel, rather than one by one as the compiler reaches them.
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version"
go mod download
pkg_v=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
sdk_v=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
[ "$pkg_v" = "v$version" ] && [ "$sdk_v" = "v$version" ] \
  || { log "pkg/v3 resolved to $pkg_v and sdk/v3 to $sdk_v, expected v$version for both"; exit 1; }

flags=(-trimpath -tags osusergo,grpcnotrace
       -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version")
packages=$(go list -deps -tags osusergo,grpcnotrace github.com/pulumi/pulumi/pkg/v3/cmd/pulumi | wc -l)
phase "compiling pulumi v$version (about $packages packages)"
# -v names each package as it is compiled (cached ones are skipped): the progress count.
go build -v "${flags[@]}" -o "$dest/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# The Python language host is its own, untagged module; take it at the commit
# behind the pkg/v3 tag. When the proxy refuses it, use the project's own host.
langhost=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
phase "installing the Python language host"
if [ -n "$pkg_hash" ] && go get "$langhost@$pkg_hash" 2>/dev/null; then
  log "compiling pulumi-language-python at $pkg_hash"
  go build "${flags[@]}" -o "$dest/bin/pulumi-language-python" "$langhost"
  echo official >"$dest/language-host"
else
  log "the Go module proxy refuses $langhost; installing the project's Python language host"
  install -m 0755 "$here/pulumi-language-python" "$dest/bin/pulumi-language-python"
  echo project >"$dest/language-host"
fi

sdk_dir=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$dest/bin/"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$dest/bin/"
"$dest/bin/pulumi" version
touch "$dest/.complete"
