#!/usr/bin/env bash
# Builds the binaries the guest tests use and runs every guest script in one boot of the
# kernel lab: the IPVS client's round trips (guest/) and the daemon's end-to-end tests
# (daemon/: NAT, DR, TUN, persistence, every service kind, restart, reload, the sync daemon,
# drift repair, health checkers, UDP_CHECK's payload against keepalived's).  Prints PASS/FAIL
# per script and exits non-zero if any failed.
# usage: run.sh [GUEST_SCRIPT...]   (default: tests/kernel-lab/guest/*.sh daemon/*.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q -p vigild -p vigilctl && cargo build -q -p vigil-ipvs --examples)
scripts=("$@")
((${#scripts[@]})) || scripts=("$here"/guest/*.sh "$here"/daemon/*.sh)
# keepalived and tcpdump, where installed, for the tests that compare vigild with keepalived on
# the wire (they fail without them).
peers=()
for tool in keepalived tcpdump; do
  if command -v "$tool" >/dev/null; then peers+=(-b "$(command -v "$tool")"); fi
done
exec "$here/lab.sh" -b "$target/debug/vigild" -b "$target/debug/vigilctl" \
  -b "$target/debug/examples/ipvs-apply" -b "$here/daemon/lib/common.sh" "${peers[@]}" "${scripts[@]}"
