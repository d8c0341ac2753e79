# LVS-TUN end to end: the director forwards with IPIP (ipvsadm -i) to a real server set up by
# `vigilctl realserver start --mode tun`: it answers through the tunnel, with the reason for
# rp_filter=0 shown, and `stop` puts everything back.
. /lab/bin/common.sh
# One segment (a bridge): the director is this namespace, holding the VIP on br0; the real
# server answers the client directly, from the VIP.
segment_lab
attach c 10.3.0.10
attach r 10.3.0.11
ipvsadm -A -t 10.3.0.100:80 -s rr
ipvsadm -a -t 10.3.0.100:80 -r 10.3.0.11:80 -i
mkdir -p /tmp/www; echo "hello over ipip" >/tmp/www/index.html
nsx r httpd -p 80 -h /tmp/www
nsx r sh -c 'echo 1 >/proc/sys/net/ipv4/conf/all/rp_filter'
nsx r vigilctl realserver status --mode tun --vip 10.3.0.100 && fail "ready before start"
nsx c timeout 3 wget -q -O - http://10.3.0.100/ && fail "answered before start"
out=$(nsx r vigilctl realserver start --mode tun --vip 10.3.0.100,2001:db8::100 2>&1) || fail "start: $out"
echo "$out"
nsx r vigilctl realserver status --mode tun || fail "not ready after start"
got=$(nsx c timeout 5 wget -q -O - http://10.3.0.100/)
[ "$got" = "hello over ipip" ] || fail "no answer through the tunnel: $got"
echo "answer through the tunnel: $got"
nsx r sh -c 'echo 1 >/proc/sys/net/ipv4/conf/tunl0/rp_filter'
nsx c timeout 3 wget -q -O - http://10.3.0.100/ && fail "answered with rp_filter=1 on tunl0"
echo "with rp_filter=1 on tunl0 again: no answer, as expected"
nsx r sh -c 'echo 0 >/proc/sys/net/ipv4/conf/tunl0/rp_filter'
nsx c timeout 5 wget -q -O - http://10.3.0.100/ >/dev/null || fail "no answer after rp_filter=0 again"
out=$(nsx r vigilctl realserver start --mode tun --vip 10.3.0.100,2001:db8::100 2>&1) || fail "start again: $out"
echo "$out" | grep -q "nothing changed" || fail "second start changed something: $out"
out=$(nsx r vigilctl realserver stop 2>&1) || fail "stop: $out"
echo "$out"
[ "$(nsx r cat /proc/sys/net/ipv4/conf/all/rp_filter)" = 1 ] || fail "all.rp_filter not back to 1"
nsx r $IP link show tunl0 | grep -q ',UP' && fail "tunl0 still up"
nsx r $IP link show ip6tnl0 | grep -q ',UP' && fail "ip6tnl0 still up"
nsx r $IP addr show tunl0 | grep -q 10.3.0.100 && fail "VIP still on tunl0"
nsx c timeout 3 wget -q -O - http://10.3.0.100/ && fail "answered after stop"
killall httpd
echo "tun: ok"
