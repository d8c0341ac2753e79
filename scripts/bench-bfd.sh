#!/usr/bin/env bash
# BFD benchmark: Vigil's fast failover (`master_down_bfd`) against keepalived's VRRP failover,
# and the CPU and memory of 100 BFD sessions in vigild against keepalived's BFD process, in the
# same run and the same lab shape (the bridge lab of tests/vrrp/lib.sh: directors A and B and
# a client C in network namespaces, tcpdump on the bridge).  A benchmark, not a test: it never
# fails on time.
#
# usage: sudo scripts/bench-bfd.sh [--runs N] [--quick] [--window S] [--soak MINUTES [--soak-only]] [--keep]
#
#   --runs N     failovers per pairing (default 20; --quick: 5)
#   --window S   the steady window of the sessions phase (default 30 s; --quick: 10)
#   --soak M     also the soak phase, M minutes (issue: 10); not run by default
#   --soak-only  the soak phase alone
#   --quick      smoke test
#   --keep       keep the work directory (configs, logs, captures, per-run figures)
#
# Environment: VIGILD (default <repo>/target/release/vigild, built here; when VIGILD is set
# nothing is built), KEEPALIVED (default keepalived from PATH).  Needs root, ip, tcpdump,
# keepalived (built with BFD, as Debian's is).
#
# 1. Failover on the wire.  A (priority 150, `state MASTER`) and B (100, BACKUP), VRRPv2
#    advert_int 1, VIP 192.0.2.100/24, and a bfd_instance each way at min_rx 10, min_tx 10,
#    multiplier 3.  A is kill -9'ed (its processes stopped first, so it sends nothing more);
#    from tcpdump -tt on the bridge: A's last packet of any kind (advert or BFD) -> B's first
#    advert, and -> B's first gratuitous ARP for the VIP.  A is restarted, preempts back, the
#    session comes Up again, and after a random pause the next run starts.  Pairings (A dies,
#    B takes over):
#      keepalived -> keepalived   VRRP alone: Master_Down_Interval (3.609 s), the comparison
#      vigild     -> vigild       B has `master_down_bfd peer`
#      keepalived -> vigild       the same, the dying MASTER being keepalived
#    Goal (issue): B's first advert at most 3 x 10 ms + 5 ms after A's last packet, median and
#    max.
# 2. Sessions: A runs 100 bfd_instances at min_rx 10, min_tx 10, multiplier 3 (sources
#    10.100.0.1-100, neighbours 10.100.1.1-100 on the same bridge), answered by keepalived's BFD
#    process on C; once all are Up, over the window: CPU (utime+stime of A's process tree, and
#    schedstat run time) as % of one core, RSS and PSS at the end, and sessions that went Down
#    (a false Down: nothing is cut).  A is keepalived, then vigild.
# 3. Soak (--soak): A runs 100 vrrp_instances (all MASTER, VRRPv2 advert_int 1) and one
#    bfd_instance at 10 ms x 3 to keepalived's BFD process on C, for M minutes on an idle lab;
#    the Downs each end logged (a false Down: nothing is cut), and A's CPU.  keepalived and
#    vigild as A side by side, each in its own lab.  vigild's A also runs 1,000 TCP_CHECKs
#    (100 virtual servers x 10 real servers, delay_loop 1: 1,000 connections a second) against
#    listeners on C: the host's kernel has no IPVS, so vigild runs them with an announcement
#    file (its checkers then keep the IPVS table in memory; the probes, verdicts and quorums are
#    the same). keepalived's checker process does not run without IPVS: its A has no checks.
#
# Misbehaviour (no failover, no preemption back, a session not coming Up, a speaker exiting, a
# Down in the steady window) is listed under "anomalies"; such runs give no figure.  Exit
# status: 0 figures printed and no anomaly, 1 some anomaly, 2 usage or setup error.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
KEEPALIVED=${KEEPALIVED:-keepalived}

