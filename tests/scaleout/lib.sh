# shellcheck shell=bash
# Helpers for the scale-out (route health injection) harness: tests/scaleout/run.sh and
# bench.sh.  A lab of network namespaces: a router running BIRD 2 with one BGP session (and a
# BFD session, 100 ms x 3) to each of three directors and `merge paths on` (one ECMP route for
# the VIP with a nexthop per director that announces it); directors d1 and d2 announce the
# host routes vigild puts in kernel table 100 with BIRD, d3 with FRR (zebra's import-table,
# bgpd's redistribute table, bfdd).  Real servers behind the directors, a client behind the
# router.  See README.md for the picture.
#
# Every function expects SDIR (the scenario's directory) and the variables lab_setup sets.

# shellcheck disable=SC2034  # several are used by run.sh and bench.sh only
# shellcheck source=../lib/records.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/records.sh"
VIP=10.250.0.200
VPORT=80
TABLE=100
RTPROTO=200
ROUTER_AS=65000
ROUTER_IP=10.250.4.1        # router's eth0 on the front bridge
CLIENT_IP=10.250.2.10       # behind the router (router's eth1 10.250.2.1)
DIRECTORS=(d1 d2 d3)
declare -A NS DPID ENGINE VIP_IF LOCAL_ROUTE
# D3=bird makes d3 a BIRD director too (to run the scenarios without FRR).
ENGINE[d1]=bird ENGINE[d2]=bird ENGINE[d3]=${D3:-frr}
# How the VIP is made local on a director (announce's "interface" and "local_route"): an
# address on lo, but a `local` route on lo on an FRR director (see frr-director.conf.in).
VIP_IF[d1]=lo VIP_IF[d2]=lo VIP_IF[d3]=lo
LOCAL_ROUTE[d1]=0 LOCAL_ROUTE[d2]=0 LOCAL_ROUTE[d3]=0
[ "${ENGINE[d3]}" != frr ] || LOCAL_ROUTE[d3]=1
# front_ip DIR: the director's address towards the router (d1 10.250.4.11 ...), also on its
# back side (10.250.1.11 ...); its real servers are 10.250.1.2N and 10.250.1.3N.
front_ip() { echo "10.250.4.1${1#d}"; }
back_ip() { echo "10.250.1.1${1#d}"; }
rs_ips() { echo "10.250.1.2${1#d} 10.250.1.3${1#d}"; }
dir_of_ip() { case $1 in 10.250.4.1[1-3]) echo "d${1#10.250.4.1}" ;; *) echo "$1" ;; esac; }
local_as() { echo "6500${1#d}"; }

HERE=${HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
FLOWS=$HERE/flows.py
ROUTES=$HERE/routes.py
BIRD=${BIRD:-bird}
BIRDC=${BIRDC:-birdc}
FRR_DIR=${FRR_DIR:-/usr/lib/frr}
VTYSH=${VTYSH:-vtysh}
# Every namespace created is appended here, so that the caller's EXIT trap can remove what a
# scenario that died abruptly left behind.
NS_REGISTRY=${NS_REGISTRY:-/dev/null}
SKIP_STATUS=77

# ---- small utilities -----------------------------------------------------------------------

now() { date +%s.%N; }
fcalc() { awk "BEGIN { printf \"%.3f\n\", ($1) }"; }
fcheck() { awk "BEGIN { exit !($1) }"; }
# ms T0 T1: milliseconds between two epoch times, rounded.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", (b - a) * 1000 + 0.5 }'; }
trace() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >>"$SDIR/trace"; }
# figure TEXT: a measured figure, always printed under the scenario's verdict.
figure() { trace "FIGURE $*"; }
fail() {
    trace "FAIL: $*"
    [ -s "$SDIR/reason" ] || printf '%s\n' "$*" >"$SDIR/reason"
    exit 1
}
skip() {
    trace "SKIP: $*"
    printf '%s\n' "$*" >"$SDIR/skipped"
    exit "$SKIP_STATUS"
}

# has_announce: does this vigild implement route health injection (--announce-config)?
# (No "| grep -q" in these scripts: with pipefail, grep's early exit can turn a match into a
# failure through the writer's SIGPIPE.)
has_announce() { [[ $("$VIGILD" --help 2>/dev/null) == *--announce-config* ]]; }

