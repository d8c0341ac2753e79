# BFD_CHECK against the real kernel: the director's vigild follows a BFD session to the real
# server, answered by a second vigild in the real server's namespace that runs only a
# bfd_instance back to the director. The real server is in the table while the session is
# Up; when the far vigild stops (SIGTERM: it just falls silent) the session times out and the
# real server leaves the table (with inhibit_on_failure: weight 0), with keepalived's lines;
# when it starts again the real server comes back.
#
# The sessions run at 100 ms with a multiplier of 5 (a 500 ms detection time): at 10 ms and 3
# the emulated guest's scheduling stalls (30-50 ms) make them flap, and the test would see the
# flaps instead of the peer's stop.
. /lab/bin/common.sh
nat_lab 1
RSLOG=/tmp/vigild-rs1.log
cat >/tmp/k.conf <<CONF
bfd_instance rs1 {
    neighbor_ip 10.2.1.2
    min_rx 100
    min_tx 100
    multiplier 5
}
virtual_server 10.1.0.100 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.2.1.2 80 {
        BFD_CHECK {
            name rs1
        }
    }
}
virtual_server 10.1.0.100 9000 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.2.1.2 9000 {
        inhibit_on_failure
        BFD_CHECK {
            name rs1
            alpha
        }
    }
}
CONF
cat >/tmp/rs1.conf <<CONF
bfd_instance director {
    neighbor_ip 10.2.1.1
    min_rx 100
    min_tx 100
    multiplier 5
}
CONF
vigild -t -f /tmp/k.conf >/tmp/t.out 2>&1 || { cat /tmp/t.out; fail "the director's configuration does not pass -t"; }
vigild -t -f /tmp/rs1.conf >/tmp/t.out 2>&1 || { cat /tmp/t.out; fail "the real server's configuration does not pass -t"; }

# The real server's vigild: no vrrp_instance, no virtual_server; its own pid files and
# control socket. Started without a shell function in between, `ip netns exec` execs it and
# $! is vigild itself, as its pid file says (SIGTERM must reach vigild, not a subshell).
RSPID=
rs_vigild_start() {
  rm -f /tmp/rs1.pid
  $IP netns exec rs1 vigild -f /tmp/rs1.conf -n -l -p /tmp/rs1.pid -r /tmp/rs1-vrrp.pid -c /tmp/rs1-checkers.pid \
    --control-socket /tmp/rs1.sock >>$RSLOG 2>&1 &
  RSPID=$!
  wait_for 20 test -s /tmp/rs1.pid || rs_fail "the real server's vigild wrote no pid file"
  [ "$(cat /tmp/rs1.pid)" = "$RSPID" ] || rs_fail "the real server's vigild is not \$! ($(cat /tmp/rs1.pid) != $RSPID)"
}
rs_vigild_stop() {
  [ -n "$RSPID" ] || return 0
  kill -TERM "$RSPID" 2>/dev/null
  wait "$RSPID" 2>/dev/null
  RSPID=
}
# Both daemons go on any failure.
rs_fail() {
  rs_vigild_stop
  echo "--- real server's vigild log (tail)"; tail -n 15 $RSLOG 2>/dev/null
  fail "$@"
}

SVC80="-A -t 10.1.0.100:80 -s rr"
SVC9="-A -t 10.1.0.100:9000 -s rr"
RS80="-a -t 10.1.0.100:80 -r 10.2.1.2:80 -m -w 1"
in_table() { ipvsadm -Sn | grep -q -- "$1"; }
out_of_table() { ! ipvsadm -Sn | grep -q -- "$1"; }

# Alone, the director's session never comes Up: the real server of VS 80 (up until told
# otherwise) is taken out at once, the one of VS 9000 (alpha) starts out, at weight 0.
start_vigild /tmp/k.conf
wait_for 30 out_of_table "-r 10.2.1.2:80 " || rs_fail "the real server stayed in while its session never came up"
expect_rules "$SVC80" "$SVC9" "-a -t 10.1.0.100:9000 -r 10.2.1.2:9000 -m -w 0"
log_has "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is DOWN" || rs_fail "no 'BFD check ... is DOWN' line at start"
log_has "Removing service \[10.2.1.2\]:tcp:80 from VS \[10.1.0.100\]:tcp:80" || rs_fail "no 'Removing service' line at start"

