#!/usr/bin/env bash
# VRRP failover tests: two VRRP speakers (keepalived 2.2.7 and/or Vigil's vigild)
# in network namespaces on a bridge, driven through election, failover,
# preemption, tracking and protocol variants, checked by their logs, by which
# namespace holds the VIP, by a client's ARP cache and by a tcpdump capture.
#
# Usage (as root): tests/vrrp/run.sh [--list] [--keep] [--verbose] [A=IMPL] [B=IMPL] [SCENARIO ...]
#
#   SCENARIO    run only these (default: all, in the order of --list)
#   A=IMPL      implementation of director A: keepalived (default) or vigild;
#   B=IMPL      same for director B.  Also read from the environment (A=vigild ...).
#   --list      print the scenarios with a one-line description and exit
#   --keep      on failure keep the scenario's namespaces (speakers still
#               running), logs and capture, and print where they are
#   --verbose   also print the trace (steps, timings) of passing scenarios
#
# Environment:
#   VIGILD      vigild binary (default: <repo>/target/debug/vigild)
#   SMTP_SINK   the SMTP sink for smtp_alert (default: examples/smtp_sink beside vigild;
#               built by `cargo test` or `cargo build -p vigil-check --examples`)
#   KEEPALIVED  keepalived binary (default: keepalived from PATH)
#   FRR_BFDD    FRR's bfdd for bfd_frr (default: /usr/lib/frr/bfdd, Debian's package frr;
#               with vtysh from PATH)
#
# Each scenario runs in its own subshell with a fresh lab (vigil-br-PID,
# vigil-a-PID, vigil-b-PID, vigil-c-PID; see lib.sh), torn down by an EXIT
# trap.  Output: "PASS name (time)", "FAIL name (time): reason" or "SKIP name
# (not run): reason" per scenario (a failure also prints the scenario's trace and the tail
# of both logs; a skipped scenario, one that does not apply to this pairing or
# kernel, ran nothing), then "N passed, M failed, K skipped".  Exit status: 0
# none failed, 1 some failed, 2 usage or setup error (not root, a binary
# missing, ...).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VIGILD=${VIGILD:-$REPO/target/debug/vigild}
SMTP_SINK=${SMTP_SINK:-$(dirname "$VIGILD")/examples/smtp_sink}
VIGILCTL=${VIGILCTL:-$(dirname "$VIGILD")/vigilctl}
KEEPALIVED=${KEEPALIVED:-keepalived}
FRR_BFDD=${FRR_BFDD:-/usr/lib/frr/bfdd}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=../lib/scenarios.sh
. "$HERE/../lib/scenarios.sh"

SCENARIOS=(election failover_kill failover_term preempt nopreempt preempt_delay sync_group
    track_interface vrrp_script unicast ipv6 v2_auth v3_fast garp_pacing vip_dev vmac vmac6 virtual_routes no_ipvs smtp_alert reload reload_edits stalled_backup notify_removed vip_add_fails vip_removed split_brain dynamic_interface checksum old_checksum unicast_pitfalls
    bfd_session track_bfd bfd_frr bfd_fast_failover)

describe() {
    case $1 in
        election) echo "both 'state MASTER' (150 vs 100, VRRPv2 1s): the higher one stays MASTER, VIP and ARP answers only there, only its adverts on the wire" ;;
        failover_kill) echo "kill -9 the MASTER: BACKUP takes the VIP Master_Down_Interval after the last advert (+0.6s), GARP from it, no priority-0 advert" ;;
        failover_term) echo "SIGTERM the MASTER: priority-0 advert on the wire, BACKUP takes over after ~Skew_Time, VIP removed from the old MASTER" ;;
        preempt) echo "the higher-priority one comes back and preempts: VIP back, GARP from it, the other returns to BACKUP" ;;
        nopreempt) echo "nopreempt, both 'state BACKUP': the returning higher-priority one stays BACKUP and silent, VIP stays put" ;;
        preempt_delay) echo "preempt_delay 3: the returning higher-priority one waits ~3s before taking over, the other stays MASTER meanwhile" ;;
        sync_group) echo "sync group of two instances: kill -9 moves both, restart moves both back, tracked eth1 down on one member moves both" ;;
        track_interface) echo "track_interface eth1 down: MASTER enters FAULT and drops the VIP, the other takes over; link up: it comes back" ;;
        vrrp_script) echo "a failing vrrp_script (weight -100) lowers the MASTER's advertised priority and the other takes over; recovery preempts back" ;;
        unicast) echo "unicast_peer mode: adverts go to the peer's address (none to 224.0.0.18), election and kill -9 failover work" ;;
        ipv6) echo "IPv6 VRRPv3 (VIP 2001:db8::100/64): adverts to ff02::12, unsolicited NA from the MASTER, SIGTERM failover" ;;
        v2_auth) echo "VRRPv2 with PASS authentication: password on the wire, accepted both ways (no 'invalid passwd'), kill -9 failover timing for v2" ;;
        vip_dev) echo "a VIP with 'dev eth1' goes on eth1 of the MASTER only (not eth0), moves on SIGTERM failover and is removed from the old MASTER" ;;
        vmac6) echo "use_vmac on both sides for IPv6 (VIP 2001:db8::100/64): vrrp.51 with MAC 00:00:5e:00:02:33, the VIP on the MASTER's, adverts from that MAC and from eth0's link-local address; SIGTERM failover moves the VIP to the other's vmac" ;;
        vmac) echo "use_vmac on both sides, strict rp_filter: a private macvlan vrrp.51 with MAC 00:00:5e:00:01:33 on each, the VIP on the MASTER's, adverts, GARP and ARP replies from that MAC; SIGTERM failover moves the VIP to the other's vmac, removes the old MASTER's and puts its all.rp_filter back" ;;
        virtual_routes) echo "virtual_routes/virtual_rules only on the MASTER (proto keepalived), moved by SIGTERM failover; static routes, rules and addresses on both until stop, a deleted static address put back; a route there before start stays" ;;
        smtp_alert) echo "smtp_alert: each side mails its MASTER transition to an SMTP sink on the client (subject and body as keepalived writes them), and the sync group's" ;;
        no_ipvs) echo "virtual_servers on this kernel without IPVS: vigild (both subsystems) logs one clear IPVS error, VRRP elects and fails over as usual" ;;
        dynamic_interface) echo "(vigild on a) VI_2's interface eth1 does not exist at start: VI_1 runs meanwhile; eth1 created with its address: VI_2 starts without a restart and becomes MASTER with its VIP on eth1" ;;
        split_brain) echo "the link between the directors cut (b off the bridge, its own link up): both MASTER; restored: b steps down within Master_Down_Interval; with a vigild loser (its last advert) the winner sends fresh GARP; the client ends on a" ;;
        vip_removed) echo "the MASTER's VIP deleted behind its back (ip addr del, as NetworkManager does): vigild adds it again at once and sends GARP; no transition; counted in the status" ;;
        reload) echo "ten reloads of each vigild (SIGHUP and vigilctl reload): VI_1 unchanged keeps its state, adverts every 0.5s and sends no GARP; VI_2's priority changed in place; an invalid file keeps everything running and vigilctl reload exits 1 with file:line; status JSON and the SIGUSR1 dump" ;;
        vip_add_fails) echo "(vigild on a) a MASTER that cannot add its VIP (no CAP_NET_ADMIN) goes to FAULT and says why, sends no gratuitous ARP for it, b holds the VIP; a tries again later and fails the same way" ;;
        reload_edits) echo "(vigild MASTER on a) 50 seeded random in-place edits (VIPs added, removed and changed in every syntax keepalived accepts, priority, garp, preempt_delay, notify) reloaded on both sides, B first; sampled every ~10ms: every kept VIP always on a, none ever on b, no state change, no GARP for a kept VIP (RELOAD_SEED, RELOAD_EDITS)" ;;
        notify_removed) echo "side a alone: a reload removes VI_1 (no notify_deleted: 'INSTANCE VI_1 FAULT' to notify, notify_fault not run) and VI_2 (notify_deleted SCRIPT: the script and 'INSTANCE VI_2 DELETED'); at the stop VI_3's notify_stop and 'INSTANCE VI_3 STOP' once each: the same lines from keepalived and vigild" ;;
        stalled_backup) echo "the BACKUP stopped (SIGSTOP) for 5s, longer than Master_Down_Interval, while a advertises: at SIGCONT the adverts waiting in its socket are heard before its timer (as keepalived does), so it stays BACKUP, holds no VIP and sends no advert" ;;
        checksum) echo "VRRPv3/IPv4 checksum readings: a vigild sending v3_checksum_as_v2 is accepted by a vigild peer (which logs the reading and shows it in the status) and dropped by keepalived 2.2 (two MASTERs); back to the pseudo-header by reload, one MASTER again" ;;
        old_checksum) echo "unicast VRRPv3, a sends keepalived's old unicast checksum (old_unicast_checksum): b accepts it and switches to it ('Setting unicast VRRPv3 checksum to old version'); b's adverts after a failover are accepted by the restarted a" ;;
        unicast_pitfalls) echo "unicast pair tracking eth1: a vigild side refuses an empty and a self-only unicast_peer list (vigild -t, file:line); eth1 down on a: FAULT, b MASTER; eth1 up: a MASTER again with fresh gratuitous ARP; a vigild status shows when each unicast peer was last heard" ;;
        bfd_session) echo "bfd_instance on both directors (10ms x3): both Up, Control packets both ways with TTL 255 at ~10ms once Up; link cut and kill -9 of b: a Down (Control Detection Time Expired); restored: Up again" ;;
        track_bfd) echo "a tracks a BFD session to a keepalived BFD responder on the client: FAULT until Up, then MASTER; responder stopped: FAULT, b MASTER; back: a preempts; weight -60: a advertises 90 and b takes over" ;;
        bfd_fast_failover) echo "(vigild on b) master_down_bfd: a's BFD (1s x 3) silenced while its adverts still arrive: b logs why it does not take over and stays BACKUP; BFD reloaded to 10ms x 3: a cut off the bridge, then kill -9 of a: each time b takes over when its session falls (~30ms after a's last packet, not Master_Down_Interval 3.6s)" ;;
        bfd_frr) echo "FRR's bfdd on the client as both directors' BFD peer (10ms x3): Up on both ends, FRR's 'show bfd peers' shows both sides' timers; a stopped: its peer down in FRR (b's stays up); a back: up" ;;
        garp_pacing) echo "gratuitous ARPs spaced on the wire: a MASTER with vrrp_garp_interval 0.05 and 3 VIPs x 5 repeats sends 4 frames (the first at once, then one waiting per VIP, as keepalived) at least 50ms apart; after a SIGTERM failover b, whose garp_group sets garp_interval 0.08 on eth0, spaces its 4 80ms apart" ;;
        v3_fast) echo "VRRPv3 advert_int 0.05: ~50ms between adverts on the wire (intvl 5cs), no flapping, fast kill -9 failover" ;;
        *) return 1 ;;
    esac
}

keep=0
verbose=0
selected=()
IMPL[a]=${A:-keepalived}
IMPL[b]=${B:-keepalived}
while [ $# -gt 0 ]; do
    case $1 in
        --list) for s in "${SCENARIOS[@]}"; do printf '%-16s %s\n' "$s" "$(describe "$s")"; done; exit 0 ;;
        --keep) keep=1 ;;
        --verbose|-v) verbose=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        A=*) IMPL[a]=${1#A=} ;;
        B=*) IMPL[b]=${1#B=} ;;
        -*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
        *) describe "$1" >/dev/null || { echo "run.sh: unknown scenario '$1' (try --list)" >&2; exit 2; }
           selected+=("$1") ;;
    esac
    shift
done
[ ${#selected[@]} -gt 0 ] || selected=("${SCENARIOS[@]}")

die() { echo "run.sh: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces); you are $(id -un), uid $(id -u)"
for tool in ip tcpdump awk timeout; do command -v "$tool" >/dev/null || die "'$tool' not found"; done
for side in a b; do
    case ${IMPL[$side]} in
        keepalived) command -v "$KEEPALIVED" >/dev/null || die "keepalived not found (set KEEPALIVED=/path/to/keepalived)" ;;
        vigild) [ -x "$VIGILD" ] || die "vigild binary not found at '$VIGILD' (cargo build, or set VIGILD=/path/to/vigild)" ;;
        *) die "side ${side^^}: unknown implementation '${IMPL[$side]}' (keepalived or vigild)" ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-vrrp.XXXXXX")
NS_REGISTRY=$WORK/namespaces
: >"$NS_REGISTRY"
kept=0