# ---- the lab -------------------------------------------------------------------------------

# lab_setup: namespaces, links, addresses, real servers, the VIP service on each director,
# route monitors, BIRD on the router, d1 and d2, FRR on d3; waits until the three BGP
# sessions are Established and the BFD sessions Up.  No vigild yet (see vigild_start).
lab_setup() {
    local id=$BASHPID n d i
    for n in sw rt cl rs "${DIRECTORS[@]}"; do NS[$n]=vso$id-$n; done
    for n in sw rt cl rs "${DIRECTORS[@]}"; do
        echo "${NS[$n]}" >>"$NS_REGISTRY"
        ip netns add "${NS[$n]}"
        ip -n "${NS[$n]}" link set lo up
    done
    chmod o+x "$(dirname "$SDIR")" "$SDIR"
    # Two bridges in sw: br0 the front (router and directors), br1 the back (directors and
    # real servers), so that cutting a director's front link leaves its health checks alone.
    ip -n "${NS[sw]}" link add br0 type bridge
    ip -n "${NS[sw]}" link add br1 type bridge
    ip -n "${NS[sw]}" link set br0 up
    ip -n "${NS[sw]}" link set br1 up
    plug rt br0 eth0 "$ROUTER_IP/24"
    for d in "${DIRECTORS[@]}"; do
        plug "$d" br0 eth0 "$(front_ip "$d")/24"
        plug "$d" br1 eth1 "$(back_ip "$d")/24"
        ip -n "${NS[$d]}" route add default via "$ROUTER_IP"
    done
    plug rs br1 eth0 10.250.1.2/24
    for d in "${DIRECTORS[@]}"; do
        for i in $(rs_ips "$d"); do ip -n "${NS[rs]}" addr add "$i/24" dev eth0; done
    done
    # The client hangs off the router's eth1.
    ip -n "${NS[rt]}" link add eth1 type veth peer name eth0 netns "${NS[cl]}"
    ip -n "${NS[rt]}" addr add 10.250.2.1/24 dev eth1
    ip -n "${NS[rt]}" link set eth1 up
    ip -n "${NS[cl]}" addr add "$CLIENT_IP/24" dev eth0
    ip -n "${NS[cl]}" link set eth0 up
    ip -n "${NS[cl]}" route add default via 10.250.2.1
    # The router forwards, and hashes flows over the ECMP nexthops by L4 (ports too), so that
    # one client's connections spread over the directors.
    ip netns exec "${NS[rt]}" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
    # Route monitors: every change, timestamped, on the router (main table) and the directors
    # (table 100).
    for n in rt "${DIRECTORS[@]}"; do
        ip -n "${NS[$n]}" -o -ts monitor route >"$SDIR/$n-routes.mon" 2>&1 </dev/null &
    done
    for d in "${DIRECTORS[@]}"; do
        for i in $(rs_ips "$d"); do rs_start "$i"; done
        bg_start "$d" vip "$SDIR/$d-vip.log" python3 "$FLOWS" vip "$d" "$VIP" "$VPORT"
    done
    bird_start rt "$(router_conf)"
    for d in "${DIRECTORS[@]}"; do
        case ${ENGINE[$d]} in
            bird) bird_start "$d" "$(director_bird_conf "$d")" ;;
            frr) frr_start "$d" ;;
            *) fail "unknown engine '${ENGINE[$d]}' for $d (bird or frr)" ;;
        esac
    done
    wait_bgp 30
    trace "lab up: ${NS[*]}"
}

# plug NODE BRIDGE IFACE ADDR: a veth from NODE's IFACE to a port of BRIDGE in sw (named
# p-NODE for br0, q-NODE for br1).
plug() {
    local node=$1 br=$2 ifc=$3 port
    if [ "$br" = br0 ]; then port=p-$node; else port=q-$node; fi
    ip -n "${NS[sw]}" link add "$port" type veth peer name "$ifc" netns "${NS[$node]}"
    ip -n "${NS[sw]}" link set "$port" master "$br" up
    ip -n "${NS[$node]}" addr add "$4" dev "$ifc"
    ip -n "${NS[$node]}" link set "$ifc" up
}