# The real server answers: the session comes Up and both real servers are in.
rs_vigild_start
wait_for 30 in_table "$RS80" || rs_fail "the real server did not come in when its session came up"
wait_for 30 in_table "-r 10.2.1.2:9000 -m -w 1" || rs_fail "the inhibited real server did not get its weight back"
expect_rules "$SVC80" "$SVC9" "$RS80" "-a -t 10.1.0.100:9000 -r 10.2.1.2:9000 -m -w 1"
log_has "(rs1) Entering Up state" || rs_fail "no '(rs1) Entering Up state' line"
log_has "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is UP" || rs_fail "no 'BFD check ... is UP' line"
log_has "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:9000) is UP" || rs_fail "no 'BFD check ... is UP' line for VS 9000"
grep -q "(director) Entering Up state" $RSLOG || rs_fail "the real server's session did not come up"
got=$(fetch 2)
echo "$got" | grep -q "2 hello from rs1" || rs_fail "requests through the VIP did not reach rs1: $got"
vigilctl status --json >/tmp/status.json || rs_fail "vigilctl status failed"
grep -q '"kind":"BFD_CHECK"' /tmp/status.json || rs_fail "vigilctl status shows no BFD_CHECK: $(head -c 600 /tmp/status.json)"

# The real server's vigild stops: the session times out, the real server leaves (VS 9000:
# weight 0), and the director logs the fall and the check's line.
downs=$(log_count "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is DOWN")
disables=$(log_count "Disabling service \[10.2.1.2\]:tcp:9000")
rs_vigild_stop
wait_for 30 out_of_table "-r 10.2.1.2:80 " || rs_fail "the real server stayed in after its BFD peer stopped"
wait_for 30 in_table "-r 10.2.1.2:9000 -m -w 0" || rs_fail "the inhibited real server kept its weight"
expect_rules "$SVC80" "$SVC9" "-a -t 10.1.0.100:9000 -r 10.2.1.2:9000 -m -w 0"
log_has "(rs1) Entering Down state" || rs_fail "no '(rs1) Entering Down state' line"
[ "$(log_count "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is DOWN")" -gt "$downs" ] ||
  rs_fail "no new 'BFD check ... is DOWN' line after the peer stopped"
[ "$(log_count "Disabling service \[10.2.1.2\]:tcp:9000")" -gt "$disables" ] ||
  rs_fail "no 'Disabling service' line for the inhibited real server"

# It starts again: the real server comes back.
ups=$(log_count "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is UP")
rs_vigild_start
wait_for 30 in_table "$RS80" || rs_fail "the real server did not come back with its session"
wait_for 30 in_table "-r 10.2.1.2:9000 -m -w 1" || rs_fail "the inhibited real server did not get its weight back"
[ "$(log_count "BFD check of \[rs1\] RS(\[10.2.1.2\]:tcp:80) is UP")" -gt "$ups" ] ||
  rs_fail "no new 'BFD check ... is UP' line"

# A reload (SIGHUP) carries the checks over: the session is still Up, so nothing changes.
reloads=$(log_count "Reload finished")
ups=$(log_count "BFD check of \[rs1\]")
removals=$(log_count "Removing service \[10.2.1.2\]:tcp:80")
kill -HUP "$VPID"
wait_for 30 sh -c "[ \$(grep -c 'Reload finished' $LOG) -gt $reloads ]" || rs_fail "the reload did not finish"
expect_rules "$SVC80" "$SVC9" "$RS80" "-a -t 10.1.0.100:9000 -r 10.2.1.2:9000 -m -w 1"
[ "$(log_count "BFD check of \[rs1\]")" -eq "$ups" ] || rs_fail "a reload changed a BFD_CHECK whose session stayed Up"
[ "$(log_count "Removing service \[10.2.1.2\]:tcp:80")" -eq "$removals" ] || rs_fail "a reload took the real server out"

rs_vigild_stop
stop_vigild TERM
[ -z "$(ipvsadm -Sn)" ] || fail "vigild left its services after SIGTERM"
grep "BFD check of\|Entering\|ing service" $LOG
echo "bfd_check: ok"
