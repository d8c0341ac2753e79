#!/usr/bin/env bash
# Scale benchmark, in the kernel lab (Debian's kernel under qemu, tests/kernel-lab/lab.sh):
# vigild -C and keepalived -C, one after the other in one boot, on the same generated
# configuration of SERVICES virtual servers x DESTS real servers, TCP_CHECK, delay_loop 6
# (issue: 10,000 x 10).  Prints, per daemon and as vigild / keepalived:
#   start      ms from the start to the full table (/proc/net/ip_vs, the lines of ipvsadm -Ln)
#   rss        peak RSS, MiB: VmHWM summed over the daemon's processes
#   cpu        CPU % of one core over a window of steady state (/proc/PID/stat, all processes),
#              the checks a second the listener accepted then, and the CPU per 1,000 of them (at
#              saturation the programs reach different numbers of checks)
#   lateness   p99 of each check's lateness against its schedule (gap to the real server's
#              previous check minus delay_loop), seen from the real servers (scale-listener)
#   reload     one weight changed, then ADD real servers added: ms from SIGHUP to the change in
#              the table, and the netlink writes (vigild's log; keepalived: strace -c of its
#              checker's sendmsg, on a separate, untimed reload of run 1)
#   stop       ms from SIGTERM to the daemon's exit (both remove their services first)
# The goal is every figure at most half of keepalived's, and a p99 lateness under 10 % of
# delay_loop; each line says whether it is met.  The figures are medians over RUNS.
#
# The real servers are every address of 10.20.0.0/14, routed to the guest's lo as local
# addresses, and one listener on 0.0.0.0:80 accepts every check: no 100,000 interfaces or
# processes, and each check is one loopback handshake (the kernel's share, which no checker
# can go under, is the same for both daemons).
#
# The guest's clock runs by instructions (qemu -icount, ICOUNT=2: 4 ns each; docs/checkers.md
# says why), so the figures are the work the programs do on one emulated CPU, not what they
# would take on hardware: compare the ratios.  ICOUNT=off uses the host's clock.
#
# usage: scripts/bench-scale.sh [SERVICES [DESTS [RUNS]]]      (default 10000 10 1)
# Environment: ADD (1000 real servers added by the second reload), WARM (2 x delay_loop s after
#   the table is full), WINDOW (30 s of steady state), START_LIMIT / RELOAD_LIMIT /
#   STOP_LIMIT (1800 / 1800 / 600 s of guest time: past one, the figure prints as ">LIMIT" and
#   the run goes on), STRACE (1: count keepalived's writes), ICOUNT, LAB_MEM (MiB, 4096),
#   LAB_TIMEOUT (s of host time for the whole boot; derived from the limits by default),
#   VIGILD (a vigild binary to measure instead of building the workspace's, release),
#   DAEMONS ("vigild keepalived floor"; fewer to measure only those: floor is connect_floor, the
#   same connections with no checker around them, the kernel's floor under any checker), PROFILE (1: perf's
#   flat profile of vigild over the steady window, each reload and the stop, by thread, object
#   and function, printed as BENCH profile).
# Needs root (the kernel lab) and what tests/kernel-lab/lab.sh needs, keepalived, rustc;
# strace if keepalived's writes are to be counted.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-scale: run as root (the kernel lab needs it)" >&2; exit 2; }

SERVICES=${1:-10000} DESTS=${2:-10} RUNS=${3:-1}
DELAY=6
ADD=${ADD:-1000} WARM=${WARM:-$((2 * DELAY))} WINDOW=${WINDOW:-30}
START_LIMIT=${START_LIMIT:-1800} RELOAD_LIMIT=${RELOAD_LIMIT:-1800} STOP_LIMIT=${STOP_LIMIT:-600}
STRACE=${STRACE:-1} PROFILE=${PROFILE:-0} DAEMONS=${DAEMONS:-vigild keepalived floor}
# Real server k's address: 250 a /24 as the other benches number them, in 10.20.0.0/14.
if ((SERVICES * DESTS + ADD > 4 * 250 * 250)); then
  echo "bench-scale: at most $((4 * 250 * 250)) real servers" >&2
  exit 2
fi

if [ -z "${VIGILD:-}" ]; then
  cargo build --release -q -p vigild
  VIGILD=${CARGO_TARGET_DIR:-target}/release/vigild