cleanup() {
    local rc=$? ns pid
    set +e
    # Namespaces a scenario subshell could not remove itself (it was killed).
    if [ "$kept" -eq 0 ]; then
        # shellcheck disable=SC2013  # one namespace name (no blanks) a line
        for ns in $(sort -u "$NS_REGISTRY" 2>/dev/null); do
            [ -e "/run/netns/$ns" ] || continue
            # SIGTERM, then SIGKILL for what did not end within a second.
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
            sleep 1
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
            ip netns delete "$ns" 2>/dev/null
            rm -f "/run/vigil/vigild-$ns.sock"
        done
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
# A Ctrl-C reaches the running scenario (same process group), which cleans up
# after itself; the main loop then stops instead of going on.
interrupted=0
trap 'interrupted=1' INT TERM

# ---- scenarios -------------------------------------------------------------------
# Each runs in a subshell (run_one) with SDIR set; it sets the lab up itself and
# ends by returning (pass), through fail/an error (fail), or, when it does not
# apply to this pairing or kernel, through skip before setting anything up.

# Master_Down_Interval and Skew_Time as RFC 5798 defines them (VRRPv2, RFC 3768,
# uses Skew_Time = (256 - Priority) / 256 s, i.e. the same with advert_int 1).
skew() { fcalc "(256 - $1) * $2 / 256"; }
mdi() { fcalc "3 * $2 + (256 - $1) * $2 / 256"; }

# bring_up CONF_A CONF_B INST ADDR: start A alone until it is MASTER, then B,
# until B is BACKUP (a deterministic start, without a dual-MASTER race).
bring_up() {
    speaker_start a "$1"
    wait_started a "$3"
    expect_master a "$3" "$4" 15
    speaker_start b "$2"
    wait_started b "$3"
    expect_master a "$3" "$4" 10
}

# check_gap WHAT GAP LOW HIGH: LOW <= GAP <= HIGH (seconds).
check_gap() {
    trace "$1: ${2}s (expected ${3}..${4}s)"
    fcheck "$2 >= $3 && $2 <= $4" || fail "$1 was ${2}s, expected ${3}..${4}s"
}

scenario_election() {
    lab_setup; capture_start
    { conf_global a; conf_instance VI_1 state=MASTER priority=150; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 state=MASTER priority=100; } >"$SDIR/b.conf"
    speaker_start a "$SDIR/a.conf"
    speaker_start b "$SDIR/b.conf"
    wait_started a VI_1; wait_started b VI_1
    expect_master a VI_1 "$VIP4" 15
    expect_stable 2
    expect_master a VI_1 "$VIP4" 1
    local owner t
    owner=$(client_arp "$VIP4")
    [ "$owner" = a ] || fail "client resolved $VIP4 to '${owner:-nothing}', expected side a's MAC"
    t=$(now); sleep 2.5
    [ "$(wire count ADV b vrid=51 "ts>$t")" -eq 0 ] || fail "side b (BACKUP) sent adverts"
    [ "$(wire count ADV a vrid=51 prio=150 ver=2 "ts>$t")" -ge 2 ] || fail "fewer than 2 VRRPv2 prio-150 adverts from side a in 2.5s"
    check_no_rejects a b
}

# The standard pair used by the failover scenarios: VRRPv3, advert_int 0.5.
ADV=0.5
write_pair() {
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV "$@"; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV "$@"; } >"$SDIR/b.conf"
}

scenario_failover_kill() {
    lab_setup; capture_start
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    local owner tk mb last_a first_b garp gap m
    owner=$(client_arp "$VIP4")
    [ "$owner" = a ] || fail "client resolved $VIP4 to '${owner:-nothing}' before failover, expected a"
    sleep 1
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    wait_vip b "$VIP4" 2 >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 0.3
    last_a=$(wire last ADV a vrid=51)
    first_b=$(wire first ADV b vrid=51 "ts>$tk")
    [ -n "$first_b" ] || fail "no advert from side b after the kill"
    m=$(mdi 100 $ADV)
    gap=$(fcalc "$first_b - $last_a")
    check_gap "last advert of a -> first advert of b (Master_Down_Interval $m)" "$gap" "$(fcalc "$m - 0.15")" "$(fcalc "$m + 0.6")"
    [ "$(wire count ADV a prio=0)" -eq 0 ] || fail "side a sent a priority-0 advert although it was killed with SIGKILL"
    garp=$(wire first GARP b "addr=$VIP4" "ts>$tk")
    [ -n "$garp" ] || fail "no gratuitous ARP for $VIP4 from side b after the failover"
    check_gap "first advert of b -> its first GARP" "$(fcalc "$garp - $first_b")" -0.5 1
    # Side a's kernel still has the VIP (its speaker was killed): the client is
    # moved by the GARPs, not by a new resolution.
    sleep 0.2
    owner=$(client_neigh "$VIP4")
    [ "$owner" = b ] || fail "client's ARP entry for $VIP4 is '${owner:-none}' after the GARPs, expected b"
    check_no_rejects b
}

scenario_failover_term() {
    lab_setup; capture_start
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1
    local tt mb p0 first_b gap s owner garp
    mb=$(log_mark b)
    tt=$(speaker_term a)
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    has_vip a "$VIP4" && fail "side a left $VIP4 on eth0 after SIGTERM"
    sleep 0.3
    p0=$(wire first ADV a vrid=51 prio=0 "ts>$tt")
    [ -n "$p0" ] || fail "no priority-0 advert from side a after SIGTERM"
    first_b=$(wire first ADV b vrid=51 "ts>$p0")
    [ -n "$first_b" ] || fail "no advert from side b after the priority-0 advert"
    s=$(skew 100 $ADV)
    gap=$(fcalc "$first_b - $p0")
    check_gap "priority-0 advert of a -> first advert of b (Skew_Time $s, Master_Down_Interval $(mdi 100 $ADV))" "$gap" 0 "$(fcalc "$s + 0.35")"
    garp=$(wire first GARP b "addr=$VIP4" "ts>$p0")
    [ -n "$garp" ] || fail "no gratuitous ARP for $VIP4 from side b after the failover"
    owner=$(client_arp "$VIP4")
    [ "$owner" = b ] || fail "client resolved $VIP4 to '${owner:-nothing}', expected b"
    check_no_rejects b
}

scenario_preempt() {
    lab_setup; capture_start
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    local ma mb ts tm first_a garp owner
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 1
    ma=$(log_mark a) mb=$(log_mark b)
    ts=$(now)
    speaker_start a "$SDIR/a.conf"
    tm=$(wait_log a "(VI_1) Entering MASTER STATE" 6 "$ma")
    wait_log b "(VI_1) Entering BACKUP STATE" 3 "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    # RFC 5798 6.4.2: a Backup discards lower-priority adverts (it does not
    # reset its Master_Down_Timer on them), so it takes over when that timer,
    # started at start-up, fires.
    check_gap "restart of a -> a MASTER" "$(fcalc "$tm - $ts")" "$(fcalc "$(mdi 150 $ADV) - 0.3")" "$(fcalc "$(mdi 150 $ADV) + 0.6")"
    sleep 0.3
    first_a=$(wire first ADV a vrid=51 prio=150 "ts>$ts")
    [ -n "$first_a" ] || fail "no advert from side a after its restart"
    garp=$(wire first GARP a "addr=$VIP4" "ts>$ts")
    [ -n "$garp" ] || fail "no gratuitous ARP for $VIP4 from side a after preempting"
    owner=$(client_arp "$VIP4")
    [ "$owner" = a ] || fail "client resolved $VIP4 to '${owner:-nothing}', expected a"
    expect_stable 1.5
    check_no_rejects a b
}

scenario_nopreempt() {
    lab_setup; capture_start
    write_pair nopreempt=1
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    local ma mb ts
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    ma=$(log_mark a)
    ts=$(now)
    speaker_start a "$SDIR/a.conf"
    wait_log a "(VI_1) Entering BACKUP STATE" 6 "$ma" >/dev/null
    # Several Master_Down_Intervals: a hears b's lower-priority adverts and
    # must not take over.
    expect_stable 5
    expect_master b VI_1 "$VIP4" 1
    [ "$(log_state a VI_1)" = BACKUP ] || fail "side a is $(log_state a VI_1), expected BACKUP"
    [ "$(wire count ADV a "ts>$ts")" -eq 0 ] || fail "side a (BACKUP, nopreempt) sent adverts after its restart"
    check_no_rejects a b
}

scenario_preempt_delay() {
    lab_setup; capture_start
    local delay=3 ma mb ts tm waited
    write_pair preempt_delay=$delay
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    ma=$(log_mark a) mb=$(log_mark b)
    ts=$(now)
    speaker_start a "$SDIR/a.conf"
    wait_log a "(VI_1) Entering BACKUP STATE" 5 "$ma" >/dev/null
    sleep 1.5
    # Half-way through the delay b must still be MASTER.
    log_has a "(VI_1) Entering MASTER STATE" "$ma" && fail "side a took over before preempt_delay ($delay s) passed"
    expect_master b VI_1 "$VIP4" 0.5
    tm=$(wait_log a "(VI_1) Entering MASTER STATE" $((delay + 4)) "$ma")
    waited=$(fcalc "$tm - $ts")
    check_gap "restart of a -> a MASTER (preempt_delay $delay)" "$waited" "$(fcalc "$delay - 0.3")" "$(fcalc "$delay + $(mdi 150 $ADV) + 1")"
    wait_log b "(VI_1) Entering BACKUP STATE" 3 "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    check_no_rejects a b
}

# Two instances in a sync group; VI_1 also tracks eth1.
write_sync_pair() {
    local s p
    for s in a b; do
        p=150; [ $s = a ] || p=100
        {
            conf_global $s
            conf_sync_group G1 VI_1 VI_2
            conf_instance VI_1 vrid=51 priority=$p version=3 advert_int=$ADV vips="$VIP4/24" track_interface=eth1
            conf_instance VI_2 vrid=52 priority=$p version=3 advert_int=$ADV vips="$VIP4B/24"
        } >"$SDIR/$s.conf"
    done
}

expect_both_master() {
    expect_master "$1" VI_1 "$VIP4" "${2:-5}"
    expect_master "$1" VI_2 "$VIP4B" "${2:-5}"
}

