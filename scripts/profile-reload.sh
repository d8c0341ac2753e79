#!/usr/bin/env bash
# vigild at scale on this host's real CPUs (no kernel lab, no emulation): vigild -C runs
# SERVICES virtual servers x DESTS real servers of TCP_CHECK (delay_loop 6, the generator of
# scripts/bench-scale.sh), with an announcement file so that its checkers run without IPVS in
# this kernel (the IPVS owner keeps its table in memory). Every real server is a local address
# of a network namespace of its own (the whole prefix routed to lo), answered by one listener
# (scale-listener), which records each real server's gaps between checks.
# After WARM seconds: a window of WINDOW seconds in steady state (vigild's CPU, the checks a
# second, and their lateness against the schedule: p50 / p99 of each gap minus delay_loop),
# a reload with one weight changed, then one with ADD real servers added, then SIGTERM; then
# connect_floor makes the same connections with no checker around them for the same window
# (the kernel's floor under any checker). Prints the time from SIGHUP to vigild's "Reload
# finished" (and its own figure), the RSS after warm-up and the peak (VmHWM) then and after the
# reloads, the stop time, and with PERF=1 (default when perf is installed) perf's flat profile
# of each reload by thread. keepalived's checker does not run without IPVS, so it has no
# column here: scripts/bench-scale.sh compares both in the kernel lab, where the emulated CPU
# cannot keep 100,000 real servers' schedule; the lateness goal is measured here.
#
# usage: sudo scripts/profile-reload.sh [SERVICES [DESTS]]      (default 10000 10)
# Environment: ADD (1000), WARM (40 s), WINDOW (30 s), PERF (1 if perf is installed), FLOOR (1:
#   measure connect_floor too), VIGILD (a vigild binary; default: the workspace's, built release).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "profile-reload: run as root (network namespaces)" >&2; exit 2; }
SERVICES=${1:-10000} DESTS=${2:-10} ADD=${ADD:-1000} WARM=${WARM:-40} WINDOW=${WINDOW:-30} FLOOR=${FLOOR:-1}
PERF=${PERF:-$(command -v perf >/dev/null && echo 1 || echo 0)}
if [ -z "${VIGILD:-}" ]; then
  cargo build --release -q -p vigild
  VIGILD=${CARGO_TARGET_DIR:-target}/release/vigild
fi
cargo build --release -q -p vigil-check --example connect_floor
floor_bin=${CARGO_TARGET_DIR:-target}/release/examples/connect_floor
# vigild runs with the environment its systemd unit gives it (the malloc arenas): each
# Environment= line of the unit holds one unquoted assignment.
unit_env=$(sed -n 's/^Environment=//p' systemd/vigild.service | tr '\n' ' ')
work=$(mktemp -d) ns=vigil-prof-$$ vp= lp= fp=
cleanup() {
  for p in $vp $fp; do
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p"
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  exec 4>&- 2>/dev/null || true
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
# `ip netns exec` runs the listener itself, so $! is its pid; it takes its commands (reset,
# report) from a FIFO.
mkfifo "$work/listener.ctl"
ip netns exec "$ns" "$work/scale-listener" 80 6 <"$work/listener.ctl" >"$work/listener.out" 2>&1 &
lp=$!
exec 4>"$work/listener.ctl"
# ticks PID and accepted FILE, as the lab's benches read them (and the open-file limit).
. tests/kernel-lab/bench/measure.sh
# window WHO PID: WINDOW seconds of PID's CPU, the checks the listener accepted and their
# lateness; prints them.
window() {
  echo reset >&4
  local c0 a0 t0 c1 a1 t1 marks
  c0=$(ticks "$2") a0=$(accepted "$work/listener.out") t0=$(date +%s%N)
  sleep "$WINDOW"
  c1=$(ticks "$2") a1=$(accepted "$work/listener.out") t1=$(date +%s%N)
  marks=$(grep -c '^lateness' "$work/listener.out" || true)
  echo report >&4
  until [ "$(grep -c '^lateness' "$work/listener.out" || true)" -gt "$marks" ]; do sleep 0.1; done
  awk -v who="$1" -v c0="$c0" -v c1="$c1" -v a0="$a0" -v a1="$a1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
    -v late="$(grep '^lateness' "$work/listener.out" | tail -n 1)" 'BEGIN {
      s = (t1 - t0) / 1e9; cpu = 100 * (c1 - c0) / hz / s; rate = (a1 - a0) / s
      printf "%s, %d s of steady state: CPU %.1f %% of a core, %.0f checks a second, %.2f %% per 1,000 a second; %s\n",
        who, s, cpu, rate, (rate > 0 ? 1000 * cpu / rate : 0), late }'
}
cp "$work/scale-base.conf" "$work/k.conf"
# shellcheck disable=SC2086 # the unit's Environment= lines, one word each
VIGIL_STATE_DIR=$work ip netns exec "$ns" env $unit_env "$VIGILD" -n -l -C -f "$work/k.conf" \
  --announce-config "$work/announce.conf" --control-socket "$work/ctl.sock" -p "$work/vigild.pid" \
  >"$work/vigild.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/vigild.pid" ] && break; sleep 0.1; done
vp=$(cat "$work/vigild.pid")
echo "vigild -C, $SERVICES x $DESTS TCP_CHECKs (checkers without IPVS), warming up ${WARM}s"
sleep "$WARM"
echo "RSS after warm-up: $(($(ps -o rss= -p "$vp") / 1024)) MiB (peak so far, the start's: $(($(awk '/^VmHWM:/ { print $2 }' /proc/"$vp"/status) / 1024)) MiB)"
window vigild "$vp"

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

if [ "$FLOOR" = 1 ]; then
  ip netns exec "$ns" "$floor_bin" "$work/scale-base.conf" 100000 >/dev/null 2>&1 &
  fp=$!
  sleep 12
  window "connect_floor (the same connections, no checker)" "$fp"
  kill -TERM "$fp"
  wait "$fp" 2>/dev/null || true
  fp=
fi