fi
cargo build --release -q -p vigil-check --example connect_floor
FLOOR=${CARGO_TARGET_DIR:-target}/release/examples/connect_floor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rustc -O --edition 2021 -o "$work/scale-listener" tests/kernel-lab/bench/scale-listener.rs
# The lab names a binary by its file name: the guest calls it vigild.
cp "$VIGILD" "$work/vigild"

# Three configurations: the base; the first real server's weight 1 -> 7; that plus ADD real
# servers, one more for each of the first ADD virtual servers (round robin if fewer).
awk -v n="$SERVICES" -v m="$DESTS" -v add="$ADD" -v delay="$DELAY" -v dir="$work" -f scripts/lib/scale-confs.awk
keepalived -t -f "$work/scale-base.conf" >/dev/null 2>&1 || echo "bench-scale: note: keepalived -t does not accept the generated configuration here" >&2

# vigild runs with the environment its systemd unit gives it (the malloc arenas): each
# Environment= line of the unit holds one unquoted assignment.
unit_env=$(sed -n 's/^Environment=//p' systemd/vigild.service | tr '\n' ' ')
cat >"$work/scale.env" <<ENV
VIGILD_ENV="$unit_env"
SERVICES=$SERVICES DESTS=$DESTS ADD=$ADD DELAY=$DELAY RUNS=$RUNS WARM=$WARM WINDOW=$WINDOW
START_LIMIT=$START_LIMIT RELOAD_LIMIT=$RELOAD_LIMIT STOP_LIMIT=$STOP_LIMIT STRACE=$STRACE
PROFILE=$PROFILE DAEMONS="$DAEMONS"
ENV
bins=(-b "$work/vigild" -b "$(command -v keepalived)" -b "$work/scale-listener"
  -b tests/kernel-lab/daemon/lib/common.sh -b tests/kernel-lab/bench/measure.sh -b "$work/scale.env"
  -b "$work/scale-base.conf" -b "$work/scale-weight.conf" -b "$work/scale-add.conf" -b "$FLOOR")
if [ "$STRACE" = 1 ] && command -v strace >/dev/null; then bins+=(-b "$(command -v strace)"); fi
if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then bins+=(-b "$(command -v perf)"); fi

icount=${ICOUNT:-2}
[ "$icount" = off ] && icount=
if [[ $icount =~ ^[0-9]+$ ]]; then
  echo "guest clock: by instructions, $((1 << icount)) ns each (qemu -icount shift=$icount)"
elif [ -n "$icount" ]; then
  echo "guest clock: qemu -icount shift=$icount"
else
  echo "guest clock: the host clock (qemu without -icount)"
fi
per_daemon=$((START_LIMIT + WARM + WINDOW + 2 * RELOAD_LIMIT + STOP_LIMIT))
timeout=${LAB_TIMEOUT:-$((RUNS * (2 * per_daemon + WARM + WINDOW + 60) + 3 * RELOAD_LIMIT + 600))}
t0=$(date +%s)
LAB_QEMU_ARGS="${LAB_QEMU_ARGS:-}${icount:+ -icount shift=$icount,sleep=on}" LAB_MEM=${LAB_MEM:-4096} LAB_TIMEOUT=$timeout \
  tests/kernel-lab/lab.sh "${bins[@]}" tests/kernel-lab/bench/scale.sh >"$work/out" || true
grep -E "^(BENCH|FAIL|PASS)|lab:" "$work/out" | grep -v '^BENCH   progress' || true
echo "wall time of the boot: $(($(date +%s) - t0)) s (host)"

