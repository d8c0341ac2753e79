#!/usr/bin/env bash
# Builds the binaries the guest tests use and runs every guest script in one boot of the
# kernel lab; prints PASS/FAIL per script and exits non-zero if any failed.
# usage: run.sh [GUEST_SCRIPT...]   (default: tests/kernel-lab/guest/*.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q -p vigilctl && cargo build -q -p vigil-ipvs --examples)
scripts=("$@")
((${#scripts[@]})) || scripts=("$here"/guest/*.sh)
exec "$here/lab.sh" -b "$target/debug/vigilctl" -b "$target/debug/examples/ipvs-apply" "${scripts[@]}"
