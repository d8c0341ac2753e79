# Scale-out data plane: three active/active directors behind an ECMP router, one of them dies
# in the middle of 100 long-lived TCP flows; how many flows complete intact.
#
# One guest, one network namespace per host (IPVS is per namespace, so each director has its
# own table, run by its own vigild):
#
#   client 10.9.0.2 --- 10.9.0.1 router 10.0.0.1 --+-- br0 (root namespace: the switch)
#                                                 +-- d1 10.0.0.11, d2 .12, d3 .13 (directors)
#                                                 +-- rs1 10.0.0.21, rs2 .22, rs3 .23 (real servers)
#
# Each director runs vigild --announce-config (VIP 10.77.0.100/32 on lo and as a host route in
# table 100, proto 200, while its virtual server has quorum) and BIRD, which learns table 100
# and announces it by eBGP (next hop self) to the router's BIRD; the router merges the three
# paths into one ECMP route (merge paths on) with net.ipv4.fib_multipath_hash_policy=1 (flows,
# not hosts, are spread), and runs BFD to each director.  The real servers are LVS-DR ones
# (vigilctl realserver start: the VIP on lo, ARP silenced) and answer the client directly
# through the router; flowpump serves each flow a paced, checkable byte stream.
#
# Per scenario: every director has the same virtual_server (TCP_CHECK on each real server,
# lvs_method DR) and then
#   mh:  lvs_sched mh + mh-port, net.ipv4.vs.sloppy_tcp=1 in each director's namespace: any
#        director maps a flow to the same real server and takes it over from a mid-stream ACK;
#   wlc: lvs_sched wlc, sloppy_tcp=0: a flow moved to another director is reset;
#   drain: as mh, but d1 is drained (vigilctl drain) instead of dying.
# The client opens FLOWS flows through the VIP; once every flow receives data, KILL_AFTER s
# later d1 dies as a host would: its vigild gets SIGKILL and its link to the switch goes down,
# so BFD at the router drops its nexthop (the route stays in d1's table 100, nobody withdraws
# it).  The flows that were on d1 (and those the ECMP rehash moves between d2 and d3) go on
# through the other directors.  Prints per scenario a line
#   RESULT scenario=.. sched=.. event=kill|drain sloppy_tcp=.. flows_ok=K of=N on_d1=.. taken_over=.. nexthop_gone_ms=..
#          session_down_ms=.. flaps_before_kill=.. bfd=MSxMULT
# (nexthop_gone_ms: from the cut to d1's nexthop gone from the router's route, polled every
# 50 ms; session_down_ms: from the cut to the router's BIRD taking d1's session down, from its
# log; on_d1: d1's established connections at the kill; taken_over: connections d2 and d3 made
# after it, i.e. flows they picked up mid-stream; flaps_before_kill: changes of the router's
# route to the VIP between the flows' start and the kill, which would move flows too)
# and passes when the mh scenario keeps at least NEED flows (99 of 100) and the drain breaks
# none; the wlc figure is printed for comparison, not judged.  Timings are printed, never
# judged.
#
# Needs in /lab/bin: vigild, vigilctl, bird, flowpump (tests/kernel-lab/scaleout/flowpump.rs),
# common.sh; optionally scaleout.env (the bench's settings: SCENARIOS FLOWS BYTES MS BFD_MS
# BFD_MULT KILL_AFTER NEED RUNS: every scenario RUNS times, each run judged).
. /lab/bin/common.sh
[ -f /lab/bin/scaleout.env ] && . /lab/bin/scaleout.env
SCENARIOS=${SCENARIOS:-mh wlc drain}
FLOWS=${FLOWS:-100} BYTES=${BYTES:-262144} MS=${MS:-16000} KILL_AFTER=${KILL_AFTER:-4}
# BFD under qemu without KVM: 300 ms x 5 (1.5 s detection) does not flap when the emulated
# guest stalls; 100 ms x 3 can.
BFD_MS=${BFD_MS:-300} BFD_MULT=${BFD_MULT:-5} NEED=${NEED:-99} RUNS=${RUNS:-1}
VIP=10.77.0.100
W=/tmp/so

