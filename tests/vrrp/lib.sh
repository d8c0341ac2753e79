# shellcheck shell=bash
# Helpers for the VRRP failover harness (tests/vrrp/run.sh): a lab of network
# namespaces on a bridge, speaker configs from templates, starting and killing
# speakers, waiting for log lines, "who is MASTER", and a tcpdump capture with a
# parser.  Sourced by run.sh; every function expects the variables that
# lab_setup sets (NS_BR, NS_A, NS_B, NS_C, SDIR) and the implementation table
# IMPL[a]/IMPL[b] set by run.sh.
#
# Topology (one lab per scenario, names made unique by the scenario's PID):
#
#   vigil-a-PID  eth0 192.0.2.1/24 2001:db8::1/64  02:00:00:00:00:0a --+
#                [eth1, a veth whose peer eth1-peer is in the same netns] |
#   vigil-b-PID  eth0 192.0.2.2/24 2001:db8::2/64  02:00:00:00:00:0b --+-- br0 in vigil-br-PID
#   vigil-c-PID  eth0 192.0.2.50/24 (client)       02:00:00:00:00:50 --+   (tcpdump -i br0)

# shellcheck disable=SC2034  # the addresses are used by run.sh's scenarios
# shellcheck source=../lib/records.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/records.sh"
VIP4=192.0.2.100
VIP4B=192.0.2.101
VIP6=2001:db8::100
MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
MAC_C=02:00:00:00:00:50
declare -A NS IMPL SPK_PID
# Every namespace any scenario creates is appended here, so that run.sh's own
# EXIT trap can remove what a scenario that died abruptly left behind.
NS_REGISTRY=${NS_REGISTRY:-/dev/null}

# ---- small utilities -------------------------------------------------------

now() { date +%s.%N; }

# fcalc EXPR: floating-point arithmetic; fcheck EXPR: its truth as exit status.
fcalc() { awk "BEGIN { printf \"%.3f\n\", ($1) }"; }
fcheck() { awk "BEGIN { exit !($1) }"; }

# trace MSG: a timestamped line in the scenario's trace (printed on failure).
trace() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >>"$SDIR/trace"; }

# fail REASON: end the scenario (it runs in its own subshell) as failed.
fail() {
    trace "FAIL: $*"
    [ -s "$SDIR/reason" ] || printf '%s\n' "$*" >"$SDIR/reason"
    exit 1
}

# The exit status of a scenario that ended through skip (automake's "skipped").
SKIP_STATUS=77

# skip REASON: end the scenario (before it sets anything up) as not run: it does not apply
# to this pairing or this machine.  run.sh prints SKIP with REASON, counted apart from PASS.
skip() {
    trace "SKIP: $*"
    printf '%s\n' "$*" >"$SDIR/skipped"
    exit "$SKIP_STATUS"
}

# other SIDE: the other director.
other() { if [ "$1" = a ]; then echo b; else echo a; fi; }

mac_of() { case $1 in a) echo $MAC_A ;; b) echo $MAC_B ;; c) echo $MAC_C ;; esac; }

# ---- the lab -----------------------------------------------------------------

# lab_setup [eth1]: bridge, two directors and a client, each in its own netns.
# With "eth1", each director also gets eth1 (a veth pair kept inside the
# director's namespace) for track_interface tests.
lab_setup() {
    local with_eth1=${1:-} id=$BASHPID s ns
    NS_BR=vigil-br-$id NS_A=vigil-a-$id NS_B=vigil-b-$id NS_C=vigil-c-$id
    NS[a]=$NS_A NS[b]=$NS_B NS[c]=$NS_C
    for ns in "$NS_BR" "$NS_A" "$NS_B" "$NS_C"; do
        echo "$ns" >>"$NS_REGISTRY"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # Before any interface exists, so that every one inherits it: no DAD,
        # addresses (link-local ones too, which VRRPv3 over IPv6 sends from) are
        # usable at once.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    done
    # No multicast snooping: 224.0.0.18 and ff02::12 are flooded to every port.
    ip -n "$NS_BR" link add br0 type bridge mcast_snooping 0
    ip -n "$NS_BR" link set br0 up
    for s in a b c; do
        ns=${NS[$s]}
        ip -n "$NS_BR" link add "p-$s" type veth peer name eth0 netns "$ns"
        ip netns exec "$NS_BR" sysctl -qw "net.ipv6.conf.p-$s.disable_ipv6=0" "net.ipv6.conf.p-$s.accept_dad=0"
        ip -n "$NS_BR" link set "p-$s" master br0 up
        ip -n "$ns" link set eth0 address "$(mac_of "$s")"
        ip -n "$ns" link set eth0 up
    done
    ip -n "$NS_A" addr add 192.0.2.1/24 dev eth0
    ip -n "$NS_A" addr add 2001:db8::1/64 dev eth0 nodad
    ip -n "$NS_B" addr add 192.0.2.2/24 dev eth0
    ip -n "$NS_B" addr add 2001:db8::2/64 dev eth0 nodad
    ip -n "$NS_C" addr add 192.0.2.50/24 dev eth0
    # The client learns the VIP's MAC from gratuitous ARPs (arp_accept) and lets
    # a newer one replace it at once (locktime 0).
    ip netns exec "$NS_C" sysctl -qw net.ipv4.conf.eth0.arp_accept=1 net.ipv4.neigh.eth0.locktime=0
    if [ "$with_eth1" = eth1 ]; then
        for s in a b; do
            ns=${NS[$s]}
            ip -n "$ns" link add eth1 type veth peer name eth1-peer
            ip -n "$ns" link set eth1-peer up
            ip -n "$ns" link set eth1 up
        done
        ip -n "$NS_A" addr add 198.51.100.1/24 dev eth1
        ip -n "$NS_B" addr add 198.51.100.2/24 dev eth1
    fi
    trace "lab up: $NS_BR $NS_A $NS_B $NS_C${with_eth1:+ (with eth1)}"
}

