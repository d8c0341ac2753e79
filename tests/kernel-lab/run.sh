#!/usr/bin/env bash
# Builds the binaries the guest tests use and runs every guest script in one boot of the
# kernel lab: the IPVS client's round trips (guest/) and the daemon's end-to-end tests
# (daemon/: NAT, DR, TUN, persistence, every service kind, restart, reload, the sync daemon,
# drift repair, health checkers, UDP_CHECK's payload against keepalived's) and the scale-out
# data plane (scaleout/: flows through ECMP'd directors, one of which dies).  Prints PASS/FAIL
# per script and exits non-zero if any failed.
# usage: run.sh [GUEST_SCRIPT...]   (default: tests/kernel-lab/guest/*.sh daemon/*.sh scaleout/*.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build -q -p vigild -p vigilctl && cargo build -q -p vigil-ipvs --examples)
scripts=("$@")
((${#scripts[@]})) || scripts=("$here"/guest/*.sh "$here"/daemon/*.sh "$here"/scaleout/*.sh)
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
# The scale-out data-plane test (scaleout/ecmp-flows.sh) takes BIRD and its flow helper
# (flowpump, built with plain rustc) into the guest; without BIRD it is left out (and CI,
# which installs bird2, fails).
scaleout=()
for s in "${scripts[@]}"; do
  if [[ $(basename "$s") == ecmp-flows.sh ]]; then scaleout=(-b "$target/kernel-lab/flowpump"); fi
done
if ((${#scaleout[@]})); then
  if command -v bird >/dev/null && command -v rustc >/dev/null; then
    mkdir -p "$target/kernel-lab"
    rustc -O --edition 2021 -o "$target/kernel-lab/flowpump" "$here/scaleout/flowpump.rs"
    scaleout+=(-b "$(command -v bird)")
    if command -v birdc >/dev/null; then scaleout+=(-b "$(command -v birdc)"); fi
    # It adds 1-2 minutes to the boot; lab.sh's own limit is 600 s.
    export LAB_TIMEOUT=${LAB_TIMEOUT:-900}
  else
    [[ ${CI:-} == true ]] && { echo "run.sh: bird2 and rustc must be installed in CI" >&2; exit 1; }
    echo "kernel lab: ecmp-flows.sh skipped (needs bird2 and rustc)" >&2
    kept=()
    for s in "${scripts[@]}"; do
      if [[ $(basename "$s") != ecmp-flows.sh ]]; then kept+=("$s"); fi
    done
    scripts=("${kept[@]}") scaleout=()
  fi
fi
exec "$here/lab.sh" -b "$target/debug/vigild" -b "$target/debug/vigilctl" \
  -b "$target/debug/examples/ipvs-apply" -b "$here/daemon/lib/common.sh" "${peers[@]}" "${scaleout[@]}" "${scripts[@]}"