for b in bird flowpump vigild vigilctl; do
  command -v $b >/dev/null || { echo "SKIP: scaleout: no $b in the guest"; exit 0; }
done

now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d\n", s, u }'; }

so_fail() {
  echo "FAIL: $*"
  for n in d1 d2 d3; do
    echo "--- $n: ipvsadm -Ln"; nsx $n ipvsadm -Ln 2>&1 | head -n 12
    echo "--- $n: vigild log (tail)"; tail -n 8 $W/vigild-$n.log 2>/dev/null
  done
  echo "--- router: route to the VIP"; nsx router $IP route show $VIP
  for n in router d1; do echo "--- $n: BIRD log (tail)"; tail -n 15 $W/bird-$n.log 2>/dev/null; done
  echo "--- client (tail)"; tail -n 5 $W/client.out 2>/dev/null
  teardown
  exit 1
}

# plug NS ADDR: a host on the switch, its link named eth0 (NS-p on the switch side).
plug() {
  $IP netns add $1
  $IP link add $1-p type veth peer name eth0 netns $1
  $IP link set $1-p master br0 up
  nsx $1 $IP link set lo up
  nsx $1 $IP addr add $2/24 dev eth0
  nsx $1 $IP link set eth0 up
}

bird_common() { # NAME ROUTER_ID
  cat <<CONF
router id $2;
log "$W/bird-$1.log" all;
debug protocols { states };
protocol device {}
protocol bfd {
    interface "eth0" {
        min rx interval $BFD_MS ms;
        min tx interval $BFD_MS ms;
        multiplier $BFD_MULT;
    };
}
CONF
}

bird_start() { # NS
  nsx $1 bird -f -c $W/bird-$1.conf -s $W/bird-$1.ctl -P $W/bird-$1.pid >>$W/bird-$1.out 2>&1 &
}

