# persistence_timeout keeps a client on one real server; the service carries the
# persistence flag, timeout and granularity.
. /lab/bin/common.sh
nat_lab 2
cat >/tmp/k.conf <<CONF
virtual_server 10.1.0.100 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    persistence_timeout 120
    persistence_granularity 255.255.255.0
    real_server 10.2.1.2 80 {
    }
    real_server 10.2.2.2 80 {
    }
}
CONF
start_vigild /tmp/k.conf
expect_rules \
  "-A -t 10.1.0.100:80 -s rr -p 120 -M 255.255.255.0" \
  "-a -t 10.1.0.100:80 -r 10.2.1.2:80 -m -w 1" \
  "-a -t 10.1.0.100:80 -r 10.2.2.2:80 -m -w 1"
got=$(fetch 6)
echo "$got"
[ "$(echo "$got" | wc -l)" -eq 1 ] || fail "requests from one client went to more than one real server"
echo "$got" | grep -q "6 hello from" || fail "not every request was answered"
stop_vigild TERM
echo "persist: ok"
