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
n=${1:-1000} m=${2:-10} runs=${3:-5}
cargo build --release -q -p vigild
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/lib/bench-table.sh "$n" "$m" "$work/bench.rules" "$work/bench.conf"
sed "s/^RUNS=.*/RUNS=$runs/" tests/kernel-lab/bench/reload.sh >"$work/reload.sh"
LAB_MEM=${LAB_MEM:-2048} tests/kernel-lab/lab.sh -b "$target/release/vigild" -b tests/kernel-lab/daemon/lib/common.sh \
  -b "$work/bench.rules" -b "$work/bench.conf" "$work/reload.sh" | grep -E "^(BENCH|table:|FAIL|PASS)"