# setup SCHED: the namespaces, BIRD everywhere, vigild on the directors, flowpump on the real
# servers; returns once the router has a nexthop per director.
setup() {
  rm -rf $W; mkdir -p $W
  $IP link add br0 type bridge
  $IP link set br0 up
  plug router 10.0.0.1
  $IP netns add client
  $IP link add eth1 netns router type veth peer name eth0 netns client
  nsx client $IP link set lo up
  nsx client $IP addr add 10.9.0.2/24 dev eth0
  nsx client $IP link set eth0 up
  nsx client $IP route add default via 10.9.0.1
  # The client's sockets hash their packets themselves (skb->hash, which a veth carries to the
  # router, whose multipath hash then takes it rather than the headers), and by default pick a
  # new hash on every retransmission timeout (net.core.txrehash): a flow would wander between
  # directors with no director failing. A client on another host keeps one path per flow.
  nsx client sh -c 'echo 0 >/proc/sys/net/core/txrehash' 2>/dev/null
  nsx router $IP addr add 10.9.0.1/24 dev eth1
  nsx router $IP link set eth1 up
  nsx router sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward; echo 1 >/proc/sys/net/ipv4/fib_multipath_hash_policy'

  for i in 1 2 3; do
    plug rs$i 10.0.0.2$i
    nsx rs$i $IP route add default via 10.0.0.1
    nsx rs$i vigilctl realserver start --vip $VIP >/dev/null || so_fail "vigilctl realserver start in rs$i"
    nsx rs$i flowpump serve 80 rs$i >$W/rs$i.out 2>&1 &
  done

  {
    bird_common router 10.0.0.1
    cat <<CONF
protocol kernel {
    ipv4 { export all; };
    merge paths on;
}
template bgp director {
    local 10.0.0.1 as 65000;
    bfd on;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 5;
    ipv4 { import all; export none; };
}
CONF
    for i in 1 2 3; do echo "protocol bgp d$i from director { neighbor 10.0.0.1$i as 6500$i; }"; done
  } >$W/bird-router.conf

  cat >$W/announce.conf <<CONF
announce {
    table 100
    protocol 200
    interface lo
}
CONF
  {
    echo "virtual_server $VIP 80 {"
    echo "    delay_loop 2"
    if [ "$1" = mh ]; then echo "    lvs_sched mh"; echo "    mh-port"; else echo "    lvs_sched $1"; fi
    echo "    lvs_method DR"
    echo "    protocol TCP"
    for i in 1 2 3; do
      echo "    real_server 10.0.0.2$i 80 {"
      echo "        TCP_CHECK {"
      echo "            connect_timeout 3"
      echo "        }"
      echo "    }"
    done
    echo "}"
  } >$W/vs.conf
  vigild -t -f $W/vs.conf >$W/t.out 2>&1 || { cat $W/t.out; so_fail "the directors' configuration does not pass vigild -t"; }

  for i in 1 2 3; do
    n=d$i
    plug $n 10.0.0.1$i
    # A director's own packets (a reset for a flow it does not know) go out through the router.
    nsx $n $IP route add default via 10.0.0.1
    if [ "$1" = mh ]; then sloppy=1; else sloppy=0; fi
    nsx $n sh -c "echo $sloppy >/proc/sys/net/ipv4/vs/sloppy_tcp" || so_fail "no net.ipv4.vs.sloppy_tcp in $n"
    {
      bird_common $n 10.0.0.1$i
      cat <<CONF
ipv4 table vips;
protocol kernel announce {
    kernel table 100;
    learn;
    ipv4 { table vips; import where krt_source = 200; export none; };
}
protocol bgp up {
    local 10.0.0.1$i as 6500$i;
    neighbor 10.0.0.1 as 65000;
    bfd on;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 5;
    ipv4 { table vips; import none; export all; next hop self; };
}
CONF
    } >$W/bird-$n.conf
    # Without a shell function in between `ip netns exec` execs vigild: $! is vigild.
    $IP netns exec $n vigild -f $W/vs.conf -n -l -C -p $W/$n.pid -r $W/$n-vrrp.pid -c $W/$n-checkers.pid \
      --control-socket $W/$n.sock --announce-config $W/announce.conf >>$W/vigild-$n.log 2>&1 &
    eval "VPID_$n=$!"
  done
  bird_start router
  for i in 1 2 3; do bird_start d$i; done

  for i in 1 2 3; do
    wait_for 60 sh -c "$IP netns exec d$i ipvsadm -Ln | grep -c -- '-> 10.0.0.2' | grep -qx 3" ||
      so_fail "d$i's table does not hold the three real servers"
    wait_for 30 sh -c "$IP netns exec d$i $IP route show table 100 | grep -q '$VIP.*proto 200'" ||
      so_fail "d$i's vigild does not announce the VIP in table 100"
  done
  wait_for 90 sh -c "[ \$($IP netns exec router $IP route show $VIP | grep -c 'nexthop via') = 3 ]" ||
    so_fail "the router has no ECMP route over the three directors"
  # The sessions may still settle (a BFD session that comes up late takes its BGP session down
  # and up once): the flows start once the route has not changed for 5 s.
  : >$W/routes.out
  nsx router $IP monitor route >>$W/routes.out 2>&1 &
  settle=0
  while :; do
    c=$(grep -c "$VIP" $W/routes.out)
    sleep 5
    [ "$(grep -c "$VIP" $W/routes.out)" = "$c" ] && break
    settle=$((settle + 1))
    [ $settle -lt 12 ] || so_fail "the router's route to the VIP does not settle"
  done
  if [ $settle != 0 ]; then
    echo "setup: the router's route changed for another $((settle * 5)) s before it settled:"
    grep -a 'State changed to \(up\|down\)' $W/bird-router.log | tail -n 6
  fi
  [ "$($IP netns exec router $IP route show $VIP | grep -c 'nexthop via')" = 3 ] ||
    so_fail "the router's route settled without the three directors"
  : >$W/routes.out
}

