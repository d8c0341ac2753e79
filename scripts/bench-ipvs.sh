#!/usr/bin/env bash
# IPVS apply benchmark, in the kernel lab (Debian's kernel under qemu: this machine's own kernel
# may have no IPVS).  Applies N virtual services x M real servers into an empty table with
# `ipvsadm -R` (the core of ipvsadm-restore) and with vigild, then lets vigild re-apply the
# unchanged table (it must write nothing).  Prints medians side by side.
#
# usage: sudo scripts/bench-ipvs.sh [SERVICES [DESTS [RUNS]]]   (default 1000 10 5)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000} m=${2:-10} runs=${3:-5}
cargo build --release -q -p vigild
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/lib/bench-table.sh "$n" "$m" "$work/bench.rules" "$work/bench.conf"
sed "s/^RUNS=.*/RUNS=$runs/" tests/kernel-lab/bench/ipvs-apply.sh >"$work/ipvs-apply.sh"
LAB_MEM=${LAB_MEM:-2048} tests/kernel-lab/lab.sh -b "$target/release/vigild" -b tests/kernel-lab/daemon/lib/common.sh \
  -b "$work/bench.rules" -b "$work/bench.conf" "$work/ipvs-apply.sh" | grep -E "^(BENCH|table:|FAIL|PASS)"
