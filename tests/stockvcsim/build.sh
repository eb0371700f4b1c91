#!/bin/sh
# Build govmomi's stock vCenter simulator (tests/stockvcsim) and the govmomi client view
# (tests/stockvcsim/govview) into OUTDIR (default tests/stockvcsim/.build/), with the same
# checks and Go settings as the vcsim test server (tests/vcsim/build.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/.build"}
sh "$here/../vcsim/build.sh" "$out/stockvcsim" ./tests/stockvcsim >/dev/null
sh "$here/../vcsim/build.sh" "$out/govview" ./tests/stockvcsim/govview >/dev/null
echo "$out"
