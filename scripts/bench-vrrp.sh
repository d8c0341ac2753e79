#!/usr/bin/env bash
# VRRP benchmark: keepalived against Vigil's vigild, in the same run, in the same lab shape (the
# bridge lab of tests/vrrp/lib.sh: directors A and B and a client in network namespaces, tcpdump
# on the bridge).  Prints figures side by side with the ratio vigild/keepalived and the goals for
# reference.  It is a benchmark, not a test: it never fails on time.
#
# usage: sudo scripts/bench-vrrp.sh [--runs N] [--quick] [--serial] [--keep]
#
#   --runs N   failover runs per implementation and protocol (default 10; --quick: 3)
#   --quick    smoke test: 3 failover runs, jitter windows 5 s (v2) and 3 s (v3), CPU window 5 s
#   --serial   run the steady-state phases (jitter, RSS/CPU) of keepalived and vigild one after
#              the other instead of side by side in two labs at the same time (default: side by
#              side, which exposes both to the same machine load; about 80 s longer serial)
#   --keep     keep the work directory (configs, logs, captures, per-run figures)
#
# Environment: VIGILD (default <repo>/target/release/vigild, built here with
# `cargo build --release -p vigild`; when VIGILD is set nothing is built), KEEPALIVED (default
# keepalived from PATH).  Needs root, ip, tcpdump, keepalived.
#
# What is measured (every speaker started as tests/vrrp/lib.sh starts it; A priority 150
# `state MASTER`, B priority 100 `state BACKUP`, one VIP 192.0.2.100/24 on eth0, VRID 51):
#
# 1. Failover on the wire: A MASTER, B BACKUP; A is kill -9'ed (its processes stopped first, so
#    it sends nothing more); from tcpdump -tt timestamps on the bridge: A's last advert -> B's
#    first advert, and -> B's first gratuitous ARP for the VIP.  A is then restarted and preempts
#    back (it waits its own Master_Down_Interval: keepalived and vigild start a non-owner as
#    Backup even with `state MASTER`), and after a random pause of up to one advert interval
#    the next run starts.  VRRPv2 advert_int 1 and VRRPv3 advert_int 0.05.  Reported: median
#    and max of both delays, and median / Master_Down_Interval of B (RFC 5798:
#    3 * advert_int + (256 - 100) * advert_int / 256 = 3.609 s and 0.180 s).
# 2. Advert jitter of a steady MASTER: A alone (v2 advert_int 1 for 30 s, v3 advert_int 0.05
#    for 10 s); p50 and p99 (nearest rank) of |gap - advert_int| between consecutive adverts on
#    the wire.
# 3. RSS and CPU: A alone with 10 vrrp_instances (VRIDs 1..10, VIPs 192.0.2.101..110/24 on
#    eth0, VRRPv2 advert_int 1), all MASTER, for 30 s: RSS = sum of VmRSS over the speaker's
#    process tree (keepalived forks a VRRP child) at the end, PSS likewise for reference; CPU =
#    utime+stime (/proc/PID/stat) of the tree after minus before, as % of one core (and the
#    same from schedstat, per thread, in ns, which is finer than the 10 ms tick).
#
# Misbehaviour (no failover, no preemption back, a BACKUP advertising or changing state, a
# speaker exiting, flapping during a steady window) is listed under "anomalies" with log lines;
# such runs give no figure.  Exit status: 0 figures printed and no anomaly, 1 some anomaly, 2
# usage or setup error.  Default total run time about 5 minutes.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
KEEPALIVED=${KEEPALIVED:-keepalived}

runs=10 quick=0 serial=0 keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench-vrrp.sh: --runs needs a positive number" >&2; exit 2; }
                runs=$2 runs_set=1; shift ;;
        --runs=*) runs=${1#--runs=}; runs_set=1
                  [[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench-vrrp.sh: --runs needs a positive number" >&2; exit 2; } ;;
        --quick) quick=1 ;;
        --serial) serial=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "bench-vrrp.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$quick" -eq 1 ]; then
    [ -n "${runs_set:-}" ] || runs=3
    JIT_V2=5 JIT_V3=3 CPU_WIN=5
else
    JIT_V2=30 JIT_V3=10 CPU_WIN=30
fi