runs=20 window=30 soak=0 quick=0 keep=0 soak_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench-bfd.sh: --runs needs a positive number" >&2; exit 2; }
                runs=$2 runs_set=1; shift ;;
        --window) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench-bfd.sh: --window needs a number of seconds" >&2; exit 2; }
                  window=$2 window_set=1; shift ;;
        --soak) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench-bfd.sh: --soak needs a number of minutes" >&2; exit 2; }
                soak=$2; shift ;;
        --quick) quick=1 ;;
        --soak-only) soak_only=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "bench-bfd.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$quick" -eq 1 ]; then
    [ -n "${runs_set:-}" ] || runs=5
    [ -n "${window_set:-}" ] || window=10
fi

die() { echo "bench-bfd.sh: $*" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=lib/bench-lab.sh
. "$HERE/lib/bench-lab.sh"
bench_prepare bench-bfd

BFD_TIMING=(min_rx=10 min_tx=10 multiplier=3)
GOAL_MS=35

# ---- phases ---------------------------------------------------------------------------

# peer_up SIDE FROM_LINE TIMEOUT: wait for the side's "(peer) Entering Up state" after FROM_LINE.
peer_up() { await_log "$1" "(peer) Entering Up state" "$3" "$2" >/dev/null; }

# phase_failover IMPL_A IMPL_B FAST: A dies, B takes over; FAST=1 gives B master_down_bfd.
phase_failover() {
    local fast=$3 i tk mb ma tr settle limit extra=''
    IMPL[a]=$1 IMPL[b]=$2
    [ "$fast" -eq 0 ] || extra='master_down_bfd peer'
    lab_setup; capture_start 'udp port 3784'
    { conf_global a; conf_bfd peer 192.0.2.2 "${BFD_TIMING[@]}"; conf_instance VI_1 state=MASTER priority=150; } >"$SDIR/a.conf"
    { conf_global b; conf_bfd peer 192.0.2.1 "${BFD_TIMING[@]}"; conf_instance VI_1 state=BACKUP priority=100 extra="$extra"; } >"$SDIR/b.conf"
    limit=$(fcalc "$(mdi 100 1) + 3")
    mb=$(log_mark b)
    bring_up "$SDIR/a.conf" "$SDIR/b.conf"
    peer_up b "$mb" 15 || fail "B's BFD session to A did not come Up within 15s: $(log_tail b "$mb" 3 | tr -s ' \n' ' ')"
    # B logs BACKUP at its start, before it has heard A: give it one advert of A first.
    nap 1.2
    : >"$SDIR/kills"
    for ((i = 1; i <= runs; i++)); do
        settle=$(fcalc "0.3 + $(rand_upto 1)")
        mb=$(log_mark b) tr=$(now)
        nap "$settle"
        if ! speaker_alive a || ! speaker_alive b; then
            anomaly "run $i: a speaker exited while A was MASTER and B BACKUP"$'\n'"$(log_tail a 0 5)"$'\n'"$(log_tail b 0 5)"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        if [ "$(transitions b "$mb")" -ne 0 ]; then
            anomaly "run $i: B changed state while A was MASTER (before the kill):"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        mb=$(log_mark b)
        tk=$(speaker_kill a)
        if await_log b "(VI_1) Entering MASTER STATE" "$limit" "$mb" >/dev/null; then
            echo "$i $tr $tk" >>"$SDIR/kills"
        else
            anomaly "run $i: after kill -9 of A, B did not log MASTER within ${limit}s:"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
        nap 0.3
        ma=$(log_mark a) mb=$(log_mark b)
        start_side a "$SDIR/a.conf"
        if ! await_log a "(VI_1) Entering MASTER STATE" "$(fcalc "$(mdi 150 1) + 5")" "$ma" >/dev/null ||
            ! await_log b "(VI_1) Entering BACKUP STATE" 3 "$mb" >/dev/null || ! peer_up b "$mb" 10; then
            anomaly "run $i: A did not preempt back, or the session did not come Up again:"$'\n'"$(log_tail a "$ma")"$'\n'"$(log_tail b "$mb")"
            restart_both "$SDIR/a.conf" "$SDIR/b.conf"; continue
        fi
    done
    nap 0.3
    capture_stop
    # Every packet of A and B in time order: "KIND TS SIDE ..." (adverts, GARPs, BFD).
    { wire_parse; bfd_parse; } | sort -k2,2g >"$SDIR/wire.txt"
    awk -v vip="$VIP4" '
        FNR == NR { n++; run[n] = $1; kill[n] = $3; next }
        { ev[++m] = $0 }
        END {
            for (k = 1; k <= n; k++) {
                end = k < n ? kill[k + 1] : 1e18
                last_a = ""; first_b = ""; garp_b = ""
                for (j = 1; j <= m; j++) {
                    split(ev[j], f, " "); ts = f[2] + 0
                    if (f[1] == "ADV" && f[3] == "b" && f[7] == 51 && ts > kill[k] && ts < end && first_b == "") first_b = ts
                    if (f[1] == "GARP" && f[3] == "b" && f[4] == vip && ts > kill[k] && ts < end && garp_b == "") garp_b = ts
                }
                # A can still send in the moment between the kill time taken and its SIGSTOP:
                # its last packet is its last one before B takes over, not before that time.
                for (j = 1; j <= m && first_b != ""; j++) {
                    split(ev[j], f, " "); ts = f[2] + 0
                    if (ts >= first_b) break
                    if (f[3] == "a" && (f[1] == "ADV" || f[1] == "BFD")) last_a = ts
                }
                printf "%d %s %s\n", run[k],
                    (last_a != "" && first_b != "") ? sprintf("%.3f", (first_b - last_a) * 1000) : "-",
                    (last_a != "" && garp_b != "") ? sprintf("%.3f", (garp_b - last_a) * 1000) : "-"
            }
        }' "$SDIR/kills" "$SDIR/wire.txt" >"$SDIR/runs"
    while read -r i da dg; do
        [ "$da" != - ] || anomaly "run $i: B logged MASTER but no advert from B after the kill on the wire"
        [ "$dg" != - ] || anomaly "run $i: no gratuitous ARP for $VIP4 from B after the kill on the wire"
    done <"$SDIR/runs"
    {
        echo "ok $(awk '$2 != "-"' "$SDIR/runs" | wc -l)"
        awk '$2 != "-" { print $2 }' "$SDIR/runs" | stats adv
        awk '$3 != "-" { print $3 }' "$SDIR/runs" | stats garp
    } >>"$SDIR/result"
}

# phase_sessions IMPL: 100 sessions of A (IMPL) answered by keepalived on C; CPU and memory.
phase_sessions() {
    local n=100 i ma t0 t1 u0 u1 deadline downs
    IMPL[a]=$1 IMPL["c"]=keepalived
    lab_setup
    for i in $(seq 1 "$n"); do
        ip -n "$NS_A" addr add "10.100.0.$i/16" dev eth0
        ip -n "$NS_C" addr add "10.100.1.$i/16" dev eth0
    done
    {
        conf_global a
        for i in $(seq 1 "$n"); do conf_bfd "s$i" "10.100.1.$i" source_ip="10.100.0.$i" "${BFD_TIMING[@]}"; done
    } >"$SDIR/a.conf"
    {
        conf_global c
        for i in $(seq 1 "$n"); do conf_bfd "s$i" "10.100.0.$i" source_ip="10.100.1.$i" "${BFD_TIMING[@]}"; done
    } >"$SDIR/c.conf"
    start_side c "$SDIR/c.conf"
    start_side a "$SDIR/a.conf"
    deadline=$(fcalc "$(now) + 30")
    until [ "$(grep -oE '\(s[0-9]+\) Entering Up state' "$SDIR/a.log" 2>/dev/null | sort -u | wc -l)" -eq "$n" ]; do
        speaker_alive a || fail "side a (${IMPL[a]}) exited at start-up: $(tail -n 3 "$SDIR/a.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "side a (${IMPL[a]}): not all $n sessions Up within 30s"
        sleep 0.2
    done
    nap 2
    ma=$(log_mark a)
    read -r -a u0 < <(tree_usage "${SPK_PID[a]}"); t0=$(now)
    nap "$window"
    read -r -a u1 < <(tree_usage "${SPK_PID[a]}"); t1=$(now)
    speaker_alive a || anomaly "the speaker exited during the ${window}s window; its log:"$'\n'"$(log_tail a 0)"
    downs=$(tail -n +"$((ma + 1))" "$SDIR/a.log" | grep -c 'Entering Down state' || true)
    [ "$downs" -eq 0 ] || anomaly "$downs sessions went Down during the ${window}s window (nothing was cut):"$'\n'"$(log_tail a "$ma")"
    {
        echo "downs $downs"
        echo "rss_kib ${u1[2]}"
        echo "pss_kib ${u1[3]}"
        echo "nproc ${u1[4]}"
        echo "cpu_tick_pct $(awk -v d="$((u1[0] - u0[0]))" -v hz="$CLK_TCK" -v w="$(fcalc "$t1 - $t0")" 'BEGIN { printf "%.4f", d / hz / w * 100 }')"
        echo "cpu_ns_pct $(awk -v d="$((u1[1] - u0[1]))" -v w="$(fcalc "$t1 - $t0")" 'BEGIN { printf "%.4f", d / 1e9 / w * 100 }')"
    } >>"$SDIR/result"
}

# conf_checks N_VS N_RS: N_VS virtual servers of N_RS real servers each, every one a TCP_CHECK
# (delay_loop 1) on C's listeners (ports 8001..8000+N_RS).
conf_checks() {
    local v r
    for v in $(seq 1 "$1"); do
        printf 'virtual_server 10.201.%d.%d 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method DR\n    protocol TCP\n' "$((v / 250))" "$((v % 250 + 1))"
        for r in $(seq 1 "$2"); do
            printf '    real_server 192.0.2.50 %d {\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n' "$((8000 + r))"
        done
        echo "}"
    done
}

# phase_soak IMPL MINUTES: 100 VRRP instances and one 10 ms session in A, MINUTES on an idle lab
# (vigild: and 1,000 checks).
phase_soak() {
    local n=100 i ma mc t0 t1 u0 u1 deadline checks=0
    IMPL[a]=$1 IMPL["c"]=keepalived
    lab_setup
    [ "$1" = vigild ] && checks=1000
    {
        conf_global a
        conf_bfd peer 192.0.2.50 "${BFD_TIMING[@]}"
        for i in $(seq 1 "$n"); do
            conf_instance "VI_$i" state=MASTER priority=150 vrid="$i" version=2 advert_int=1 vips="10.200.$((i / 250)).$((i % 250 + 1))/16"
        done
        [ "$checks" = 0 ] || conf_checks 100 10
    } >"$SDIR/a.conf"
    { conf_global c; conf_bfd peer 192.0.2.1 "${BFD_TIMING[@]}"; } >"$SDIR/c.conf"
    if [ "$checks" != 0 ]; then
        # Ten listeners on C that accept and close; and an announcement file with nothing to
        # announce (interface none, a VIP no virtual server has) so that the checks run.
        ip netns exec "${NS[c]}" python3 -c '
import selectors, socket
sel = selectors.DefaultSelector()
for p in range(8001, 8011):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("192.0.2.50", p)); s.listen(1024); s.setblocking(False); sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept(); c.close()
        except BlockingIOError:
            pass
' >"$SDIR/listeners.log" 2>&1 &
        echo "$!" >"$SDIR/listeners.pid"
        printf 'announce {\n    interface none\n    vip 10.202.0.1\n}\n' >"$SDIR/announce.conf"
        export SPK_ALL=1 SPK_ANNOUNCE=$SDIR/announce.conf
    fi
    start_side c "$SDIR/c.conf"
    start_side a "$SDIR/a.conf"
    deadline=$(fcalc "$(now) + 30")
    until [ "$(grep -oE '\(VI_[0-9]+\) Entering MASTER STATE' "$SDIR/a.log" 2>/dev/null | sort -u | wc -l)" -eq "$n" ] &&
        log_has a "(peer) Entering Up state"; do
        speaker_alive a || fail "side a (${IMPL[a]}) exited at start-up: $(tail -n 3 "$SDIR/a.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "side a (${IMPL[a]}): not all $n instances MASTER and the session Up within 30s"
        sleep 0.2
    done
    nap 2
    ma=$(log_mark a) mc=$(log_mark c)
    read -r -a u0 < <(tree_usage "${SPK_PID[a]}"); t0=$(now)
    nap "$(($2 * 60))"
    read -r -a u1 < <(tree_usage "${SPK_PID[a]}"); t1=$(now)
    speaker_alive a || anomaly "the speaker exited during the soak; its log:"$'\n'"$(log_tail a 0)"
    {
        echo "downs_a $(tail -n +"$((ma + 1))" "$SDIR/a.log" | grep -c 'Entering Down state' || true)"
        echo "downs_c $(tail -n +"$((mc + 1))" "$SDIR/c.log" | grep -c 'Entering Down state' || true)"
        echo "transitions $(transitions a "$ma")"
        echo "cpu_tick_pct $(awk -v d="$((u1[0] - u0[0]))" -v hz="$CLK_TCK" -v w="$(fcalc "$t1 - $t0")" 'BEGIN { printf "%.4f", d / hz / w * 100 }')"
        echo "minutes $(fcalc "($t1 - $t0) / 60")"
        echo "checks $checks"
        # Real servers the checks found down over the soak (none should be: C answers).
        echo "rs_down $(tail -n +"$((ma + 1))" "$SDIR/a.log" | grep -c 'TCP connection to .* failed' || true)"
    } >>"$SDIR/result"
    if [ -f "$SDIR/listeners.pid" ]; then kill "$(cat "$SDIR/listeners.pid")" 2>/dev/null || true; fi
    [ "$(get_here downs_a)" = 0 ] && [ "$(get_here downs_c)" = 0 ] ||
        anomaly "the 10 ms session went Down during the soak (a: $(get_here downs_a), c: $(get_here downs_c)):"$'\n'"$(grep -h 'Entering Down state' "$SDIR/a.log" "$SDIR/c.log" | head -n 5)"
}

