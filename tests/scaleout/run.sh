#!/usr/bin/env bash
# Scale-out tests: route health injection for active/active directors behind ECMP.  A router
# (BIRD 2, `merge paths on`, BFD 100 ms x 3) with an eBGP session to each of three directors;
# vigild on each director installs `VIP/32 dev lo table 100 proto 200` while the VIP's virtual
# server has its quorum and is not drained, d1 and d2 announce that table with BIRD, d3 with
# FRR (zebra import-table, bgpd redistribute table, bfdd).  No IPVS on the host: each
# director answers the client on the VIP itself (the VIP on lo).  Checked by the router's
# route (its nexthops), timestamped route monitors, vigild's log and the client's connections.
#
# Usage (as root): tests/scaleout/run.sh [--list] [--keep] [--verbose] [SCENARIO ...]
#
#   SCENARIO    run only these (default: all, in the order of --list)
#   --list      print the scenarios with a one-line description and exit
#   --keep      on failure keep the scenario's namespaces (daemons still running) and files
#   --verbose   also print the trace (steps, timings) of passing scenarios
#
# Environment:
#   VIGILD      vigild binary (default: <repo>/target/debug/vigild); VIGILCTL likewise
#   BIRD, BIRDC BIRD 2's daemon and client (default: bird, birdc from PATH; Debian's bird2)
#   FRR_DIR     FRR's daemons (default: /usr/lib/frr; Debian's frr), VTYSH (default: vtysh)
#   D3          d3's routing daemon: frr (default) or bird (every director on BIRD)
#
# Each scenario runs in a subshell with a fresh lab (namespaces vsoPID-sw, -rt, -cl, -rs,
# -d1, -d2, -d3; see lib.sh and README.md), torn down by an EXIT trap (SIGTERM, SIGKILL after
# 5 s).  Output: "PASS name (time)" with the measured figures under it, "FAIL name (time):
# reason" with the trace and the logs' tails, or "SKIP name (not run): reason", then
# "N passed, M failed, K skipped".  Timings are printed, never judged.  Exit status: 0 none
# failed, 1 some failed, 2 usage or setup error (not root, a binary missing).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VIGILD=${VIGILD:-$REPO/target/debug/vigild}
VIGILCTL=${VIGILCTL:-$(dirname "$VIGILD")/vigilctl}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=../lib/scenarios.sh
. "$HERE/../lib/scenarios.sh"

SCENARIOS=(engines healthy quorum kill9 linkcut drain flap)

describe() {
    case $1 in
        engines) echo "no vigild: host routes put in table 100 by hand reach the router through BIRD (d1, d2) and FRR (d3) as three ECMP nexthops, routes of another protocol do not; each deleted by hand: its nexthop goes" ;;
        healthy) echo "(a) vigild on three directors, all real servers up: VIP on lo and VIP/32 in table 100 proto 200 on each, three nexthops at the router, the client's new connections answered by all three" ;;
        quorum) echo "(b) one of d1's two real servers down: the route stays (quorum 1); the second down: d1's nexthop goes (timed from vigild's verdict); both back: it returns; same for d3 (FRR)" ;;
        kill9) echo "(c) kill -9 of vigild on d2: its route stays in table 100 and at the router; vigild --withdraw removes it; a restarted vigild removes a stale route of its protocol, keeps others', reinstalls the VIP's; SIGTERM withdraws" ;;
        linkcut) echo "(d) a director's front link cut (d1 with BIRD, d3 with FRR): the router's BFD drops its nexthop (timed); link back: the nexthop returns" ;;
        drain) echo "(e) vigilctl drain on d2: its nexthop goes, no new connection lands there, a long-lived one to it finishes; undrain: back; drain of the VIP kept across reload and restart" ;;
        flap) echo "(f) d1's real servers flap faster than retry allows: no route change; slower than the checker: each nexthop change at the router matches a quorum verdict of vigild" ;;
        *) return 1 ;;
    esac
}

keep=0
verbose=0
selected=()
while [ $# -gt 0 ]; do
    case $1 in
        --list) for s in "${SCENARIOS[@]}"; do printf '%-10s %s\n' "$s" "$(describe "$s")"; done; exit 0 ;;
        --keep) keep=1 ;;
        --verbose|-v) verbose=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
        *) describe "$1" >/dev/null || { echo "run.sh: unknown scenario '$1' (try --list)" >&2; exit 2; }
           selected+=("$1") ;;
    esac
    shift
