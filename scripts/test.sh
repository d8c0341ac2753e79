#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests, then the conformance run
# against the real keepalived and the VRRP failover scenarios with keepalived as the peer
# (these need root for network namespaces, and keepalived installed), then the kernel lab:
# IPVS, the reconciler and the health checkers in Debian's kernel under qemu, checked with the
# real ipvsadm (needs qemu-system-x86, busybox-static, ipvsadm, cpio; the test that compares
# UDP_CHECK on the wire with keepalived's also needs keepalived and tcpdump).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --locked
cargo test --workspace --locked
if [[ $(id -u) -eq 0 ]] && command -v keepalived >/dev/null; then
  bash tests/conformance/run.sh
  # VRRP in network namespaces: vigild against keepalived both ways, then vigild against itself.
  for pair in "A=vigild B=keepalived" "A=keepalived B=vigild" "A=vigild B=vigild"; do
    # shellcheck disable=SC2086 # the pair is two words on purpose
    bash tests/vrrp/run.sh $pair
  done
else
  echo "conformance: skipped (needs root and keepalived; see README)" >&2
  [[ ${CI:-} == true ]] && { echo "conformance must run in CI" >&2; exit 1; }
fi
if [[ $(id -u) -eq 0 ]] && command -v qemu-system-x86_64 >/dev/null && command -v ipvsadm >/dev/null; then
  bash tests/kernel-lab/run.sh
else
  echo "kernel lab: skipped (needs root, qemu-system-x86, busybox-static, ipvsadm, cpio; see README)" >&2
  [[ ${CI:-} == true ]] && { echo "the kernel lab must run in CI" >&2; exit 1; }
fi
