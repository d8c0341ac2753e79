# vigild programs a NAT virtual server; ipvsadm reads back exactly the configured rules, and
# the client's requests through the VIP are balanced over both real servers.
. /lab/bin/common.sh
nat_lab 2
cat >/tmp/k.conf <<CONF
virtual_server 10.1.0.100 80 {
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 10.2.1.2 80 {
        weight 1
    }
    real_server 10.2.2.2 80 {
        weight 3
        uthreshold 100
        lthreshold 10
    }
}
virtual_server 10.1.0.100 53 {
    lvs_sched wlc
    lvs_method NAT
    protocol UDP
    ops
    real_server 10.2.1.2 53 {
    }
}
CONF
start_vigild /tmp/k.conf
expect_rules \
  "-A -t 10.1.0.100:80 -s wrr" \
  "-a -t 10.1.0.100:80 -r 10.2.1.2:80 -m -w 1" \
  "-a -t 10.1.0.100:80 -r 10.2.2.2:80 -m -w 3" \
  "-A -u 10.1.0.100:53 -s wlc -o" \
  "-a -u 10.1.0.100:53 -r 10.2.1.2:53 -m -w 1"
ipvsadm -Ln --thresholds | grep "10.2.2.2:80" | grep -q " 100 *10 " || fail "thresholds 100/10 not set on 10.2.2.2:80"
ipvsadm -Ln
got=$(fetch 8)
echo "$got"
echo "$got" | grep -q "2 hello from rs1" || fail "rs1 did not get 2 of 8 requests (weights 1:3)"
echo "$got" | grep -q "6 hello from rs2" || fail "rs2 did not get 6 of 8 requests (weights 1:3)"
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "vigild left its services after SIGTERM"
log_has "IPVS: removed our services" || fail "no 'IPVS: removed our services' at stop"
echo "nat: ok"