done
[ ${#selected[@]} -gt 0 ] || selected=("${SCENARIOS[@]}")

die() { echo "run.sh: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces); you are $(id -un), uid $(id -u)"
for tool in ip awk timeout python3 pgrep "$BIRD" "$BIRDC" "$VTYSH"; do
    command -v "$tool" >/dev/null || die "'$tool' not found (Debian: apt-get install bird2 frr iproute2 procps python3)"
done
for d in zebra bgpd bfdd; do [ -x "$FRR_DIR/$d" ] || die "FRR's $d not found in $FRR_DIR (Debian: apt-get install frr)"; done
id frr >/dev/null 2>&1 || die "no user 'frr' (Debian's frr package creates it)"
[ -x "$VIGILD" ] || die "vigild binary not found at '$VIGILD' (cargo build -p vigild -p vigilctl, or set VIGILD=)"
[ -x "$VIGILCTL" ] || die "vigilctl binary not found at '$VIGILCTL' (or set VIGILCTL=)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-scaleout.XXXXXX")
NS_REGISTRY=$WORK/namespaces
: >"$NS_REGISTRY"
kept=0

cleanup() {
    local rc=$? ns pid
    set +e
    if [ "$kept" -eq 0 ]; then
        # shellcheck disable=SC2013  # one namespace name (no blanks) a line
        for ns in $(sort -u "$NS_REGISTRY" 2>/dev/null); do
            [ -e "/run/netns/$ns" ] || continue
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
        done
        sleep 1
        for ns in $(sort -u "$NS_REGISTRY" 2>/dev/null); do
            [ -e "/run/netns/$ns" ] || continue
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
            ip netns delete "$ns" 2>/dev/null
        done
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
interrupted=0
trap 'interrupted=1' INT TERM

need_announce() {
    has_announce || skip "this vigild has no --announce-config (route health injection not built in): $VIGILD"
}

# ---- scenarios -----------------------------------------------------------------------------

scenario_engines() {
    lab_setup
    local d t0 t
    for d in "${DIRECTORS[@]}"; do
        make_local "$d"
        # Another protocol's route in the same table: not vigild's, not announced by BIRD.
        ip -n "${NS[$d]}" route add 10.250.0.99/32 dev lo table "$TABLE" proto static
        ip -n "${NS[$d]}" route add "$VIP/32" dev lo table "$TABLE" proto "$RTPROTO"
    done
    wait_nexthops "d1 d2 d3" 10 >/dev/null
    trace "router's route: $(ip -n "${NS[rt]}" -o route show exact "$VIP/32")"
    # BIRD filters on krt_source; FRR's import-table takes the whole table (see README.md).
    [[ $(ip -n "${NS[rt]}" route show exact 10.250.0.99/32) == *10.250.4.1[12]* ]] &&
        fail "router: a BIRD director announced the proto-static route 10.250.0.99 from table $TABLE"
    local counts
    counts=$(client_count 60)
    trace "60 connections: $(tr '\n' ' ' <<<"$counts")"
    for d in "${DIRECTORS[@]}"; do
        [ "$(count_of "$d" "$counts")" -gt 0 ] || fail "no connection of 60 reached $d ($(tr '\n' ' ' <<<"$counts"))"
    done
    [ "$(count_of error "$counts")" -eq 0 ] || fail "connections failed: $(tr '\n' ' ' <<<"$counts")"
    for d in d3 d1; do
        t0=$(now)
        ip -n "${NS[$d]}" route del "$VIP/32" table "$TABLE" proto "$RTPROTO"
        t=$(rt_event gone "$d" "$t0" 10)
        figure "$d (${ENGINE[$d]}): route deleted from table $TABLE by hand -> nexthop gone at the router: $(ms "$t0" "$t") ms"
    done
    wait_nexthops "d2" 2 >/dev/null
    t0=$(now)
    ip -n "${NS[d3]}" route add "$VIP/32" dev lo table "$TABLE" proto "$RTPROTO"
    t=$(rt_event back d3 "$t0" 10)
    figure "d3 (${ENGINE[d3]}): route added by hand -> nexthop back at the router: $(ms "$t0" "$t") ms"
}

scenario_healthy() {
    need_announce
    lab_setup
    all_up
    local d r counts
    for d in "${DIRECTORS[@]}"; do
        has_vip "$d" || fail "$d: $VIP is not local (on or via ${VIP_IF[$d]})"
        r=$(table_route "$d")
        [[ $r == *"dev ${VIP_IF[$d]}"*"proto $RTPROTO"* ]] || fail "$d: table $TABLE has '${r:-nothing}' for $VIP, expected '$VIP dev ${VIP_IF[$d]} proto $RTPROTO ...'"
    done
    figure "router: $(ip -n "${NS[rt]}" -o route show exact "$VIP/32" | tr -s ' \t\\' ' ')"
    counts=$(client_count 60)
    figure "60 new connections: $(tr '\n' ' ' <<<"$counts")"
    for d in "${DIRECTORS[@]}"; do
        [ "$(count_of "$d" "$counts")" -gt 0 ] || fail "no connection of 60 reached $d: $(tr '\n' ' ' <<<"$counts")"
    done
    [ "$(count_of error "$counts")" -eq 0 ] || fail "connections failed: $(tr '\n' ' ' <<<"$counts")"
    expect_nexthops "d1 d2 d3" 3
}

scenario_quorum() {
    need_announce
    lab_setup
    all_up
    local d r
    for d in d1 d3; do
        r=$(measure_quorum_loss "$d")
        read -r total tbl prop src <<<"$r"
        figure "$d (${ENGINE[$d]}): verdict -> nexthop gone at the router $total ms (verdict -> route out of table $TABLE $tbl ms, table -> router $prop ms); verdict from $src"
    done
    expect_nexthops "d1 d2 d3" 2
}

scenario_kill9() {
    need_announce
    lab_setup
    all_up
    local d=d2 r t0 t
    vigild_kill "$d" >/dev/null
    sleep 3
    r=$(table_route "$d")
    [ -n "$r" ] || fail "$d: the VIP's route left table $TABLE although vigild was killed with SIGKILL"
    figure "after kill -9 of vigild on $d, for 3 s: table $TABLE still has '$r'; router: $(nexthops) ($(ip -n "${NS[rt]}" -o route show exact "$VIP/32" | tr -s ' \t\\' ' '))"
    [ "$(nexthops)" = "d1 d2 d3" ] || fail "router: nexthops '$(nexthops)' after kill -9, expected the stale d2 to stay"
    # What systemd's ExecStopPost does.
    ip -n "${NS[$d]}" route add 10.250.0.222/32 dev lo table "$TABLE" proto "$RTPROTO"
    t0=$(now)
    vigild_withdraw "$d" || fail "vigild --withdraw exited $?"
    [ -z "$(proto_routes "$d")" ] || fail "$d: after vigild --withdraw, table $TABLE still has: $(proto_routes "$d" | tr '\n' ';')"
    t=$(rt_event gone "$d" "$t0" 10)
    figure "vigild --withdraw -> nexthop gone at the router: $(ms "$t0" "$t") ms"
    wait_nexthops "d1 d3" 2 >/dev/null
    # Left over from a previous run: one of vigild's (removed at start), one of another
    # protocol (kept).
    ip -n "${NS[$d]}" route add 10.250.0.222/32 dev lo table "$TABLE" proto "$RTPROTO"
    ip -n "${NS[$d]}" route add 10.250.0.223/32 dev lo table "$TABLE" proto static
    t0=$(now)
    vigild_start "$d"
    t=$(wait_nexthops "d1 d2 d3" 20)
    figure "restart of vigild on $d -> nexthop back at the router: $(ms "$t0" "$t") ms"
    for _ in $(seq 20); do [ -z "$(ip -n "${NS[$d]}" route show table "$TABLE" exact 10.250.0.222/32)" ] && break; sleep 0.1; done
    [ -z "$(ip -n "${NS[$d]}" route show table "$TABLE" exact 10.250.0.222/32)" ] ||
        fail "$d: the restarted vigild left the stale proto-$RTPROTO route 10.250.0.222 in table $TABLE"
    [ -n "$(ip -n "${NS[$d]}" route show table "$TABLE" exact 10.250.0.223/32)" ] ||
        fail "$d: the restarted vigild removed 10.250.0.223 (proto static, not its own) from table $TABLE"
    r=$(proto_routes "$d")
    [ "$(wc -l <<<"$r")" -eq 1 ] && [[ $r == "$VIP dev ${VIP_IF[$d]}"* ]] || fail "$d: table $TABLE proto $RTPROTO after the restart: '$r', expected the VIP's route alone"
    t0=$(vigild_term "$d")
    t=$(rt_event gone "$d" "$t0" 10)
    [ -z "$(proto_routes "$d")" ] || fail "$d: vigild stopped by SIGTERM left in table $TABLE: $(proto_routes "$d" | tr '\n' ';')"
    figure "SIGTERM of vigild on $d -> nexthop gone at the router: $(ms "$t0" "$t") ms"
}

scenario_linkcut() {
    need_announce
    lab_setup
    all_up
    local d r
    for d in d1 d3; do
        r=$(measure_linkcut "$d")
        figure "$d (${ENGINE[$d]}): front link cut -> nexthop gone at the router $(cut -d' ' -f1 <<<"$r") ms (BFD 100 ms x 3); link back -> all three nexthops again in $(cut -d' ' -f2 <<<"$r") ms"
    done
}

# slow_start TAG SECONDS DIR: a long-lived connection from the client that lands on DIR
# (reconnecting until the router's hash picks DIR); waits until it is there; prints its
# source port.
slow_start() {
    local out="$SDIR/slow-$1" line
    rm -f "$out"
    bg_start cl "slow-$1" "$SDIR/slow-$1.err" python3 "$FLOWS" slow "$VIP" "$VPORT" "$2" "$out" "$3" 60
    for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
    line=$(head -n 1 "$out" 2>/dev/null)
    [[ $line == "director $3 sport "* ]] || fail "long-lived connection $1: '${line:-nothing}' (wanted one to $3)"
    echo "${line##* }"
}

# slow_result TAG TIMEOUT: waits for the long-lived connection's end; prints "done LINES" or
# "broken LINES REASON".
slow_result() {
    local out="$SDIR/slow-$1" last
    for _ in $(seq $(($2 * 10))); do
        last=$(sed -n 2p "$out" 2>/dev/null)
        [ -z "$last" ] || break
        sleep 0.1
    done
    [ -n "$last" ] || fail "long-lived connection $1 did not end within $2 s"
    cut -d' ' -f2- <<<"$last"
}

scenario_drain() {
    need_announce
    lab_setup
    all_up
    local d=d2 pa pb t0 t counts ra rb mark a
    # Connection A is pinned to d2 at the router (a policy rule on its 5-tuple: what a
    # stateful upstream or resilient hashing with sticky flows gives); B is not, so a
    # plain ECMP router re-hashes it when d2's nexthop goes.
    pa=$(slow_start A 6 "$d")
    ip -n "${NS[rt]}" route add "$VIP/32" via "$(front_ip "$d")" table 201
    ip -n "${NS[rt]}" rule add pref 100 from "$CLIENT_IP" to "$VIP" ipproto tcp sport "$pa" dport "$VPORT" lookup 201
    pb=$(slow_start B 6 "$d")
    trace "long-lived connections to $d: A from port $pa (pinned), B from port $pb"
    sleep 0.5
    t0=$(now)
    vctl "$d" drain >"$SDIR/drain.out" 2>&1 || fail "vigilctl drain failed: $(tr '\n' ' ' <"$SDIR/drain.out")"
    t=$(rt_event gone "$d" "$t0" 10)
    figure "vigilctl drain on $d -> nexthop gone at the router: $(ms "$t0" "$t") ms"
    wait_nexthops "d1 d3" 2 >/dev/null
    [ -z "$(table_route "$d")" ] || fail "$d: drained, but table $TABLE still has the VIP's route"
    has_vip "$d" || fail "$d: drain made $VIP no longer local (its open connections need it)"
    counts=$(client_count 60)
    trace "drained: 60 new connections: $(tr '\n' ' ' <<<"$counts")"
    [ "$(count_of "$d" "$counts")" -eq 0 ] || fail "drained $d still got $(count_of "$d" "$counts") of 60 new connections"
    [ "$(count_of error "$counts")" -eq 0 ] || fail "connections failed while $d was drained: $(tr '\n' ' ' <<<"$counts")"
    figure "while $d is drained, 60 new connections: $(tr '\n' ' ' <<<"$counts")"
    ra=$(slow_result A 15)
    rb=$(slow_result B 15)
    figure "long-lived connection to $d pinned at the router: $ra; unpinned (plain ECMP re-hashes it to another director): $rb"
    [[ $ra == done* ]] || fail "the long-lived connection to the drained $d did not finish: $ra"
    ip -n "${NS[rt]}" rule del pref 100
    t0=$(now)
    vctl "$d" undrain >"$SDIR/undrain.out" 2>&1 || fail "vigilctl undrain failed: $(tr '\n' ' ' <"$SDIR/undrain.out")"
    t=$(rt_event back "$d" "$t0" 10)
    figure "vigilctl undrain -> nexthop back at the router: $(ms "$t0" "$t") ms"
    counts=$(client_count 60)
    [ "$(count_of "$d" "$counts")" -gt 0 ] || fail "undrained $d got none of 60 new connections: $(tr '\n' ' ' <<<"$counts")"
    # Drain by VIP, kept across a reload and a restart.
    vctl "$d" drain "$VIP" >"$SDIR/drain2.out" 2>&1 || fail "vigilctl drain $VIP failed: $(tr '\n' ' ' <"$SDIR/drain2.out")"
    wait_nexthops "d1 d3" 5 >/dev/null
    grep -q "$VIP" "$SDIR/$d/state/runtime.json" 2>/dev/null ||
        fail "the drain of $VIP is not in \$VIGIL_STATE_DIR/runtime.json: $(cat "$SDIR/$d/state/runtime.json" 2>&1)"
    vctl "$d" reload >"$SDIR/reload.out" 2>&1 || fail "vigilctl reload failed: $(tr '\n' ' ' <"$SDIR/reload.out")"
    expect_nexthops "d1 d3" 3
    vigild_term "$d" >/dev/null
    mark=$(log_mark "$d")
    t0=$(now)
    vigild_start "$d"
    # Until both real servers' first checks have passed, then some more: the quorum is there.
    for a in $(rs_ips "$d"); do wait_log "$d" "TCP connection to \\[$a\\].*success" 10 "$mark" >/dev/null; done
    expect_nexthops "d1 d3" 3
    [ -z "$(table_route "$d")" ] || fail "$d: restarted while drained, vigild put the VIP's route back in table $TABLE"
    [ -z "$(rt_changes "$d" "$t0" "$(now)")" ] || fail "router: $d's nexthop came back after the restart: $(rt_changes "$d" "$t0" "$(now)" | tr '\n' ';')"
    vctl "$d" undrain "$VIP" >"$SDIR/undrain2.out" 2>&1 || fail "vigilctl undrain $VIP failed: $(tr '\n' ' ' <"$SDIR/undrain2.out")"
    wait_nexthops "d1 d2 d3" 5 >/dev/null
}

scenario_flap() {
    need_announce
    lab_setup
    all_up
    local d=d1 a b t0 t1 i fails ch n mark verdicts
    read -r a b <<<"$(rs_ips "$d")"
    # Phase 1: down 0.4 s every 1.7 s.  With delay_loop 1, retry 1, delay_before_retry 1 a
    # real server is down after two failed attempts 1 s apart, and no two instants 1 s apart
    # both fall in a 0.4 s outage of a 1.7 s period: the checker must never call them down.
    mark=$(log_mark "$d")
    t0=$(now)
    for i in $(seq 7); do
        rs_down "$a" "$b"; sleep 0.4
        rs_up "$a" "$b"; sleep 1.3
    done
    t1=$(now)
    fails=$(tail -n +"$((mark + 1))" "$SDIR/$d-vigild.log" | grep -cE "$ATTEMPT_FAILED_RE" || true)
    ch=$(rt_changes "$d" "$t0" "$t1")
    figure "fast flapping (0.4 s down every 1.7 s, 12 s): $fails failed attempts in vigild's log, $(grep -c . <<<"$ch" || true) nexthop changes at the router"
    [ -z "$ch" ] || fail "router: $d's nexthop changed while its real servers flapped faster than retry 1 allows: $(tr '\n' ';' <<<"$ch")"
    [ "$(nexthops)" = "d1 d2 d3" ] || fail "router: nexthops '$(nexthops)' after fast flapping"
    # Else the flapping never met a check and proved nothing.
    [ "$fails" -gt 0 ] || fail "vigild logged no failed attempt ('TCP connection to ... failed') during fast flapping"
    [ -z "$(log_times "$d" "$RS_DOWN_RE" "$mark")" ] ||
        fail "vigild called a real server down during fast flapping: $(tail -n +"$((mark + 1))" "$SDIR/$d-vigild.log" | grep -m1 -E "$RS_DOWN_RE")"
    # Phase 2: down 4 s, up 3 s, three times: each outage is long enough for a verdict (at
    # most 1 s to the next check + 1 s retry), each recovery too.  Every nexthop change at
    # the router must follow a quorum verdict of vigild, alternating gone/back, no more than
    # one per outage and one per recovery.
    mark=$(log_mark "$d")
    t0=$(now)
    for i in 1 2 3; do
        rs_down "$a" "$b"; sleep 4
        rs_up "$a" "$b"; sleep 3
    done
    t1=$(now)
    ch=$(rt_changes "$d" "$t0" "$t1")
    n=$(grep -c . <<<"$ch" || true)
    local lost gained pairs
    lost=$(log_times "$d" "$QUORUM_LOST_RE" "$mark")
    gained=$(log_times "$d" "$QUORUM_GAINED_RE" "$mark")
    figure "slow flapping (4 s down / 3 s up, 3 times): $n nexthop changes at the router ($(awk '{ printf "%s%s", s, $2; s = "," }' <<<"$ch")); vigild: $(grep -c . <<<"$lost" || true) 'Lost quorum', $(grep -c . <<<"$gained" || true) 'Gained quorum'"
    [ "$n" -eq 6 ] || fail "router: $n changes of $d's nexthop over 3 outages, expected 6 (gone, back, three times): $(tr '\n' ';' <<<"$ch")"
    [ "$(awk '{ printf "%s ", $2 }' <<<"$ch")" = "gone back gone back gone back " ] || fail "router: changes out of order: $(tr '\n' ';' <<<"$ch")"
    # Each change at the router follows its verdict: the k-th "gone" the k-th Lost quorum,
    # the k-th "back" the k-th Gained quorum, within 2 s.
    pairs=$(paste -d' ' <(awk '$2 == "gone" { print $1 }' <<<"$ch") <(printf '%s\n' "$lost") <(awk '$2 == "back" { print $1 }' <<<"$ch") <(printf '%s\n' "$gained"))
    [ "$(grep -c . <<<"$lost" || true)" -eq 3 ] && [ "$(grep -c . <<<"$gained" || true)" -eq 3 ] ||
        fail "vigild logged $(grep -c . <<<"$lost" || true) 'Lost quorum' and $(grep -c . <<<"$gained" || true) 'Gained quorum' over 3 outages, expected 3 and 3"
    awk '{ if ($1 < $2 || $1 - $2 > 2 || $3 < $4 || $3 - $4 > 2) exit 1 }' <<<"$pairs" ||
        fail "router changes do not follow vigild's verdicts (router gone, Lost quorum, router back, Gained quorum): $(tr '\n' ';' <<<"$pairs")"
    figure "verdict -> router change (ms), per outage: $(awk '{ printf "%s%d/%d", s, ($1 - $2) * 1000, ($3 - $4) * 1000; s = ", " }' <<<"$pairs") (gone/back)"
    figure "time between successive changes at the router (ms): $(awk 'NR > 1 { printf "%s%d", s, ($1 - p) * 1000; s = " " } { p = $1 }' <<<"$ch")"
    wait_nexthops "d1 d2 d3" 5 >/dev/null
}

# ---- runner ----------------------------------------------------------------------------------

NAME_WIDTH=10
lab_namespaces() { echo "${NS[*]}"; }
lab_failure_logs() {
    local f
    for f in "$1"/d?-vigild.log "$1"/rt-bird.log "$1"/d3-frr.log; do
        [ -f "$f" ] || continue
        echo "last lines of $(basename "$f"):"; tail -n 12 "$f"
    done
    echo "router's route monitor (last lines):"; tail -n 8 "$1/rt-routes.mon" 2>/dev/null
}

echo "scale-out harness: $VIGILD; $("$BIRD" --version 2>&1 | head -n 1); FRR $("$FRR_DIR/zebra" --version 2>&1 | sed -n 's/^zebra version //p')"
has_announce || echo "note: $VIGILD has no --announce-config: only the scenarios without vigild run"
run_scenarios "${selected[@]}"