die() { echo "bench-vrrp.sh: $*" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=lib/bench-lab.sh
. "$HERE/lib/bench-lab.sh"
bench_prepare bench-vrrp

# ---- phases ---------------------------------------------------------------------------
# Each runs in a subshell (run_phase) with its own lab, SDIR and IMPL[a]=IMPL[b]; it writes
# "key value" lines to $SDIR/result and misbehaviour to $SDIR/anomalies.

# phase_failover VERSION ADVERT_INT
phase_failover() {
    local ver=$1 adv=$2 i tk mb ma tr m_b m_a settle tb
    lab_setup; capture_start
    { conf_global a; conf_instance VI_1 state=MASTER priority=150 version="$ver" advert_int="$adv"; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 state=BACKUP priority=100 version="$ver" advert_int="$adv"; } >"$SDIR/b.conf"
    m_b=$(mdi 100 "$adv") m_a=$(mdi 150 "$adv")
    bring_up "$SDIR/a.conf" "$SDIR/b.conf"
    # B logs BACKUP at its start, before it has heard A: give it one advert of A first.
    nap "$adv"
    : >"$SDIR/kills"
    for ((i = 1; i <= runs; i++)); do
        # Let A advertise a little, the kill falling anywhere within an advert interval.
        # (At least one advert interval, so that B has heard A since it became BACKUP.)
        if fcheck "$adv >= 0.3"; then settle=$(fcalc "$adv + $(rand_upto "$adv")"); else settle=$(fcalc "0.3 + $(rand_upto "$adv")"); fi
        mb=$(log_mark b) tr=$(now)
        nap "$settle"
        if ! speaker_alive a || ! speaker_alive b; then
            anomaly "run $i: a speaker exited while A was MASTER and B BACKUP (a alive: $(speaker_alive a && echo yes || echo no), b alive: $(speaker_alive b && echo yes || echo no)); log of a:"$'\n'"$(log_tail a 0 5)"$'\n'"    log of b:"$'\n'"$(log_tail b 0 5)"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        if [ "$(transitions b "$mb")" -ne 0 ]; then
            anomaly "run $i: B changed state while A was MASTER (before the kill):"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        mb=$(log_mark b)
        tk=$(speaker_kill a)
        if tb=$(await_log b "(VI_1) Entering MASTER STATE" "$(fcalc "$m_b + 3")" "$mb"); then
            echo "$i $tr $tk" >>"$SDIR/kills"
            trace "run $i: B MASTER (log) $(fcalc "$tb - $tk")s after the kill"
        else
            anomaly "run $i: after kill -9 of A, B did not log '(VI_1) Entering MASTER STATE' within $(fcalc "$m_b + 3")s ($(speaker_alive b && echo 'B still running' || echo 'B exited')); log of b after the kill:"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        # B's gratuitous ARPs go out as it becomes MASTER.
        nap 0.3
        ma=$(log_mark a) mb=$(log_mark b)
        start_side a "$SDIR/a.conf"
        if ! await_log a "(VI_1) Entering MASTER STATE" "$(fcalc "$m_a + 5")" "$ma" >/dev/null; then
            anomaly "run $i: restarted A did not preempt back (no '(VI_1) Entering MASTER STATE' within $(fcalc "$m_a + 5")s); log of a:"$'\n'"$(log_tail a "$ma")"$'\n'"    log of b:"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        if ! await_log b "(VI_1) Entering BACKUP STATE" 3 "$mb" >/dev/null; then
            anomaly "run $i: B did not go back to BACKUP within 3s of A's preemption; log of b:"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
    done
    nap 0.3
    capture_stop
    # One line per run: RUN DELAY_ADVERT_MS DELAY_GARP_MS ("-" if none), from the capture.
    wire_parse >"$SDIR/wire.txt"
    awk -v vip="$VIP4" '
        FNR == NR { n++; run[n] = $1; ready[n] = $2; kill[n] = $3; next }
        { ev[++m] = $0 }
        END {
            for (k = 1; k <= n; k++) {
                end = k < n ? kill[k + 1] : 1e18
                last_a = ""; first_b = ""; garp_b = ""; b_early = 0
                for (j = 1; j <= m; j++) {
                    split(ev[j], f, " "); ts = f[2] + 0
                    if (f[1] == "ADV" && f[3] == "a" && f[7] == 51 && ts < kill[k]) last_a = ts
                    if (f[1] == "ADV" && f[3] == "b" && ts > ready[k] && ts < kill[k]) b_early++
                    if (f[1] == "ADV" && f[3] == "b" && f[7] == 51 && ts > kill[k] && ts < end && first_b == "") first_b = ts
                    if (f[1] == "GARP" && f[3] == "b" && f[4] == vip && ts > kill[k] && ts < end && garp_b == "") garp_b = ts
                }
                printf "%d %s %s %s %d\n", run[k],
                    (last_a != "" && first_b != "") ? sprintf("%.3f", (first_b - last_a) * 1000) : "-",
                    (last_a != "" && garp_b != "") ? sprintf("%.3f", (garp_b - last_a) * 1000) : "-",
                    last_a == "" ? "-" : sprintf("%.6f", last_a), b_early
            }
        }' "$SDIR/kills" "$SDIR/wire.txt" >"$SDIR/runs"
    while read -r i da dg la early; do
        [ "$da" != - ] || anomaly "run $i: B logged MASTER but no advert from B after the kill on the wire (A's last advert: $la)"
        [ "$dg" != - ] || anomaly "run $i: no gratuitous ARP for $VIP4 from B after the kill on the wire"
        [ "$early" -eq 0 ] || anomaly "run $i: B sent $early adverts while BACKUP (A alive) on the wire"
    done <"$SDIR/runs"
    {
        echo "mdi $m_b"
        echo "ok $(awk '$2 != "-"' "$SDIR/runs" | wc -l)"
        awk '$2 != "-" { print $2 }' "$SDIR/runs" | stats adv
        awk '$3 != "-" { print $3 }' "$SDIR/runs" | stats garp
    } >>"$SDIR/result"
}

# phase_jitter VERSION ADVERT_INT WINDOW
phase_jitter() {
    local ver=$1 adv=$2 win=$3 t0 t1 ma
    lab_setup; capture_start
    { conf_global a; conf_instance VI_1 state=MASTER priority=150 version="$ver" advert_int="$adv"; } >"$SDIR/a.conf"
    bring_up "$SDIR/a.conf" ""
    nap "$(fcalc "2 * $adv + 0.2")"
    ma=$(log_mark a) t0=$(now)
    nap "$win"
    t1=$(now)
    speaker_alive a || anomaly "the MASTER exited during the ${win}s window; its log:"$'\n'"$(log_tail a 0)"
    [ "$(transitions a "$ma")" -eq 0 ] || anomaly "the lone MASTER changed state during the ${win}s window:"$'\n'"$(log_tail a "$ma")"
    capture_stop
    wire list ADV a vrid=51 "ts>$t0" "ts<=$t1" | awk -v adv="$adv" '
        { t[NR] = $2; if ($9 != adv) badiv++ }
        END {
            n = NR - 1
            for (i = 1; i <= n; i++) { g = t[i + 1] - t[i]; d[i] = (g > adv ? g - adv : adv - g) * 1000; sum += g }
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (d[j] < d[i]) { x = d[i]; d[i] = d[j]; d[j] = x }
            printf "gaps %d\n", n
            if (n > 0) {
                r50 = int(0.5 * n); if (r50 < 0.5 * n) r50++
                r99 = int(0.99 * n); if (r99 < 0.99 * n) r99++
                printf "p50 %.3f\np99 %.3f\nmax %.3f\nmean_gap %.6f\n", d[r50], d[r99], d[n], sum / n
            }
            printf "bad_intvl %d\n", badiv
        }' >>"$SDIR/result"
    local n expect
    n=$(awk '$1 == "gaps" { print $2 }' "$SDIR/result")
    expect=$(awk "BEGIN { printf \"%d\", $win / $adv }")
    [ "$n" -ge $((expect * 9 / 10)) ] || anomaly "only $n advert gaps from the MASTER in ${win}s at advert_int $adv (expected about $expect)"
}

# phase_rss WINDOW: 10 instances as MASTER alone; RSS and CPU of the process tree.
phase_rss() {
    local win=$1 i conf="$SDIR/a.conf" t0 t1 u0 u1 deadline ma n
    lab_setup
    {
        conf_global a
        for i in $(seq 1 10); do
            conf_instance "VI_$i" state=MASTER priority=150 vrid="$i" version=2 advert_int=1 vips="192.0.2.$((100 + i))/24"
        done
    } >"$conf"
    start_side a "$conf"
    deadline=$(fcalc "$(now) + 15")
    until [ "$(grep -oE '\(VI_[0-9]+\) Entering MASTER STATE' "$SDIR/a.log" 2>/dev/null | sort -u | wc -l)" -eq 10 ]; do
        speaker_alive a || fail "side a (${IMPL[a]}) exited at start-up: $(tail -n 3 "$SDIR/a.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "side a (${IMPL[a]}): not all 10 instances MASTER within 15s"
        sleep 0.1
    done
    nap 1
    ma=$(log_mark a)
    read -r -a u0 < <(tree_usage "${SPK_PID[a]}"); t0=$(now)
    nap "$win"
    read -r -a u1 < <(tree_usage "${SPK_PID[a]}"); t1=$(now)
    speaker_alive a || anomaly "the speaker exited during the ${win}s window; its log:"$'\n'"$(log_tail a 0)"
    n=$(transitions a "$ma")
    [ "$n" -eq 0 ] || anomaly "$n state changes during the ${win}s window:"$'\n'"$(log_tail a "$ma")"
    {
        echo "rss_kib ${u1[2]}"
        echo "pss_kib ${u1[3]}"
        echo "nproc ${u1[4]}"
        echo "cpu_tick_pct $(awk -v d="$((u1[0] - u0[0]))" -v hz="$CLK_TCK" -v w="$(fcalc "$t1 - $t0")" 'BEGIN { printf "%.4f", d / hz / w * 100 }')"
        echo "cpu_ns_pct $(awk -v d="$((u1[1] - u0[1]))" -v w="$(fcalc "$t1 - $t0")" 'BEGIN { printf "%.4f", d / 1e9 / w * 100 }')"
        echo "cpu_ticks $((u1[0] - u0[0]))"
        echo "window $(fcalc "$t1 - $t0")"
    } >>"$SDIR/result"
}

# pair NAME FUNCTION ARGS...: the phase for keepalived, then for vigild.
pair() {
    local impl
    for impl in keepalived vigild; do
        phase_spawn "$1" "$impl" "${@:2}"
        phases_wait
    done
}

# pair_steady NAME FUNCTION ARGS...: the same, side by side unless --serial.
pair_steady() {
    local impl
    if [ "$serial" -eq 1 ]; then pair "$@"; return; fi
    for impl in keepalived vigild; do phase_spawn "$1" "$impl" "${@:2}"; done
    phases_wait
}

# ---- run ------------------------------------------------------------------------------

KA_VERSION=$("$KEEPALIVED" --version 2>&1 | sed -n 1p)
START=$(now)
echo "VRRP benchmark: $KA_VERSION vs $VIGILD ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))" >&2
echo "failover runs $runs; jitter windows ${JIT_V2}s (v2) ${JIT_V3}s (v3); CPU window ${CPU_WIN}s; steady phases $([ "$serial" -eq 1 ] && echo serial || echo 'side by side')" >&2
pair failover_v2 phase_failover 2 1
pair failover_v3 phase_failover 3 0.05
pair_steady jitter_v2 phase_jitter 2 1 "$JIT_V2"
pair_steady jitter_v3 phase_jitter 3 0.05 "$JIT_V3"
pair_steady rss phase_rss "$CPU_WIN"
TOTAL=$(fcalc "$(now) - $START")

# ---- report ---------------------------------------------------------------------------

# cell PHASE IMPL KEY [FILTER]: the figure, through the function FILTER if given, marked; one line.
cell() {
    local v
    v=$(get "$1" "$2" "$3")
    [ -z "$v" ] || [ -z "${4:-}" ] || v=$("$4" "$v")
    if [ -n "$v" ]; then printf '%s%s\n' "$v" "$(mark "$1" "$2")"; else echo; fi
}
per_mdi() { awk -v a="$1" -v b="$MMS" 'BEGIN { printf "%.4f", a / b }'; }
kib2mib() { awk -v a="$1" 'BEGIN { printf "%.2f", a / 1024 }'; }

# row LABEL KEEPALIVED VIGILD [noratio]
row() {
    local r=- a=${2%!} b=${3%!}
    if [ "${4:-}" != noratio ] && [ -n "$a" ] && [ -n "$b" ] && fcheck "$a > 0"; then
        r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
    fi
    printf '%-46s %12s %12s %10s\n' "$1" "${2:--}" "${3:--}" "$r"
}
# rowf LABEL PHASE KEY [FILTER] [noratio]: a row of the keepalived and the vigild cell.
rowf() {
    local label=$1 k v
    { read -r k; read -r v; } < <(cell "$2" keepalived "$3" "${4:-}"; cell "$2" vigild "$3" "${4:-}")
    row "$label" "$k" "$v" "${5:-}"
}

echo
printf '%-46s %12s %12s %10s\n' metric keepalived vigild "vigild/ka"
printf '%-46s %12s %12s %10s\n' "------" "----------" "------" "---------"
for v in v2 v3; do
    if [ $v = v2 ]; then adv=1; else adv=0.05; fi
    MMS=$(fcalc "$(mdi 100 $adv) * 1000")
    echo "failover $v advert_int $adv (Master_Down_Interval $MMS ms)"
    row "  runs with a failover on the wire" "$(get failover_$v keepalived ok)/$runs$(mark failover_$v keepalived)" \
        "$(get failover_$v vigild ok)/$runs$(mark failover_$v vigild)" noratio
    for w in adv garp; do
        if [ $w = adv ]; then lbl="last advert -> first advert"; else lbl="last advert -> first GARP"; fi
        rowf "  $lbl, median (ms)" failover_$v ${w}_median
        rowf "  $lbl, max (ms)" failover_$v ${w}_max
        rowf "  $lbl, median / MDI" failover_$v ${w}_median per_mdi
    done
done
for v in v2 v3; do
    if [ $v = v2 ]; then adv=1 win=$JIT_V2; else adv=0.05 win=$JIT_V3; fi
    echo "advert jitter $v advert_int $adv, |gap - advert_int| over ${win}s"
    rowf "  gaps" jitter_$v gaps "" noratio
    rowf "  mean gap (s)" jitter_$v mean_gap
    rowf "  p50 (ms)" jitter_$v p50
    rowf "  p99 (ms)" jitter_$v p99
done
echo "10 instances, VRRPv2 advert_int 1, MASTER alone, ${CPU_WIN}s"
rowf "  processes" rss nproc "" noratio
rowf "  RSS, sum of VmRSS (MiB)" rss rss_kib kib2mib
rowf "  PSS, sum (MiB)" rss pss_kib kib2mib
rowf "  CPU, utime+stime (% of one core)" rss cpu_tick_pct
rowf "  CPU, schedstat run time (% of one core)" rss cpu_ns_pct
if compgen -G "$WORK/*/anomalies" >/dev/null || compgen -G "$WORK/*/reason" >/dev/null; then
    echo "(! = that phase had anomalies, listed below)"
fi

# Goals (for reference; never a failure).
verdict() { if fcheck "$1"; then echo met; else echo "NOT met"; fi; }
note() { [ -z "$(mark "$1" vigild)" ] || echo " (that phase had anomalies)"; }
echo
echo "goals (vigild), for reference:"
for v in v2 v3; do
    if [ $v = v2 ]; then adv=1; else adv=0.05; fi
    mms=$(fcalc "$(mdi 100 $adv) * 1000")
    km=$(get failover_$v keepalived adv_median) vm=$(get failover_$v vigild adv_median)
    if [ -n "$vm" ]; then
        d=$(fcalc "$vm - $mms")
        printf '  failover %s: median within 5 ms of MDI %s ms: %s ms (%+.3f ms) %s' "$v" "$mms" "$vm" "$d" "$(verdict "$d <= 5 && $d >= -5")"
        if [ -n "$km" ]; then printf '; no slower than keepalived (%s ms): %s' "$km" "$(verdict "$vm <= $km")"; fi
        echo "$(note failover_$v)"
    else
        echo "  failover $v: no vigild figure"
    fi
done
for v in v2 v3; do
    p=$(get jitter_$v vigild p99)
    if [ -n "$p" ]; then echo "  jitter $v: p99 < 2 ms: $p ms $(verdict "$p < 2")$(note jitter_$v)"; else echo "  jitter $v: no vigild figure"; fi
done
r=$(get rss vigild rss_kib)
if [ -n "$r" ]; then r=$(kib2mib "$r"); echo "  RSS < 10 MiB: $r MiB $(verdict "$r < 10")$(note rss)"; else echo "  RSS: no vigild figure"; fi

bad=0
bench_anomalies a b || bad=1
echo
echo "total ${TOTAL}s"
exit "$bad"
