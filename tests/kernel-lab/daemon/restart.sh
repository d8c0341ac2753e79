# Restarting vigild with --dont-release-ipvs (keepalived's -I), or after the package's upgrade
# marker, keeps the table and an open connection: the new vigild adopts the entries and writes
# nothing.
. /lab/bin/common.sh
nat_lab 2
cat >/tmp/k.conf <<CONF
virtual_server 10.1.0.100 9000 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.2.1.2 9000 {
    }
    real_server 10.2.2.2 9000 {
    }
}
CONF
start_vigild /tmp/k.conf -I
before=$(rules)
# A long-lived connection through the VIP to an echo server.
conn_open
conn_echo before
ipvsadm -Lnc | grep -q ESTABLISHED || fail "no established connection in the IPVS table"
stop_vigild TERM
[ "$(rules)" = "$before" ] || fail "the table changed when vigild stopped with -I"
start_vigild /tmp/k.conf -I
grep "IPVS: table in step" $LOG | tail -n 1 | grep -q "writes=0" || fail "the restarted vigild wrote to the table"
[ "$(rules)" = "$before" ] || fail "the table changed across the restart"
conn_echo after "the open connection broke across the restart"
conn_close
stop_vigild TERM
[ "$(rules)" = "$before" ] || fail "vigild -I removed its services at stop"
# Without -I, the services go at stop.
start_vigild /tmp/k.conf
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "vigild left its services after SIGTERM without -I"
# The package's upgrade: prerm leaves /run/vigil/keep-ipvs-once, so the stop before the new
# vigild starts keeps the table as -I would, once; the new one adopts it and the connection
# lives on.
start_vigild /tmp/k.conf
before=$(rules)
conn_open
conn_echo before-upgrade
mkdir -p /run/vigil
: >/run/vigil/keep-ipvs-once
stop_vigild TERM
[ "$(rules)" = "$before" ] || fail "the stop before an upgrade changed the table"
[ ! -e /run/vigil/keep-ipvs-once ] || fail "the upgrade marker was not taken"
grep -q "Leaving the IPVS table in place for the package upgrade" $LOG || fail "the upgrade stop does not say it keeps the table"
start_vigild /tmp/k.conf
grep "IPVS: table in step" $LOG | tail -n 1 | grep -q "writes=0" || fail "the upgraded vigild wrote to the table"
conn_echo after-upgrade "the open connection broke across the upgrade"
conn_close
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "the marker was kept for a later stop"
echo "restart: ok"
