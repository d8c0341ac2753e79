#!/usr/bin/env bash
# Where vigild's reload spends its time at scale, on this host (no kernel lab): vigild -C runs
# SERVICES virtual servers x DESTS real servers of TCP_CHECK (delay_loop 6, the generator of
# scripts/bench-scale.sh), with an announcement file so that its checkers run without IPVS in
# this kernel (the IPVS owner keeps its table in memory). Every real server is a local address
# of a network namespace of its own (the whole prefix routed to lo), answered by one listener.
# After WARM seconds: a reload with one weight changed, then one with ADD real servers added,
# then SIGTERM. Prints the time from SIGHUP to vigild's "Reload finished" (and its own figure),
# the RSS after warm-up and its peak (VmHWM) after the reloads, the stop time, and with PERF=1
# (default when perf is installed) perf's flat profile of each reload by thread. keepalived's
# checker does not run without IPVS, so it has no column here: scripts/bench-scale.sh compares
# both in the kernel lab.
#
# usage: sudo scripts/profile-reload.sh [SERVICES [DESTS]]      (default 10000 10)
# Environment: ADD (1000), WARM (40 s), PERF (1 if perf is installed), VIGILD (a vigild binary;
#   default: the workspace's, built release).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "profile-reload: run as root (network namespaces)" >&2; exit 2; }
SERVICES=${1:-10000} DESTS=${2:-10} ADD=${ADD:-1000} WARM=${WARM:-40}
PERF=${PERF:-$(command -v perf >/dev/null && echo 1 || echo 0)}
if [ -z "${VIGILD:-}" ]; then
  cargo build --release -q -p vigild
  VIGILD=${CARGO_TARGET_DIR:-target}/release/vigild
fi
work=$(mktemp -d) ns=vigil-prof-$$ vp= lp=
cleanup() {
  if [ -n "$vp" ] && kill -0 "$vp" 2>/dev/null; then
    kill -TERM "$vp"
    for _ in $(seq 100); do kill -0 "$vp" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$vp" 2>/dev/null || true
  fi
  [ -n "$lp" ] && kill "$lp" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
rustc -O --edition 2021 -o "$work/scale-listener" tests/kernel-lab/bench/scale-listener.rs

# The three files of scripts/bench-scale.sh: base, one weight changed, ADD real servers added.
awk -v n="$SERVICES" -v m="$DESTS" -v add="$ADD" -v delay=6 -v dir="$work" -f scripts/lib/scale-confs.awk
printf 'announce {\n table 100\n protocol 200\n interface none\n}\n' >"$work/announce.conf"

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" route add local 10.20.0.0/14 dev lo table local
ip -n "$ns" route add local 10.10.0.0/16 dev lo table local
# `ip netns exec` runs the listener itself, so $! is its pid (stdin: no commands needed).
ip netns exec "$ns" "$work/scale-listener" 80 6 </dev/null >/dev/null 2>&1 &
lp=$!
cp "$work/scale-base.conf" "$work/k.conf"
VIGIL_STATE_DIR=$work ip netns exec "$ns" "$VIGILD" -n -l -C -f "$work/k.conf" \
  --announce-config "$work/announce.conf" --control-socket "$work/ctl.sock" -p "$work/vigild.pid" \
  >"$work/vigild.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/vigild.pid" ] && break; sleep 0.1; done
vp=$(cat "$work/vigild.pid")
echo "vigild -C, $SERVICES x $DESTS TCP_CHECKs (checkers without IPVS), warming up ${WARM}s"
sleep "$WARM"
echo "RSS after warm-up: $(($(ps -o rss= -p "$vp") / 1024)) MiB"

finished() { grep -c "Reload finished" "$work/vigild.log" || true; }
n=0
for step in weight add; do
  cp "$work/scale-$step.conf" "$work/k.conf"
  if [ "$PERF" = 1 ]; then
    perf record -q -F 999 -g -p "$vp" -o "$work/$step.data" >/dev/null 2>&1 &
    pp=$!
    sleep 1
  fi
  n=$((n + 1))
  t0=$(date +%s%N)
  kill -HUP "$vp"
  until [ "$(finished)" -ge "$n" ]; do sleep 0.05; done
  t1=$(date +%s%N)
  own=$(grep "Reload finished" "$work/vigild.log" | tail -n 1 | sed 's/.*Reload finished in //')
  echo "reload ($step): $(((t1 - t0) / 1000000)) ms from SIGHUP (vigild's own figure: $own)"
  if [ "$PERF" = 1 ]; then
    kill -INT "$pp"
    wait "$pp" || true
    echo "  threads:"
    perf report -i "$work/$step.data" --no-children --sort comm --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -n 5 | sed 's/^/   /'
    echo "  vigild's main thread, top functions:"
    perf report -i "$work/$step.data" --no-children --comm vigild --sort sym --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -n 8 | sed 's/^/   /'
  fi
  sleep 5
done
echo "peak RSS (VmHWM, start and both reloads): $(($(awk '/^VmHWM:/ { print $2 }' /proc/"$vp"/status) / 1024)) MiB"
t0=$(date +%s%N)
kill -TERM "$vp"
while kill -0 "$vp" 2>/dev/null; do sleep 0.05; done
t1=$(date +%s%N)
vp=
echo "stop: $(((t1 - t0) / 1000000)) ms from SIGTERM"
