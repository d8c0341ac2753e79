# shellcheck shell=bash
# What the benchmarks on the VRRP lab share (scripts/bench-vrrp.sh, scripts/bench-bfd.sh): waiting
# for log lines, starting and restarting the sides, the CPU and memory of a process tree, medians,
# and phases that run in their own subshell and lab.  It sources tests/vrrp/lib.sh; see
# bench_prepare for what it sets up.

# shellcheck source-path=SCRIPTDIR source=../../tests/vrrp/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/vrrp/lib.sh"

# bench_prepare NAME: root, the tools and keepalived there, vigild built (release) unless
# VIGILD names one; WORK, NS_REGISTRY, PHASE_PIDS, PHASE_DIRS and CLK_TCK set; bench_cleanup
# as the EXIT trap.  Expects REPO and KEEPALIVED; exits 2 with NAME's message on a failure.
bench_prepare() {
    local name=$1 tool
    [ "$(id -u)" -eq 0 ] || { echo "$name: must be run as root (it creates network namespaces)" >&2; exit 2; }
    for tool in ip tcpdump awk ps getconf; do
        command -v "$tool" >/dev/null || { echo "$name: '$tool' not found" >&2; exit 2; }
    done
    command -v "$KEEPALIVED" >/dev/null || { echo "$name: keepalived not found (set KEEPALIVED=/path/to/keepalived)" >&2; exit 2; }
    if [ -z "${VIGILD:-}" ]; then
        VIGILD=$REPO/target/release/vigild
        echo "building vigild: cargo build --release -p vigild" >&2
        (cd "$REPO" && cargo build --release -q -p vigild) || { echo "$name: cargo build --release -p vigild failed" >&2; exit 2; }
    fi
    [ -x "$VIGILD" ] || { echo "$name: vigild binary not found at '$VIGILD'" >&2; exit 2; }
    # shellcheck disable=SC2034 # read by the phases of the scripts that source this
    CLK_TCK=$(getconf CLK_TCK)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-$name.XXXXXX")
    NS_REGISTRY=$WORK/namespaces
    : >"$NS_REGISTRY"
    PHASE_PIDS=() PHASE_DIRS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# get PHASE IMPL KEY: a figure from a phase's result ("" if none).
get() { awk -v k="$3" '$1 == k { v = $2 } END { print v }' "$WORK/$1-$2/result" 2>/dev/null || true; }
# mark PHASE IMPL: "!" if the phase failed or had anomalies.
mark() { if [ -s "$WORK/$1-$2/anomalies" ] || [ -s "$WORK/$1-$2/reason" ]; then echo '!'; fi; }

# bench_anomalies SIDE...: the failed phases and the anomalies, with the last lines of each
# SIDE's log for a failed phase; false when there was any.
bench_anomalies() {
    local d s bad=0
    for d in "$WORK"/*/; do
        d=${d%/}
        [ -s "$d/reason" ] || [ -s "$d/anomalies" ] || continue
        if [ $bad -eq 0 ]; then echo; echo "anomalies:"; fi
        bad=1
        echo "  $(basename "$d"):"
        if [ -s "$d/reason" ]; then
            echo "    phase failed: $(cat "$d/reason")"
            for s in "$@"; do [ -f "$d/$s.log" ] && { echo "    last lines of $s.log:"; tail -n 8 "$d/$s.log" | sed 's/^/        /'; }; done
        fi
        [ ! -s "$d/anomalies" ] || sed 's/^/    /' "$d/anomalies"
    done
    [ $bad -eq 0 ]
}

skew() { fcalc "(256 - $1) * $2 / 256"; }
# Master_Down_Interval in seconds, to the microsecond.
mdi() { awk "BEGIN { printf \"%.6f\n\", 3 * $2 + (256 - $1) * $2 / 256 }"; }

# nap SECONDS: sleep that a trapped signal interrupts at once.
nap() { sleep "$1" & wait $!; }

# rand_upto SECONDS: a random duration in [0, SECONDS).
rand_upto() { awk -v r="$RANDOM" -v s="$1" 'BEGIN { printf "%.3f\n", r / 32768 * s }'; }

# anomaly TEXT: record misbehaviour (printed at the end; no figure for that run).
anomaly() { trace "ANOMALY: $*"; printf '%s\n' "$*" >>"$SDIR/anomalies"; }

# log_tail SIDE FROM_LINE [N]: the side's log lines after FROM_LINE (at most N, default 8),
# indented, for an anomaly report.
log_tail() { tail -n +"$(($2 + 1))" "$SDIR/$1.log" 2>/dev/null | tail -n "${3:-8}" | sed 's/^/        /'; }

# await_log SIDE TEXT TIMEOUT FROM_LINE: like lib.sh's wait_log, but returns 1 on timeout and 2
# if the speaker died instead of failing the phase.  Prints the time it was seen.
await_log() {
    local side=$1 text=$2 from=$4 deadline
    deadline=$(fcalc "$(now) + $3")
    while ! log_has "$side" "$text" "$from"; do
        speaker_alive "$side" || return 2
        fcheck "$(now) < $deadline" || return 1
        sleep 0.02
    done
    now
}

# start_side SIDE CONF: lib.sh's speaker_start after removing pid files a killed run left.
start_side() { rm -f "$SDIR/run-$1"/*.pid; speaker_start "$1" "$2"; }

# bring_up CONF_A CONF_B: A alone until it logs MASTER, then B until it logs BACKUP.
bring_up() {
    local ma mb
    ma=$(log_mark a); start_side a "$1"
    await_log a "(VI_1) Entering MASTER STATE" 15 "$ma" >/dev/null ||
        fail "side a (${IMPL[a]}) did not become MASTER within 15s of its start: $(log_tail a "$ma" 3 | tr -s ' \n' ' ')"
    [ -z "$2" ] && return 0
    mb=$(log_mark b); start_side b "$2"
    await_log b "(VI_1) Entering BACKUP STATE" 10 "$mb" >/dev/null ||
        fail "side b (${IMPL[b]}) did not log BACKUP within 10s of its start: $(log_tail b "$mb" 3 | tr -s ' \n' ' ')"
}

# restart_both CONF_A CONF_B: after an anomaly, kill whatever runs and start over.
restart_both() {
    local s
    for s in a b; do speaker_alive "$s" && speaker_kill "$s" >/dev/null; done
    bring_up "$1" "$2"
}

# proc_tree PID: PID and all its descendants.
proc_tree() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END { q[1] = root; n = 1; for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

# tree_usage PID: "TICKS SCHED_NS RSS_KIB PSS_KIB NPROC" summed over the process tree of PID
# (utime+stime of each process, schedstat run time of each thread, VmRSS, Pss).
tree_usage() {
    local p st ticks=0 ns=0 rss=0 pss=0 n=0 t v f
    for p in $(proc_tree "$1"); do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        st=${st##*) }
        # shellcheck disable=SC2086
        set -- $st
        ticks=$((ticks + ${12} + ${13}))
        for f in /proc/"$p"/task/*/schedstat; do
            read -r t _ <"$f" 2>/dev/null && ns=$((ns + t))
        done
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null); rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null); pss=$((pss + ${v:-0}))
        n=$((n + 1))
    done
    echo "$ticks $ns $rss $pss $n"
}