# get_here KEY: a figure of this phase's result.
get_here() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$SDIR/result"; }

# ---- run ------------------------------------------------------------------------------

START=$(now)
echo "BFD benchmark: $("$KEEPALIVED" --version 2>&1 | sed -n 1p) vs $VIGILD ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))" >&2
echo "failover runs $runs per pairing; sessions window ${window}s" >&2
if [ "$soak_only" -eq 0 ]; then
    for spec in "ka_ka keepalived keepalived 0" "vg_vg vigild vigild 1" "ka_vg keepalived vigild 1"; do
        read -r name ia ib fast <<<"$spec"
        phase_spawn "failover" "$name" phase_failover "$ia" "$ib" "$fast"
        phases_wait
    done
    for impl in keepalived vigild; do
        phase_spawn sessions "$impl" phase_sessions "$impl"
        phases_wait
    done
fi
if [ "$soak" -gt 0 ]; then
    echo "soak: ${soak} minutes, keepalived and vigild side by side" >&2
    for impl in keepalived vigild; do phase_spawn soak "$impl" phase_soak "$impl" "$soak"; done
    phases_wait
fi
TOTAL=$(fcalc "$(now) - $START")

# ---- report ---------------------------------------------------------------------------

ratio() { if [ -n "$1" ] && [ -n "$2" ] && fcheck "$1 > 0"; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b / a }'; else echo -; fi; }
kib2mib() { [ -z "$1" ] || awk -v a="$1" 'BEGIN { printf "%.2f", a / 1024 }'; }