# lab_teardown: end every process in the lab's namespaces (only ours can be
# there), then delete the namespaces.  Safe to call twice.
lab_teardown() {
    local ns pid i
    for ns in "${NS_A:-}" "${NS_B:-}" "${NS_C:-}" "${NS_BR:-}"; do
        [ -n "$ns" ] || continue
        [ -e "/run/netns/$ns" ] || continue
        # SIGTERM first, so that a vigild removes its VIPs, records and control socket as it
        # does at any stop; SIGKILL only for what is still there after 5 s.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
        for i in $(seq 50); do
            [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        # A vigild that had to be killed leaves its records and its socket: nothing of this
        # lab stays in /run.
        forget_records "$ns"
        ip netns delete "$ns" 2>/dev/null || true
        rm -f "/run/vigil/vigild-$ns.sock"
    done
    wait 2>/dev/null || true
}

# link_down SIDE IFACE / link_up SIDE IFACE
link_down() { trace "ip link set $2 down in ${NS[$1]}"; ip -n "${NS[$1]}" link set "$2" down; }
link_up() { trace "ip link set $2 up in ${NS[$1]}"; ip -n "${NS[$1]}" link set "$2" up; }

# ---- config templates ----------------------------------------------------------
# Each prints a block of keepalived.conf; a scenario concatenates them:
#   { conf_global a; conf_instance VI_1 priority=150 vips="$VIP4/24"; } >"$SDIR/a.conf"

# conf_global ROUTER_ID [scripts]: global_defs; "scripts" adds script security
# (scripts run as root).
conf_global() {
    echo "global_defs {"
    echo "    router_id $1"
    if [ "${2:-}" = scripts ]; then
        echo "    enable_script_security"
        echo "    script_user root"
    fi
    echo "}"
}

# conf_instance NAME [key=value ...]: a vrrp_instance.  Keys (default):
#   state (BACKUP)  priority (100)  vrid (51)  advert_int (1)  version (unset:
#   keepalived's default, 2 for IPv4)  auth (unset; PASS:secret)  vips
#   ("$VIP4/24"; space separated)  interface (eth0)  src (unicast_src_ip)
#   peers (unicast peers, space separated)  nopreempt (set to 1)
#   preempt_delay (seconds)  track_interface (space separated)
#   track_script (space separated names)  vip_dev (ADDR/PREFIX@DEV, space
#   separated: VIPs on another interface)  routes (virtual_routes lines,
#   separated by ';')  rules (virtual_rules lines, separated by ';')
#   track_bfd (track_bfd lines, separated by ';': "gw" or "gw weight -60")
conf_instance() {
    local name=$1; shift
    local state=BACKUP priority=100 vrid=51 advert_int=1 version='' auth='' vips="$VIP4/24"
    local interface=eth0 src='' peers='' nopreempt='' preempt_delay='' track_interface='' track_script='' vip_dev=''
    local routes='' rules='' track_bfd='' extra=''
    local kv k v
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
            state|priority|vrid|advert_int|version|auth|vips|interface|src|peers|nopreempt|preempt_delay|track_interface|track_script|track_bfd|vip_dev|routes|rules|extra)
                printf -v "$k" '%s' "$v" ;;
            *) echo "conf_instance: unknown key '$k'" >&2; return 2 ;;
        esac
    done
    echo "vrrp_instance $name {"
    echo "    state $state"
    echo "    interface $interface"
    echo "    virtual_router_id $vrid"
    echo "    priority $priority"
    echo "    advert_int $advert_int"
    [ -z "$version" ] || echo "    version $version"
    [ -z "$nopreempt" ] || echo "    nopreempt"
    [ -z "$preempt_delay" ] || echo "    preempt_delay $preempt_delay"
    if [ -n "$auth" ]; then
        echo "    authentication {"
        echo "        auth_type ${auth%%:*}"
        echo "        auth_pass ${auth#*:}"
        echo "    }"
    fi
    [ -z "$src" ] || echo "    unicast_src_ip $src"
    if [ -n "$peers" ]; then
        echo "    unicast_peer {"
        for v in $peers; do echo "        $v"; done
        echo "    }"
    fi
    if [ -n "$track_interface" ]; then
        echo "    track_interface {"
        for v in $track_interface; do echo "        $v"; done
        echo "    }"
    fi
    if [ -n "$track_script" ]; then
        echo "    track_script {"
        for v in $track_script; do echo "        $v"; done
        echo "    }"
    fi
    conf_lines track_bfd "$track_bfd"
    echo "    virtual_ipaddress {"
    for v in $vips; do echo "        $v"; done
    for v in $vip_dev; do echo "        ${v%@*} dev ${v#*@}"; done
    echo "    }"
    conf_lines virtual_routes "$routes"
    conf_lines virtual_rules "$rules"
    # extra: more lines of the instance, separated by ';'
    if [ -n "$extra" ]; then
        local IFS=';'
        for v in $extra; do echo "    $v"; done
    fi
    echo "}"
}

