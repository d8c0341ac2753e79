#!/usr/bin/env bash
# Scale-out data-plane bench, run from the host (unlike the guest scripts beside it): boots the
# kernel lab (tests/kernel-lab/lab.sh) with tests/kernel-lab/scaleout/ecmp-flows.sh, three
# active/active directors (vigild --announce-config + BIRD) behind a BIRD router's ECMP route,
# real servers in LVS-DR; one director dies (vigild SIGKILLed, its link cut) in the middle of
# FLOWS long-lived TCP flows.  Prints, per scenario and run, how many flows completed intact
# with mh + mh-port + sloppy_tcp and with wlc (no sloppy_tcp), the BFD timers, and how long
# the router took to drop the dead director's nexthop.  See tests/kernel-lab/scaleout/README.md.
#
# usage: tests/kernel-lab/bench/scaleout-flows.sh [RUNS]        (as root; RUNS default 1)
# Environment (passed to the guest): SCENARIOS ("mh wlc drain"), FLOWS (100), BYTES (262144 per
# flow), MS (16000: each flow paced over that many ms), KILL_AFTER (4 s after every flow has
# data), BFD_MS (300), BFD_MULT (5), NEED (99: the mh scenario's pass mark).
# VIGILD, VIGILCTL: the binaries (default: built with cargo build --release); BIRD, BIRDC
# (default: from PATH; Debian's bird2).  LAB_TIMEOUT, LAB_QEMU_ARGS as for lab.sh.
# Needs what lab.sh needs, bird2 and rustc.  Timings are printed, never judged.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ "$(id -u)" = 0 ] || { echo "scaleout-flows: run as root (the kernel lab needs it)" >&2; exit 2; }
RUNS=${1:-1}
BIRD=${BIRD:-$(command -v bird || true)} BIRDC=${BIRDC:-$(command -v birdc || true)}
[ -x "$BIRD" ] || { echo "scaleout-flows: no bird (apt-get install bird2)" >&2; exit 2; }

if [ -z "${VIGILD:-}" ] || [ -z "${VIGILCTL:-}" ]; then
  cargo build --release -q -p vigild -p vigilctl
  t=${CARGO_TARGET_DIR:-target}/release
  VIGILD=${VIGILD:-$t/vigild} VIGILCTL=${VIGILCTL:-$t/vigilctl}
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rustc -O --edition 2021 -o "$work/flowpump" tests/kernel-lab/scaleout/flowpump.rs
# The lab names a binary by its file name.
cp "$VIGILD" "$work/vigild"
cp "$VIGILCTL" "$work/vigilctl"
: >"$work/scaleout.env"
for v in SCENARIOS FLOWS BYTES MS KILL_AFTER BFD_MS BFD_MULT NEED; do
  [ -n "${!v:-}" ] && printf '%s="%s"\n' "$v" "${!v}" >>"$work/scaleout.env"
done
echo "RUNS=$RUNS" >>"$work/scaleout.env"

bins=(-b "$work/vigild" -b "$work/vigilctl" -b "$BIRD" -b "$work/flowpump" -b "$work/scaleout.env"
  -b tests/kernel-lab/daemon/lib/common.sh)
[ -x "$BIRDC" ] && bins+=(-b "$BIRDC")
t0=$(date +%s)
rc=0
LAB_TIMEOUT=${LAB_TIMEOUT:-$((RUNS * 600 + 120))} \
  tests/kernel-lab/lab.sh "${bins[@]}" tests/kernel-lab/scaleout/ecmp-flows.sh >"$work/out" || rc=$?
grep -E "^(BFD:|===|setup:|d1 killed and cut|the router's BIRD took|done |served |failed flows|ESTABLISHED|the router's route|scenario .*lab time|RESULT|FAIL|PASS|SKIP)|^ +[0-9]+ read|lab:" "$work/out" || true
echo "wall time of the boot: $(($(date +%s) - t0)) s (host)"

echo
echo "summary (${RUNS} run(s)):"
awk '
/^BFD:/ { bfd = $0 }
/^RESULT / {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
  key = r["sched"] " sloppy_tcp=" r["sloppy_tcp"]
  if (!(key in ok)) order[++n] = key
  ok[key] = ok[key] (ok[key] == "" ? "" : ", ") r["flows_ok"] "/" r["of"]
  gone[key] = gone[key] (gone[key] == "" ? "" : ", ") r["nexthop_gone_ms"] " (" r["session_down_ms"] ")"
  moved[key] = moved[key] (moved[key] == "" ? "" : ", ") r["on_d1"] "->" r["taken_over"]
  flaps[key] = flaps[key] (flaps[key] == "" ? "" : ", ") r["flaps_before_kill"]
}
END {
  print "  " bfd
  for (i = 1; i <= n; i++) {
    k = order[i]
    printf "  %-22s flows completed intact: %s\n", k, ok[k]
    printf "  %-22s router dropped the dead nexthop after, ms (its BIRD, ms): %s\n", "", gone[k]
    printf "  %-22s flows on d1 at the kill -> taken over by d2/d3: %s\n", "", moved[k]
    printf "  %-22s changes of the router'"'"'s route between the flows'"'"' start and the kill: %s\n", "", flaps[k]
  }
}' "$work/out"
exit "$rc"
