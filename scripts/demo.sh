#!/usr/bin/env bash
# Demo lab: what Vigil does today, in private network namespaces that it removes on exit.
# 1. Two directors on a bridge run the sample MASTER/BACKUP configs (etc/): vigild on the MASTER,
#    keepalived (or a second vigild) on the BACKUP; the VIP follows the MASTER through a stop and
#    a return, with the transitions from both logs.
# 2. Config checking: the seed tutorial's MASTER/BACKUP pair hides three mistakes; keepalived's
#    verdict is shown beside Vigil's when keepalived is installed.
# 3. The whole job, in Debian's kernel under qemu (this machine's kernel may have no IPVS;
#    needs qemu-system-x86, busybox-static, ipvsadm, cpio): two directors on one segment run
#    vigild, VRRP puts the VIP on one, both program IPVS (LVS-DR) with health checks; a client
#    fetches through the VIP while a real server dies and returns, the MASTER dies and the
#    BACKUP takes over, and the MASTER returns.
# usage (as root): scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || {
  echo "demo.sh: must run as root: it creates network namespaces and runs vigild in them; you are $(id -un), uid $(id -u)" >&2
  exit 2
}
command -v cargo >/dev/null || { echo "demo.sh: cargo not found in root's PATH: install a Rust toolchain (rustup) for root" >&2; exit 2; }
command -v ip >/dev/null || { echo "demo.sh: 'ip' not found: install iproute2" >&2; exit 2; }
echo "demo.sh: building vigild and vigilctl (release; the first build takes a few minutes, cargo's progress below)"
cargo build --release -p vigild -p vigilctl
echo "demo.sh: built; the demo has three parts (the third boots a kernel under qemu: about a minute)"
bin=${CARGO_TARGET_DIR:-target}/release
ns=vigil-demo-$$
work=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
for i in 0 1; do  # the interfaces the configs name
  ip -n "$ns" link add "eth$i" type dummy 2>/dev/null || ip -n "$ns" link add "eth$i" type veth peer name "peer$i"
  ip -n "$ns" link set "eth$i" up
done
in_ns() { ip netns exec "$ns" "$@"; }
keepalived_t() {
  command -v keepalived >/dev/null || { echo "  (keepalived not installed)"; return; }
  local rc=0
  in_ns keepalived -t -l -n -G -i demo -f "$1" -p "$work/k.pid" -r "$work/v.pid" -c "$work/c.pid" -b "$work/b.pid" \
    >"$work/k.out" 2>&1 || rc=$?
  sed 's/^/  | /' "$work/k.out"
  echo "  keepalived -t exit: $rc"
}
vigild_t() {
  local rc=0
  in_ns "$bin/vigild" -t -i demo -f "$1" 2>&1 | sed 's/^/  | /' || true
  in_ns "$bin/vigild" -t -i demo -f "$1" >/dev/null 2>&1 || rc=$?
  echo "  vigild -t exit: $rc"
}
step() { printf '\n== %s\n' "$*"; }

# ---- 1. failover between two directors -------------------------------------------------------
br=vigil-demo-br-$$ a=vigil-demo-a-$$ b=vigil-demo-b-$$
cleanup_lab() {
  disown -a 2>/dev/null || true  # no "Killed" notices for the speakers ended below
  for n in "$a" "$b"; do ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; done
  for n in "$a" "$b" "$br"; do ip netns del "$n" 2>/dev/null || true; done
}
trap 'cleanup_lab; cleanup' EXIT
trap 'exit 130' INT TERM PIPE
ip netns add "$br"; ip netns add "$a"; ip netns add "$b"
ip -n "$br" link add br0 type bridge && ip -n "$br" link set br0 up
for side in a b; do
  nsname=${!side}
  ip link add eth0 netns "$nsname" type veth peer name "p$side" netns "$br"
  ip -n "$br" link set "p$side" master br0 && ip -n "$br" link set "p$side" up
  ip -n "$nsname" link set lo up && ip -n "$nsname" link set eth0 up
