# Guest side of scripts/demo.sh: Vigil's main job on one segment, in a real kernel.  Two
# directors (lb1, lb2) run vigild with the same keepalived.conf but for state and priority:
# VRRP elects lb1, which holds the VIP; both program IPVS (LVS-DR) over two real servers
# with HTTP_GET checks.  A client fetches through the VIP while a real server dies and
# returns, then lb1 dies and lb2 takes over, then lb1 returns; the admin changes a weight
# and reloads.  Narrated as it happens.
. /lab/bin/common.sh
VIP=10.0.0.100
director_segment
for i in 1 2; do
  mkdir -p /tmp/www$i; echo "hello from rs$i" >/tmp/www$i/index.html
  rs_start $i
done
director_attach lb1 10.0.0.11
director_attach lb2 10.0.0.12
director_conf lb1 MASTER 150 >/tmp/lb1.conf
director_conf lb2 BACKUP 100 >/tmp/lb2.conf
start_lb() { # N
  : >/tmp/lb$1.log
  # ip netns exec execs vigild, so $! is vigild's pid.
  $IP netns exec lb$1 vigild -f /tmp/lb$1.conf -n -l -p /tmp/lb$1.pid -r /tmp/lb$1-vrrp.pid -c /tmp/lb$1-check.pid \
    >>/tmp/lb$1.log 2>&1 &
  echo $! >/tmp/lb$1.vigild
}
say() { printf '\n== %s\n' "$*"; }
indent() { sed 's/^/   /'; }
# The log lines a user greps for, without timestamps and fields.
lines() { grep -E "Entering|Adding service|Removing service|failed after|succeed on service|Sending gratuitous|left by a previous run|Reload|Changing weight|IPVS: reloaded" "$1" |
  sed 's/^[^ ]* *[A-Z]* //; s/ vs=.*//; s/ check=.*//' | indent; }
has_vip() { nsx lb$1 $IP -o addr show dev eth0 | grep -q " $VIP/"; }
holder() { for n in 1 2; do has_vip $n && echo lb$n; done; }
# rs2_listed: lb1's IPVS table lists rs2; rs2_gone: it does not.
rs2_listed() { nsx lb1 ipvsadm -Ln | grep -q 10.0.0.22; }
rs2_gone() { ! rs2_listed; }
# logs N...: each director's lines since its log was last emptied.
logs() { for n in "$@"; do echo "lb$n:"; lines /tmp/lb$n.log; done; }
fetch9() { fetch 9 $VIP | indent; }

say "two directors start vigild with the same configuration (lb1: state MASTER, priority 150; lb2: BACKUP, 100)"
start_lb 1
start_lb 2
wait_for 10 has_vip 1
sleep 2
logs 1 2
echo "   the VIP $VIP is on: $(holder)"
say "vigilctl ipvs on lb1 (ipvsadm -Ln's layout); lb2 holds the same table, ready"
nsx lb1 vigilctl ipvs | indent
say "nine requests from the client to http://$VIP/"
fetch9

say "real server rs2 stops: both directors' checks fail and take it out of their tables"
: >/tmp/lb1.log; : >/tmp/lb2.log
rs_stop 2
wait_for 20 rs2_gone
logs 1
fetch9
say "rs2 comes back: re-added"
: >/tmp/lb1.log
rs_start 2
wait_for 20 rs2_listed
logs 1
fetch9

say "lb1's machine dies (its link goes down, its vigild is killed): lb2 takes over after Master_Down_Interval (3 x 1 s + skew)"
: >/tmp/lb2.log
# The client keeps fetching, one request every 0.1 s, each logged with its start time.
( while :; do t=$(now); r=$(nsx client timeout 2 wget -q -O - http://$VIP/ 2>/dev/null || echo failed); echo "$t $(now) $r" >>/tmp/fetches; sleep 0.1; done ) &
loop=$!
sleep 1
t0=$(now)
$IP link set lb1-p down
kill -9 "$(cat /tmp/lb1.vigild)"
wait_for 10 has_vip 2
sleep 3
kill $loop
logs 2
echo "   the VIP $VIP is on: $(holder) (lb1 is off the network)"
# Lines: start, end, answer.  The outage is the longest time between two answered requests.
awk -v t0="$t0" '$2 >= t0 { n++ } $2 >= t0 && $3 == "failed" { f++ }
  $3 != "failed" { if (prev && $2 - prev > gap) gap = $2 - prev; prev = $2 }
  END { printf "   client, from the kill on: %d requests, %d failed; the longest time without an answer: %.1f s\n", n, f, gap }' /tmp/fetches
fetch9

say "lb1 comes back (link up, vigild started): BACKUP first, then it preempts (higher priority); lb2 steps down"
: >/tmp/lb2.log
$IP link set lb1-p up
start_lb 1
wait_for 15 has_vip 1
sleep 1
logs 1 2
echo "   the VIP $VIP is on: $(holder)"
fetch9
say "the admin gives rs1 twice the weight on lb1: one line added to keepalived.conf, then vigilctl reload (what systemctl reload vigild does)"
: >/tmp/lb1.log
awk '{ print } /real_server 10.0.0.21 80 [{]/ { print "        weight 2" }' /tmp/lb1.conf >/tmp/lb1.new && mv /tmp/lb1.new /tmp/lb1.conf
nsx lb1 vigilctl reload | indent
logs 1
echo "   (one netlink write; VRRP untouched: no transition, no gratuitous ARP)"
fetch9
say "vigilctl status on lb1: the instance, the real servers and their last check, the IPVS table"
nsx lb1 vigilctl status | indent
say "both stop (SIGTERM): each removes its VIP and its IPVS services"
for n in 1 2; do kill "$(cat /tmp/lb$n.vigild)" 2>/dev/null; done
for n in 1 2; do wait "$(cat /tmp/lb$n.vigild)" 2>/dev/null; done
echo "   the VIP $VIP is on: $(holder)$([ -z "$(holder)" ] && echo nobody); IPVS services left: lb1 $(nsx lb1 ipvsadm -Sn | grep -c '^-A'), lb2 $(nsx lb2 ipvsadm -Sn | grep -c '^-A')"
