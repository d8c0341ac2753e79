#!/usr/bin/env bash
# Reload benchmark, in the kernel lab (Debian's kernel under qemu: this machine's own kernel
# may have no IPVS).  vigild runs N virtual services x M real servers; one weight changes in
# the file and vigild reloads (SIGHUP): time from the signal to the change applied, and the
# netlink writes it took (goal: one).  Side by side: the one `ipvsadm -e` an admin types, and
# rebuilding the table with `ipvsadm -C; ipvsadm -R`.  Prints medians.
#
# usage: sudo scripts/bench-reload.sh [SERVICES [DESTS [RUNS]]]   (default 1000 10 5)
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/lib/lab-bench.sh tests/kernel-lab/bench/reload.sh "$@"