# bg_start NODE TAG LOG COMMAND...: COMMAND in NODE's namespace, in the background; its PID
# in $SDIR/pids/TAG.
bg_start() {
    local node=$1 tag=$2 log=$3
    shift 3
    mkdir -p "$SDIR/pids"
    (exec ip netns exec "${NS[$node]}" "$@" >>"$log" 2>&1 </dev/null) &
    echo $! >"$SDIR/pids/$tag"
}
pid_of() { cat "$SDIR/pids/$1" 2>/dev/null; }

# lab_teardown: SIGTERM to every process in the lab's namespaces (vigild withdraws its
# routes, BIRD and FRR stop), SIGKILL for what is left after 5 s, then the namespaces go.
lab_teardown() {
    local n pid left
    for n in "${DIRECTORS[@]}" rs cl rt sw; do
        [ -n "${NS[$n]:-}" ] && [ -e "/run/netns/${NS[$n]}" ] || continue
        for pid in $(ip netns pids "${NS[$n]}" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    done
    for _ in $(seq 50); do
        left=0
        for n in "${DIRECTORS[@]}" rs cl rt sw; do
            [ -n "${NS[$n]:-}" ] && [ -e "/run/netns/${NS[$n]}" ] || continue
            [ -z "$(ip netns pids "${NS[$n]}" 2>/dev/null)" ] || left=1
        done
        [ "$left" -eq 1 ] || break
        sleep 0.1
    done
    for n in "${DIRECTORS[@]}" rs cl rt sw; do
        [ -n "${NS[$n]:-}" ] && [ -e "/run/netns/${NS[$n]}" ] || continue
        for pid in $(ip netns pids "${NS[$n]}" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        forget_records "${NS[$n]}"
        ip netns delete "${NS[$n]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}

# ---- real servers and the client -------------------------------------------------------

# rs_start ADDR: a real server (accepts on ADDR:80) in rs.  rs_down / rs_up ADDR...: close
# its listening socket (connections refused) / listen again.
rs_start() { bg_start rs "rs-$1" "$SDIR/rs-$1.log" python3 "$FLOWS" realserver "$1" "$VPORT"; }
rs_down() {
    local a
    for a in "$@"; do kill -USR1 "$(pid_of "rs-$a")"; done
    trace "real servers down: $*"
}
rs_up() {
    local a
    for a in "$@"; do kill -USR2 "$(pid_of "rs-$a")"; done
    trace "real servers up: $*"
}

# client_count N: N new connections from the client to the VIP; prints "NAME COUNT" lines
# (d1 20, d2 21, ..., error 0).
client_count() { ip netns exec "${NS[cl]}" timeout 60 python3 "$FLOWS" count "$VIP" "$VPORT" "$1"; }
# count_of NAME COUNTS: NAME's count in client_count's output (0 if absent).
count_of() { awk -v n="$1" '$1 == n { c = $2 } END { print c + 0 }' <<<"$2"; }

# ---- BIRD and FRR --------------------------------------------------------------------------

# fill TEMPLATE KEY=VALUE...: the template with each @KEY@ replaced.
fill() {
    local t=$1 kv out
    shift
    out=$(cat "$t")
    for kv in "$@"; do out=${out//@${kv%%=*}@/${kv#*=}}; done
    printf '%s\n' "$out"
}

router_conf() {
    local d
    fill "$HERE/bird-router.conf.in" ROUTER_ID="$ROUTER_IP" ROUTER_IP="$ROUTER_IP" ROUTER_AS="$ROUTER_AS"
    for d in "${DIRECTORS[@]}"; do
        echo "protocol bgp $d from director { neighbor $(front_ip "$d") as $(local_as "$d"); }"
    done
}
director_bird_conf() {
    fill "$HERE/bird-director.conf.in" ROUTER_ID="$(front_ip "$1")" LOCAL_IP="$(front_ip "$1")" LOCAL_AS="$(local_as "$1")" \
        ROUTER_IP="$ROUTER_IP" ROUTER_AS="$ROUTER_AS" TABLE="$TABLE" PROTO="$RTPROTO"
}

# bird_start NODE CONFIG_TEXT: BIRD in the foreground (-f) on NODE with its own config,
# control socket and pid file in $SDIR; logs to $SDIR/NODE-bird.log.
bird_start() {
    local node=$1
    printf '%s\n' "$2" >"$SDIR/$node-bird.conf"
    bg_start "$node" "bird-$node" "$SDIR/$node-bird.log" "$BIRD" -f -c "$SDIR/$node-bird.conf" -s "$SDIR/$node-bird.ctl" -P "$SDIR/$node-bird.pid"
    trace "started BIRD on $node (pid $(pid_of "bird-$node"))"
}
birdc_on() { local node=$1; shift; ip netns exec "${NS[$node]}" "$BIRDC" -s "$SDIR/$node-bird.ctl" "$@"; }

# frr_start DIR: FRR's zebra, bfdd and bgpd on DIR, each dropping root for the frr user,
# with pid files, vty sockets and the zebra API socket in $SDIR/DIR-frr (nothing in /run);
# then the integrated configuration (frr-director.conf.in) applied with vtysh -f, which
# gives each daemon its part.
frr_start() {
    local d=$1 dir="$SDIR/$1-frr" daemon
    mkdir -p "$dir"
    : >"$dir/empty.conf"
    fill "$HERE/frr-director.conf.in" NAME="$d" ROUTER_ID="$(front_ip "$d")" LOCAL_AS="$(local_as "$d")" \
        ROUTER_IP="$ROUTER_IP" ROUTER_AS="$ROUTER_AS" TABLE="$TABLE" >"$dir/frr.conf"
    chown -R frr:frr "$dir"
    for daemon in zebra bfdd bgpd; do
        local -a cmd=("$FRR_DIR/$daemon" -f "$dir/empty.conf" -i "$dir/$daemon.pid" --vty_socket "$dir"
            -z "$dir/zserv.api" -u frr -g frr -A 127.0.0.1 -P 0 --log stdout --log-level informational)
        [ "$daemon" != bfdd ] || cmd+=(--bfdctl "$dir/bfdd.sock")
        bg_start "$d" "frr-$d-$daemon" "$SDIR/$d-frr.log" "${cmd[@]}"
        # zebra first: the others connect to its API socket.
        for _ in $(seq 100); do [ -S "$dir/$daemon.vty" ] && break; sleep 0.05; done
        [ -S "$dir/$daemon.vty" ] || fail "FRR's $daemon did not start on $d: $(tail -n 3 "$SDIR/$d-frr.log" | tr '\n' ' ')"
    done
    ip netns exec "${NS[$d]}" "$VTYSH" --vty_socket "$dir" -f "$dir/frr.conf" >"$dir/vtysh.out" 2>&1 ||
        fail "vtysh -f frr.conf on $d failed: $(tail -n 3 "$dir/vtysh.out" | tr '\n' ' ')"
    trace "started FRR zebra, bfdd, bgpd on $d"
}
vtysh_on() { local d=$1; shift; ip netns exec "${NS[$d]}" "$VTYSH" --vty_socket "$SDIR/$d-frr" "$@"; }

# wait_bgp TIMEOUT: the router's three BGP sessions Established and its BFD sessions Up.
wait_bgp() {
    local deadline est up
    deadline=$(fcalc "$(now) + $1")
    while :; do
        est=$(birdc_on rt show protocols 2>/dev/null | grep -c 'Established' || true)
        up=$(birdc_on rt show bfd sessions 2>/dev/null | grep -cw 'Up' || true)
        [ "$est" -eq 3 ] && [ "$up" -eq 3 ] && break
        fcheck "$(now) < $deadline" || fail "router: $est of 3 BGP sessions Established, $up of 3 BFD sessions Up after $1 s: $(birdc_on rt show protocols 2>&1 | tr -s ' ' | tr '\n' ';')"
        sleep 0.2
    done
    trace "router: 3 BGP sessions Established, 3 BFD sessions Up"
}

# ---- the router's view -------------------------------------------------------------------

# nexthops: the directors the router's route to the VIP goes through now, sorted ("d1 d2 d3",
# "" when there is no route).
nexthops() {
    local ip out=()
    for ip in $(ip -n "${NS[rt]}" route show exact "$VIP/32" | grep -oE 'via [0-9.]+' | awk '{ print $2 }' | sort); do
        out+=("$(dir_of_ip "$ip")")
    done
    echo "${out[*]}"
}

# wait_nexthops "SET" TIMEOUT: until the router's nexthops are SET; prints the time seen.
wait_nexthops() {
    local want=$1 deadline got
    deadline=$(fcalc "$(now) + $2")
    until got=$(nexthops) && [ "$got" = "$want" ]; do
        fcheck "$(now) < $deadline" || fail "router: nexthops for $VIP are '${got:-none}', expected '${want:-none}', after $2 s"
        sleep 0.02
    done
    trace "router: nexthops '${want:-none}'"
    now
}

# expect_nexthops "SET" SECONDS: the router's nexthops are SET and stay so for SECONDS.
expect_nexthops() {
    local deadline got
    deadline=$(fcalc "$(now) + $2")
    while :; do
        got=$(nexthops)
        [ "$got" = "$1" ] || fail "router: nexthops for $VIP became '${got:-none}' (expected them to stay '$1')"
        fcheck "$(now) < $deadline" || break
        sleep 0.1
    done
    trace "router: nexthops stayed '$1' for $2 s"
}

# rt_event KIND DIR SINCE TIMEOUT: from the router's route monitor, the time of the first
# change after SINCE (epoch) that took DIR's nexthop away (KIND gone) or brought it (KIND
# back); waits up to TIMEOUT s for it.
rt_event() {
    local kind=$1 d=$2 since=$3 deadline t
    deadline=$(fcalc "$(now) + $4")
    while :; do
        t=$(python3 "$ROUTES" "$kind" "$SDIR/rt-routes.mon" "$since" "$VIP" "$(front_ip "$d")")
        [ -z "$t" ] || break
        fcheck "$(now) < $deadline" || fail "router: $d's nexthop not $kind within $4 s (nexthops now '$(nexthops)')"
        sleep 0.05
    done
    echo "$t"
}

# tbl_event KIND DIR SINCE TIMEOUT: from DIR's route monitor, the time its VIP route in
# table 100 was deleted (KIND gone) or added (KIND back) after SINCE.
tbl_event() {
    local kind=$1 d=$2 since=$3 deadline t
    deadline=$(fcalc "$(now) + $4")
    while :; do
        t=$(python3 "$ROUTES" "tbl$kind" "$SDIR/$d-routes.mon" "$since" "$VIP" "$TABLE")
        [ -z "$t" ] || break
        fcheck "$(now) < $deadline" || fail "$d: the VIP's route in table $TABLE was not $([ "$kind" = gone ] && echo deleted || echo added) within $4 s"
        sleep 0.05
    done
    echo "$t"
}

# rt_changes DIR SINCE UNTIL: every time DIR's nexthop came or went at the router between
# SINCE and UNTIL, one "TIME gone|back" a line.
rt_changes() { python3 "$ROUTES" changes "$SDIR/rt-routes.mon" "$2" "$VIP" "$(front_ip "$1")" "$3"; }

# table_route DIR: the VIP's route in DIR's table 100 ("" if none).
table_route() { ip -n "${NS[$1]}" route show table "$TABLE" exact "$VIP/32"; }
# proto_routes DIR: every route of vigild's protocol in DIR's table 100.
proto_routes() { ip -n "${NS[$1]}" route show table "$TABLE" proto "$RTPROTO"; }
# has_vip DIR: is the VIP local on the director (an address on lo, or a local route on an
# FRR director)?
has_vip() {
    if [ "${LOCAL_ROUTE[$1]}" = 1 ]; then
        [[ $(ip -n "${NS[$1]}" route show table local exact "$VIP/32") == "local $VIP dev ${VIP_IF[$1]}"* ]]
    else
        [[ $(ip -n "${NS[$1]}" -o addr show dev "${VIP_IF[$1]}") == *" $VIP/32 "* ]]
    fi
}
# make_local DIR: what vigild does for has_vip, by hand (the engines scenario).
make_local() {
    if [ "${LOCAL_ROUTE[$1]}" = 1 ]; then
        ip -n "${NS[$1]}" route add local "$VIP/32" dev "${VIP_IF[$1]}" table local
    else
        ip -n "${NS[$1]}" addr add "$VIP/32" dev "${VIP_IF[$1]}"
    fi
}

# ---- vigild --------------------------------------------------------------------------------

# director_conf DIR [key=value...]: the director's keepalived.conf: one virtual_server for
# the VIP, its two real servers with TCP_CHECK.  Keys: quorum (1), retry (1), dbr
# (delay_before_retry, 1), delay_loop (1).
director_conf() {
    local d=$1 quorum=1 retry=1 dbr=1 delay_loop=1 kv rs
    shift
    for kv in "$@"; do
        case ${kv%%=*} in
            quorum|retry|dbr|delay_loop) printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
            *) echo "director_conf: unknown key '${kv%%=*}'" >&2; return 2 ;;
        esac
    done
    cat <<EOF
global_defs {
    router_id $d
}
virtual_server $VIP $VPORT {
    delay_loop $delay_loop
    lb_algo rr
    lb_kind DR
    protocol TCP
    quorum $quorum
EOF
    for rs in $(rs_ips "$d"); do
        cat <<EOF
    real_server $rs $VPORT {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry $retry
            delay_before_retry $dbr
        }
    }
EOF
    done
    echo "}"
}

# announce_conf DIR [LINE...]: the --announce-config file (the defaults spelled out, the
# director's VIP interface, plus LINEs).
announce_conf() {
    local l d=$1
    shift
    echo "announce {"
    echo "    table $TABLE"
    echo "    protocol $RTPROTO"
    echo "    interface ${VIP_IF[$d]}"
    [ "${LOCAL_ROUTE[$d]}" = 0 ] || echo "    local_route"
    echo "    metric 0"
    for l in "$@"; do echo "    $l"; done
    echo "}"
}

# vigild_start DIR: vigild on DIR with $SDIR/DIR/keepalived.conf (written by director_conf
# unless it exists) and $SDIR/DIR/announce.conf, its own pid files, control socket and state
# directory; in the foreground with logs to the console, appended to $SDIR/DIR-vigild.log.
vigild_start() {
    local d=$1 dir="$SDIR/$1"
    mkdir -p "$dir/state"
    [ -f "$dir/keepalived.conf" ] || director_conf "$d" >"$dir/keepalived.conf"
    [ -f "$dir/announce.conf" ] || announce_conf "$d" >"$dir/announce.conf"
    rm -f "$dir"/*.pid
    local -a cmd=("$VIGILD" -f "$dir/keepalived.conf" -n -l -D -p "$dir/vigild.pid" -r "$dir/vrrp.pid"
        -c "$dir/checkers.pid" --control-socket "$dir/ctl.sock" --announce-config "$dir/announce.conf")
    printf '=== %s: %s\n' "$(date '+%F %T.%3N')" "${cmd[*]}" >>"$SDIR/$d-vigild.log"
    (cd "$dir" && VIGIL_STATE_DIR=$dir/state exec ip netns exec "${NS[$d]}" "${cmd[@]}" >>"$SDIR/$d-vigild.log" 2>&1 </dev/null) &
    DPID[$d]=$!
    trace "started vigild on $d (pid ${DPID[$d]})"
}

vigild_alive() {
    local st
    st=$(awk '{ print $3 }' "/proc/${DPID[$1]:-0}/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# vigild_pids DIR: vigild's process and its descendants.
vigild_pids() {
    local todo=("${DPID[$1]}") p c
    while [ ${#todo[@]} -gt 0 ]; do
        p=${todo[0]} todo=("${todo[@]:1}")
        [ -d "/proc/$p" ] || continue
        echo "$p"
        for c in $(pgrep -P "$p" 2>/dev/null || true); do todo+=("$c"); done
    done
}

# vigild_term DIR [TIMEOUT]: SIGTERM, wait until it and its children exited (SIGKILL and fail
# after TIMEOUT, default 10 s).  Prints the time of the signal.
vigild_term() {
    local d=$1 timeout=${2:-10} pids t deadline p
    pids=$(vigild_pids "$d")
    t=$(now)
    kill -TERM "${DPID[$d]}" 2>/dev/null || true
    trace "SIGTERM vigild on $d (pids ${pids//$'\n'/ })"
    deadline=$(fcalc "$t + $timeout")
    while :; do
        local alive=0
        for p in $pids; do [ -d "/proc/$p" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive=1; done
        [ "$alive" -eq 1 ] || break
        if ! fcheck "$(now) < $deadline"; then
            for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
            fail "vigild on $d still running ${timeout} s after SIGTERM (killed)"
        fi
        sleep 0.05
    done
    wait "${DPID[$d]}" 2>/dev/null || true
    echo "$t"
}

# vigild_kill DIR: kill -9 vigild and its children (stopped first, so that none reacts).
vigild_kill() {
    local d=$1 pids p t
    pids=$(vigild_pids "$d")
    t=$(now)
    for p in $pids; do kill -STOP "$p" 2>/dev/null || true; done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    wait "${DPID[$d]}" 2>/dev/null || true
    trace "kill -9 vigild on $d (pids ${pids//$'\n'/ })"
    echo "$t"
}

# vigild_withdraw DIR: vigild --withdraw, as systemd's ExecStopPost runs it.
vigild_withdraw() {
    local d=$1 dir="$SDIR/$1"
    VIGIL_STATE_DIR=$dir/state ip netns exec "${NS[$d]}" "$VIGILD" --withdraw --announce-config "$dir/announce.conf" \
        >>"$SDIR/$d-vigild.log" 2>&1
}

# vctl DIR ARGS...: vigilctl against DIR's vigild (its control socket: the global
# --control-socket if this vigilctl has one, else the subcommand's --socket).
vctl() {
    local d=$1
    shift
    if [[ $("$VIGILCTL" --help 2>/dev/null) == *--control-socket* ]]; then
        VIGIL_STATE_DIR=$SDIR/$d/state ip netns exec "${NS[$d]}" "$VIGILCTL" --control-socket "$SDIR/$d/ctl.sock" "$@"
    else
        VIGIL_STATE_DIR=$SDIR/$d/state ip netns exec "${NS[$d]}" "$VIGILCTL" "$@" --socket "$SDIR/$d/ctl.sock"
    fi
}

# log_mark DIR: the current length (lines) of DIR's vigild log.
log_mark() { if [ -f "$SDIR/$1-vigild.log" ]; then wc -l <"$SDIR/$1-vigild.log"; else echo 0; fi; }

# log_time DIR ERE FROM_LINE: the timestamp (epoch) of the first line of DIR's vigild log
# after FROM_LINE that matches ERE, "" if none.
log_time() { python3 "$ROUTES" logtime "$SDIR/$1-vigild.log" "$2" "$3"; }

# wait_log DIR ERE TIMEOUT FROM_LINE: until DIR's vigild logs ERE; prints its time.
wait_log() {
    local deadline t
    deadline=$(fcalc "$(now) + $3")
    until t=$(log_time "$1" "$2" "$4") && [ -n "$t" ]; do
        vigild_alive "$1" || fail "vigild on $1 exited while waiting for /$2/: $(tail -n 3 "$SDIR/$1-vigild.log" | tr '\n' ' ')"
        fcheck "$(now) < $deadline" || fail "vigild on $1: no /$2/ in its log within $3 s"
        sleep 0.05
    done
    echo "$t"
}

# The lines of vigild's log that carry the checker's verdicts (keepalived's wording, which
# vigild keeps): a real server down ("TCP_CHECK on service [A]:tcp:80 failed after 1 retries.",
# then "Removing service [A]:tcp:80 from VS ..."), up ("Adding service ..."), the virtual
# server's quorum lost / gained ("Lost quorum 1-0=1 > 0 for VS ...", "Gained quorum ..."), one
# failed attempt ("TCP connection to [A]:tcp:80 failed."), and the announcement's own lines
# ("Withdrawing VIP ...", "Announcing VIP ...").
RS_DOWN_RE='(Removing service|on service .* failed)'
RS_UP_RE='(Adding service|TCP connection to .* success)'
QUORUM_LOST_RE='Lost quorum'
QUORUM_GAINED_RE='Gained quorum'
ATTEMPT_FAILED_RE='TCP connection to .* (failed|timeout)'

# log_times DIR ERE FROM_LINE: the timestamps of every matching line after FROM_LINE.
log_times() { python3 "$ROUTES" logtimes "$SDIR/$1-vigild.log" "$2" "$3"; }

# all_up: vigild on every director, the router with its three nexthops.  When an FRR
# director is missing, the failure says what zebra makes of vigild's route.
all_up() {
    local d deadline
    for d in "${DIRECTORS[@]}"; do vigild_start "$d"; done
    deadline=$(fcalc "$(now) + 20")
    until [ "$(nexthops)" = "d1 d2 d3" ]; do
        if ! fcheck "$(now) < $deadline"; then
            local why=""
            for d in "${DIRECTORS[@]}"; do
                [ "${ENGINE[$d]}" = frr ] || continue
                [[ " $(nexthops) " == *" $d "* ]] && continue
                why+="; $d (FRR) announces nothing: table $TABLE has '$(table_route "$d" | tr -s ' ')', zebra's RIB: $(vtysh_on "$d" -c "show ip route $VIP/32" 2>&1 | sed 's/^ *//' | tr '\n' '|' || true) (FRR 8.4 redistributes an imported route only if zebra selects it: its nexthop on a link with carrier and no connected route for the VIP; see frr-director.conf.in)"
            done
            fail "router: nexthops for $VIP are '$(nexthops)', expected 'd1 d2 d3', 20 s after vigild started$why"
        fi
        sleep 0.05
    done
    trace "router: nexthops 'd1 d2 d3'"
}

# ---- measurements shared by run.sh and bench.sh ------------------------------------------

# measure_quorum_loss DIR: DIR's two real servers go down (the first, then the second when
# vigild has taken the first out, so the quorum of 1 falls with the second); prints
# "VERDICT_TO_ROUTER_MS VERDICT_TO_TABLE_MS TABLE_TO_ROUTER_MS VERDICT_SOURCE", then brings them
# back and waits for the nexthop to return.  Fails the scenario when the nexthop goes early
# or does not go.
measure_quorum_loss() {
    local d=$1 a b mark t0 tv tt tr src
    read -r a b <<<"$(rs_ips "$d")"
    mark=$(log_mark "$d")
    rs_down "$a"
    wait_log "$d" "$RS_DOWN_RE.*$a|$a.*$RS_DOWN_RE" 10 "$mark" >/dev/null
    # One real server of two is left: the quorum (1) holds, the route stays.
    expect_nexthops "d1 d2 d3" 1.5
    [ -n "$(table_route "$d")" ] || fail "$d: the VIP's route left table $TABLE with one real server of two still up (quorum 1)"
    mark=$(log_mark "$d")
    t0=$(now)
    rs_down "$b"
    tr=$(rt_event gone "$d" "$t0" 15)
    tt=$(tbl_event gone "$d" "$t0" 5)
    tv=$(log_time "$d" "$QUORUM_LOST_RE" "$mark")
    src="vigild's log ('$QUORUM_LOST_RE')"
    if [ -z "$tv" ]; then
        tv=$(log_time "$d" "$RS_DOWN_RE.*$b|$b.*$RS_DOWN_RE" "$mark")
        src="vigild's log (real server down)"
    fi
    if [ -z "$tv" ]; then tv=$tt src="the route's deletion from table $TABLE (no verdict line in vigild's log)"; fi
    trace "quorum loss on $d: verdict $tv ($src), table $TABLE $tt, router $tr"
    echo "$(ms "$tv" "$tr") $(ms "$tv" "$tt") $(ms "$tt" "$tr") $src"
    rs_up "$a" "$b"
    wait_nexthops "d1 d2 d3" 15 >/dev/null
}

# measure_linkcut DIR: cut DIR's front link (its bridge port down: the router's link stays
# up, only BFD can tell); prints "CUT_TO_GONE_MS", then restores the link and waits for the
# nexthop to come back; prints the recovery time as a second field.
measure_linkcut() {
    local d=$1 t0 tr tb
    t0=$(now)
    ip -n "${NS[sw]}" link set "p-$d" down
    tr=$(rt_event gone "$d" "$t0" 10)
    trace "link of $d cut at $t0, nexthop gone at $tr"
    sleep 0.5
    tb=$(now)
    ip -n "${NS[sw]}" link set "p-$d" up
    wait_nexthops "d1 d2 d3" 30 >/dev/null
    wait_bgp 30
    echo "$(ms "$t0" "$tr") $(ms "$tb" "$(now)")"
}

# stats VALUES...: "median M ms, max X ms (n=N)".
stats() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "no samples"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "median %g ms, max %d ms (n=%d)\n", m, v[NR], NR }'
}