scenario_sync_group() {
    lab_setup eth1; capture_start
    write_sync_pair
    local ma mb tk t1 t2
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    expect_both_master a 15
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    expect_both_master a 5
    sleep 1
    trace "phase 1: kill -9 a"
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    t1=$(wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb")
    t2=$(wait_log b "(VI_2) Entering MASTER STATE" 6 "$mb")
    expect_both_master b 3
    check_gap "VI_1 vs VI_2 takeover on b" "$(fcalc "$t1 > $t2 ? $t1 - $t2 : $t2 - $t1")" 0 0.5
    trace "phase 2: restart a"
    ma=$(log_mark a) mb=$(log_mark b)
    speaker_start a "$SDIR/a.conf"
    wait_log a "(VI_1) Entering MASTER STATE" 8 "$ma" >/dev/null
    wait_log a "(VI_2) Entering MASTER STATE" 8 "$ma" >/dev/null
    expect_both_master a 5
    sleep 1
    trace "phase 3: eth1 (tracked by VI_1 only) down on a"
    ma=$(log_mark a) mb=$(log_mark b)
    link_down a eth1
    wait_log a "(VI_1) Entering FAULT STATE" 5 "$ma" >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    wait_log b "(VI_2) Entering MASTER STATE" 6 "$mb" >/dev/null
    expect_both_master b 5
    [ "$(log_state a VI_2)" != MASTER ] || fail "side a: VI_2 still MASTER while its sync-group peer VI_1 is in FAULT"
    wait_no_vip a "$VIP4B" 2
    check_no_rejects a b
}

scenario_track_interface() {
    lab_setup eth1; capture_start
    write_pair track_interface=eth1
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1
    local ma mb td tb
    ma=$(log_mark a) mb=$(log_mark b)
    td=$(now)
    link_down a eth1
    wait_log a "(VI_1) Entering FAULT STATE" 5 "$ma" >/dev/null
    tb=$(wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb")
    expect_master b VI_1 "$VIP4" 3
    wait_no_vip a "$VIP4" 2
    [ "$(log_state a VI_1)" = FAULT ] || fail "side a is $(log_state a VI_1), expected FAULT"
    check_gap "link down on a -> b MASTER (log)" "$(fcalc "$tb - $td")" 0 "$(fcalc "$(mdi 100 $ADV) + 1")"
    # keepalived sends a priority-0 advert when leaving MASTER for FAULT, so b
    # takes over after Skew_Time; not required here, only traced.
    trace "priority-0 adverts from a after link down: $(wire count ADV a prio=0 "ts>$td")"
    ma=$(log_mark a)
    link_up a eth1
    wait_log a "(VI_1) Entering MASTER STATE" 8 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    check_no_rejects a b
}

scenario_vip_dev() {
    lab_setup eth1
    local extra=192.0.2.150 mb
    write_pair vip_dev=$extra/32@eth1
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    has_vip a "$extra" eth1 || fail "side a (MASTER) does not hold $extra on eth1"
    has_vip a "$extra" eth0 && fail "side a put $extra on eth0, not on its dev eth1"
    has_vip b "$extra" eth1 && fail "side b (BACKUP) holds $extra on eth1"
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    has_vip b "$extra" eth1 || fail "side b (new MASTER) does not hold $extra on eth1"
    has_vip a "$extra" eth1 && fail "side a left $extra on eth1 after SIGTERM"
    check_no_rejects a b
}

VMAC4=00:00:5e:00:01:33

# vmac_link SIDE: `ip -d link show` of the side's vrrp.51; fails when it does not exist.
vmac_link() { ip -n "${NS[$1]}" -d link show dev vrrp.51 2>/dev/null; }

scenario_vmac() {
    lab_setup; capture_start
    write_pair extra=use_vmac
    local s link t mb tt p0 first_b
    # Strict reverse-path filtering, as some distributions set it: each side must lower
    # all.rp_filter for its vmac to hear the other's adverts, and put it back at stop.
    for s in a b; do ip netns exec "${NS[$s]}" sysctl -qw net.ipv4.conf.all.rp_filter=1; done
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    wait_vip a "$VIP4" 15 vrrp.51 >/dev/null
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    for s in a b; do
        link=$(vmac_link "$s") || fail "side $s (${IMPL[$s]}) has no vrrp.51"
        [[ $link == *"link/ether $VMAC4 "* ]] || fail "side $s's vrrp.51 does not have MAC $VMAC4: $link"
        [[ $link == *"macvlan mode private"* ]] || fail "side $s's vrrp.51 is not a private macvlan: $link"
        has_vip "$s" "$VIP4" && fail "side $s put $VIP4 on eth0, not on vrrp.51"
    done
    [ "$(log_state b VI_1)" = BACKUP ] || fail "side b is $(log_state b VI_1), expected BACKUP"
    has_vip b "$VIP4" vrrp.51 && fail "side b (BACKUP) holds $VIP4 on vrrp.51"
    sleep 1.5
    [ "$(wire count ADV "$VMAC4" vrid=51 src=192.0.2.1)" -ge 2 ] || fail "fewer than 2 adverts of side a from $VMAC4"
    [ "$(wire count ADV a vrid=51)" -eq 0 ] || fail "side a sent adverts from eth0's MAC"
    [ "$(log_state b VI_1)" = BACKUP ] || fail "side b did not stay BACKUP: it does not hear a's adverts on its vmac"
    # The answer on the wire: the MASTER's own ARP requests that follow (for the client, from
    # eth0 with the VIP as sender, keepalived's and vigild's alike) may move the client's entry.
    t=$(now)
    client_arp "$VIP4" >/dev/null
    sleep 0.2
    [ -n "$(wire first ARPREPLY "$VMAC4" "addr=$VIP4" "ts>$t")" ] || fail "no ARP reply for $VIP4 from $VMAC4"
    [ -z "$(wire first ARPREPLY a "addr=$VIP4" "ts>$t")" ] || fail "side a answered ARP for $VIP4 with eth0's MAC"
    mb=$(log_mark b)
    tt=$(speaker_term a)
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    wait_vip b "$VIP4" 2 vrrp.51 >/dev/null
    if vmac_link a >/dev/null; then fail "side a (${IMPL[a]}) left vrrp.51 after SIGTERM"; fi
    [ "$(ip netns exec "$NS_A" sysctl -n net.ipv4.conf.all.rp_filter)" = 1 ] ||
        fail "side a (${IMPL[a]}) did not put net.ipv4.conf.all.rp_filter back to 1 at stop"
    sleep 1.2
    p0=$(wire first ADV "$VMAC4" vrid=51 prio=0 src=192.0.2.1 "ts>$tt")
    [ -n "$p0" ] || fail "no priority-0 advert from side a's vmac after SIGTERM"
    first_b=$(wire first ADV "$VMAC4" vrid=51 src=192.0.2.2 "ts>$p0")
    [ -n "$first_b" ] || fail "no advert of side b from $VMAC4 after the failover"
    [ -n "$(wire first GARP "$VMAC4" "addr=$VIP4" "ts>$p0")" ] || fail "no gratuitous ARP from $VMAC4 after the failover"
    check_no_rejects b
}

scenario_vmac6() {
    lab_setup; capture_start
    write_pair vips="$VIP6/64" extra=use_vmac
    local vmac6=00:00:5e:00:02:33 link ll_a ll_b mb tt first_b
    ll_a=$(ip -n "$NS_A" -6 -o addr show dev eth0 scope link | awk '{ sub(/\/.*/, "", $4); print $4 }')
    ll_b=$(ip -n "$NS_B" -6 -o addr show dev eth0 scope link | awk '{ sub(/\/.*/, "", $4); print $4 }')
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    wait_vip a "$VIP6" 15 vrrp.51 >/dev/null
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    link=$(vmac_link a) || fail "side a (${IMPL[a]}) has no vrrp.51"
    [[ $link == *"link/ether $vmac6 "* ]] || fail "side a's vrrp.51 does not have MAC $vmac6: $link"
    sleep 1.5
    [ "$(log_state b VI_1)" = BACKUP ] || fail "side b did not stay BACKUP: it does not hear a's adverts on its vmac"
    [ "$(wire count ADV "$vmac6" vrid=51 ver=3 src="$ll_a" dst=ff02::12)" -ge 2 ] ||
        fail "fewer than 2 adverts of side a from $vmac6 and $ll_a"
    [ -n "$(wire first NA "$vmac6" "addr=$VIP6")" ] || fail "no neighbour advertisement for $VIP6 from $vmac6"
    mb=$(log_mark b)
    tt=$(speaker_term a)
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    wait_vip b "$VIP6" 2 vrrp.51 >/dev/null
    if vmac_link a >/dev/null; then fail "side a (${IMPL[a]}) left vrrp.51 after SIGTERM"; fi
    sleep 1.2
    first_b=$(wire first ADV "$vmac6" vrid=51 src="$ll_b" "ts>$tt")
    [ -n "$first_b" ] || fail "no advert of side b from $vmac6 and $ll_b after the failover"
    check_no_rejects b
}

# The entries of scenario virtual_routes, as "ip ARGS|LINE": `ip -n NS ARGS`
# must (or must not) list LINE (whitespace squeezed).
VR_VIRTUAL=(
    "route show proto keepalived|198.51.100.0/24 via 192.0.2.50 dev eth0"
    "route show proto keepalived|blackhole 203.0.113.0/24"
    "route show proto keepalived|198.18.0.0/15 via 192.0.2.50 dev eth0"
    "route show table 100 proto keepalived|default via 192.0.2.50 dev eth0"
    "rule show|100: from 192.0.2.100 lookup 100 proto keepalived"
)
VR_STATIC=(
    "route show proto keepalived|10.99.0.0/16 via 192.0.2.50 dev eth0"
    "rule show|200: from 192.0.2.0/24 lookup 200 proto keepalived"
)
# Added with iproute2's default protocol (boot) before either speaker starts:
# the same destination and gateway as a virtual route, another route to the kernel.
VR_BEFORE="route show 198.18.0.0/15 proto boot|198.18.0.0/15 via 192.0.2.50 dev eth0"
# For a vigild side only, also added before start and with protocol keepalived:
# identical to a virtual route, so vigild's add finds it (EEXIST) and must leave it.
# (keepalived takes every proto keepalived route for its own and removes it.)
VR_IDENTICAL="route show table 100 proto keepalived|192.0.2.192/26 via 192.0.2.50 dev eth0"

# kernel_lists SIDE "ARGS|LINE": does `ip -n NS ARGS` list LINE?
kernel_lists() {
    local out args
    read -ra args <<<"${2%%|*}"
    out=$(ip -n "${NS[$1]}" "${args[@]}" 2>/dev/null) || return 1
    awk -v want="${2#*|}" '{ gsub(/[ \t]+/, " "); sub(/ $/, "") } $0 == want { found = 1 } END { exit !found }' <<<"$out"
}

# wait_kernel SIDE present|absent TIMEOUT ENTRY...: wait until every entry is
# listed (present) or none is (absent).
wait_kernel() {
    local side=$1 want=$2 timeout=$3 deadline e bad
    shift 3
    deadline=$(fcalc "$(now) + $timeout")
    while :; do
        bad=
        for e in "$@"; do
            if kernel_lists "$side" "$e"; then [ "$want" = present ] || bad=$e; else [ "$want" = absent ] || bad=$e; fi
            [ -z "$bad" ] || break
        done
        [ -n "$bad" ] || { trace "side $side: $# entries $want"; return 0; }
        fcheck "$(now) < $deadline" || fail "side $side (${IMPL[$side]}): 'ip ${bad%%|*}' does not match the wanted state ($want) of '${bad#*|}' after ${timeout}s"
        sleep 0.05
    done
}

scenario_virtual_routes() {
    lab_setup
    local s mb n
    local routes="198.51.100.0/24 via 192.0.2.50;blackhole 203.0.113.0/24;0.0.0.0/0 via 192.0.2.50 table 100"
    routes+=";198.18.0.0/15 via 192.0.2.50;192.0.2.192/26 via 192.0.2.50 table 100"
    for s in a b; do
        ip -n "${NS[$s]}" route add 198.18.0.0/15 via 192.0.2.50
        if [ "${IMPL[$s]}" = vigild ]; then
            ip -n "${NS[$s]}" route add 192.0.2.192/26 via 192.0.2.50 table 100 proto keepalived
        fi
    done
    write_pair routes="$routes" rules="from $VIP4/32 table 100 priority 100"
    for s in a b; do
        conf_static "10.99.0.0/16 via 192.0.2.50" "from 192.0.2.0/24 table 200 priority 200" >>"$SDIR/$s.conf"
        # With dev, and without: keepalived's default interface, eth0.
        n=1
        [ "$s" = a ] || n=2
        conf_static_addresses "10.99.$n.7/24 dev eth0 label eth0:st" "10.98.$n.7/24" >>"$SDIR/$s.conf"
    done
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    wait_kernel a present 2 "${VR_VIRTUAL[@]}" "${VR_STATIC[@]}" "$VR_BEFORE"
    wait_kernel b present 2 "${VR_STATIC[@]}" "$VR_BEFORE"
    wait_kernel b absent 0 "${VR_VIRTUAL[@]}"
    # Static addresses on both sides whatever their state; one deleted by hand on the BACKUP
    # comes back ("Restoring deleted static address").
    wait_vip a 10.99.1.7 2 >/dev/null
    wait_vip a 10.98.1.7 2 >/dev/null
    wait_vip b 10.99.2.7 2 >/dev/null
    wait_vip b 10.98.2.7 2 >/dev/null
    [[ $(ip -n "${NS[b]}" -o addr show dev eth0) =~ \ 10\.99\.2\.7/24\ [^$'\n']*\ eth0:st ]] ||
        fail "side b (${IMPL[b]}): static address 10.99.2.7/24 lacks its label eth0:st"
    mb=$(log_mark b)
    ip -n "${NS[b]}" addr del 10.99.2.7/24 dev eth0
    wait_vip b 10.99.2.7 2 >/dev/null
    wait_log b "Restoring deleted static address" 2 "$mb" >/dev/null
    # A reload that changes one static address: that one moves, the other stays.
    sed -i 's|10\.98\.2\.7/24|10.98.2.8/24|' "$SDIR/b.conf"
    kill -HUP "${SPK_PID[b]}"
    wait_vip b 10.98.2.8 4 >/dev/null
    wait_no_vip b 10.98.2.7 2
    has_vip b 10.99.2.7 || fail "side b (${IMPL[b]}): static address 10.99.2.7 gone after a reload that kept it"
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    wait_kernel b present 2 "${VR_VIRTUAL[@]}" "${VR_STATIC[@]}" "$VR_BEFORE"
    # Stopped: its virtual and static entries removed, the route from before start kept.
    wait_kernel a absent 0 "${VR_VIRTUAL[@]}" "${VR_STATIC[@]}"
    wait_kernel a present 0 "$VR_BEFORE"
    wait_no_vip a 10.99.1.7 0
    wait_no_vip a 10.98.1.7 0
    has_vip b 10.99.2.7 || fail "side b (${IMPL[b]}): static address 10.99.2.7 gone while it runs"
    for s in a b; do
        [ "${IMPL[$s]}" = vigild ] || continue
        wait_kernel "$s" present 0 "$VR_IDENTICAL"
        log_has "$s" "192.0.2.192/26 via 192.0.2.50 table 100 was already present" ||
            fail "side $s (vigild) did not log that 192.0.2.192/26 was already present"
    done
    check_no_rejects a b
}

scenario_vrrp_script() {
    lab_setup; capture_start
    local flag="$SDIR/a.healthy" ma mb tr tp
    touch "$flag"
    {
        conf_global a scripts
        conf_script chk_flag "/usr/bin/test -f $flag" interval=1 weight=-100 fall=1 rise=1
        conf_instance VI_1 priority=150 version=3 advert_int=$ADV track_script=chk_flag
    } >"$SDIR/a.conf"
    { conf_global b scripts; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1
    [ "$(wire count ADV a vrid=51 prio=150)" -gt 0 ] || fail "side a never advertised priority 150"
    ma=$(log_mark a) mb=$(log_mark b)
    tr=$(now)
    rm -f "$flag"
    trace "removed $flag"
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    wait_log a "(VI_1) Entering BACKUP STATE" 3 "$ma" >/dev/null
    expect_master b VI_1 "$VIP4" 3
    sleep 0.3
    tp=$(wire first ADV a vrid=51 prio=50 "ts>$tr")
    [ -n "$tp" ] || fail "side a never advertised the lowered priority 50 (150 - 100)"
    check_gap "flag removed -> priority 50 on the wire" "$(fcalc "$tp - $tr")" 0 2.5
    ma=$(log_mark a) mb=$(log_mark b)
    touch "$flag"
    trace "created $flag"
    wait_log a "(VI_1) Entering MASTER STATE" 6 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    check_no_rejects a b
}

scenario_unicast() {
    lab_setup; capture_start
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV src=192.0.2.1 peers=192.0.2.2; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV src=192.0.2.2 peers=192.0.2.1; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1
    local mb tk last_a first_b m
    [ "$(wire count ADV a vrid=51 dst=192.0.2.2)" -gt 0 ] || fail "no unicast advert from side a to 192.0.2.2"
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 0.6
    last_a=$(wire last ADV a vrid=51)
    first_b=$(wire first ADV b vrid=51 "ts>$tk")
    [ -n "$first_b" ] || fail "no advert from side b after the kill"
    m=$(mdi 100 $ADV)
    check_gap "last advert of a -> first advert of b (Master_Down_Interval $m)" "$(fcalc "$first_b - $last_a")" "$(fcalc "$m - 0.15")" "$(fcalc "$m + 0.6")"
    [ "$(wire count ADV b vrid=51 dst=192.0.2.1 "ts>$tk")" -gt 0 ] || fail "no unicast advert from side b to 192.0.2.1"
    [ "$(wire count ADV - dst=224.0.0.18)" -eq 0 ] || fail "multicast adverts to 224.0.0.18 in unicast mode"
    check_no_rejects b
}

scenario_ipv6() {
    lab_setup; capture_start
    write_pair vips="$VIP6/64"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP6"
    sleep 1
    local mb tt p0 first_b
    [ "$(wire count ADV a vrid=51 ver=3 dst=ff02::12)" -gt 0 ] || fail "no VRRPv3 advert from side a to ff02::12"
    wire list ADV a vrid=51 | awk '$4 !~ /^fe80:/ { bad = 1 } END { exit bad }' || fail "side a sent IPv6 adverts from a non-link-local source"
    [ -n "$(wire first NA a "addr=$VIP6")" ] || fail "no neighbour advertisement for $VIP6 from side a"
    mb=$(log_mark b)
    tt=$(speaker_term a)
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP6" 2
    has_vip a "$VIP6" && fail "side a left $VIP6 on eth0 after SIGTERM"
    sleep 0.3
    p0=$(wire first ADV a vrid=51 prio=0 "ts>$tt")
    [ -n "$p0" ] || fail "no priority-0 advert from side a after SIGTERM"
    first_b=$(wire first ADV b vrid=51 "ts>$p0")
    [ -n "$first_b" ] || fail "no advert from side b after a's priority-0 advert"
    check_gap "priority-0 advert of a -> first advert of b" "$(fcalc "$first_b - $p0")" 0 "$(fcalc "$(skew 100 $ADV) + 0.35")"
    [ -n "$(wire first NA b "addr=$VIP6" "ts>$p0")" ] || fail "no neighbour advertisement for $VIP6 from side b after the failover"
    check_no_rejects b
}

scenario_v2_auth() {
    lab_setup; capture_start
    local pass=Vig1lPw mb tk last_a first_b m
    { conf_global a; conf_instance VI_1 priority=150 version=2 advert_int=1 auth=PASS:$pass; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=2 advert_int=1 auth=PASS:$pass; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1.5
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) Entering MASTER STATE" 8 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 0.3
    last_a=$(wire last ADV a vrid=51)
    first_b=$(wire first ADV b vrid=51 ver=2 "ts>$tk")
    [ -n "$first_b" ] || fail "no VRRPv2 advert from side b after the kill"
    m=$(mdi 100 1)
    check_gap "last advert of a -> first advert of b (Master_Down_Interval $m)" "$(fcalc "$first_b - $last_a")" "$(fcalc "$m - 0.15")" "$(fcalc "$m + 0.6")"
    # b's password is checked by a: restart a; it must preempt (accepting b's
    # adverts) and log no invalid passwd.
    local ma
    ma=$(log_mark a)
    speaker_start a "$SDIR/a.conf"
    wait_log a "(VI_1) Entering MASTER STATE" 8 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    local ip
    for ip in 192.0.2.1 192.0.2.2; do
        tcpdump -r "$SDIR/wire.pcap" -nn -v 'vrrp' 2>/dev/null |
            grep -F "$ip > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio" |
            grep -F "authtype simple, intvl 1s, length 20, addrs: $VIP4 auth \"$pass\"" >/dev/null ||
            fail "no VRRPv2 advert from $ip with 'authtype simple ... auth \"$pass\"' on the wire"
    done
    check_no_rejects a b
}

scenario_no_ipvs() {
    [ ! -e /proc/net/ip_vs ] || skip "this kernel has IPVS; the scenario needs one without it"
    lab_setup
    local vs side mb
    vs=$'virtual_server 192.0.2.200 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n    real_server 192.0.2.201 80 {\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n}'
    write_pair
    for side in a b; do echo "$vs" >>"$SDIR/$side.conf"; done
    # keepalived runs its VRRP process only (-P): its checker would exit at start here.
    SPK_ALL=1 bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    for side in a b; do
        [ "${IMPL[$side]}" = vigild ] || continue
        log_has "$side" "IPVS: IPVS is not available in this kernel (load the ip_vs module); the health checkers are not started" ||
            fail "side $side: no clear IPVS error"
        [ "$(grep -c 'IPVS' "$SDIR/$side.log")" -eq 1 ] || fail "side $side: more than one IPVS line: $(grep IPVS "$SDIR/$side.log" | head -n 3)"
    done
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    check_no_rejects b
}

# The mail lines (Subject and body) that FILE holds for SUBJECT.
mail_of() { awk -v subj="Subject: $2" '$0 == subj { on = 1 } on { print } on && $0 == "." { exit }' "$1"; }

# wait_mail FILE SUBJECT SIDE DEADLINE: until DEADLINE for a mail with SUBJECT (a fixed
# string) from SIDE.
wait_mail() {
    until grep -qxF "Subject: $2" "$1" 2>/dev/null; do
        fcheck "$(now) < $4" || fail "no '$2' mail from side $3 (${IMPL[$3]}); mails: $(grep -h Subject "$1" 2>/dev/null | tr '\n' ';')"
        sleep 0.1
    done
}

scenario_smtp_alert() {
    [ -x "$SMTP_SINK" ] || fail "no SMTP sink at $SMTP_SINK (cargo build -p vigil-check --examples)"
    lab_setup
    local side mails="$SDIR/mails" body mb deadline
    ip netns exec "$NS_C" "$SMTP_SINK" 192.0.2.50:2525 "$mails" >"$SDIR/sink.out" 2>&1 &
    for side in a b; do
        {
            echo "global_defs {"
            echo "    router_id lb-$side"
            echo "    notification_email {"
            echo "        ops@example.org"
            echo "    }"
            echo "    notification_email_from lb-$side@example.org"
            echo "    smtp_server 192.0.2.50 2525"
            echo "    smtp_connect_timeout 5"
            echo "}"
            conf_sync_group G1 VI_1 VI_2
            conf_instance VI_1 priority="$([ $side = a ] && echo 150 || echo 100)" version=3 advert_int=$ADV
            conf_instance VI_2 priority="$([ $side = a ] && echo 150 || echo 100)" version=3 advert_int=$ADV vrid=52 \
                vips="$VIP4B/24"
        } | sed -e '/^vrrp_instance VI_1 {/a\    smtp_alert' -e '/^vrrp_sync_group G1 {/a\    smtp_alert' >"$SDIR/$side.conf"
    done
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    mb=$(log_mark b)
    speaker_term a >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    for side in a b; do
        deadline=$(fcalc "$(now) + 5")
        wait_mail "$mails" "[lb-$side] VRRP Instance VI_1 - Entering MASTER state" "$side" "$deadline"
        body=$(mail_of "$mails" "[lb-$side] VRRP Instance VI_1 - Entering MASTER state")
        trace "mail from side $side (${IMPL[$side]}): $(echo "$body" | tr '\n' '|')"
        grep -qxF "=> VRRP Instance is now owning VRRP VIPs <=" <<<"$body" || fail "side $side's MASTER mail lacks the body line: $body"
        grep -q "^From: lb-$side@example.org" "$mails" || fail "side $side's mails are not from lb-$side@example.org"
        wait_mail "$mails" "[lb-$side] VRRP Group G1 - Entering MASTER state" "$side" "$deadline"
        body=$(mail_of "$mails" "[lb-$side] VRRP Group G1 - Entering MASTER state")
        grep -qxF "=> All VRRP group instances are now in MASTER state <=" <<<"$body" ||
            fail "side $side's group mail lacks the body line: $body"
    done
    # VI_2 has no smtp_alert of its own and none in global_defs: no mail for it.
    if grep -q "VRRP Instance VI_2" "$mails"; then fail "a mail for VI_2, which has no smtp_alert"; fi
    trace "all subjects: $(grep -h '^Subject' "$mails" | tr '\n' ';')"
}

# The largest gap (s) between successive adverts from SIDE for VRID after AFTER_TS.
adv_max_gap() {
    wire list ADV "$1" "vrid=$2" "ts>$3" | awk 'NR > 1 && $2 - t > m { m = $2 - t } { t = $2 } END { printf "%.3f\n", m }'
}

# json_get FILE EXPR: a value from a JSON file (EXPR is Python on `d`, the document).
json_get() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }

scenario_reload() {
    [ "${IMPL[a]}" = vigild ] || [ "${IMPL[b]}" = vigild ] || skip "no vigild in this pairing: nothing to reload"
    lab_setup; capture_start
    local side conf i t0 gap out rc vigil=() prio
    declare -A mark
    for side in a b; do
        prio=$([ $side = a ] && echo 150 || echo 100)
        {
            conf_global "$side"
            conf_instance VI_1 priority="$prio" version=3 advert_int=$ADV
            conf_instance VI_2 priority="$prio" version=3 advert_int=$ADV vrid=52 vips="$VIP4B/24"
        } >"$SDIR/$side.conf"
        [ "${IMPL[$side]}" != vigild ] || vigil+=("$side")
    done
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    expect_master a VI_2 "$VIP4B" 5
    # After the second burst of gratuitous ARPs (garp_master_delay, 5 s after MASTER).
    sleep 5.5
    t0=$(now)
    for side in a b; do mark[$side]=$(log_mark "$side"); done
    for i in $(seq 10); do
        for side in "${vigil[@]}"; do
            conf=$SDIR/$side.conf
            # A line at the top moves every block: nothing changes.
            sed -i "1i # reload $i" "$conf"
            # The tenth changes VI_2's priority on side a (still above b's 100).
            [ "$i" -lt 10 ] || [ "$side" != a ] ||
                sed -i '/^vrrp_instance VI_2 {/,/^}/s/priority 150/priority 140/' "$conf"
            out=$(log_mark "$side")
            if [ $((i % 2)) -eq 1 ]; then
                kill -HUP "${SPK_PID[$side]}"
            else
                ip netns exec "${NS[$side]}" "$VIGILCTL" reload >"$SDIR/reload-$side-$i.out" ||
                    fail "side $side: vigilctl reload $i failed: $(cat "$SDIR/reload-$side-$i.out")"
            fi
            wait_log "$side" "Reload finished" 5 "$out" >/dev/null
        done
        sleep 0.3
    done
    sleep 1.5
    for side in a b; do
        if awk -v from="${mark[$side]}" 'NR > from && /\((VI_1|VI_2)\) Entering [A-Z]+ STATE/ { f = 1 } END { exit !f }' "$SDIR/$side.log"; then
            fail "side $side changed state during the reloads: $(tail -n +"$((${mark[$side]} + 1))" "$SDIR/$side.log" | grep -m1 -E 'Entering [A-Z]+ STATE')"
        fi
    done
    [ "$(wire count GARP - "addr=$VIP4" "ts>$t0")" -eq 0 ] || fail "gratuitous ARP for $VIP4 (unchanged VI_1) during the reloads"
    [ "$(wire count GARP - "addr=$VIP4B" "ts>$t0")" -eq 0 ] || fail "gratuitous ARP for $VIP4B (VI_2 changed in place, same VIP) during the reloads"
    gap=$(adv_max_gap a 51 "$t0")
    check_gap "largest gap between VI_1 adverts of a across 10 reloads" "$gap" 0.4 "$(fcalc "$ADV * 1.3")"
    [ "$(wire count ADV a vrid=51 "prio!=150" "ts>$t0")" -eq 0 ] || fail "side a advertised VI_1 with a priority other than 150"
    [ "$(wire count ADV b "ts>$t0")" -eq 0 ] || fail "side b (BACKUP) advertised during the reloads"
    expect_master a VI_1 "$VIP4" 1
    expect_master a VI_2 "$VIP4B" 1
    if [ "${IMPL[a]}" = vigild ]; then
        log_has a "(VI_2) configuration changed; staying in MASTER STATE" "${mark[a]}" || fail "side a: VI_2 was not changed in place"
        [ "$(wire count ADV a vrid=52 prio=140 "ts>$t0")" -gt 0 ] || fail "side a does not advertise VI_2's new priority 140"
    fi
    side=${vigil[0]}
    # An invalid file: the old configuration stays, the error is reported with file:line.
    echo 'vrrp_instance VI_9 { priority abc' >>"$SDIR/$side.conf"
    rc=0
    ip netns exec "${NS[$side]}" "$VIGILCTL" reload >"$SDIR/reload-bad.out" 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || fail "vigilctl reload of an invalid file exited $rc, expected 1: $(cat "$SDIR/reload-bad.out")"
    grep -q "$side.conf:[0-9]*:[0-9]*: error: priority: 'abc' is not a number" "$SDIR/reload-bad.out" ||
        fail "vigilctl reload did not report the error with file:line: $(cat "$SDIR/reload-bad.out")"
    log_has "$side" "Reload failed" || fail "side $side logged no 'Reload failed'"
    expect_master a VI_1 "$VIP4" 1
    ip netns exec "${NS[$side]}" "$VIGILCTL" status --json >"$SDIR/status.json" || fail "vigilctl status failed"
    [ "$(json_get "$SDIR/status.json" "d['daemon']['reloads_ok'], d['daemon']['reloads_failed'], d['daemon']['last_reload']['ok']")" = "10 1 False" ] ||
        fail "status: reload counters $(json_get "$SDIR/status.json" "d['daemon']")"
    [ "$(json_get "$SDIR/status.json" "[i['state'] for i in d['vrrp']]")" = "$([ "$side" = a ] && echo "['MASTER', 'MASTER']" || echo "['BACKUP', 'BACKUP']")" ] ||
        fail "status: states $(json_get "$SDIR/status.json" "[(i['name'], i['state']) for i in d['vrrp']]")"
    ip netns exec "${NS[$side]}" "$VIGILCTL" dump >"$SDIR/dump.out" || fail "vigilctl dump failed"
    if ! grep -q "^ VRRP Instance = VI_1" "$SDIR/dump.out" || ! grep -q "^   State = $([ "$side" = a ] && echo MASTER || echo BACKUP)" "$SDIR/dump.out"; then
        fail "the data dump lacks VI_1 and its state: $(head -n 20 "$SDIR/dump.out" | tr '\n' '|')"
    fi
    check_no_rejects a b
}

# The VIPs every step of reload_edits.py keeps (in another spelling each time).
KEPT_EDIT_VIPS="192.0.2.100 192.0.2.101 192.0.2.102 192.0.2.103 203.0.113.104 192.0.2.105 198.51.100.105"

scenario_reload_edits() {
    [ "${IMPL[a]}" = vigild ] || skip "side A is ${IMPL[a]}: the MASTER whose reloads are sampled must be vigild"
    lab_setup eth1; capture_start
    local seed=${RELOAD_SEED:-$RANDOM} edits=${RELOAD_EDITS:-50} step side t0 ma mb bad samples out
    trace "reload_edits: seed $seed, $edits edits"
    for side in a b; do
        { conf_global "$side"; python3 "$HERE/reload_edits.py" "$seed" 0 "$side"; } >"$SDIR/$side.conf"
    done
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 192.0.2.101
    # After the second burst of gratuitous ARPs (garp_master_delay 5 at the start).
    sleep 5.5
    t0=$(now) ma=$(log_mark a) mb=$(log_mark b)
    touch "$SDIR/sampling"
    # One sampler in each director's namespace: a rtnetlink dump every 10 ms.
    local samplers=() side
    for side in a b; do
        ip netns exec "${NS[$side]}" python3 "$HERE/addr_sampler.py" 0.01 "$SDIR/sampling" >"$SDIR/samples-$side" &
        samplers+=($!)
    done
    for step in $(seq "$edits"); do
        # The BACKUP first, as an admin who does not want it to take over would.
        for side in b a; do
            { conf_global "$side"; python3 "$HERE/reload_edits.py" "$seed" "$step" "$side"; } >"$SDIR/$side.conf"
            if [ "${IMPL[$side]}" = vigild ]; then
                out=$(ip netns exec "${NS[$side]}" "$VIGILCTL" reload 2>&1) ||
                    fail "side $side: vigilctl reload at edit $step (seed $seed) failed: $out"
            else
                kill -HUP "${SPK_PID[$side]}"
                sleep 0.3
            fi
        done
        sleep "0.$((RANDOM % 4 + 1))"
    done
    sleep 1
    rm -f "$SDIR/sampling"
    wait "${samplers[@]}" || true
    samples=$(wc -l <"$SDIR/samples-a")
    trace "reload_edits: $samples samples of a, $(wc -l <"$SDIR/samples-b") of b, over $(fcalc "$(now) - $t0")s"
    # A machine that stalls longer than Master_Down_Interval shows as a gap in the samples.
    for side in a b; do
        trace "reload_edits: longest gap between two samples of $side: $(awk 'NR > 1 && $1 - t > g { g = $1 - t } { t = $1 } END { printf "%.3f", g }' "$SDIR/samples-$side")s"
    done
    if [ "${IMPL[b]}" = vigild ]; then
        ip netns exec "${NS[b]}" "$VIGILCTL" status --json >"$SDIR/status-b.json" &&
            trace "reload_edits: b $(json_get "$SDIR/status-b.json" "'; '.join(f\"{i['name']}: {i['state']}, {i['transitions']} transition(s), {i['adverts_received']} adverts received, dropped {dict(i['drops'])}\" for i in d['vrrp'])")"
    fi
    [ "$samples" -ge 1000 ] || fail "only $samples samples of a's addresses were taken"
    bad=$(awk -v kept="$KEPT_EDIT_VIPS" '
        BEGIN { n = split(kept, k, " ") }
        FILENAME ~ /-a$/ {
            for (i = 1; i <= n; i++) if (index($0, " " k[i] " ") == 0) { missing++; print "a lacks " k[i] " at " $1 > "/dev/stderr"; break }
        }
        FILENAME ~ /-b$/ && / (192\.0\.2|198\.51\.100|203\.0\.113)\.1[01][0-9] / { onb++; print "b holds a VIP at " $0 > "/dev/stderr" }
        END { printf "%d %d\n", missing, onb }' "$SDIR/samples-a" "$SDIR/samples-b" 2>>"$SDIR/trace")
    [ "$bad" = "0 0" ] ||
        fail "seed $seed: ${bad% *} of $samples samples lacked a kept VIP on the MASTER, ${bad#* } had a VIP on the BACKUP (see the trace)"
    [ "$(transitions a "$ma")" -eq 0 ] || fail "seed $seed: side a changed state during the edits"
    [ "$(transitions b "$mb")" -eq 0 ] || fail "seed $seed: side b changed state during the edits"
    ! grep -q "restarting" <(tail -n +"$((ma + 1))" "$SDIR/a.log") ||
        fail "seed $seed: side a restarted VI_1: $(tail -n +"$((ma + 1))" "$SDIR/a.log" | grep -m1 restarting)"
    for v in 192.0.2.100 192.0.2.101 192.0.2.102 192.0.2.103 203.0.113.104 192.0.2.105; do
        [ "$(wire count GARP - "addr=$v" "ts>$t0")" -eq 0 ] || fail "seed $seed: gratuitous ARP for the kept VIP $v during the edits"
    done
    [ "$(wire count ADV b "ts>$t0")" -eq 0 ] || fail "seed $seed: side b (BACKUP) advertised during the edits"
    trace "reload_edits: $samples samples, every kept VIP on a in each, none on b"
    # A BACKUP reloaded first expects its new VIP list until the MASTER's reload a moment later:
    # keepalived rejects the adverts in between (RFC 3768 7.1's address check) and logs it;
    # such a rejection is expected here, any other is not.
    check_no_rejects a
    if [ "${IMPL[b]}" = keepalived ]; then
        trace "keepalived on b rejected $(grep -cE 'unexpected ip number count|not present in MASTER advert' "$SDIR/b.log" || true) advert(s) whose VIP list was not yet its own"
        REJECT_RE=$(sed -E 's/\|received an unexpected ip number count//; s/\|not present in MASTER advert//' <<<"$REJECT_RE") check_no_rejects b
    else
        check_no_rejects b
    fi
}

scenario_stalled_backup() {
    lab_setup; capture_start
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    local mb t0 t1 heard
    sleep 1
    mb=$(log_mark b) t0=$(now)
    kill -STOP "${SPK_PID[b]}"
    sleep 5
    kill -CONT "${SPK_PID[b]}"
    t1=$(now)
    sleep 2
    heard=$(wire count ADV a vrid=51 "ts>$t0" "ts<$t1")
    trace "b stopped for $(fcalc "$t1 - $t0")s; a sent $heard advert(s) meanwhile"
    [ "$heard" -ge 5 ] || fail "a sent only $heard advert(s) while b was stopped: the stall proves nothing"
    [ "$(transitions b "$mb")" -eq 0 ] || fail "b changed state after the stall: $(tail -n +"$((mb + 1))" "$SDIR/b.log" | grep -m1 'Entering')"
    [ "$(wire count ADV b "ts>$t0")" -eq 0 ] || fail "b advertised after the stall (it took over for a moment)"
    ! has_vip b "$VIP4" || fail "b holds $VIP4 after the stall"
    expect_master a VI_1 "$VIP4" 1
}

scenario_notify_removed() {
    lab_setup
    local out="$SDIR/notify.out" got want i
    # Each script appends its line; `notify` gets INSTANCE NAME STATE PRIORITY after "x".
    notify_lines() {
        local n=$1
        echo "notify \"/bin/sh -c \\\"echo \\\$1 \\\$2 \\\$3 >> $out\\\" x\";notify_fault \"/bin/sh -c \\\"echo fault$n >> $out\\\"\";notify_stop \"/bin/sh -c \\\"echo stop$n >> $out\\\"\""
    }
    {
        conf_global a scripts
        conf_instance VI_1 state=MASTER vrid=51 vips=192.0.2.101/24 extra="$(notify_lines 1)"
        conf_instance VI_2 state=MASTER vrid=52 vips=192.0.2.102/24 extra="$(notify_lines 2);notify_deleted \"/bin/sh -c \\\"echo deleted2 >> $out\\\"\""
        conf_instance VI_3 state=MASTER vrid=53 vips=192.0.2.103/24 extra="$(notify_lines 3)"
    } >"$SDIR/a.conf"
    speaker_start a "$SDIR/a.conf"
    for i in 1 2 3; do wait_log a "(VI_$i) Entering MASTER STATE" 10 >/dev/null; done
    sleep 1
    { conf_global a scripts; conf_instance VI_3 state=MASTER vrid=53 vips=192.0.2.103/24 extra="$(notify_lines 3)"; } >"$SDIR/a.conf"
    echo "-- reload" >>"$out"
    kill -HUP "${SPK_PID[a]}"
    sleep 2
    echo "-- stop" >>"$out"
    speaker_term a >/dev/null
    sleep 0.5
    trace "the scripts wrote: $(tr '\n' '|' <"$out")"
    # The instances' scripts run side by side: compare each part's lines as a set.
    got=$(awk '/^-- / { part = $2; next } part { print part ": " $0 }' "$out" | sort | tr '\n' '|')
    want="reload: INSTANCE VI_1 FAULT|reload: INSTANCE VI_2 DELETED|reload: deleted2|stop: INSTANCE VI_3 STOP|stop: stop3|"
    [ "$got" = "$want" ] || fail "${IMPL[a]}'s scripts said '$got', expected '$want'"
}

scenario_vip_add_fails() {
    [ "${IMPL[a]}" = vigild ] || skip "side A is ${IMPL[a]}: the scenario needs vigild on A (keepalived stays MASTER without its VIP)"
    lab_setup; capture_start
    conf_global a >"$SDIR/a.conf"; conf_instance VI_1 priority=150 >>"$SDIR/a.conf"
    conf_global b >"$SDIR/b.conf"; conf_instance VI_1 priority=100 >>"$SDIR/b.conf"
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    expect_master b VI_1 "$VIP4" 15
    local t0 mark
    t0=$(now) mark=$(log_mark a)
    SPK_NO_NET_ADMIN=1 speaker_start a "$SDIR/a.conf"
    # a preempts (150 > 100), cannot add the VIP, goes to FAULT; b takes the VIP back.
    wait_log a "cannot hold VIP(s) $VIP4: entering FAULT" 15 "$mark" >/dev/null
    log_has a "(VI_1) Entering FAULT STATE" "$mark" || fail "side a did not enter FAULT"
    wait_vip b "$VIP4" 10 >/dev/null
    ! has_vip a "$VIP4" || fail "side a holds the VIP it could not add"
    # It tries again and fails again, each time saying so.
    wait_log a "trying again to hold its VIPs" 10 "$mark" >/dev/null
    wait_log a "trying again in 2 s" 15 "$mark" >/dev/null
    [ "$(wire count GARP a "addr=$VIP4" "ts>$t0")" -eq 0 ] || fail "side a sent gratuitous ARP for $VIP4, which it does not hold"
    expect_master b VI_1 "$VIP4" 10
}

# keepalived #2564 (dynamic interfaces): an instance on a VLAN, bond or tunnel created after the
# daemon never starts until a restart.
scenario_dynamic_interface() {
    [ "${IMPL[a]}" = vigild ] || skip "side A is ${IMPL[a]}: the scenario needs vigild on A (keepalived waits for a restart)"
    lab_setup
    {
        conf_global a
        conf_instance VI_1 priority=150 version=3 advert_int=$ADV
        conf_instance VI_2 priority=150 version=3 advert_int=$ADV vrid=52 interface=eth1 vips=198.51.100.100/24
    } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    log_has a "(VI_2) interface eth1 does not exist (yet); the instance starts when it appears" || fail "no note that VI_2 waits for eth1"
    ip -n "$NS_A" link add eth1 type veth peer name eth1-peer
    ip -n "$NS_A" addr add 198.51.100.1/24 dev eth1
    ip -n "$NS_A" link set eth1-peer up
    ip -n "$NS_A" link set eth1 up
    wait_log a "(VI_2) Entering MASTER STATE" 6 >/dev/null
    sleep 0.3
    has_vip a 198.51.100.100 eth1 || fail "VI_2's VIP is not on eth1"
    log_has a "(VI_2) interface eth1 appeared: starting" || fail "side a did not log that eth1 appeared"
    expect_master a VI_1 "$VIP4" 1
}

# keepalived #2649, #1884, #2387: after a split brain heals, traffic is left on the wrong node
# when the winner does not announce itself again.
scenario_split_brain() {
    lab_setup; capture_start
    local ma mb tr garp m both
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 5.5
    mb=$(log_mark b)
    # b leaves the bridge; its eth0 stays up, so it does not go to FAULT: it stops hearing a.
    ip -n "$NS_BR" link set p-b nomaster
    trace "cut: p-b off the bridge"
    wait_log b "(VI_1) Entering MASTER STATE" 5 "$mb" >/dev/null
    wait_vip b "$VIP4" 2 >/dev/null
    both=$(vip_holders "$VIP4")
    [ "$both" = "a b" ] || fail "expected both sides MASTER during the cut, VIP holders: '$both'"
    sleep 1
    ma=$(log_mark a) mb=$(log_mark b)
    tr=$(now)
    ip -n "$NS_BR" link set p-b master br0
    trace "restored: p-b back on the bridge"
    m=$(mdi 100 $ADV)
    wait_log b "(VI_1) Entering BACKUP STATE" "$(fcalc "$m + 0.5")" "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 2
    [ "$(transitions a "$ma")" -eq 0 ] || fail "the winner (a) changed state"
    garp=$(wire first GARP a "addr=$VIP4" "ts>$tr")
    # The winner only learns of the other MASTER from an advert of the loser's. Adverts cross
    # the mended link in either order; a vigild loser always sends one last advert as it steps
    # down (keepalived's higher_prio_send_advert, off by default there), and the winner answers
    # it with gratuitous ARP. A keepalived loser may step down in silence.
    if [ "${IMPL[b]}" = vigild ]; then
        [ -n "$garp" ] || fail "no fresh gratuitous ARP from the winner (a, ${IMPL[a]}) after the link came back"
        check_gap "link restored -> GARP from the winner" "$(fcalc "$garp - $tr")" 0 "$m"
    else
        trace "keepalived as the loser: first GARP from the winner after the restore: ${garp:-none}"
    fi
    if [ "${IMPL[a]}" = vigild ] && [ "${IMPL[b]}" = vigild ]; then
        ip netns exec "$NS_A" "$VIGILCTL" status --json >"$SDIR/status.json" || fail "vigilctl status failed"
        [ "$(json_get "$SDIR/status.json" "d['vrrp'][0]['conflicts'] > 0")" = True ] || fail "the two-MASTER moment is not counted"
    fi
    sleep 0.3
    [ "$(client_neigh "$VIP4")" = a ] || [ "$(client_arp "$VIP4")" = a ] || fail "the client does not end on a"
    check_no_rejects a b
}

# keepalived #2324, FRR #14024: VRRPv3 routers read RFC 5798 5.2.8 two ways for IPv4 (checksum
# with or without the pseudo-header); one that accepts only its own reading drops the other's
# adverts, and both become MASTER. vigild accepts both, says which one each peer uses, and sends
# either (v3_checksum_as_v2).
scenario_checksum() {
    lab_setup; capture_start
    local m mb ma
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV extra=v3_checksum_as_v2; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    if [ "${IMPL[a]}" != vigild ]; then
        # keepalived 2.2 has no v3_checksum_as_v2: it sends the pseudo-header reading.
        sed -i '/v3_checksum_as_v2/d' "$SDIR/a.conf"
        bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
        expect_stable 2
        if [ "${IMPL[b]}" = vigild ]; then
            wait_log b "192.0.2.1 computes its VRRPv3 checksum with the IPv4 pseudo-header, as we do" 2 >/dev/null
        fi
        check_no_rejects a b
        return 0
    fi
    m=$(mdi 100 $ADV)
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    expect_master a VI_1 "$VIP4" 15
    mb=$(log_mark b)
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    if [ "${IMPL[b]}" = vigild ]; then
        expect_stable "$(fcalc "$m + 1")"
        expect_master a VI_1 "$VIP4" 1
        wait_log b "192.0.2.1 computes its VRRPv3 checksum without the IPv4 pseudo-header (v3_checksum_as_v2); we send ours with the IPv4 pseudo-header" 2 >/dev/null
        ip netns exec "$NS_B" "$VIGILCTL" status --json >"$SDIR/status.json" || fail "vigilctl status failed"
        [ "$(json_get "$SDIR/status.json" "d['vrrp'][0]['peers'][0]['checksum']")" = v3_checksum_as_v2 ] ||
            fail "side b's status does not show the peer's checksum reading"
        check_no_rejects a b
        return 0
    fi
    # The field failure: keepalived drops every advert summed without the pseudo-header.
    wait_log b "(VI_1) Entering MASTER STATE" "$(fcalc "$m + 2")" "$mb" >/dev/null
    log_has b "Invalid VRRPv3 checksum" "$mb" || fail "keepalived did not reject the v3_checksum_as_v2 adverts"
    [ "$(vip_holders "$VIP4")" = "a b" ] || fail "expected two MASTERs, VIP holders: '$(vip_holders "$VIP4")'"
    trace "keepalived $(keepalived --version 2>&1 | sed -n 's/^Keepalived \(v[^ ]*\).*/\1/p') rejects v3_checksum_as_v2: two MASTERs"
    # vigild heard keepalived's pseudo-header adverts all along and says so.
    log_has a "192.0.2.2 computes its VRRPv3 checksum with the IPv4 pseudo-header; we send ours without the IPv4 pseudo-header" ||
        fail "side a did not say which checksum reading its peer uses"
    # Back to keepalived's reading, by reload: one MASTER again.
    ma=$(log_mark a) mb=$(log_mark b)
    sed -i '/v3_checksum_as_v2/d' "$SDIR/a.conf"
    kill -HUP "${SPK_PID[a]}"
    wait_log a "Reload finished" 5 "$ma" >/dev/null
    wait_log b "(VI_1) Entering BACKUP STATE" "$(fcalc "$m + 1")" "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 2
    expect_stable 2
    local rejects
    rejects=$(tail -n +"$((mb + 1))" "$SDIR/b.log" | grep -c "Invalid VRRPv3 checksum" || true)
    [ "$rejects" -eq 0 ] || fail "keepalived still rejects after the reload ($rejects lines)"
}

# keepalived before 1.3.6 (and with old_unicast_checksum) sums unicast VRRPv3 adverts with the
# multicast group's pseudo-header; a router that does not accept that reading drops them.
scenario_old_checksum() {
    lab_setup; capture_start
    local mb ma tk
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV src=192.0.2.1 peers=192.0.2.2 extra=old_unicast_checksum; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV src=192.0.2.2 peers=192.0.2.1; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    wait_log b "(VI_1) Setting unicast VRRPv3 checksum to old version" 3 >/dev/null
    expect_stable 2
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    sleep 1
    ma=$(log_mark a)
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    expect_master a VI_1 "$VIP4" 10
    expect_stable 2
    check_no_rejects a b
    trace "a (old_unicast_checksum) accepted b's adverts after the failover (kill at $tk)"
}

# keepalived #2458, #1283: an empty unicast_peer list silently becomes multicast (the peer, in
# unicast, never hears it: two MASTERs), a list naming only ourselves reaches nobody, and the
# router leaving FAULT must announce the VIP again.
scenario_unicast_pitfalls() {
    lab_setup eth1; capture_start
    local side bad out ma mb tu garp
    for side in a b; do
        [ "${IMPL[$side]}" = vigild ] || continue
        for bad in "peers=" "peers=192.0.2.1"; do
            { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV src=192.0.2.1 "$bad"; } >"$SDIR/bad.conf"
            [ "$bad" != "peers=" ] || sed -i 's/^    unicast_src_ip .*/&\n    unicast_peer {\n    }/' "$SDIR/bad.conf"
            if out=$(ip netns exec "${NS[a]}" "$VIGILD" -t -f "$SDIR/bad.conf" 2>&1); then
                fail "vigild -t accepted a unicast_peer list with $bad"
            fi
            [[ $out == *"bad.conf:"*"error: (VI_1) unicast_peer lists"* ]] || fail "vigild -t did not name the unicast_peer line: $out"
            trace "vigild -t ($bad): $(grep -m1 'error:' <<<"$out")"
            out=$(ip netns exec "${NS[a]}" "$KEEPALIVED" -t -f "$SDIR/bad.conf" 2>&1 && echo "exit status 0" || echo "exit status $?")
            trace "keepalived -t ($bad): $(grep -E 'unicast|exit status' <<<"$out" | tr '\n' ' ')"
        done
        break
    done
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$ADV src=192.0.2.1 peers=192.0.2.2 track_interface=eth1; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV src=192.0.2.2 peers=192.0.2.1 track_interface=eth1; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1
    ma=$(log_mark a) mb=$(log_mark b)
    link_down a eth1
    wait_log a "(VI_1) Entering FAULT STATE" 5 "$ma" >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 6 "$mb" >/dev/null
    sleep 1
    ma=$(log_mark a)
    tu=$(now)
    link_up a eth1
    wait_log a "(VI_1) Entering MASTER STATE" 8 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 3
    sleep 0.3
    garp=$(wire first GARP a "addr=$VIP4" "ts>$tu")
    [ -n "$garp" ] || fail "no gratuitous ARP from a after it left FAULT"
    check_gap "link up on a -> GARP from a" "$(fcalc "$garp - $tu")" 0 "$(fcalc "$(mdi 150 $ADV) + 1")"
    for side in a b; do
        [ "${IMPL[$side]}" = vigild ] || continue
        ip netns exec "${NS[$side]}" "$VIGILCTL" status --json >"$SDIR/status-$side.json" || fail "vigilctl status failed"
        [ "$(json_get "$SDIR/status-$side.json" "d['vrrp'][0]['peers'][0]['last_seen'] is not None")" = True ] ||
            fail "side $side's status does not say when its unicast peer was last heard"
    done
    check_no_rejects a b
}

# keepalived #2564, #1385: a network manager or an admin removes the VIP from the MASTER;
# keepalived leaves it gone until the next transition, and traffic to the VIP is lost.
scenario_vip_removed() {
    [ "${IMPL[a]}" = vigild ] || skip "side A is ${IMPL[a]}: the scenario needs vigild on A (keepalived leaves the VIP gone)"
    lab_setup; capture_start
    local t0 t1 garp ma mb
    write_pair
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    # After the second burst of gratuitous ARPs (garp_master_delay, 5 s after MASTER).
    sleep 5.5
    ma=$(log_mark a) mb=$(log_mark b)
    t0=$(now)
    ip -n "$NS_A" addr del "$VIP4/24" dev eth0
    t1=$(wait_vip a "$VIP4" 2)
    sleep 0.3
    garp=$(wire first GARP a "addr=$VIP4" "ts>$t0")
    [ -n "$garp" ] || fail "no gratuitous ARP for $VIP4 after it was added again"
    trace "FIGURE VIP deleted -> seen again by polling: $(fcalc "$t1 - $t0")s; -> first GARP on the wire: $(fcalc "$garp - $t0")s"
    check_gap "VIP deleted -> GARP on the wire" "$(fcalc "$garp - $t0")" 0 1
    log_has a "(VI_1) VIP $VIP4 was removed from the interface behind our back; adding it again" "$ma" || fail "side a did not log the removal"
    [ "$(transitions a "$ma")" -eq 0 ] || fail "side a changed state"
    [ "$(transitions b "$mb")" -eq 0 ] || fail "side b changed state"
    ip netns exec "$NS_A" "$VIGILCTL" status --json >"$SDIR/status.json" || fail "vigilctl status failed"
    [ "$(json_get "$SDIR/status.json" "d['vrrp'][0]['vips_restored']")" = 1 ] || fail "the restore is not counted"
    [ "$(client_arp "$VIP4")" = a ] || fail "the client does not reach $VIP4 on side a"
    check_no_rejects a b
}

scenario_v3_fast() {
    lab_setup; capture_start
    local adv=0.05 t med n mb tk last_a first_b m
    { conf_global a; conf_instance VI_1 priority=150 version=3 advert_int=$adv; } >"$SDIR/a.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$adv; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    t=$(now)
    expect_stable 2
    read -r med n < <(adv_intervals a 51 "$t")
    trace "median advert interval of a: ${med}s over $n gaps"
    [ "$n" -ge 25 ] || fail "only $n advert gaps from side a in 2s at advert_int $adv"
    check_gap "median advert interval" "$med" 0.04 0.065
    [ "$(wire count ADV a vrid=51 "intvl!=0.05" "ts>$t")" -eq 0 ] || fail "side a sent adverts without intvl 5cs"
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) Entering MASTER STATE" 3 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 0.3
    last_a=$(wire last ADV a vrid=51)
    first_b=$(wire first ADV b vrid=51 "ts>$tk")
    [ -n "$first_b" ] || fail "no advert from side b after the kill"
    m=$(mdi 100 $adv)
    check_gap "last advert of a -> first advert of b (Master_Down_Interval $m)" "$(fcalc "$first_b - $last_a")" "$(fcalc "$m - 0.05")" "$(fcalc "$m + 0.5")"
    check_no_rejects b
}

# garp_gaps SIDE AFTER_TS: "MIN MEDIAN N" of the gaps (s) between SIDE's gratuitous
# ARPs after AFTER_TS.
garp_gaps() {
    local gaps
    gaps=$(wire list GARP "$1" "ts>$2" | awk 'NR > 1 { printf "%.6f\n", $2 - prev } { prev = $2 }' | sort -n)
    [ -n "$gaps" ] || { echo "- - 0"; return; }
    awk '{ g[NR] = $1 } END { printf "%.4f %.4f %d\n", g[1], g[int((NR + 1) / 2)], NR }' <<<"$gaps"
}

scenario_garp_pacing() {
    lab_setup; capture_start
    local vips="$VIP4/24 192.0.2.101/24 192.0.2.102/24" min med n tt mb
    {
        printf 'global_defs {\n    router_id a\n    vrrp_garp_interval 0.05\n}\n'
        conf_instance VI_1 priority=150 advert_int=1 vips="$vips" extra="garp_master_repeat 5"
    } >"$SDIR/a.conf"
    {
        printf 'global_defs {\n    router_id b\n}\ngarp_group {\n    garp_interval 0.08\n    interface eth0\n}\n'
        conf_instance VI_1 priority=100 advert_int=1 vips="$vips" extra="garp_master_repeat 5"
    } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    sleep 1.5
    read -r min med n < <(garp_gaps a 0)
    trace "a's gratuitous ARPs: $n gaps, min ${min}s, median ${med}s (vrrp_garp_interval 0.05)"
    # keepalived keeps one frame waiting per VIP: 1 at once + 3 waiting.
    [ "$n" -eq 3 ] || fail "side a sent $((n + 1)) gratuitous ARPs for 3 VIPs x 5 repeats paced, expected 4 (as keepalived)"
    fcheck "$min >= 0.045" || fail "side a's gratuitous ARPs were ${min}s apart at least, not 0.05s (vrrp_garp_interval)"
    mb=$(log_mark b)
    tt=$(speaker_term a)
    wait_log b "(VI_1) Entering MASTER STATE" 4 "$mb" >/dev/null
    sleep 2
    read -r min med n < <(garp_gaps b "$tt")
    trace "b's gratuitous ARPs: $n gaps, min ${min}s, median ${med}s (garp_group garp_interval 0.08)"
    [ "$n" -eq 3 ] || fail "side b sent $((n + 1)) gratuitous ARPs after taking over paced, expected 4 (as keepalived)"
    fcheck "$min >= 0.075" || fail "side b's gratuitous ARPs were ${min}s apart at least, not 0.08s (garp_group)"
    check_no_rejects b
}

# ---- BFD (RFC 5880, single hop over UDP 3784 as RFC 5881 says) ---------------------
# keepalived's bfd_instance: min_rx/min_tx are the intervals wanted once the session is Up;
# until then both ends send every idle_tx (1 s), as RFC 5880 6.8.3 requires.

BFD_MS=10
BFD_MULT=3
# A Down line of a session whose peer went silent (keepalived's wording, RFC 5880 diag 1).
bfd_expired() { echo "($1) Entering Down state (Local diagnostic - Control Detection Time Expired"; }

# bfd_lines SIDE NAME FROM_LINE: the side's state lines for session NAME after FROM_LINE, one
# line, for the trace.
bfd_lines() {
    tail -n +"$(($3 + 1))" "$SDIR/$1.log" | grep -oE "\\($2\\) Entering [A-Za-z]+ state|Tracked BFD instance $2 is [A-Z]+" | paste -sd ';' || true
}

# bfd_tracked_up SIDE NAME: is the last report of session NAME to the side's VRRP Up?
bfd_tracked_up() { [ "$(grep -oE "Tracked BFD instance $2 is [A-Z]+" "$SDIR/$1.log" | tail -n 1)" = "Tracked BFD instance $2 is UP" ]; }

# bfd_stop_responder SIDE NAME FROM_LINE: before the responder c is stopped, SIDE's session
# NAME must be Up as last reported (one that fell and was coming back when c stopped would
# never report Down); trace its state lines since FROM_LINE.  Prints the time c was stopped.
bfd_stop_responder() {
    trace "side $1, session $2 since it came Up: $(bfd_lines "$1" "$2" "$3")"
    bfd_tracked_up "$1" "$2" || fail "side $1's session $2 fell before the responder was stopped: $(bfd_lines "$1" "$2" "$3")"
    speaker_term c
}

# bfd_detection_figure WHAT T: trace, from the wire, how long after b's last BFD packet before
# T (b cut off or killed at T) a's first packet in state Down left (detection time 3 x 10 ms).
bfd_detection_figure() {
    local last down
    last=$(wire last BFD b "ts<$(fcalc "$2 + 0.5")")
    [ -n "$last" ] || { trace "FIGURE $1: no packet from b on the wire"; return 0; }
    down=$(wire first BFD a state=Down "ts>$last")
    [ -n "$down" ] || { trace "FIGURE $1: no Down packet from a on the wire"; return 0; }
    trace "FIGURE $1: b's last BFD packet -> a's first Down packet on the wire: $(fcalc "$down - $last")s (detection time ${BFD_MULT} x ${BFD_MS}ms)"
}

scenario_bfd_session() {
    lab_setup; capture_start 'udp port 3784'
    local bfd="min_rx=$BFD_MS min_tx=$BFD_MS multiplier=$BFD_MULT"
    local ma mb t1 t2 tc td side src dst med n all good
    # shellcheck disable=SC2086  # $bfd is a list of key=value words
    { conf_global a; conf_bfd to_b 192.0.2.2 $bfd; conf_bfd to_b6 2001:db8::2 $bfd; conf_instance VI_1 priority=150 version=3 advert_int=$ADV; } >"$SDIR/a.conf"
    # shellcheck disable=SC2086
    { conf_global b; conf_bfd to_a 192.0.2.1 $bfd; conf_bfd to_a6 2001:db8::1 $bfd; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    wait_log a "(to_b) Entering Up state" 10 >/dev/null
    wait_log b "(to_a) Entering Up state" 10 >/dev/null
    # The same over IPv6 (hop limit 64 by default, as keepalived's).
    wait_log a "(to_b6) Entering Up state" 10 >/dev/null
    wait_log b "(to_a6) Entering Up state" 10 >/dev/null
    # Past the poll sequence that moves the interval from idle_tx to min_tx, measure 2 s.
    sleep 0.5
    t1=$(now); sleep 2; t2=$(now)
    for side in a b; do
        if [ "$side" = a ]; then src=192.0.2.1 dst=192.0.2.2; else src=192.0.2.2 dst=192.0.2.1; fi
        read -r med n < <(bfd_intervals "$side" "$t1" "$t2")
        trace "FIGURE median BFD Control interval of $side once Up: ${med}s over $n gaps (negotiated ${BFD_MS}ms, idle 1s)"
        [ "$n" -ge 10 ] || fail "only $n gaps between BFD Up packets from $side in 2s"
        fcheck "$med < 0.25" || fail "median BFD interval of $side is ${med}s, expected about ${BFD_MS}ms (well under the idle 1s)"
        # IPv4 only here (the IPv6 pair is checked below).
        all=$(wire list BFD "$side" state=Up "ts>$t1" "ts<$t2" | awk '$4 !~ /:/' | wc -l)
        good=$(wire count BFD "$side" state=Up "ts>$t1" "ts<$t2" "src=$src" "dst=$dst" ttl=255 "mintx=$BFD_MS" "minrx=$BFD_MS" "mult=$BFD_MULT")
        [ "$good" -eq "$all" ] || fail "$((all - good)) of $all BFD Up packets from $side are not $src > $dst with TTL 255, ${BFD_MS}ms/${BFD_MS}ms x$BFD_MULT: $(wire list BFD "$side" state=Up "ts>$t1" "ts<$t2" | awk '$4 != s || $6 != 255 || $8 != m || $9 != m || $10 != x { print; exit }' s="$src" m="$BFD_MS" x="$BFD_MULT")"
    done
    all=$(wire list BFD - "ttl!=255" | awk '$4 !~ /:/' | wc -l)
    [ "$all" -eq 0 ] || fail "$all BFD packets over IPv4 with a TTL other than 255 (RFC 5881 5)"
    # keepalived's IPv6 default hop limit is 64 (RFC 5881 says 255; `hoplimit 255` gives it).
    read -r all good < <(wire list BFD - | awk '$4 ~ /:/ { n++; if ($6 == 64) g++ } END { print n + 0, g + 0 }')
    if [ "$all" -eq 0 ] || [ "$good" -ne "$all" ]; then fail "BFD over IPv6: $good of $all packets with hop limit 64"; fi
    # The link cut: b off the bridge (its eth0 stays up), a stops hearing it.
    ma=$(log_mark a) mb=$(log_mark b)
    tc=$(now)
    ip -n "$NS_BR" link set p-b nomaster
    trace "cut: p-b off the bridge"
    td=$(wait_log a "$(bfd_expired to_b)" 5 "$ma")
    trace "FIGURE link cut -> a's Down line seen: $(fcalc "$td - $tc")s (the log is polled every 50ms)"
    bfd_detection_figure "link cut" "$tc"
    wait_log b "$(bfd_expired to_a)" 5 "$mb" >/dev/null
    sleep 1
    ma=$(log_mark a) mb=$(log_mark b)
    ip -n "$NS_BR" link set p-b master br0
    trace "restored: p-b back on the bridge"
    wait_log a "(to_b) Entering Up state" 10 "$ma" >/dev/null
    wait_log b "(to_a) Entering Up state" 10 "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    # A crash of b: nothing more comes from it.
    sleep 1
    ma=$(log_mark a)
    tc=$(speaker_kill b)
    wait_log a "$(bfd_expired to_b)" 5 "$ma" >/dev/null
    bfd_detection_figure "kill -9 of b" "$tc"
    sleep 1
    ma=$(log_mark a) mb=$(log_mark b)
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    wait_log b "(to_a) Entering Up state" 10 "$mb" >/dev/null
    wait_log a "(to_b) Entering Up state" 10 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    # RFC 5880 6.8.3: while not Up, a system MUST NOT ask for less than 1 s.
    for side in a b; do
        all=$(wire count BFD "$side" "state!=Up" "mintx<1000")
        [ "$all" -eq 0 ] || fail "$all BFD packets from $side not in state Up advertise a Desired Min TX Interval under 1000ms: $(wire list BFD "$side" "state!=Up" "mintx<1000" | head -n 1)"
    done
    check_no_rejects a b
}

# track_bfd: a's VI_1 follows its BFD session to a keepalived BFD responder on the client (say
# a gateway), first unweighted (FAULT while not Up), then weighted (priority down by 60).
scenario_track_bfd() {
    lab_setup; capture_start 'udp port 3784'
    IMPL[c]=keepalived
    # What is tested here is what tracking does, not how fast a silence is found: a Detection
    # Time of 200 ms rides out a busy machine's stalls, which at 30 ms made the session fall
    # and come back at the 1 s idle rate.
    local bfd="min_rx=20 min_tx=20 multiplier=10"
    local ma mb mc mu t
    # shellcheck disable=SC2086  # $bfd is a list of key=value words
    { conf_global c; conf_bfd to_a 192.0.2.1 $bfd; } >"$SDIR/c.conf"
    # shellcheck disable=SC2086
    { conf_global a; conf_bfd gw 192.0.2.50 $bfd; conf_instance VI_1 state=MASTER priority=150 version=3 advert_int=$ADV track_bfd=gw; } >"$SDIR/a.conf"
    # shellcheck disable=SC2086
    { conf_global a; conf_bfd gw 192.0.2.50 $bfd; conf_instance VI_1 state=MASTER priority=150 version=3 advert_int=$ADV "track_bfd=gw weight -60"; } >"$SDIR/a-weight.conf"
    { conf_global b; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    # b alone first; then a, whose session cannot come Up: it waits in FAULT.
    speaker_start b "$SDIR/b.conf"
    wait_started b VI_1
    expect_master b VI_1 "$VIP4" 15
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    [ "$(log_state a VI_1)" = FAULT ] || fail "side a started in $(log_state a VI_1), expected FAULT until its tracked BFD session is Up"
    expect_stable 2
    [ "$(log_state a VI_1)" = FAULT ] || fail "side a left FAULT although its tracked BFD session never came Up"
    expect_master b VI_1 "$VIP4" 1
    # The responder: the session comes Up and a takes over.
    ma=$(log_mark a)
    speaker_start c "$SDIR/c.conf"
    wait_log c "(to_a) Entering Up state" 10 >/dev/null
    wait_log a "(gw) Entering Up state" 10 "$ma" >/dev/null
    wait_log a "Tracked BFD instance gw is UP" 5 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    # Responder stopped: Down, FAULT, the VIP goes to b.
    sleep 1
    mu=$ma ma=$(log_mark a)
    t=$(bfd_stop_responder a gw "$mu")
    wait_log a "$(bfd_expired gw)" 5 "$ma" >/dev/null
    wait_log a "Tracked BFD instance gw is DOWN" 5 "$ma" >/dev/null
    wait_log a "(VI_1) Entering FAULT STATE" 5 "$ma" >/dev/null
    wait_no_vip a "$VIP4" 2
    expect_master b VI_1 "$VIP4" 10
    trace "FIGURE responder stopped -> b MASTER with the VIP (polled): $(fcalc "$(now) - $t")s"
    [ "$(log_state a VI_1)" = FAULT ] || fail "side a is $(log_state a VI_1), expected FAULT while its tracked BFD session is Down"
    # Responder back: a preempts.
    ma=$(log_mark a) mc=$(log_mark c)
    speaker_start c "$SDIR/c.conf"
    wait_log c "(to_a) Entering Up state" 10 "$mc" >/dev/null
    wait_log a "Tracked BFD instance gw is UP" 10 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    trace "unweighted: done; restarting a with 'track_bfd { gw weight -60 }'"

    # Weighted: a Down session lowers a's priority 150 -> 90, below b's 100.
    speaker_term a >/dev/null
    expect_master b VI_1 "$VIP4" 10
    ma=$(log_mark a)
    t=$(now)
    speaker_start a "$SDIR/a-weight.conf"
    wait_started a VI_1
    wait_log a "Tracked BFD instance gw is UP" 10 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    sleep 1
    [ "$(wire count ADV a vrid=51 prio=150 "ts>$t")" -gt 0 ] || fail "no priority-150 advert from a with its tracked BFD session Up"
    mu=$ma ma=$(log_mark a) mb=$(log_mark b) mc=$(log_mark c)
    t=$(now)
    bfd_stop_responder a gw "$mu" >/dev/null
    wait_log a "Tracked BFD instance gw is DOWN" 5 "$ma" >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 10 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 5
    [ "$(log_state a VI_1)" = BACKUP ] || fail "side a is $(log_state a VI_1), expected BACKUP (a weighted track_bfd lowers the priority, no FAULT)"
    sleep 0.3
    [ -n "$(wire first ADV a vrid=51 prio=90 "ts>$t")" ] || fail "no priority-90 advert (150 - 60) from a after its tracked BFD session went Down: $(wire list ADV a vrid=51 "ts>$t" | head -n 3 | tr '\n' ' ')"
    [ "$(wire count ADV a vrid=51 "prio!=90" "prio!=0" "ts>$(wire first ADV a vrid=51 prio=90 "ts>$t")")" -eq 0 ] || fail "a advertised a priority other than 90 while its session was Down"
    trace "FIGURE weight -60: a advertised 150 with the session Up, then $(wire count ADV a vrid=51 prio=90 "ts>$t") adverts at 90 until b took over"
    # Back up: priority 150 again, a preempts.
    ma=$(log_mark a)
    t=$(now)
    speaker_start c "$SDIR/c.conf"
    wait_log c "(to_a) Entering Up state" 10 "$mc" >/dev/null
    wait_log a "Tracked BFD instance gw is UP" 10 "$ma" >/dev/null
    expect_master a VI_1 "$VIP4" 10
    sleep 0.3
    [ "$(wire count ADV a vrid=51 prio=150 "ts>$t")" -gt 0 ] || fail "no priority-150 advert from a after its tracked BFD session came back Up"
    check_no_rejects a b
}

# bfd_silence SIDE / bfd_resume SIDE: the side's BFD packets stop (and start again) while its
# VRRP goes on, with no AdminDown on the wire: keepalived's BFD process is stopped with
# SIGSTOP; a vigild is reloaded without its bfd_instance (a session removed goes silent).
bfd_silence() {
    case ${IMPL[$1]} in
        keepalived) kill -STOP "$(cat "$SDIR/run-$1/bfd.pid")" ;;
        vigild)
            cp "$SDIR/$1.conf" "$SDIR/$1-bfd.conf"
            awk '/^bfd_instance / { skip = 1 } !skip { print } skip && /^}/ { skip = 0 }' "$SDIR/$1-bfd.conf" >"$SDIR/$1.conf"
            kill -HUP "${SPK_PID[$1]}" ;;
    esac
    trace "BFD of side $1 silenced"
}
bfd_resume() {
    case ${IMPL[$1]} in
        keepalived) kill -CONT "$(cat "$SDIR/run-$1/bfd.pid")" ;;
        vigild) cp "$SDIR/$1-bfd.conf" "$SDIR/$1.conf"; kill -HUP "${SPK_PID[$1]}" ;;
    esac
    trace "BFD of side $1 resumed"
}

