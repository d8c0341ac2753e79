#!/usr/bin/env bash
# Health checker load: N real servers on loopback (one helper process listening on
# 127.1.x.y:PORT), a generated keepalived.conf with one checker each (delay_loop 1, so N
# checks a second), and the CPU and memory of Vigil's checker against keepalived's (-C) on
# the same targets, side by side.
#
# For TCP_CHECK it also measures connect_floor: the same connections with no checker around
# them, the kernel's share that no checker can go under.
#
# Usage: scripts/bench-check.sh [--lab [--together]] [tcp|http|both]    (default both)
#   --lab   in the kernel lab (Debian's kernel under qemu, tests/kernel-lab), where
#           keepalived's checker can run (it exits at start without the ip_vs module):
#           vigild -C and keepalived -C one after the other over the same servers, each
#           also programming IPVS; the rate is what the servers accepted.  Under qemu's
#           emulation everything is slower than on the host: compare the two, not the
#           figures with the host's.  N defaults to 500 there: one emulated CPU runs the
#           servers, the checker and the kernel.
#   --together  (with --lab) vigild and keepalived run at the same time, each over its own N
#           servers (N defaults to 250 there), so that the host's slow spells fall on both;
#           ROUNDS windows of DURATION s (9 of 10 s), and the CPU per check over all of them.
#   In the lab the guest's clock runs by instructions (qemu -icount, ICOUNT=2: 4 ns each): the
#   CPU time measured is then the instructions a program ran, user and kernel, which the
#   host's other load does not move (TCP_CHECK's windows agree within 1-2 %, against 10 % with
#   the host's clock). It does not weigh cache misses or the cost of one instruction against another;
#   ICOUNT=off measures with the host's clock instead.
# Environment: N (10000), DURATION (30 s of measurement), PORT (8080), CARGO_TARGET_DIR;
#   ROUNDS (3, --lab only): the checkers take turns this many times; medians are reported.
# Needs root only to raise the open-file limit; all traffic stays on loopback.
# On loopback the kernel runs both ends of every TCP handshake in the connecting process, so
# the checker's system time includes the servers' share of it.
set -euo pipefail

LAB=0
TOGETHER=0
if [ "${1:-}" = --lab ]; then LAB=1; shift; fi
if [ $LAB = 1 ] && [ "${1:-}" = --together ]; then TOGETHER=1; shift; fi
if [ $TOGETHER = 1 ]; then
    N=${N:-250}
    DURATION=${DURATION:-10}
    ROUNDS=${ROUNDS:-9}
fi
N=${N:-$([ $LAB = 1 ] && echo 500 || echo 10000)}
DURATION=${DURATION:-30}
PORT=${PORT:-8080}
MODES=${1:-both}
[ "$MODES" = both ] && MODES="tcp http"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
HZ=$(getconf CLK_TCK)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Each side needs a socket per target at the worst moment, plus the listeners.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((N + 1000)) ]; then
    echo "open-file limit $(ulimit -n) is too low for N=$N" >&2
    exit 1
fi

(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p vigil-check --examples)
SERVERS=$TARGET/release/examples/bench_servers
DRIVER=$TARGET/release/examples/bench_driver
FLOOR=$TARGET/release/examples/connect_floor

# The address of real server i, as bench_servers numbers them.
rs_addr() { echo "127.1.$(($1 / 250)).$(($1 % 250 + 1))"; }

write_conf() { # mode file
    {
        echo "global_defs {"
        echo "    router_id bench"
        echo "}"
        echo "virtual_server 127.0.0.2 80 {"
        echo "    delay_loop 1"
        echo "    lvs_sched rr"
        echo "    lvs_method NAT"
        echo "    protocol TCP"
        for ((i = 0; i < N; i++)); do
            echo "    real_server $(rs_addr "$i") $PORT {"
            if [ "$1" = tcp ]; then
                echo "        TCP_CHECK {"
                echo "            connect_timeout 3"
                echo "        }"
            else
                echo "        HTTP_GET {"
                echo "            connect_timeout 3"
                echo "            url {"
                echo "                path /health"
                echo "                status_code 200"
                echo "            }"
                echo "        }"
            fi
            echo "    }"
        done
        echo "}"
    } > "$2"
}

# utime and stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat" 2>/dev/null || echo 0 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Measures a running process for DURATION seconds: prints "CPU% user% system% peak-RSS-MiB".
measure() { # pid
    local pid=$1 t0 t1 c0 c1 peak=0 r
    c0=$(cpu_ticks "$pid")
    t0=$(date +%s.%N)
    for ((s = 0; s < DURATION; s++)); do
        sleep 1
        [ -d "/proc/$pid" ] || { echo "exited - - -"; return; }
        r=$(rss_kb "$pid")
        [ "$r" -gt "$peak" ] && peak=$r
    done
    c1=$(cpu_ticks "$pid")
    t1=$(date +%s.%N)
    echo "$c0 $c1" | awk -v hz="$HZ" -v t0="$t0" -v t1="$t1" -v rss="$peak" '{
        u = 100 * ($3 - $1) / hz / (t1 - t0); s = 100 * ($4 - $2) / hz / (t1 - t0)
        printf "%.1f %.1f %.1f %.1f\n", u + s, u, s, rss / 1024 }'
}

