# Direct routing: the director and two real servers on one segment (a bridge); the real
# servers hold the VIP on lo with arp_ignore=1 / arp_announce=2, as the seeds' lvs_real
# scripts set; replies go straight from the real server to the client.
. /lab/bin/common.sh
segment_lab
attach client 10.3.0.10
for i in 1 2; do
  attach rs$i 10.3.0.1$i
  nsx rs$i sh -c 'echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore; echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce
    echo 1 >/proc/sys/net/ipv4/conf/lo/arp_ignore; echo 2 >/proc/sys/net/ipv4/conf/lo/arp_announce'
  nsx rs$i $IP addr add 10.3.0.100/32 dev lo
  mkdir -p /tmp/www$i; echo "hello from rs$i" >/tmp/www$i/index.html
  nsx rs$i httpd -p 80 -h /tmp/www$i
done
cat >/tmp/k.conf <<CONF
virtual_server 10.3.0.100 80 {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    real_server 10.3.0.11 80 {
    }
    real_server 10.3.0.12 80 {
    }
}
CONF
start_vigild /tmp/k.conf
expect_rules \
  "-A -t 10.3.0.100:80 -s rr" \
  "-a -t 10.3.0.100:80 -r 10.3.0.11:80 -g -w 1" \
  "-a -t 10.3.0.100:80 -r 10.3.0.12:80 -g -w 1"
got=$(for _ in 1 2 3 4; do nsx client timeout 5 wget -q -O - http://10.3.0.100/ || echo failed; done | sort | uniq -c)
echo "$got"
echo "$got" | grep -q "2 hello from rs1" || fail "rs1 did not answer 2 of 4 requests"
echo "$got" | grep -q "2 hello from rs2" || fail "rs2 did not answer 2 of 4 requests"
nsx client $IP neigh show 10.3.0.100 | grep -q "$(cat /sys/class/net/br0/address)" || fail "the client resolved the VIP to a real server, not the director"
stop_vigild TERM
echo "dr: ok"