# Vigil's master_down_bfd: b (vigild) takes over as soon as its BFD session to the MASTER
# falls, and not while the MASTER's adverts still arrive.
scenario_bfd_fast_failover() {
    [ "${IMPL[b]}" = vigild ] || skip "master_down_bfd is a Vigil extension: needs vigild on side b (b is ${IMPL[b]})"
    lab_setup; capture_start 'udp port 3784'
    local mb tk tc last_a first_b side peer ms
    # Slow sessions first (1 s x 3: a silence of 3 s, over which a's adverts keep coming every
    # second), then the fast ones, by a reload that changes only the BFD timing.
    for ms in 1000 10; do
        for side in a b; do
            if [ "$side" = a ]; then peer=192.0.2.2; else peer=192.0.2.1; fi
            {
                conf_global "$side"
                conf_bfd peer "$peer" min_rx="$ms" min_tx="$ms" multiplier=$BFD_MULT
                if [ "$side" = a ]; then
                    conf_instance VI_1 state=MASTER priority=150 version=3 advert_int=1
                else
                    conf_instance VI_1 priority=100 version=3 advert_int=1 extra="master_down_bfd peer"
                fi
            } >"$SDIR/$side-$ms.conf"
        done
    done
    # 1. a's BFD falls silent while its adverts keep coming: b does not take over.
    cp "$SDIR/a-1000.conf" "$SDIR/a.conf"; cp "$SDIR/b-1000.conf" "$SDIR/b.conf"
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    wait_log b "(peer) Entering Up state" 10 >/dev/null
    sleep 1.5
    mb=$(log_mark b)
    bfd_silence a
    wait_log b "$(bfd_expired peer)" 8 "$mb" >/dev/null
    wait_log b "(VI_1) BFD session to 192.0.2.1 fell; not taking over: an advert from 192.0.2.1 came" 2 "$mb" >/dev/null
    # It waits for a's next advert only (one interval plus Skew_Time), which comes.
    log_has b "taking over if its next advert is late" "$mb" || fail "side b did not say it waits for a's next advert"
    expect_stable 2
    [ "$(transitions b "$mb")" -eq 0 ] || fail "side b changed state although a's adverts kept coming"
    expect_master a VI_1 "$VIP4" 1
    mb=$(log_mark b)
    bfd_resume a
    wait_log b "(peer) Entering Up state" 10 "$mb" >/dev/null
    # 2. 10 ms x 3 (Master_Down_Interval stays 3.6 s): a dies, b takes over as soon as its
    # session falls.
    mb=$(log_mark b)
    cp "$SDIR/a-10.conf" "$SDIR/a.conf"; cp "$SDIR/b-10.conf" "$SDIR/b.conf"
    kill -HUP "${SPK_PID[a]}" "${SPK_PID[b]}"
    # keepalived's reload takes its session down and up again, slow then fast, a second or two
    # after b first hears the fast timing: the cut waits until b's detection time stays fast
    # for longer than that.
    wait_log_settled b "Detection time is" "Detection time is 30000 us" 3 15 "$mb"
    expect_master a VI_1 "$VIP4" 1
    # a cut off the bridge (its eth0 stays up): b's session falls and b takes over; a, which
    # hears nothing either, stays MASTER until the link is back (as with VRRP alone), then b
    # steps down for a's higher priority.
    mb=$(log_mark b)
    tc=$(now)
    ip -n "$NS_BR" link set p-a nomaster
    trace "cut: p-a off the bridge"
    wait_log b "(VI_1) BFD session to the MASTER 192.0.2.1 fell: taking over now (master_down_bfd)" 3 "$mb" >/dev/null
    wait_log b "(VI_1) Entering MASTER STATE" 2 "$mb" >/dev/null
    first_b=$(wire first ADV b vrid=51 "ts>$tc")
    [ -n "$first_b" ] || fail "no advert from side b after a was cut off"
    # a's packets reach the bridge until the cut takes effect, a moment after tc.
    last_a=$( { wire last ADV a vrid=51 "ts<$first_b"; wire last BFD a "ts<$first_b"; } | sort -g | tail -n 1)
    trace "FIGURE a cut off: a's last packet -> b's first advert: $(fcalc "$first_b - $last_a")s"
    ip -n "$NS_BR" link set p-a master br0
    trace "restored: p-a back on the bridge"
    wait_log b "(VI_1) Entering BACKUP STATE" 5 "$mb" >/dev/null
    expect_master a VI_1 "$VIP4" 5
    wait_log b "(peer) Entering Up state" 10 "$mb" >/dev/null
    wait_log_settled b "Detection time is" "Detection time is 30000 us" 3 15 "$mb"
    mb=$(log_mark b)
    tk=$(speaker_kill a)
    wait_log b "(VI_1) BFD session to the MASTER 192.0.2.1 fell: taking over now (master_down_bfd)" 3 "$mb" >/dev/null
    expect_master b VI_1 "$VIP4" 2
    sleep 0.3
    last_a=$( { wire last ADV a vrid=51 "ts<$(fcalc "$tk + 0.5")"; wire last BFD a "ts<$(fcalc "$tk + 0.5")"; } | sort -g | tail -n 1)
    first_b=$(wire first ADV b vrid=51 "ts>$tk")
    [ -n "$first_b" ] || fail "no advert from side b after the kill"
    trace "FIGURE kill -9 of a: a's last packet -> b's first advert: $(fcalc "$first_b - $last_a")s (BFD detection 3 x ${BFD_MS}ms; Master_Down_Interval $(mdi 100 1)s)"
    check_no_rejects a b
}