run_mode() { # mode
    local mode=$1 conf=$WORK/$1.conf spid dpid vigil keep kpid child runs0 runs1 line rate checks
    write_conf "$mode" "$conf"
    "$SERVERS" "$N" "$PORT" "$mode" > "$WORK/servers.out" &
    spid=$!
    PIDS+=("$spid")
    for _ in $(seq 100); do grep -q ready "$WORK/servers.out" 2>/dev/null && break; sleep 0.1; done

    # Vigil: let the warmup spread the first runs over one delay_loop, then measure.
    "$DRIVER" "$conf" > "$WORK/driver.out" &
    dpid=$!
    PIDS+=("$dpid")
    sleep 3
    line=$(tail -1 "$WORK/driver.out")
    vigil=$(measure "$dpid")
    # The driver's lines at the start and the end: "t SECONDS runs N up U ...".
    rate=$(printf '%s\n%s\n' "$line" "$(tail -1 "$WORK/driver.out")" |
        awk '{ t[NR] = $2; r[NR] = $4 } END { printf "%.0f", (r[2] - r[1]) / (t[2] - t[1]) }')
    checks="$rate checks/s, at the end: $(tail -1 "$WORK/driver.out" | cut -d' ' -f5-)"
    kill "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true

    # keepalived's checker process (the child of keepalived -C), if it runs here.
    keepalived -C -n -l -D -f "$conf" -p "$WORK/k.pid" -c "$WORK/c.pid" > "$WORK/keepalived.out" 2>&1 &
    kpid=$!
    PIDS+=("$kpid")
    sleep 3
    child=$(pgrep -P "$kpid" | head -1 || true)
    # Without IPVS the checker child ends at start and keepalived starts another, over and
    # over: measured, that loop would pass for checks.
    if [ -n "$child" ] && [ -d "/proc/$child" ] && ! grep -q "Can't initialize ipvs" "$WORK/keepalived.out"; then
        keep=$(measure "$child")
    else
        keep="- - - -"
    fi
    kill "$kpid" 2>/dev/null || true
    wait "$kpid" 2>/dev/null || true

    # The kernel's share alone: the same connections with nothing around them (TCP only).
    local floor="- - - -" fpid
    if [ "$mode" = tcp ]; then
        "$FLOOR" "$conf" $((DURATION + 30)) > /dev/null &
        fpid=$!
        PIDS+=("$fpid")
        sleep 3
        floor=$(measure "$fpid")
        kill "$fpid" 2>/dev/null || true
        wait "$fpid" 2>/dev/null || true
    fi
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true

    printf '\n%s, N=%d, delay_loop 1, %d s measured\n' "$mode" "$N" "$DURATION"
    printf '%-26s %7s %7s %7s %13s\n' "" "CPU %" "user %" "sys %" "peak RSS MiB"
    printf '%-26s %7s %7s %7s %13s\n' "vigil (bench_driver)" $vigil
    echo "    $checks"
    if [ "${keep%% *}" = - ] || [ "${keep%% *}" = exited ]; then
        printf '%-26s %7s %7s %7s %13s\n' "keepalived -C (checker)" n/a n/a n/a n/a
        echo "keepalived's checker did not keep running on this machine; its last words:"
        grep -E "IPVS|FATAL|Terminating|error" "$WORK/keepalived.out" | tail -3 | sed 's/^/    /'
    else
        printf '%-26s %7s %7s %7s %13s\n' "keepalived -C (checker)" $keep
    fi
    if [ "$mode" = tcp ]; then
        printf '%-26s %7s %7s %7s %13s\n' "kernel floor (connects)" $floor
        echo "    connect_floor: socket, SO_LINGER 0, connect, close to each server once a delay_loop, no runtime"
    fi
}

if [ $LAB = 1 ]; then
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p vigild)
    bins=(-b "$TARGET/release/vigild" -b "$SERVERS" -b "$FLOOR" -b "$(command -v keepalived)" -b "$ROOT/tests/kernel-lab/daemon/lib/common.sh" -b "$ROOT/tests/kernel-lab/bench/measure.sh")
    for m in $MODES; do
        write_conf "$m" "$WORK/bench-$m.conf"
        bins+=(-b "$WORK/bench-$m.conf")
    done
    guest=checkers
    [ $TOGETHER = 1 ] && guest=checkers-together
    sed -e "s/^DURATION=.*/DURATION=$DURATION/" -e "s/^ROUNDS=.*/ROUNDS=${ROUNDS:-3}/" \
        "$ROOT/tests/kernel-lab/bench/$guest.sh" > "$WORK/$guest.sh"
    icount=${ICOUNT:-2}
    [ "$icount" = off ] && icount=
    if [[ $icount =~ ^[0-9]+$ ]]; then
        echo "BENCH guest clock: by instructions, $((1 << icount)) ns each (qemu -icount shift=$icount)"
    elif [ -n "$icount" ]; then
        echo "BENCH guest clock: qemu -icount shift=$icount"
    else
        echo "BENCH guest clock: the host's (qemu without -icount)"
    fi
    LAB_QEMU_ARGS="${LAB_QEMU_ARGS:-}${icount:+ -icount shift=$icount,sleep=on}" LAB_MEM=${LAB_MEM:-2048} \
        "$ROOT/tests/kernel-lab/lab.sh" "${bins[@]}" "$WORK/$guest.sh" |
        grep -E "^(BENCH|FAIL|PASS)|keepalived"
    exit
fi
for m in $MODES; do run_mode "$m"; done
