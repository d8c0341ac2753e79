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
awk -v n="$n" -v m="$m" -v rules="$work/bench.rules" -v conf="$work/bench.conf" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.10.%d.%d", int(i / 250), i % 250 + 1)
    printf "-A -t %s:80 -s wlc\n", vip >rules
    printf "virtual_server %s 80 {\n    lvs_sched wlc\n    lvs_method NAT\n    protocol TCP\n", vip >conf
    for (j = 0; j < m; j++) {
      rs = sprintf("10.20.%d.%d", int(i / 25), (i % 25) * 10 + j + 1)
      printf "-a -t %s:80 -r %s:80 -m -w %d\n", vip, rs, j + 1 >rules
      printf "    real_server %s 80 {\n        weight %d\n    }\n", rs, j + 1 >conf
    }
    print "}" >conf
  }
}'
sed "s/^RUNS=.*/RUNS=$runs/" tests/kernel-lab/bench/ipvs-apply.sh >"$work/ipvs-apply.sh"
LAB_MEM=${LAB_MEM:-2048} tests/kernel-lab/lab.sh -b "$target/release/vigild" -b tests/kernel-lab/daemon/lib/common.sh \
  -b "$work/bench.rules" -b "$work/bench.conf" "$work/ipvs-apply.sh" | grep -E "^(BENCH|table:|FAIL|PASS)"
