# Helpers for the daemon's guest tests (busybox sh, inside the kernel lab).
# Sourced as /lab/bin/common.sh.

IP=${IP:-/sbin/ip}
LOG=/tmp/vigild.log
nsx() { ns=$1; shift; $IP netns exec "$ns" "$@"; }

fail() {
  echo "FAIL: $*"
  if [ -f $LOG ]; then echo "--- vigild log (tail)"; tail -n 25 $LOG; fi
  echo "--- ipvsadm -Ln"; ipvsadm -Ln
  stop_vigild
  exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  t=$(($1 * 10)); shift
  while [ $t -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1; t=$((t - 1))
  done
  return 1
}

log_has() { grep -q -- "$1" $LOG; }
log_count() { grep -c -- "$1" $LOG; }

# start_vigild CONF [FLAGS...]: the checkers and IPVS only (-C), in the foreground, logging to
# $LOG; returns once the table is in step with the configuration.
start_vigild() {
  conf=$1; shift
  # grep -c prints 0 (and fails) on no match, nothing on a missing file.
  marks=$(log_count "IPVS: table in step" 2>/dev/null); marks=${marks:-0}
  vigild -f "$conf" -n -l -C "$@" >>$LOG 2>&1 &
  VPID=$!
  wait_for 20 sh -c "[ \$(grep -c 'IPVS: table in step' $LOG) -gt $marks ]" || fail "vigild did not reconcile the table"
}

# stop_vigild [SIGNAL]: stops it and waits for its exit.
stop_vigild() {
  [ -n "${VPID:-}" ] || return 0
  kill -"${1:-TERM}" "$VPID" 2>/dev/null
  wait "$VPID" 2>/dev/null
  VPID=
}

# The table as `ipvsadm -Sn` prints it, sorted, for comparing with an expected rule list.
rules() { ipvsadm -Sn | sort; }

expect_rules() {
  printf '%s\n' "$@" | sort >/tmp/want
  rules >/tmp/have
  diff /tmp/want /tmp/have >/tmp/diff || { cat /tmp/diff; fail "the IPVS table is not what the configuration says"; }
}

# rs_start N / rs_stop N: real server N's web server (busybox httpd in the foreground, so its
# pid is known).
rs_start() {
  $IP netns exec rs$1 httpd -f -p 80 -h /tmp/www$1 &
  echo $! >/tmp/httpd$1.pid
}
rs_stop() { kill "$(cat /tmp/httpd$1.pid)"; }

# now: seconds since boot, to the hundredth.
now() { cut -d' ' -f1 /proc/uptime; }

# NAT topology (as the kernel lab's recipe): client 10.1.0.2 in netns `client` behind c0
# 10.1.0.1 (VIP 10.1.0.100 added there), real servers rsN at 10.2.N.2 in netns rsN, each
# running busybox httpd on :80 answering "hello from rsN" and an echo server on :9000.
nat_lab() {
  $IP netns add client
  $IP link add c0 type veth peer name c1
  $IP link set c1 netns client
  $IP addr add 10.1.0.1/24 dev c0; $IP link set c0 up
  nsx client $IP addr add 10.1.0.2/24 dev c1; nsx client $IP link set c1 up; nsx client $IP link set lo up
  nsx client $IP route add default via 10.1.0.1
  for i in $(seq 1 "${1:-2}"); do
    $IP netns add rs$i
    $IP link add r${i}a type veth peer name r${i}b
    $IP link set r${i}b netns rs$i
    $IP addr add 10.2.$i.1/24 dev r${i}a; $IP link set r${i}a up
    nsx rs$i $IP addr add 10.2.$i.2/24 dev r${i}b; nsx rs$i $IP link set r${i}b up; nsx rs$i $IP link set lo up
    nsx rs$i $IP route add default via 10.2.$i.1
    mkdir -p /tmp/www$i; echo "hello from rs$i" >/tmp/www$i/index.html
    rs_start $i
    nsx rs$i nc -ll -p 9000 -e cat &
  done
  echo 1 >/proc/sys/net/ipv4/ip_forward
  $IP addr add 10.1.0.100/32 dev c0
}

# fetch N [VIP]: N requests from the client to the VIP (nat_lab's 10.1.0.100 by default);
# prints "COUNT hello from rsX" lines.
fetch() {
  for _ in $(seq 1 "$1"); do nsx client timeout 5 wget -q -O - "http://${2:-10.1.0.100}/" || echo failed; done | sort | uniq -c
}

# conn_open: a long-lived connection from the client through nat_lab's VIP to the echo
# servers on :9000, on file descriptor 3; conn_echo WORD: sends WORD and fails unless it
# comes back; conn_close: ends it.
conn_open() {
  # Another script of the same boot may have left its pipe and output.
  rm -f /tmp/in /tmp/out
  mkfifo /tmp/in
  nsx client nc 10.1.0.100 9000 </tmp/in >/tmp/out &
  CONN=$!
  exec 3>/tmp/in
}
conn_echo() {
  echo "$1" >&3
  wait_for 5 grep -q "$1" /tmp/out || fail "${2:-no echo of $1 through the VIP}"
}
conn_close() {
  exec 3>&-
  kill "$CONN" 2>/dev/null
}

# One segment (a bridge, br0 10.3.0.1/24) for DR and TUN: the director is this namespace and
# holds the VIP 10.3.0.100 on br0; `attach NS ADDR` puts a host in netns NS on it.
segment_lab() {
  $IP link add br0 type bridge
  $IP link set br0 up
  $IP addr add 10.3.0.1/24 dev br0
  $IP addr add 10.3.0.100/32 dev br0
}
attach() {
  $IP netns add $1
  $IP link add $1-p type veth peer name $1-e
  $IP link set $1-p master br0 up
  $IP link set $1-e netns $1
  nsx $1 $IP link set lo up
  nsx $1 $IP addr add $2/24 dev $1-e
  nsx $1 $IP link set $1-e up
}

# Two directors on one segment (the demo's and the fault-injection run's shape): a bridge br0
# with no address, a client (10.0.0.2) that takes a VIP's new owner from its gratuitous ARP at
# once, and the DR real servers rs1 and rs2 (10.0.0.21, .22: the VIP on lo, silent in ARP, as
# the seeds' lvs_real script does), their web servers left to the caller;
# `director_attach NS ADDR` puts a host in netns NS on it, its link named eth0.
director_segment() {
  $IP link add br0 type bridge
  $IP link set br0 up
  director_attach client 10.0.0.2
  nsx client sh -c 'echo 1 >/proc/sys/net/ipv4/conf/eth0/arp_accept; echo 0 >/proc/sys/net/ipv4/neigh/eth0/locktime'
  for i in 1 2; do
    director_attach rs$i 10.0.0.2$i
    nsx rs$i vigilctl realserver start --vip $VIP >/dev/null
  done
}
director_attach() { # NS ADDR
  $IP netns add $1
  $IP link add $1-p type veth peer name eth0
  $IP link set $1-p master br0 up
  $IP link set eth0 netns $1
  nsx $1 $IP link set lo up
  nsx $1 $IP addr add $2/24 dev eth0
  nsx $1 $IP link set eth0 up
}
# director_conf NAME STATE PRIORITY [GLOBAL_LINES [INSTANCE_LINES]]: a director's
# keepalived.conf: VI_1 (VRID 51, advert_int 1) holding $VIP/24 on eth0, and an LVS-DR virtual
# server on $VIP:80 over 10.0.0.21 and 10.0.0.22 with HTTP_GET checks (delay_loop 1).
director_conf() {
  cat <<CONF
global_defs {
    router_id $1
${4:-}
}
vrrp_instance VI_1 {
    state $2
    interface eth0
    virtual_router_id 51
    priority $3
    advert_int 1
${5:-}
    virtual_ipaddress {
        $VIP/24
    }
}
virtual_server $VIP 80 {
    delay_loop 1
    lvs_sched wrr
    lvs_method DR
    protocol TCP
CONF
  for i in 1 2; do cat <<CONF
    real_server 10.0.0.2$i 80 {
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
CONF
  done
  echo "}"
}