# FRR's bfdd (the client, say a router) as each director's BFD peer: the two implementations
# agree on the session and its timers, and FRR sees a director go away and come back.
scenario_bfd_frr() {
    [ -x "$FRR_BFDD" ] || skip "FRR's bfdd not found at $FRR_BFDD (Debian package frr; or set FRR_BFDD)"
    command -v vtysh >/dev/null || skip "vtysh not found (Debian package frr)"
    id frr >/dev/null 2>&1 || skip "no user frr (FRR's daemons run as it; Debian package frr creates it)"
    lab_setup; capture_start 'udp port 3784'
    local bfd="min_rx=$BFD_MS min_tx=$BFD_MS multiplier=$BFD_MULT"
    local ma addr side timers want t
    {
        echo "debug bfd peer"
        echo "bfd"
        for addr in 192.0.2.1 192.0.2.2; do
            echo " peer $addr local-address 192.0.2.50"
            echo "  receive-interval $BFD_MS"
            echo "  transmit-interval $BFD_MS"
            echo "  detect-multiplier $BFD_MULT"
            echo " !"
        done
        echo "!"
    } >"$SDIR/bfdd.conf"
    # shellcheck disable=SC2086  # $bfd is a list of key=value words
    { conf_global a; conf_bfd frr 192.0.2.50 $bfd; conf_instance VI_1 priority=150 version=3 advert_int=$ADV; } >"$SDIR/a.conf"
    # shellcheck disable=SC2086
    { conf_global b; conf_bfd frr 192.0.2.50 $bfd; conf_instance VI_1 priority=100 version=3 advert_int=$ADV; } >"$SDIR/b.conf"
    frr_start "$SDIR/bfdd.conf"
    wait_log c "starting: vty@" 5 >/dev/null
    bring_up "$SDIR/a.conf" "$SDIR/b.conf" VI_1 "$VIP4"
    wait_log a "(frr) Entering Up state" 10 >/dev/null
    wait_log b "(frr) Entering Up state" 10 >/dev/null
    # Both ends' timers, as FRR shows them once the poll sequences are over: ours (local) and
    # what each director advertises (remote), 10 ms both ways, multiplier 3.
    want="up $BFD_MS $BFD_MS $BFD_MULT $BFD_MS $BFD_MS $BFD_MULT"
    for addr in 192.0.2.1 192.0.2.2; do
        side=a; [ "$addr" = 192.0.2.1 ] || side=b
        wait_frr_peer "$addr" up 10 >/dev/null
        t=$(fcalc "$(now) + 5")
        while :; do
            timers=$(frr_peer "$addr" "' '.join(str(p[k]) for k in ('status', 'receive-interval', 'transmit-interval', 'detect-multiplier', 'remote-receive-interval', 'remote-transmit-interval', 'remote-detect-multiplier'))")
            [ "$timers" != "$want" ] || break
            fcheck "$(now) < $t" || fail "FRR's peer $addr ($side, ${IMPL[$side]}): status and timers (local rx tx mult, remote rx tx mult) '$timers', expected '$want'"
            sleep 0.2
        done
        trace "FIGURE FRR's peer $addr (${IMPL[$side]}): status, local rx/tx/mult, remote rx/tx/mult: $timers"
    done
    for side in a b c; do
        [ "$(wire count BFD "$side" "ttl!=255")" -eq 0 ] || fail "$side sent BFD packets with a TTL other than 255"
        [ "$(wire count BFD "$side" ttl=255)" -gt 0 ] || fail "no BFD packets from $side on the wire"
    done
    # a stopped: FRR's peer to a goes down, the one to b stays up.
    sleep 1
    t=$(speaker_term a)
    t=$(fcalc "$(wait_frr_peer 192.0.2.1 down 5) - $t")
    trace "FIGURE SIGTERM of a -> FRR shows the peer down: ${t}s (polled every 0.1s); FRR's diagnostic: $(frr_peer 192.0.2.1 "p['diagnostic']"), remote: $(frr_peer 192.0.2.1 "p['remote-diagnostic']")"
    [ "$(frr_peer 192.0.2.2 "p['status']")" = up ] || fail "FRR's peer 192.0.2.2 (b) is $(frr_peer 192.0.2.2 "p['status']") while only a was stopped"
    # a back: up again.
    sleep 1
    ma=$(log_mark a)
    speaker_start a "$SDIR/a.conf"
    wait_started a VI_1
    wait_log a "(frr) Entering Up state" 10 "$ma" >/dev/null
    wait_frr_peer 192.0.2.1 up 10 >/dev/null
    expect_master a VI_1 "$VIP4" 10
    trace "FRR's log: $(grep -o 'state-change: .*' "$SDIR/c.log" | tr '\n' ';')"
    check_no_rejects a b
}

# ---- runner ------------------------------------------------------------------------

NAME_WIDTH=16
lab_before_teardown() { capture_stop; }
lab_namespaces() { echo "${NS_BR:-} ${NS_A:-} ${NS_B:-} ${NS_C:-}"; }
lab_failure_logs() {
    local s
    for s in a b; do
        [ -f "$1/$s.log" ] || continue
        echo "last lines of $s.log (${IMPL[$s]}):"; tail -n 15 "$1/$s.log"
    done
    if [ -f "$1/c.log" ]; then echo "last lines of c.log (the client's BFD peer):"; tail -n 15 "$1/c.log"; fi
}

versions=()
for side in a b; do
    case ${IMPL[$side]} in
        keepalived) versions+=("${side^^}: $("$KEEPALIVED" --version 2>&1 | sed -n 1p)") ;;
        vigild) versions+=("${side^^}: $VIGILD") ;;
    esac
done
echo "VRRP harness: A=${IMPL[a]} B=${IMPL[b]} (${versions[0]}; ${versions[1]})"
run_scenarios "${selected[@]}"
