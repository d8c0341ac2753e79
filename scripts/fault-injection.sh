#!/usr/bin/env bash
# Fault-injection run, in the kernel lab (Debian's kernel under qemu: this machine's own kernel
# may have no IPVS).  Two directors on one segment, lb1 running vigild (priority 150) and lb2
# running keepalived (priority 100), balance a VIP over two LVS-DR real servers while a client
# fetches through the VIP; for SECONDS, faults come one at a time, 8-20 s apart, drawn from a
# seeded RNG: kill -9 and SIGTERM of either daemon with a restart 2-6 s later, a director's
# link cut and restored, the VIP deleted on the MASTER behind its daemon's back, `ipvsadm -C` on
# vigild's director (only there: keepalived does not repair a flushed table).
# Prints each fault as it happens, then the report: requests sent and failed, failed outside a
# failover window, the longest outage and the fault before it, per kind of fault the longest
# window and outage, the samples (every 20 ms) with two MASTERs or none after the first
# convergence, and whether the goals hold: no request fails outside a failover window, no
# failover window longer than Master_Down_Interval + 50 ms.  A benchmark: it prints figures and
# fails only when the lab itself does (guest scripts in tests/kernel-lab/fault/inject.sh).
#
# usage: scripts/fault-injection.sh [SECONDS]     (default 600)
#   SEED=N        replays a run's schedule of faults (the run prints its seed)
#   FAULT_DUMP=1  also prints the guest's raw files (events, samples, requests, both daemons'
#                 logs) as lines starting with "RAW FILE", to look into a run afterwards
# Needs: keepalived, and what tests/kernel-lab/lab.sh needs (qemu-system-x86, busybox-static,
# ipvsadm, iproute2, cpio, binutils); builds vigild, vigilctl and the fault_client example
# (debug, under CARGO_TARGET_DIR if set).  The run takes SECONDS plus about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
[[ $secs =~ ^[0-9]+$ ]] && ((secs >= 40)) || { echo "usage: $0 [SECONDS]   (40 or more)" >&2; exit 2; }
seed=${SEED:-$((RANDOM * 32768 + RANDOM))}
[[ $seed =~ ^[0-9]+$ ]] || { echo "SEED must be a number" >&2; exit 2; }
keepalived=$(command -v keepalived || true)
[[ -n $keepalived ]] || { echo "fault-injection.sh: needs keepalived (the peer director)" >&2; exit 2; }
cargo build -q -p vigild -p vigilctl
cargo build -q -p vigild --examples
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s/^DURATION=.*/DURATION=$secs/" -e "s/^SEED=.*/SEED=$seed/" -e "s/^DUMP=.*/DUMP=${FAULT_DUMP:-0}/" tests/kernel-lab/fault/inject.sh >"$work/inject.sh"
echo "fault injection: $secs s, seed $seed (SEED=$seed replays the schedule), $(keepalived --version 2>&1 | head -n 1)"
LAB_TIMEOUT=$((secs + 600)) tests/kernel-lab/lab.sh -b "$target/debug/vigild" -b "$target/debug/vigilctl" \
  -b "$target/debug/examples/fault_client" -b "$keepalived" -b tests/kernel-lab/daemon/lib/common.sh \
  "$work/inject.sh" | grep -vE '^(LAB-|PASS |Killed|Terminated|\[ )'
