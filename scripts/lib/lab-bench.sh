#!/usr/bin/env bash
# lab-bench.sh GUEST [SERVICES [DESTS [RUNS]]]: what scripts/bench-ipvs.sh and
# scripts/bench-reload.sh share.  Builds vigild (release), writes the benchmarks' table of
# SERVICES virtual services x DESTS real servers (NAT, wlc, weights 1..DESTS; default 1000 x
# 10) as an `ipvsadm -R` rules file and as a keepalived.conf, and runs the guest script GUEST
# (with RUNS, default 5) in the kernel lab; prints its BENCH lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
guest=$1 n=${2:-1000} m=${3:-10} runs=${4:-5}
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
script=$work/$(basename "$guest")
sed "s/^RUNS=.*/RUNS=$runs/" "$guest" >"$script"
LAB_MEM=${LAB_MEM:-2048} tests/kernel-lab/lab.sh -b "$target/release/vigild" -b tests/kernel-lab/daemon/lib/common.sh \
  -b "$work/bench.rules" -b "$work/bench.conf" "$script" | grep -E "^(BENCH|table:|FAIL|PASS)"
