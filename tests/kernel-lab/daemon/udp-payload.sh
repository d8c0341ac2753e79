# UDP_CHECK's payload on the wire, vigild against the real keepalived on the same HEX_STR in
# keepalived's free format (words of any length, a word's odd last digit a byte of its own):
# both must send the same bytes. Captured with tcpdump on lo.
. /lab/bin/common.sh
command -v keepalived >/dev/null && command -v tcpdump >/dev/null || fail "needs keepalived and tcpdump in the lab"
grep -q "^root:" /etc/passwd 2>/dev/null || echo "root:x:0:0:root:/root:/bin/sh" >>/etc/passwd
$IP link set lo up
# conf VIP PORT: each daemon its own virtual server, so neither undoes the other's.
conf() {
  cat <<CONF
virtual_server $1 53 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol UDP
    real_server 127.0.0.1 $2 {
        UDP_CHECK {
            payload Ab12f 3 456 546443123
            connect_timeout 1
        }
    }
}
CONF
}
conf 127.0.0.2 5353 >/tmp/k.conf
conf 127.0.0.3 5354 >/tmp/v.conf
# payload PORT: the UDP payload of the first datagram to PORT, as hex bytes.
payload() { sed -n 's/^[[:space:]]*0x00[0-9a-f]*:[[:space:]]*//p' /tmp/got-"$1" | tr -d ' \n' | cut -c57-; }
pids=
for port in 5353 5354; do
  tcpdump -Z root -i lo -nn -x -c 1 udp dst port $port >/tmp/got-$port 2>/dev/null &
  pids="$pids $!"
done
sleep 1
keepalived -C -n -l -G -f /tmp/k.conf -p /tmp/k.pid -c /tmp/c.pid >/tmp/keepalived.log 2>&1 &
kpid=$!
# Whatever happens (fail exits), keepalived and the captures end with the test.
stop_all() { kill $kpid $pids 2>/dev/null; wait $kpid 2>/dev/null; }
trap stop_all EXIT
start_vigild /tmp/v.conf
wait_for 10 sh -c "grep -q '^[[:space:]]*0x0010' /tmp/got-5353 && grep -q '^[[:space:]]*0x0010' /tmp/got-5354" ||
  { tail -n 5 /tmp/keepalived.log; fail "no UDP_CHECK datagram captured from both"; }
stop_all
stop_vigild TERM
k=$(payload 5353) v=$(payload 5354)
echo "FIGURE UDP_CHECK payload 'Ab12f 3 456 546443123': keepalived sent $k, vigild sent $v"
[ "$k" = "ab120f0345065464431203" ] || fail "keepalived sent $k, not the bytes its man page gives (AB 12 0F 03 45 06 54 64 43 12 03)"
[ "$v" = "$k" ] || fail "vigild sent $v where keepalived sent $k"
echo "udp-payload: ok"
