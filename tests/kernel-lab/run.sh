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
# The test that compares vigild's UDP_CHECK with keepalived's on the wire takes both programs
# and tcpdump into the guest; without them it is left out (and CI, which installs them, fails).
peers=()
if command -v keepalived >/dev/null && command -v tcpdump >/dev/null; then
  peers=(-b "$(command -v keepalived)" -b "$(command -v tcpdump)")
else
  [[ ${CI:-} == true ]] && { echo "run.sh: keepalived and tcpdump must be installed in CI" >&2; exit 1; }
  kept=()
  for s in "${scripts[@]}"; do
    if [[ $(basename "$s") == udp-payload.sh ]]; then
      echo "kernel lab: udp-payload.sh skipped (needs keepalived and tcpdump)" >&2
    else
      kept+=("$s")
    fi
  done
  scripts=("${kept[@]}")
fi
exec "$here/lab.sh" -b "$target/debug/vigild" -b "$target/debug/vigilctl" \
  -b "$target/debug/examples/ipvs-apply" -b "$here/daemon/lib/common.sh" "${peers[@]}" "${scripts[@]}"