# Side by side: the median over the runs of each figure; a figure that hit its limit is
# ">LIMIT" and counts as the limit, a lower bound.
awk -v delay="$DELAY" -v add="$ADD" '
/^BENCH run / {
  who = $4
  cpu = ""; rate = ""
  for (i = 5; i <= NF; i++) {
    split($i, kv, "="); v[who, kv[1], ++cnt[who, kv[1]]] = kv[2]
    if (kv[1] == "cpu_pct") cpu = kv[2]
    if (kv[1] == "checks_per_s") rate = kv[2]
  }
  # The CPU for the same work: at saturation the programs reach different numbers of checks.
  if (cpu != "" && rate + 0 > 0) v[who, "cpu_per_k", ++cnt[who, "cpu_per_k"]] = sprintf("%.2f", 1000 * cpu / rate)
}
function median(who, key,   n, i, j, t, a, low) {
  n = cnt[who, key]; low = ""
  if (!n) return "-"
  for (i = 1; i <= n; i++) { a[i] = v[who, key, i]; if (a[i] ~ /^>/) { low = ">"; sub(/^>/, "", a[i]) } }
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  if (a[int((n + 1) / 2)] == "-") return "-"
  return low a[int((n + 1) / 2)]
}
# row LABEL KEY GOAL: GOAL "half" (at most half of the keepalived figure), "-" (none: context), or a
# number (the writes one reload needs: one per change).
function row(label, key, want,   x, y, r, goal, xv, yv, both) {
  x = median("vigild", key); y = median("keepalived", key)
  r = "-"; goal = "-"
  yv = y; sub(/^>/, "", yv); yv += 0; xv = x; sub(/^>/, "", xv); xv += 0
  # Both past their limits: neither the ratio nor the goal is known.
  both = (x ~ /^>/ && y ~ /^>/)
  if (x != "-" && y != "-" && yv > 0 && !both) r = sprintf("%s%.2f", (x ~ /^>/) ? ">" : (y ~ /^>/) ? "<" : "", xv / yv)
  if (want == "half" && x != "-" && y != "-" && !both) goal = (x !~ /^>/ && xv <= yv / 2) ? "met" : "NOT met"
  else if (want ~ /^[0-9]+$/ && x != "-") goal = (x + 0 == want + 0) ? "met (" want ")" : "NOT met (" want ")"
  printf "%-42s %12s %12s %8s   %s\n", label, x, y, r, goal
}
END {
  printf "%-42s %12s %12s %8s   %s\n", "", "vigild", "keepalived", "ratio", "goal"
  row("start to full table (ms)", "start_ms", "half")
  row("peak RSS, all processes (MiB)", "rss_mib", "half")
  row("CPU, steady state (% of a core)", "cpu_pct", "half")
  row("checks a second in the window", "checks_per_s", "-")
  row("CPU per 1,000 checks a second (%)", "cpu_per_k", "half")
  row("reload, one weight (ms)", "weight_ms", "half")
  row("reload, one weight (writes)", "weight_writes", 1)
  row("reload, " add " real servers added (ms)", "add_ms", "half")
  row("reload, " add " added (writes)", "add_writes", add)
  row("stop (ms)", "stop_ms", "half")
  row("listener (real servers) CPU (% of a core)", "listener_cpu_pct", "-")
  x = median("vigild", "late_p99_ms"); y = median("keepalived", "late_p99_ms")
  # No real server checked twice in the window: the checks are a whole window behind.
  if (median("vigild", "gaps") == "0") x = "none"
  if (median("keepalived", "gaps") == "0") y = "none"
  printf "%-42s %12s %12s %8s   under %d ms (10 %% of delay_loop): vigild %s, keepalived %s\n", "check lateness p99 (ms)", x, y,
    (x ~ /^[0-9.]+$/ && y + 0 > 0) ? sprintf("%.2f", x / y) : "-", delay * 100,
    x == "-" ? "-" : (x != "none" && x + 0 < delay * 100) ? "met" : "NOT met", y == "-" ? "-" : (y != "none" && y + 0 < delay * 100) ? "met" : "NOT met"
  printf "%-42s %12s %12s\n", "checks measured in the window (gaps)", median("vigild", "gaps"), median("keepalived", "gaps")
  f = median("floor", "cpu_per_k"); y = median("keepalived", "cpu_per_k")
  if (f != "-") {
    printf "kernel floor (connect_floor: the same connections, no checker): CPU %s %% at %s checks a second, %s %% per 1,000 a second, lateness p99 %s ms\n",
      median("floor", "cpu_pct"), median("floor", "checks_per_s"), f, median("floor", "late_p99_ms")
    if (y != "-" && y + 0 > 0)
      printf "  floor / keepalived per check: %.2f; half of keepalived'"'"'s CPU per check is %s the floor\n", f / y, (f + 0 > y / 2) ? "below" : "above"
  }
}' "$work/out"
