#!/usr/bin/env bash
# Demo lab: what Vigil does today, in a private network namespace that it removes on exit.
# It checks the sample MASTER/BACKUP configs (clean), then the seed tutorial's MASTER/BACKUP
# pair, which hides three mistakes; keepalived's own verdict is shown beside Vigil's when
# keepalived is installed.
# usage: sudo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "demo.sh: run as root (it creates a network namespace)" >&2; exit 2; }
cargo build --release -q -p vigild -p vigilctl
bin=target/release
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
