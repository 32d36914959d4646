#!/usr/bin/env bash
# build-yaml.sh VERSION DEST: builds the official YAML language host, pulumi-language-yaml
# VERSION, into DEST/bin, beside a Pulumi CLI. Called by scripts/pulumi-engine, which holds
# the lock and the time limit, sends this script's output to a log file and shows the
# `phase:` lines as progress.
#
# It is its own Go module (github.com/pulumi/pulumi-yaml) and builds with the pulumi
# pkg/sdk modules it pins (v1.25.0 does not compile against newer ones); the CLI loads
# it as a plugin, so the two need not share them.
set -euo pipefail
version=$1
dest=$2
phase() { printf 'phase: %s\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest/bin"
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$work/bin"
module=github.com/pulumi/pulumi-yaml
phase "compiling pulumi-language-yaml v$version (with the modules it pins)"
# -v names each package as it is compiled (cached ones are skipped): the progress count.
(cd "$work" && go install -v -trimpath \
  -ldflags "-s -w -X $module/pkg/version.Version=v$version" \
  "$module/cmd/pulumi-language-yaml@v$version")
# Replaced by rename: a running host keeps its copy, and no one sees half a binary.
install -m 0755 "$work/bin/pulumi-language-yaml" "$dest/bin/pulumi-language-yaml.new.$$"
mv -f "$dest/bin/pulumi-language-yaml.new.$$" "$dest/bin/pulumi-language-yaml"
echo "$version" >"$dest/language-yaml"
echo "installed $dest/bin/pulumi-language-yaml ($version)"