# stats NAME: from numbers on stdin, "NAME_median X", "NAME_max X", "NAME_n N".
stats() {
    sort -g | awk -v k="$1" '{ a[NR] = $1 } END {
        if (NR == 0) { print k "_n 0"; exit }
        med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%s_median %.3f\n%s_max %.3f\n%s_n %d\n", k, med, k, a[NR], k, NR }'
}

# phase_spawn NAME IMPL FUNCTION ARGS...: start a phase in its own subshell and lab, in the
# background (its PID appended to PHASE_PIDS); its verdict goes to
# $WORK/NAME-IMPL/{result,anomalies,reason}.  A TERM ends it cleanly (lab torn down).
phase_spawn() {
    local impl=$2 sdir="$WORK/$1-$2"
    shift 2
    mkdir -p "$sdir"
    : >"$sdir/trace"; : >"$sdir/result"
    now >"$sdir/started"
    (
        SDIR=$sdir
        IMPL[a]=$impl IMPL[b]=$impl
        phase_exit() {
            local rc=$?
            set +e
            capture_stop
            lab_teardown
            exit "$rc"
        }
        on_error() { [ -s "$SDIR/reason" ] || echo "unexpected error at line $1: $2" >"$SDIR/reason"; }
        trap phase_exit EXIT
        trap 'exit 130' INT TERM
        set -eE
        trap 'on_error $LINENO "$BASH_COMMAND"' ERR
        "$@"
        [ ! -s "$SDIR/reason" ] || exit 1
    ) >"$sdir/output" 2>&1 </dev/null &
    PHASE_PIDS+=("$!")
    PHASE_DIRS+=("$sdir")
}

# phases_wait: wait for the spawned phases; one progress line each on stderr.
phases_wait() {
    local i rc sdir
    for i in "${!PHASE_PIDS[@]}"; do
        sdir=${PHASE_DIRS[$i]}
        rc=0; wait "${PHASE_PIDS[$i]}" || rc=$?
        if [ "$rc" -ne 0 ] && [ ! -s "$sdir/reason" ]; then echo "exit status $rc" >"$sdir/reason"; fi
        printf '  %-24s %6.1fs%s\n' "$(basename "$sdir")" "$(fcalc "$(now) - $(cat "$sdir/started")")" \
            "$( [ "$rc" -eq 0 ] || echo "  FAILED: $(cat "$sdir/reason")")" >&2
    done
    PHASE_PIDS=() PHASE_DIRS=()
}


# bench_cleanup: the EXIT trap: end the phases still running, remove what they could not
# (their namespaces), and the work directory unless $keep is 1.
bench_cleanup() {
    local rc=$? ns pid p
    set +e
    trap - INT TERM
    for p in "${PHASE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PHASE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    # Whatever a phase could not remove itself.
    for ns in $(sort -u "$NS_REGISTRY" 2>/dev/null); do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -STOP "$pid" 2>/dev/null; done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns delete "$ns" 2>/dev/null
    done
    if [ "${keep:-0}" -eq 1 ]; then echo "kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$rc"
}