teardown() {
  for ns in $($IP netns list | cut -d' ' -f1); do kill -9 $($IP netns pids $ns) 2>/dev/null; done
  sleep 0.3
  # The switch side of each pair first: deleting it takes the pair at once, where a deleted
  # namespace's links go later (and the next setup would find their names taken).
  for l in $($IP -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
    [ "$l" = lo ] || $IP link del "$l" 2>/dev/null
  done
  $IP -all netns delete 2>/dev/null
  wait 2>/dev/null
}

# established NS: the director's ESTABLISHED connection entries; conns NS: the connections
# its virtual server has made since it started (new flows and flows taken over mid-stream).
established() { nsx $1 ipvsadm -Lnc | grep -c ESTABLISHED; }
conns() { nsx $1 ipvsadm -Ln --stats | awk '$1 == "TCP" { print $3; exit }'; }

scenario() { # mh | wlc (d1 dies) | drain (mh, d1 drained with vigilctl drain instead)
  s=$1 sched=$1 event=kill
  [ "$s" = drain ] && sched=mh event=drain
  [ "$sched" = mh ] && ! [ -d /sys/module/ip_vs_mh ] && { echo "SKIP: scaleout $s: no ip_vs_mh in this kernel"; return; }
  if [ "$event" = kill ]; then
    echo "=== scenario $s (FLOWS=$FLOWS BYTES=$BYTES MS=$MS, d1 dies ${KILL_AFTER}s after every flow has data)"
  else
    echo "=== scenario $s (FLOWS=$FLOWS BYTES=$BYTES MS=$MS, vigilctl drain on d1 ${KILL_AFTER}s after every flow has data)"
  fi
  u0=$(now)
  t0=$(now_us)
  setup $sched
  echo "setup: the router's ECMP route, settled after $((($(now_us) - t0) / 1000)) ms:"
  nsx router $IP route show $VIP
  echo "d1's table:"; nsx d1 ipvsadm -Sn
  echo "sloppy_tcp: d1=$(nsx d1 cat /proc/sys/net/ipv4/vs/sloppy_tcp) d2=$(nsx d2 cat /proc/sys/net/ipv4/vs/sloppy_tcp) d3=$(nsx d3 cat /proc/sys/net/ipv4/vs/sloppy_tcp)"

  # Every change of the router's route to the VIP from here on (routes.out, emptied at the end
  # of setup): a BFD or BGP flap before the kill would move flows too, and is reported.
  nsx client flowpump client $VIP:80 $FLOWS $BYTES $MS 60 >$W/client.out 2>&1 &
  CPID=$!
  wait_for 90 grep -q '^started' $W/client.out || so_fail "the flows did not start"
  grep '^started' $W/client.out
  sleep $KILL_AFTER
  # A flow that failed before the kill (none should) is shown.
  grep ' FAIL ' $W/client.out | head -n 3
  before="d1=$(established d1) d2=$(established d2) d3=$(established d3)"
  flaps=$(grep -c "$VIP" $W/routes.out)
  if [ "$flaps" -gt 0 ]; then
    echo "the router's route to the VIP changed $flaps time(s) before the kill:"; grep -A3 "$VIP" $W/routes.out | head -n 12
    grep -a 'State changed\|BFD\|session' $W/bird-router.log | tail -n 6
  fi
  on_d1=$(established d1)
  c2=$(conns d2) c3=$(conns d3)
  bytes_at_kill=$(grep '^progress' $W/client.out | tail -n 1)

  if command -v birdc >/dev/null; then nsx router birdc -s $W/bird-router.ctl show bfd sessions | tail -n +2; fi
  if [ "$event" = kill ]; then
    # d1 dies: vigild SIGKILLed (its route stays in table 100), its link cut.
    eval "kill -9 \$VPID_d1"
    t0=$(now_us)
    echo "d1 killed at $(date +%T).$(printf %03d $((t0 % 1000000 / 1000)))"
    $IP link set d1-p down
  else
    # d1 drained: its route withdrawn, BGP tells the router, d1 stays up.
    t0=$(now_us)
    nsx d1 vigilctl drain --socket $W/d1.sock || so_fail "vigilctl drain on d1 failed"
  fi
  gone=">30000"
  while [ $((($(now_us) - t0) / 1000)) -lt 30000 ]; do
    if ! nsx router $IP route show $VIP | grep -q 10.0.0.11; then gone=$((($(now_us) - t0) / 1000)); break; fi
    sleep 0.05
  done
  echo "d1 $event (flows then: $bytes_at_kill); the router dropped its nexthop after $gone ms (polled every 50 ms):"
  nsx router $IP route show $VIP
  grep -a 'd1: State changed to \(flush\|down\)' $W/bird-router.log | tail -n 2
  # The same from the router's BIRD log (guest clock, UTC, ms): the cut to d1's session down.
  bgp_down=$(grep -a 'd1: State changed to flush' $W/bird-router.log | tail -n 1 |
    awk -v cut=$((t0 / 1000 % 86400000)) '{ split($2, t, ":"); d = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 - cut; printf "%.0f", d < 0 ? d + 86400000 : d }')
  echo "the router's BIRD took d1's session down ${bgp_down:-?} ms after the cut (its log)"

  wait_for 150 grep -q '^done' $W/client.out || so_fail "the client did not finish"
  wait $CPID 2>/dev/null
  taken=$(($(conns d2) - c2 + $(conns d3) - c3))
  grep ' FAIL ' $W/client.out | head -n 3
  nfail=$(grep -c ' FAIL ' $W/client.out)
  if [ "$nfail" -gt 0 ]; then
    echo "failed flows by reason:"
    grep ' FAIL ' $W/client.out | sed 's/^flow [0-9]* FAIL [^ ]* [^ ]* //' | sort | uniq -c
  fi
  grep '^done\|^served' $W/client.out
  ok=$(sed -n 's/^done ok=\([0-9]*\).*/\1/p' $W/client.out)
  echo "ESTABLISHED entries before the kill: $before; connections d2 and d3 made after it: $taken"
  echo "scenario $s: $(awk -v a=$u0 -v b=$(now) 'BEGIN { printf "%.0f", b - a }') s of lab time"
  echo "RESULT scenario=$s sched=$sched event=$event sloppy_tcp=$sloppy flows_ok=${ok:-0} of=$FLOWS on_d1=$on_d1 taken_over=$taken nexthop_gone_ms=$gone session_down_ms=${bgp_down:-?} flaps_before_kill=$flaps bfd=${BFD_MS}x$BFD_MULT"
  teardown
  if [ "$sched" = mh ]; then
    [ "$on_d1" -gt 0 ] || { echo "FAIL: no flow went through d1: the router's ECMP did not spread them"; bad=1; }
  fi
  if [ "$s" = mh ]; then
    [ "${ok:-0}" -ge "$NEED" ] || { echo "FAIL: mh + sloppy_tcp + DR kept ${ok:-0} of $FLOWS flows (want >= $NEED)"; bad=1; }
  fi
  if [ "$s" = drain ]; then
    [ "${ok:-0}" -eq "$FLOWS" ] || { echo "FAIL: a drain of d1 broke $((FLOWS - ${ok:-0})) of $FLOWS flows (want none)"; bad=1; }
  fi
}

echo "BFD: min rx/tx $BFD_MS ms, multiplier $BFD_MULT (detection $((BFD_MS * BFD_MULT)) ms)"
bad=0
for _ in $(seq $RUNS); do for s in $SCENARIOS; do scenario $s; done; done
[ $bad = 0 ] || exit 1
echo "ecmp-flows: ok"