echo
echo "failover, A killed -9 (MASTER, 150) -> B (BACKUP, 100); VRRPv2 advert_int 1; BFD 10 ms x 3"
printf '%-34s %8s %14s %12s %14s %12s %10s\n' "A dies -> B takes over" runs "advert median" "advert max" "GARP median" "GARP max" "/ka median"
base=$(get failover ka_ka adv_median)
for spec in "ka_ka keepalived->keepalived(VRRP)" "vg_vg vigild->vigild(master_down_bfd)" "ka_vg keepalived->vigild(master_down_bfd)"; do
    read -r name label <<<"$spec"
    printf '%-34s %8s %14s %12s %14s %12s %10s\n' "$label" "$(get failover "$name" ok)/$runs$(mark failover "$name")" \
        "$(get failover "$name" adv_median)" "$(get failover "$name" adv_max)" \
        "$(get failover "$name" garp_median)" "$(get failover "$name" garp_max)" "$(ratio "$base" "$(get failover "$name" adv_median)")"
done
echo "(ms from A's last packet on the wire, advert or BFD; keepalived's VRRP failover waits Master_Down_Interval $(fcalc "$(mdi 100 1) * 1000") ms)"
echo
echo "100 BFD sessions at 10 ms x 3 (A), answered by keepalived on C, ${window}s window"
printf '%-40s %12s %12s %10s\n' metric keepalived vigild "vigild/ka"
for k in "processes nproc" "sessions Down in the window downs" "CPU utime+stime (% of one core) cpu_tick_pct" "CPU schedstat (% of one core) cpu_ns_pct"; do
    key=${k##* } label=${k% *}
    a=$(get sessions keepalived "$key") b=$(get sessions vigild "$key")
    printf '%-40s %12s %12s %10s\n' "$label" "${a:--}$(mark sessions keepalived)" "${b:--}$(mark sessions vigild)" "$(ratio "$a" "$b")"
done
for k in "RSS (MiB) rss_kib" "PSS (MiB) pss_kib"; do
    key=${k##* } label=${k% *}
    a=$(kib2mib "$(get sessions keepalived "$key")") b=$(kib2mib "$(get sessions vigild "$key")")
    printf '%-40s %12s %12s %10s\n' "$label" "${a:--}" "${b:--}" "$(ratio "$a" "$b")"
done

if [ "$soak" -gt 0 ]; then
    echo
    echo "soak: 100 VRRP instances and one session at 10 ms x 3 in A (vigild: and 1,000 checks), ${soak} min, idle lab"
    printf '%-40s %12s %12s %10s\n' metric keepalived vigild "vigild/ka"
    for k in "minutes minutes" "TCP_CHECKs in A (delay_loop 1) checks" "failed check attempts rs_down" "Downs logged by A downs_a" "Downs logged by the responder downs_c" "A's VRRP transitions transitions"; do
        key=${k##* } label=${k% *}
        printf '%-40s %12s %12s %10s\n' "$label" "$(get soak keepalived "$key")$(mark soak keepalived)" "$(get soak vigild "$key")$(mark soak vigild)" -
    done
    a=$(get soak keepalived cpu_tick_pct) b=$(get soak vigild cpu_tick_pct)
    printf '%-40s %12s %12s %10s\n' "A's CPU (% of one core)" "${a:--}" "${b:--}" "$(ratio "$a" "$b")"
fi

echo
echo "goal (vigild), for reference: failover at most 3 x 10 ms + 5 ms = $GOAL_MS ms, median and max"
for name in vg_vg ka_vg; do
    m=$(get failover "$name" adv_median) x=$(get failover "$name" adv_max)
    if [ -n "$m" ] && [ -n "$x" ]; then
        printf '  %s: median %s ms, max %s ms: %s\n' "$name" "$m" "$x" "$(fcheck "$m <= $GOAL_MS && $x <= $GOAL_MS" && echo met || echo 'NOT met')"
    else
        echo "  $name: no figure"
    fi
done

bad=0
bench_anomalies a b c || bad=1
echo
echo "total ${TOTAL}s"
exit "$bad"