done
ip -n "$a" addr add 192.0.2.1/24 dev eth0
ip -n "$b" addr add 192.0.2.2/24 dev eth0
peer=keepalived
command -v keepalived >/dev/null || peer=vigild
start_a() { ip netns exec "$a" "$bin/vigild" -f etc/keepalived.conf -n -l -P >>"$work/a.log" 2>&1 & apid=$!; }
start_a
if [[ $peer == keepalived ]]; then
  ip netns exec "$b" keepalived -f etc/keepalived-backup.conf -n -l -P -G -p "$work/kb.pid" -r "$work/kbv.pid" >"$work/b.log" 2>&1 &
else
  ip netns exec "$b" "$bin/vigild" -f etc/keepalived-backup.conf -n -l -P >"$work/b.log" 2>&1 &
fi
holder() {
  local h=""
  grep -q ' 192.0.2.100/' <<<"$(ip -n "$a" -o addr show dev eth0)" && h="$h lb1(vigild)"
  grep -q ' 192.0.2.100/' <<<"$(ip -n "$b" -o addr show dev eth0)" && h="$h lb2($peer)"
  echo "  VIP 192.0.2.100 is on:${h:- nobody}"
}
states() { grep -hE 'Entering (MASTER|BACKUP|FAULT) STATE' "$work/a.log" | sed 's/^/  lb1 | /' | tail -n 3
           grep -hE 'Entering (MASTER|BACKUP|FAULT) STATE' "$work/b.log" | sed 's/^/  lb2 | /' | tail -n 3; }
step "two directors: lb1 runs vigild (priority 150), lb2 runs $peer (priority 100)"
sleep 5; states; holder
step "stop vigild on lb1 (SIGTERM: it sends a priority-0 advert and releases the VIP)"
kill -TERM "$apid"; wait "$apid" || true; sleep 2; states; holder
step "start vigild on lb1 again: it preempts when its Master_Down_Interval ends"
start_a; sleep 5; states; holder
kill -TERM "$apid" 2>/dev/null || true

# ---- 2. configuration checks -------------------------------------------------------------------
step "the sample MASTER and BACKUP (etc/): both clean"
for f in etc/keepalived.conf etc/keepalived-backup.conf; do echo "$f"; vigild_t "$f"; done
"$bin/vigilctl" check-peers etc/keepalived.conf etc/keepalived-backup.conf | sed 's/^/  /'

step "the seed tutorial's BACKUP (tests/fixtures/seed-004-backup.conf), as keepalived sees it"
keepalived_t tests/fixtures/seed-004-backup.conf
step "... and as Vigil sees it: file:line:col, a suggestion, and the notes keepalived does not make"
vigild_t tests/fixtures/seed-004-backup.conf

step "the pair compared: the BACKUP balances an address its VIP does not carry"
"$bin/vigilctl" check-peers tests/fixtures/seed-004-master.conf tests/fixtures/seed-004-backup.conf | sed 's/^/  /' || true

step "the same diagnostics as JSON, for CI pipelines"
in_ns "$bin/vigild" -t --json -i demo -f tests/fixtures/seed-004-backup.conf 2>/dev/null | head -n 3 | sed 's/^/  /' || true

# ---- 3. the whole job, in a real kernel -------------------------------------------------------
step "the whole job in Debian's kernel under qemu (about a minute): two directors, VRRP, IPVS and health checks"
if command -v qemu-system-x86_64 >/dev/null && command -v ipvsadm >/dev/null && [ -x /bin/busybox ]; then
  tests/kernel-lab/lab.sh -b "$bin/vigild" -b "$bin/vigilctl" -b tests/kernel-lab/daemon/lib/common.sh \
    tests/kernel-lab/demo/lb.sh | grep -vE '^(LAB-|PASS |Killed|Terminated|\[ )' || true
else
  echo "  (skipped: needs qemu-system-x86, busybox-static, ipvsadm and cpio; this machine's kernel has no IPVS)"
fi
