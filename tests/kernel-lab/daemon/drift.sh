# IPVS drift (keepalived #1018, #1757: an admin's `ipvsadm -C` or hand-edited weight stays
# until keepalived restarts): vigild owns its services and puts them back within one
# delay_loop, logging and counting each repair (status and metrics); a service that is not its
# own stays.
. /lab/bin/common.sh
nat_lab 2
cat >/tmp/k.conf <<CONF
virtual_server 10.1.0.100 80 {
    delay_loop 2
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 10.2.1.2 80 {
        weight 3
    }
    real_server 10.2.2.2 80 {
        weight 1
    }
}
CONF
start_vigild /tmp/k.conf --metrics 127.0.0.1:9650
want=$(rules)
ipvsadm -A -u 10.9.9.9:53 -s rr
foreign=$(rules)

# A weight edited by hand.
ipvsadm -e -t 10.1.0.100:80 -r 10.2.1.2:80 -m -w 7
t0=$(now)
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.1.2:80 -m -w 3'" || fail "the hand-edited weight was not put back"
echo "FIGURE weight put back $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s after the edit (delay_loop 2)"
log_has "IPVS: the table was changed behind our back" || fail "no log line for the repair"
log_has "Changing weight from 7 to 3 for active service \[10.2.1.2\]:tcp:80" || fail "the repair is not logged in keepalived's words"
[ "$(rules)" = "$foreign" ] || fail "the table after the repair differs"

# The whole table flushed.
ipvsadm -C
wait_for 5 sh -c "[ \$(ipvsadm -Sn | grep -c -- '-t 10.1.0.100:80') -eq 3 ]" || fail "the flushed service did not come back"
[ "$(rules)" = "$want" ] || fail "after the flush the table is not vigild's (the foreign service was flushed too, and stays gone)"
vigilctl status --json | grep -q '"ipvs_repairs":4' || fail "the repairs are not counted: $(vigilctl status --json | grep -o '"ipvs_repairs":[0-9]*')"
wget -q -O /tmp/metrics http://127.0.0.1:9650/metrics || fail "no metrics on 127.0.0.1:9650"
grep -qx 'vigil_ipvs_repairs_total 4' /tmp/metrics || fail "the metrics do not count the repairs: $(grep ipvs_repairs /tmp/metrics)"
[ "$(nsx client timeout 5 wget -q -O - http://10.1.0.100/)" != "" ] || fail "no answer through the VIP after the repair"
stop_vigild TERM
echo "drift: ok"
