#!/bin/sh
# Build the dvmirror vcsim test server into tests/vcsim/.build/vcsim-dvmirror, or with
# `build.sh OUT PACKAGE` any Go main of this repository (tests/stockvcsim/build.sh uses that).
# Needs Debian's golang-go and golang-github-vmware-govmomi-dev (govmomi 0.24.2, GOPATH mode):
#   apt-get install -y golang-go golang-github-vmware-govmomi-dev
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$here/.build/vcsim-dvmirror"}
package=${2:-./tests/vcsim}
gopath=${DVMIRROR_GOPATH:-/usr/share/gocode}
if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: Go is not installed (apt-get install -y golang-go golang-github-vmware-govmomi-dev)" >&2
    exit 3
fi
if [ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]; then
    echo "build.sh: govmomi is not in $gopath (apt-get install -y golang-github-vmware-govmomi-dev)" >&2
    exit 3
fi
mkdir -p "$(dirname "$out")"
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then
    export GOCACHE="$here/.build/gocache"   # no home directory (CI containers): keep Go's cache here
fi
cd "$root"
GOPATH="$gopath" GO111MODULE=off GOFLAGS= go build -o "$out" "$package"
echo "$out"
