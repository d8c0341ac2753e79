#!/usr/bin/env bash
# IPVS apply benchmark, in the kernel lab (Debian's kernel under qemu: this machine's own kernel
# may have no IPVS).  Applies N virtual services x M real servers into an empty table with
# `ipvsadm -R` (the core of ipvsadm-restore) and with vigild, then lets vigild re-apply the
# unchanged table (it must write nothing).  Prints medians side by side.
#
# usage: sudo scripts/bench-ipvs.sh [SERVICES [DESTS [RUNS]]]   (default 1000 10 5)
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/lib/lab-bench.sh tests/kernel-lab/bench/ipvs-apply.sh "$@"
