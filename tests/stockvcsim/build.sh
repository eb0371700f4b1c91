#!/bin/sh
# Build govmomi's stock vCenter simulator (tests/stockvcsim) and the govmomi client view
# (tests/stockvcsim/govview) into OUTDIR (default tests/stockvcsim/.build/).
# Needs Debian's golang-go and golang-github-vmware-govmomi-dev (govmomi 0.24.2, GOPATH mode):
#   apt-get install -y golang-go golang-github-vmware-govmomi-dev
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-"$here/.build"}
gopath=${DVMIRROR_GOPATH:-/usr/share/gocode}
if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: Go is not installed (apt-get install -y golang-go golang-github-vmware-govmomi-dev)" >&2
    exit 3
fi
if [ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]; then
    echo "build.sh: govmomi is not in $gopath (apt-get install -y golang-github-vmware-govmomi-dev)" >&2
    exit 3
fi
mkdir -p "$out"
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then
    export GOCACHE="$here/.build/gocache"   # no home directory (CI containers): keep Go's cache here
fi
cd "$root"
GOPATH="$gopath" GO111MODULE=off GOFLAGS= go build -o "$out/stockvcsim" ./tests/stockvcsim
GOPATH="$gopath" GO111MODULE=off GOFLAGS= go build -o "$out/govview" ./tests/stockvcsim/govview
echo "$out"