# conf_lines BLOCK LINES: "    BLOCK { ... }" with one line per ';'-separated
# item of LINES; nothing when LINES is empty.
conf_lines() {
    local item items
    [ -n "$2" ] || return 0
    IFS=';' read -ra items <<<"$2"
    echo "    $1 {"
    for item in "${items[@]}"; do echo "        $item"; done
    echo "    }"
}

# conf_static ROUTES RULES: top-level static_routes and static_rules blocks
# (each ';'-separated, either may be empty).
conf_static() {
    conf_lines static_routes "$1" | sed 's/^    //'
    conf_lines static_rules "$2" | sed 's/^    //'
}

# conf_static_addresses ADDRESS...: a top-level static_ipaddress block, a line each.
conf_static_addresses() {
    printf 'static_ipaddress {\n'
    printf '    %s\n' "$@"
    printf '}\n'
}

# conf_script NAME COMMAND [key=value ...]: a vrrp_script; keys interval (1),
# weight (unset), fall (1), rise (1).
conf_script() {
    local name=$1 cmd=$2; shift 2
    local interval=1 weight='' fall=1 rise=1 kv k v
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
            interval|weight|fall|rise) printf -v "$k" '%s' "$v" ;;
            *) echo "conf_script: unknown key '$k'" >&2; return 2 ;;
        esac
    done
    echo "vrrp_script $name {"
    echo "    script \"$cmd\""
    echo "    interval $interval"
    [ -z "$weight" ] || echo "    weight $weight"
    echo "    fall $fall"
    echo "    rise $rise"
    echo "}"
}

# conf_bfd NAME NEIGHBOR [key=value ...]: a top-level bfd_instance towards
# NEIGHBOR.  Keys (unset: keepalived's default): source_ip  min_rx  min_tx
# idle_tx (ms)  multiplier  ttl  max_hops  passive (set to 1).
conf_bfd() {
    local name=$1 nbr=$2; shift 2
    local source_ip='' min_rx='' min_tx='' idle_tx='' multiplier='' ttl='' max_hops='' passive='' kv k
    for kv in "$@"; do
        k=${kv%%=*}
        case $k in
            source_ip|min_rx|min_tx|idle_tx|multiplier|ttl|max_hops|passive) printf -v "$k" '%s' "${kv#*=}" ;;
            *) echo "conf_bfd: unknown key '$k'" >&2; return 2 ;;
        esac
    done
    echo "bfd_instance $name {"
    echo "    neighbor_ip $nbr"
    for k in source_ip min_rx min_tx idle_tx multiplier ttl max_hops; do
        [ -z "${!k}" ] || echo "    $k ${!k}"
    done
    [ -z "$passive" ] || echo "    passive"
    echo "}"
}

# conf_sync_group NAME INSTANCE...: a vrrp_sync_group.
conf_sync_group() {
    local name=$1 i; shift
    echo "vrrp_sync_group $name {"
    echo "    group {"
    for i in "$@"; do echo "        $i"; done
    echo "    }"
    echo "}"
}

# ---- speakers ------------------------------------------------------------------

