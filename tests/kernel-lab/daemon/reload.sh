# Reloads that disrupt nothing, against the real kernel: a changed weight is one write that
# changes only that destination (ipvsadm shows the rest as it was) and an open connection
# through the VIP goes on; a removed virtual server goes and a new one comes; a file with an
# error changes nothing and `vigilctl reload` says so; the status document, a metrics scrape
# and the SIGUSR1 dump show the table.
. /lab/bin/common.sh
# Every script of a boot logs to the same file: this one reads only its own lines.
own_log=$(($(wc -l <$LOG 2>/dev/null || echo 0) + 1))
nat_lab 3
$IP link set lo up
# conf WEIGHT_OF_RS2 SECOND_PORT: the configuration, with one weight and one virtual server
# to vary.
conf() {
  for port in 9000 "$2"; do
    cat <<CONF
virtual_server 10.1.0.100 $port {
    delay_loop 1
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
CONF
    for i in 1 2 3; do
      w=1; [ "$port" = 9000 ] && [ "$i" = 2 ] && w=$1
      cat <<CONF
    real_server 10.2.$i.2 $port {
        weight $w
        TCP_CHECK {
            connect_timeout 1
        }
    }
CONF
    done
    echo "}"
  done
}
# reload_by HOW: reloads (SIGHUP or vigilctl) and waits for the IPVS line; prints it.
reload_by() {
  marks=$(log_count "IPVS: reloaded configuration applied")
  case $1 in
    hup) kill -HUP "$VPID" ;;
    vigilctl) vigilctl reload >/tmp/reload.out || fail "vigilctl reload failed: $(cat /tmp/reload.out)" ;;
  esac
  wait_for 10 sh -c "[ \$(grep -c 'IPVS: reloaded configuration applied' $LOG) -gt $marks ]" || fail "no reload applied"
  grep "IPVS: reloaded configuration applied" $LOG | tail -n 1
}
conf 1 80 >/tmp/k.conf
start_vigild /tmp/k.conf --metrics 127.0.0.1:9650
# Every check has run (a first round makes no change: the servers start up).
wait_for 10 sh -c "[ \$(grep -c 'TCP connection to' $LOG) -ge 6 ] || [ \$(vigilctl status --json | grep -o '\"runs\":[1-9]' | wc -l) -ge 6 ]" ||
  fail "the checks did not run"
before=$(rules)
conn_open
conn_echo before
runs_before=$(vigilctl status --json | grep -o '"runs":[0-9]*' | head -n 1)

conf 5 80 >/tmp/k.conf
line=$(reload_by hup)
echo "$line" | grep -q "writes=1 " || fail "changing one weight took more than one write: $line"
echo "$before" | sed 's|-r 10.2.2.2:9000 -m -w 1|-r 10.2.2.2:9000 -m -w 5|' | sort >/tmp/want
rules >/tmp/have
diff /tmp/want /tmp/have || fail "the table after the weight change is not the old one with that weight"
log_has "Changing weight from 1 to 5 for active service \[10.2.2.2\]:tcp:9000 of VS \[10.1.0.100\]:tcp:9000" ||
  fail "no keepalived-worded log line for the weight change"
if tail -n +"$own_log" $LOG | grep -A1000 "Reloading" | grep -qE "(Adding|Removing) service"; then
  fail "a reload added or removed a real server"
fi
conn_echo after "the open connection broke across the reload"
runs_after=$(vigilctl status --json | grep -o '"runs":[0-9]*' | head -n 1)
[ "${runs_after#*:}" -ge "${runs_before#*:}" ] || fail "the checks' history restarted ($runs_before -> $runs_after)"

# A virtual server replaced by another.
conf 5 8080 >/tmp/k.conf
line=$(reload_by vigilctl)
ipvsadm -Sn | grep -q -- "-A -t 10.1.0.100:8080" || fail "the new virtual server is not in the table"
if ipvsadm -Sn | grep -q -- "-t 10.1.0.100:80 "; then fail "the removed virtual server is still in the table"; fi
echo "$line" | grep -q "writes=5 " || fail "replacing a virtual server of 3 real servers should take 5 writes (1 delete, 1 add, 3 destinations): $line"
conn_echo again "the open connection broke across the second reload"

# A file with an error: nothing changes, vigilctl says why and exits 1. Nothing listens on
# 8080, so the new virtual server's real servers go out as their first checks fail (within
# two delay_loops, at random times): the table is compared once they are out.
wait_for 10 sh -c "! ipvsadm -Sn | grep -q -- '-t 10.1.0.100:8080 -r'" ||
  fail "the real servers of the new virtual server, which answer nothing on 8080, stayed in"
good=$(rules)
echo "virtual_server 10.1.0.100 9100 { lvs_sched wrr delay_loop abc" >>/tmp/k.conf
if vigilctl reload >/tmp/bad.out 2>&1; then fail "vigilctl reload of a broken file succeeded"; fi
grep -q "/tmp/k.conf:[0-9]*:[0-9]*: error:" /tmp/bad.out || fail "vigilctl reload did not name file:line: $(cat /tmp/bad.out)"
[ "$(rules)" = "$good" ] || fail "a broken file changed the table"

# What people and tools see.
vigilctl status --json >/tmp/status.json || fail "vigilctl status failed"
grep -q '"service":"\[10.1.0.100\]:tcp:8080"' /tmp/status.json || fail "the status has no IPVS table: $(head -c 300 /tmp/status.json)"
grep -q '"reloads_ok":2,"reloads_failed":1' /tmp/status.json || fail "the status does not count the reloads"
vigilctl status | grep -q "10.2.2.2" || fail "vigilctl status shows no real server"
wget -q -O /tmp/metrics http://127.0.0.1:9650/metrics || fail "no metrics on 127.0.0.1:9650"
grep -q 'vigil_realserver_weight{vs="\[10.1.0.100\]:tcp:9000",rs="\[10.2.2.2\]:tcp:9000"} 5' /tmp/metrics ||
  fail "the metrics lack the weight of 10.2.2.2: $(grep realserver_weight /tmp/metrics | head -n 3)"
grep -q 'vigil_check_latency_seconds_count{' /tmp/metrics || fail "the metrics lack the check latency histogram"
grep -q 'vigil_reloads_total{outcome="failed"} 1' /tmp/metrics || fail "the metrics do not count the failed reload"
kill -USR1 "$VPID"
wait_for 5 grep -q "VIRTUAL SERVER = \[10.1.0.100\]:tcp:8080" /tmp/keepalived.data || fail "no SIGUSR1 dump of the virtual servers"
conn_close
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "vigild left its services after SIGTERM"
echo "reload: ok"