# speaker_start SIDE CONF: start IMPL[SIDE] on CONF in the side's namespace, in
# the foreground mode (-n) with logs on the console (-l) appended to
# $SDIR/SIDE.log.  Does not wait: see wait_started.  SIDE c (the client) runs
# keepalived's BFD process only; set IMPL[c]=keepalived first.
speaker_start() {
    local side=$1 conf=$2 impl=${IMPL[$1]} dir="$SDIR/run-$1" log="$SDIR/$1.log"
    local -a cmd
    mkdir -p "$dir"
    # A side killed with SIGKILL leaves its pid files; keepalived refuses to
    # start while a pid file names a live process, and a killed child that
    # init has not reaped yet still counts as one.
    rm -f "$dir"/*.pid
    case $impl in
        keepalived)
            # -G: no syslog; private pid files so that parallel runs don't clash.
            cmd=("$KEEPALIVED" -n -l -D -P -G -f "$conf" -p "$dir/keepalived.pid" -r "$dir/vrrp.pid"
                -c "$dir/checkers.pid" -b "$dir/bfd.pid" -i "vigil-$side")
            # The client (side c) is a BFD responder: keepalived's BFD process alone (-C: no
            # VRRP process, on top of -P: no checkers).
            [ "$side" != c ] || cmd+=(-C) ;;
        vigild)
            # SPK_ALL=1: both subsystems (VRRP and the checkers), not -P.
            cmd=("$VIGILD" -f "$conf" -n -l -D -p "$dir/vigild.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid")
            [ "${SPK_ALL:-0}" = 1 ] || cmd+=(-P)
            # SPK_ANNOUNCE=FILE: --announce-config FILE (the checkers then run without IPVS).
            [ -z "${SPK_ANNOUNCE:-}" ] || cmd+=(--announce-config "$SPK_ANNOUNCE")
            # SPK_NO_NET_ADMIN=1: without CAP_NET_ADMIN, as under a unit or container that lacks it.
            [ "${SPK_NO_NET_ADMIN:-0}" = 0 ] || cmd=(setpriv --bounding-set=-net_admin --inh-caps=-net_admin -- "${cmd[@]}") ;;
        *) fail "unknown implementation '$impl' for side $side" ;;
    esac
    printf '=== %s: %s\n' "$(date '+%F %T.%3N')" "${cmd[*]}" >>"$log"
    # ip netns exec execs the speaker, so $! is the speaker's own PID.
    (cd "$SDIR" && ulimit -n 1024 && exec ip netns exec "${NS[$side]}" "${cmd[@]}" >>"$log" 2>&1 </dev/null) &
    SPK_PID[$side]=$!
    trace "started $impl on side $side (pid ${SPK_PID[$side]}, config $(basename "$conf"))"
}

# frr_start CONF: FRR's bfdd alone as side c (the client), on CONF, with its pid
# file, vty socket and control sockets in $SDIR/frr (no zebra: a peer given by
# its local-address needs no interface list), logging to $SDIR/c.log.  FRR's
# daemons drop root for the frr user, whose vty group lets vtysh in.
frr_start() {
    local dir="$SDIR/frr"
    mkdir -p "$dir"
    chown frr:frr "$dir"
    # The run's directory is mktemp's 0700: let the frr user through (search only).
    chmod o+x "$(dirname "$SDIR")" "$SDIR"
    rm -f "$dir"/*.pid
    local -a cmd=("$FRR_BFDD" -f "$1" -i "$dir/bfdd.pid" --vty_socket "$dir" --bfdctl "$dir/bfdd.sock"
        -z "$dir/zserv.api" -u frr -g frr -A 127.0.0.1 -P 0 --log stdout --log-level debug)
    printf '=== %s: %s\n' "$(date '+%F %T.%3N')" "${cmd[*]}" >>"$SDIR/c.log"
    (cd "$dir" && exec ip netns exec "$NS_C" "${cmd[@]}" >>"$SDIR/c.log" 2>&1 </dev/null) &
    SPK_PID[c]=$!
    IMPL[c]=frr
    trace "started FRR bfdd on side c (pid ${SPK_PID[c]}, config $(basename "$1"))"
}

# frr_peer ADDR EXPR: EXPR (Python, on the peer's object p) from FRR's `show bfd
# peers json` for the peer ADDR, e.g. "p['status']"; "none" if FRR has no such peer.
frr_peer() {
    ip netns exec "$NS_C" vtysh --vty_socket "$SDIR/frr" -d bfdd -c 'show bfd peers json' |
        python3 -c 'import json, sys
peers = [p for p in json.load(sys.stdin) if p["peer"] == sys.argv[1]]
print(eval(sys.argv[2], {"p": peers[0]}) if peers else "none")' "$1" "$2"
}

# wait_frr_peer ADDR STATUS TIMEOUT: poll FRR until its peer ADDR has STATUS
# (up, down, init); prints the time it was seen.
wait_frr_peer() {
    local st deadline
    deadline=$(fcalc "$(now) + $3")
    until st=$(frr_peer "$1" "p['status']" 2>/dev/null) && [ "$st" = "$2" ]; do
        speaker_alive c || fail "FRR's bfdd exited: $(tail -n 3 "$SDIR/c.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "FRR's peer $1 is '${st:-?}', not '$2', after $3s"
        sleep 0.1
    done
    trace "FRR: peer $1 $2"
    now
}

# speaker_alive SIDE: is the side's speaker process still running (not a zombie)?
speaker_alive() {
    local pid=${SPK_PID[$1]:-} st
    [ -n "$pid" ] || return 1
    st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# speaker_kill SIDE: crash it (SIGKILL).  Every process of the side's namespace
# is stopped first and then killed, so that none can react (keepalived's VRRP
# child must not notice its parent's death and send a priority-0 advert).
# Prints the time of the kill.
speaker_kill() {
    local side=$1 pid pids t
    pids=$(ip netns pids "${NS[$side]}")
    t=$(now)
    for pid in $pids; do kill -STOP "$pid" 2>/dev/null || true; done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "${SPK_PID[$side]}" 2>/dev/null || true
    # Let init reap the orphaned children (bounded: a zombie is harmless here).
    for _ in $(seq 40); do
        [ -z "$(for pid in $pids; do [ -d "/proc/$pid" ] && echo "$pid"; done)" ] && break
        sleep 0.05
    done
    trace "kill -9 side $side (pids ${pids//$'\n'/ })"
    echo "$t"
}

# speaker_term SIDE [TIMEOUT]: SIGTERM the speaker and wait until every process
# of the side's namespace has exited.  Prints the time of the signal.
speaker_term() {
    local side=$1 timeout=${2:-10} t deadline
    t=$(now)
    kill -TERM "${SPK_PID[$side]}"
    trace "SIGTERM side $side (pid ${SPK_PID[$side]})"
    deadline=$(fcalc "$t + $timeout")
    while [ -n "$(ip netns pids "${NS[$side]}")" ]; do
        fcheck "$(now) < $deadline" || fail "side $side (${IMPL[$side]}) still running ${timeout}s after SIGTERM"
        sleep 0.05
    done
    wait "${SPK_PID[$side]}" 2>/dev/null || true
    echo "$t"
}

# ---- logs ----------------------------------------------------------------------

# log_mark SIDE: the current length (lines) of the side's log, for "after this".
log_mark() { if [ -f "$SDIR/$1.log" ]; then wc -l <"$SDIR/$1.log"; else echo 0; fi; }

# log_has SIDE TEXT [FROM_LINE]: does the log hold TEXT (fixed string) after line FROM_LINE?
# (No "| grep -q" anywhere here: with pipefail, grep's early exit can turn a
# match into a failure through the writer's SIGPIPE.)
log_has() {
    [ -f "$SDIR/$1.log" ] || return 1
    awk -v from="${3:-0}" -v text="$2" 'NR > from && index($0, text) { found = 1 } END { exit !found }' "$SDIR/$1.log"
}

# wait_log SIDE TEXT TIMEOUT [FROM_LINE]: poll the side's log until TEXT (a
# fixed string) appears after line FROM_LINE; fails the scenario on timeout or
# if the speaker dies meanwhile.  Prints the time it was seen.
wait_log() {
    local side=$1 text=$2 timeout=$3 from=${4:-0} deadline
    deadline=$(fcalc "$(now) + $timeout")
    while ! log_has "$side" "$text" "$from"; do
        speaker_alive "$side" || fail "side $side (${IMPL[$side]}) exited while waiting for '$text'"
        fcheck "$(now) < $deadline" || fail "side $side (${IMPL[$side]}): no '$text' within ${timeout}s"
        sleep 0.05
    done
    trace "side $side logged '$text'"
    now
}

# wait_log_settled SIDE PREFIX TEXT SETTLE TIMEOUT [FROM_LINE]: poll the side's log until its
# last line holding PREFIX (after line FROM_LINE) holds TEXT and has stayed the last one for
# SETTLE seconds: for a value the peer may still renegotiate (a BFD session's detection time,
# which a peer's reload or its session coming up again changes a second or two later). Fails
# the scenario on timeout or if the speaker dies meanwhile.
wait_log_settled() {
    local side=$1 prefix=$2 text=$3 settle=$4 timeout=$5 from=${6:-0} deadline last seen= since=
    deadline=$(fcalc "$(now) + $timeout")
    while :; do
        speaker_alive "$side" || fail "side $side (${IMPL[$side]}) exited while waiting for '$text'"
        last=$(awk -v from="$from" -v p="$prefix" 'NR > from && index($0, p) { l = NR ": " $0 } END { print l }' "$SDIR/$side.log")
        if [[ $last == *"$text"* ]]; then
            [ "$last" = "$seen" ] || { seen=$last; since=$(now); }
            fcheck "$(now) >= $since + $settle" && break
        else
            seen=
        fi
        fcheck "$(now) < $deadline" || fail "side $side (${IMPL[$side]}): '$text' not the last '$prefix' line for ${settle}s within ${timeout}s"
        sleep 0.05
    done
    trace "side $side: '$text' the last '$prefix' line for ${settle}s"
}

# state_re INST: an ERE for the lines that say INST's state: "(INST) Entering X
# STATE", and "(INST) entering FAULT state" (also "(INST): entering FAULT state
# ..."), the line keepalived logs instead when a tracked object (track_bfd, a
# script, an interface) holds the instance in FAULT from its start.
state_re() { echo "\($1\):? (Entering (MASTER|BACKUP|FAULT) STATE|entering FAULT state)"; }

# wait_started SIDE INST [TIMEOUT]: wait for the first "(INST) Entering ... STATE"
# (or the start in FAULT, see state_re).
wait_started() {
    local side=$1 inst=$2 timeout=${3:-10} deadline
    deadline=$(fcalc "$(now) + $timeout")
    until grep -qE "$(state_re "$inst")" "$SDIR/$side.log" 2>/dev/null; do
        speaker_alive "$side" || fail "side $side (${IMPL[$side]}) exited at start-up: $(tail -n 3 "$SDIR/$side.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "side $side (${IMPL[$side]}): no '($inst) Entering ... STATE' within ${timeout}s of start"
        sleep 0.05
    done
}

# log_state SIDE INST: the state of the last "(INST) Entering X STATE" line (or
# of the start in FAULT, see state_re).
log_state() {
    grep -oE "$(state_re "$2")" "$SDIR/$1.log" 2>/dev/null | tail -n 1 | awk '{ print $3 }'
}

# transitions SIDE [FROM_LINE]: how many "Entering X STATE" lines after FROM_LINE.
transitions() { tail -n +"$((${2:-0} + 1))" "$SDIR/$1.log" | grep -cE '\) Entering (MASTER|BACKUP|FAULT) STATE' || true; }

# What counts as "keepalived rejected a packet": the receive-side error messages
# of keepalived 2.2.7's vrrp_check_packet() and packet reader (from the binary's
# format strings; "received an invalid passwd!" confirmed by experiment).  An
# interval change in VRRPv3 ("advertisement interval changed") and priority
# comparisons are normal protocol events and are not listed.
REJECT_RE='received an invalid passwd|received a [0-9]+ auth, expecting|Invalid auth type|No AH header but auth type is AH|Received AH header but auth type not AH|IPSEC-AH :|vrrp packet too (long|short)|VRRP packet (with AH )?too short|invalid TTL/HL|TTL/HL [0-9]+ not in range|wrong version\. Received|advertisement interval mismatch|Invalid packet type|received an unexpected ip number count|expected [0-9]+ VIPs but received|ip_tot_len mismatch|Invalid VRRPv[23] checksum|Expected (mult|un)icast packet but received|discarding (mult|un)icast packet on|not present in MASTER advert|not a unicast peer|Discarding bogus packet|Unknown VRID'

# check_no_rejects SIDE...: fail if a side's log holds a rejected-packet message.
check_no_rejects() {
    local side line
    for side in "$@"; do
        [ -f "$SDIR/$side.log" ] || continue
        line=$(grep -E -m 1 -- "$REJECT_RE" "$SDIR/$side.log" || true)
        [ -z "$line" ] || fail "side $side (${IMPL[$side]}) rejected a packet: ${line#*: }"
    done
}

# ---- who is MASTER ---------------------------------------------------------------

# has_vip SIDE ADDR [DEV]: is ADDR (without prefix length) on the side's DEV (eth0)?
has_vip() {
    local out
    out=$(ip -n "${NS[$1]}" -o addr show dev "${3:-eth0}" 2>/dev/null) || return 1
    [[ $out == *" $2/"* ]]
}

# vip_holders ADDR: the sides ("a", "b", "a b" or "") whose eth0 holds ADDR.
vip_holders() {
    local s out=()
    for s in a b; do if has_vip "$s" "$1"; then out+=("$s"); fi; done
    echo "${out[*]}"
}

# wait_vip SIDE ADDR TIMEOUT [DEV]: wait until ADDR is on the side's DEV (eth0); prints the time.
wait_vip() {
    local deadline dev=${4:-eth0}
    deadline=$(fcalc "$(now) + $3")
    until has_vip "$1" "$2" "$dev"; do
        fcheck "$(now) < $deadline" || fail "VIP $2 not on side $1's $dev within $3s (holders on eth0: '$(vip_holders "$2")')"
        sleep 0.05
    done
    now
}

# wait_no_vip SIDE ADDR TIMEOUT
wait_no_vip() {
    local deadline
    deadline=$(fcalc "$(now) + $3")
    while has_vip "$1" "$2"; do
        fcheck "$(now) < $deadline" || fail "VIP $2 still on side $1 after $3s"
        sleep 0.05
    done
}

# expect_master SIDE INST ADDR [TIMEOUT]: SIDE is MASTER of INST by both
# measures: its log's last transition is "(INST) Entering MASTER STATE" and ADDR
# is on its eth0; the other side, if its speaker runs, is BACKUP (or FAULT) and
# does not hold ADDR.  Waits up to TIMEOUT (default 10 s) for that to settle.
expect_master() {
    local side=$1 inst=$2 addr=$3 timeout=${4:-10} o deadline st ost
    o=$(other "$side")
    deadline=$(fcalc "$(now) + $timeout")
    while :; do
        st=$(log_state "$side" "$inst") ost=
        speaker_alive "$o" && ost=$(log_state "$o" "$inst")
        if [ "$st" = MASTER ] && has_vip "$side" "$addr" &&
            { ! speaker_alive "$o" || { [ "$ost" != MASTER ] && [ -n "$ost" ] && ! has_vip "$o" "$addr"; }; }; then
            trace "side $side is MASTER of $inst ($addr); other side: ${ost:-not running}"
            return 0
        fi
        speaker_alive "$side" || fail "side $side (${IMPL[$side]}) exited; expected it MASTER of $inst"
        if ! fcheck "$(now) < $deadline"; then
            fail "expected side $side MASTER of $inst within ${timeout}s; log states: $side=${st:-none} $o=${ost:-not running}; $addr held by: '$(vip_holders "$addr")'"
        fi
        sleep 0.05
    done
}

# expect_stable SECONDS: no side logs a transition for SECONDS, and the VIP
# holders stay as they are (used to prove "stays BACKUP").
expect_stable() {
    local secs=$1 addr=${2:-$VIP4} ma mb before
    ma=$(log_mark a) mb=$(log_mark b) before=$(vip_holders "$addr")
    sleep "$secs"
    [ "$(transitions a "$ma")" -eq 0 ] || fail "side a changed state during ${secs}s: $(tail -n +"$((ma + 1))" "$SDIR/a.log" | grep -m1 -oE '\(.*\) Entering [A-Z]+ STATE')"
    [ "$(transitions b "$mb")" -eq 0 ] || fail "side b changed state during ${secs}s: $(tail -n +"$((mb + 1))" "$SDIR/b.log" | grep -m1 -oE '\(.*\) Entering [A-Z]+ STATE')"
    [ "$(vip_holders "$addr")" = "$before" ] || fail "$addr moved from '$before' to '$(vip_holders "$addr")' during ${secs}s"
}

# ---- the client's view (ARP) -------------------------------------------------------

# side_of_mac MAC: a, b, c or the MAC itself.
side_of_mac() {
    case $1 in "$MAC_A") echo a ;; "$MAC_B") echo b ;; "$MAC_C") echo c ;; *) echo "$1" ;; esac
}

# client_neigh ADDR: the side whose MAC the client's neighbour entry for ADDR
# holds now (learned from gratuitous ARPs or an earlier resolution), or "".
client_neigh() {
    local mac
    mac=$(ip -n "$NS_C" neigh show "$1" dev eth0 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
    [ -z "$mac" ] || side_of_mac "$mac"
}

# client_arp ADDR: flush the client's entry, make the kernel resolve ADDR
# afresh (a TCP connection attempt to the discard port: an ARP request, then a
# RST), and print the side that answered.
client_arp() {
    ip -n "$NS_C" neigh flush to "$1" dev eth0 2>/dev/null || true
    ip netns exec "$NS_C" timeout 2 bash -c "exec 3<>/dev/tcp/$1/9" 2>/dev/null || true
    client_neigh "$1"
}

# ---- capture -----------------------------------------------------------------------

# capture_start [FILTER]: tcpdump on br0 (every frame between the ports: the
# bridge is promiscuous while tcpdump runs) into $SDIR/wire.pcap: VRRP, ARP and
# ICMPv6, and what FILTER (a pcap filter, e.g. 'udp port 3784') adds.
capture_start() {
    local deadline filter='vrrp or (ip6 and ip6 proto 112) or arp or icmp6'
    [ -z "${1:-}" ] || filter="$filter or ($1)"
    ip netns exec "$NS_BR" tcpdump -i br0 --immediate-mode -U -n -w "$SDIR/wire.pcap" \
        "$filter" 2>"$SDIR/tcpdump.err" &
    CAPTURE_PID=$!
    deadline=$(fcalc "$(now) + 5")
    until grep -q 'listening on' "$SDIR/tcpdump.err" 2>/dev/null; do
        fcheck "$(now) < $deadline" || fail "tcpdump did not start: $(cat "$SDIR/tcpdump.err")"
        sleep 0.05
    done
}

capture_stop() {
    [ -n "${CAPTURE_PID:-}" ] || return 0
    kill -INT "$CAPTURE_PID" 2>/dev/null || true
    wait "$CAPTURE_PID" 2>/dev/null || true
    CAPTURE_PID=
}

# wire_parse [PCAP]: the capture as one event per line:
#   ADV  TS SIDE SRC DST VERSION VRID PRIO INTERVAL_SECONDS
#   GARP TS SIDE ADDR              (gratuitous ARP: sender IP == target IP)
#   NA   TS SIDE ADDR              (neighbour advertisement, unsolicited or not)
# SIDE is a, b or c from the source MAC (or the MAC itself).
# shellcheck disable=SC2120  # PCAP is optional
wire_parse() {
    tcpdump -r "${1:-$SDIR/wire.pcap}" -nn -tt -e 2>/dev/null | awk -v ma="$MAC_A" -v mb="$MAC_B" -v mc="$MAC_C" '
        function side(m) { return m == ma ? "a" : m == mb ? "b" : m == mc ? "c" : m }
        {
            ts = $1; s = side($2)
            if ($0 ~ /VRRPv[23], Advertisement/) {
                match($0, /: [0-9a-f:.]+ > [0-9a-f:.]+: VRRPv/); split(substr($0, RSTART + 2, RLENGTH - 2), a, " ")
                src = a[1]; dst = a[3]; sub(/:$/, "", dst)
                match($0, /VRRPv[23]/); ver = substr($0, RSTART + 5, 1)
                match($0, /vrid [0-9]+/); vrid = substr($0, RSTART + 5, RLENGTH - 5)
                match($0, /prio [0-9]+/); prio = substr($0, RSTART + 5, RLENGTH - 5)
                iv = "?"
                if (match($0, /intvl [0-9]+cs/)) iv = substr($0, RSTART + 6, RLENGTH - 8) / 100
                else if (match($0, /intvl [0-9]+s/)) iv = substr($0, RSTART + 6, RLENGTH - 7) + 0
                print "ADV", ts, s, src, dst, ver, vrid, prio, iv
            } else if ($0 ~ /ARP.*Request who-has/) {
                match($0, /who-has [0-9.]+/); t = substr($0, RSTART + 8, RLENGTH - 8)
                match($0, /tell [0-9.]+/); f = substr($0, RSTART + 5, RLENGTH - 5)
                if (t == f) print "GARP", ts, s, t
            } else if ($0 ~ /ARP.*Reply/) {
                match($0, /Reply [0-9.]+/); t = substr($0, RSTART + 6, RLENGTH - 6)
                print "ARPREPLY", ts, s, t
            } else if ($0 ~ /neighbor advertisement, tgt is/) {
                match($0, /tgt is [0-9a-f:]+/); t = substr($0, RSTART + 7, RLENGTH - 7); sub(/,$/, "", t)
                print "NA", ts, s, t
            }
        }'
}

# bfd_parse [PCAP]: the BFD Control packets (UDP port 3784) of the capture, one
# a line:
#   BFD TS SIDE SRC DST TTL STATE DESIRED_MIN_TX_MS REQUIRED_MIN_RX_MS DETECT_MULT
# (tcpdump -v prints a packet on several lines: the IP header with the TTL on
# the first, the BFD fields on the following ones).
# shellcheck disable=SC2120  # PCAP is optional
bfd_parse() {
    tcpdump -r "${1:-$SDIR/wire.pcap}" -nn -tt -e -v 'udp port 3784' 2>/dev/null | awk -v ma="$MAC_A" -v mb="$MAC_B" -v mc="$MAC_C" '
        function side(m) { return m == ma ? "a" : m == mb ? "b" : m == mc ? "c" : m }
        function num(re, skip) { return match($0, re) ? substr($0, RSTART + skip, RLENGTH - skip) + 0 : "?" }
        function flush() { if (st != "") print "BFD", ts, s, src, dst, ttl, st, tx, rx, mult; st = "" }
        /^[0-9]+\.[0-9]+ / {
            flush(); ts = $1; s = side($2); src = dst = ttl = "?"; tx = rx = mult = "?"
            # "ttl N" (IPv4) or "hlim N" (IPv6) in the IP header.
            if (match($0, /(ttl|hlim) [0-9]+/)) { split(substr($0, RSTART, RLENGTH), f, " "); ttl = f[2] + 0 }
            # IPv6: the addresses are on this line too ("... payload length: 32) SRC.PORT > DST.PORT: ...").
            if (match($0, /\) [0-9a-f:]+\.[0-9]+ > [0-9a-f:]+\.[0-9]+: /)) {
                split(substr($0, RSTART + 2, RLENGTH - 4), f, " "); src = f[1]; dst = f[3]
                sub(/\.[0-9]+$/, "", src); sub(/\.[0-9]+$/, "", dst)
            }
            next
        }
        / > .*: BFDv1/ { src = $1; dst = $3; sub(/\.[0-9]+$/, "", src); sub(/\.[0-9]+:$/, "", dst) }
        /Control, State [A-Za-z]+/ { match($0, /State [A-Za-z]+/); st = substr($0, RSTART + 6, RLENGTH - 6) }
        /Detection Timer Multiplier/ { mult = num("Multiplier: [0-9]+", 12) }
        /Desired min Tx Interval/ { tx = num("Interval: *[0-9]+", 9) }
        /Required min Rx Interval/ { rx = num("Interval: *[0-9]+", 9) }
        END { flush() }'
}

# wire first|last|count|list KIND [SIDE|-] [COND ...]: query the parsed capture.
# COND are awk comparisons on the fields ts side src dst ver vrid prio intvl
# (ADV), ts side addr (GARP, NA) or ts side src dst ttl state mintx minrx mult
# (BFD), written like vrid=51 prio=0 "ts>$t" state=Up ("=" means "==").
# first/last print a timestamp ("" if none).
wire() {
    local what=$1 kind=$2 side=${3:--} cond='1' c
    shift 3 || shift $#
    [ "$side" = - ] || cond="$cond && side == \"$side\""
    for c in "$@"; do
        if [[ $c =~ ^([a-z]+)(==|!=|<=|>=|=|<|>)(.*)$ ]]; then
            local key=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} val=${BASH_REMATCH[3]}
            [ "$op" != = ] || op='=='
            [[ $val =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || val="\"$val\""
            cond="$cond && $key $op $val"
        else
            echo "wire: bad condition '$c'" >&2; return 2
        fi
    done
    { if [ "$kind" = BFD ]; then bfd_parse; else wire_parse; fi; } | awk -v what="$what" -v kind="$kind" '
        $1 != kind { next }
        {
            ts = $2 + 0; side = $3
            if (kind == "ADV") { src = $4; dst = $5; ver = $6 + 0; vrid = $7 + 0; prio = $8 + 0; intvl = $9 }
            else if (kind == "BFD") { src = $4; dst = $5; ttl = $6 + 0; state = $7; mintx = $8 + 0; minrx = $9 + 0; mult = $10 + 0 }
            else { addr = $4 }
        }
        '"$cond"' { n++; if (n == 1) first = $2; last = $2; if (what == "list") print }
        END {
            if (what == "first") print first
            else if (what == "last") print last
            else if (what == "count") print n + 0
        }'
}

# adv_intervals SIDE VRID AFTER_TS: the median gap (s) between successive adverts
# from SIDE for VRID after AFTER_TS, and how many gaps there were: "MEDIAN N".
adv_intervals() { wire list ADV "$1" "vrid=$2" "ts>$3" | gap_median; }

# bfd_intervals SIDE FROM_TS TO_TS: the same for SIDE's BFD Control packets in
# state Up between FROM_TS and TO_TS.
bfd_intervals() { wire list BFD "$1" state=Up "ts>$2" "ts<$3" | gap_median; }

# gap_median: "MEDIAN N" of the gaps between the timestamps (field 2) of the
# events on stdin (wire list's output), in order.
gap_median() {
    awk '
        { t[NR] = $2 } END {
            for (i = 2; i <= NR; i++) g[i - 1] = t[i] - t[i - 1]
            n = NR - 1; if (n < 1) { print "0 0"; exit }
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (g[j] < g[i]) { x = g[i]; g[i] = g[j]; g[j] = x }
            printf "%.4f %d\n", g[int((n + 1) / 2)], n
        }'
}
