# Maintenance without editing the file, against the real kernel: `vigilctl maintenance on`
# sets a real server's weight to 0 (an open connection goes on) or removes it (--remove); a
# server in maintenance counts as down for the quorum, so the sorry server comes in;
# `vigilctl weight` overrides a weight; all of it shows in `vigilctl status` and survives a
# reload (no write) and a restart with -I (no write); an entry ends at its expiry.
. /lab/bin/common.sh
nat_lab 3
$IP link set lo up
export VIGIL_STATE_DIR=/tmp/vigil-state
cat >/tmp/k.conf <<CONF
virtual_server 10.1.0.100 80 {
    delay_loop 1
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    quorum 2
    sorry_server 10.2.3.2 80
    real_server 10.2.1.2 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.2.2.2 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
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
VS80="-a -t 10.1.0.100:80"
VS9="-a -t 10.1.0.100:9000"
SVC80="-A -t 10.1.0.100:80 -s wrr"
SVC9="-A -t 10.1.0.100:9000 -s rr"
start_vigild /tmp/k.conf -I
wait_for 10 sh -c "vigilctl status --json | grep -q '\"runs\":[1-9]'" || fail "the checks did not run"
expect_rules "$SVC80" "$SVC9" "$VS80 -r 10.2.1.2:80 -m -w 1" "$VS80 -r 10.2.2.2:80 -m -w 1" \
  "$VS9 -r 10.2.1.2:9000 -m -w 1" "$VS9 -r 10.2.2.2:9000 -m -w 1"
vigilctl events --json >/tmp/events &
EVPID=$!

# Quiescent on the whole 9000 service: weight 0 on both, the open connection goes on.
conn_open
conn_echo before
vigilctl maintenance on 10.1.0.100:9000 --reason "patching" >/tmp/out 2>&1 || fail "maintenance on failed: $(cat /tmp/out)"
grep -q "2 real servers" /tmp/out || fail "maintenance on did not name 2 real servers: $(cat /tmp/out)"
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.2.2:9000 -m -w 0'" || fail "VS 9000 not quiescent"
expect_rules "$SVC80" "$SVC9" "$VS80 -r 10.2.1.2:80 -m -w 1" "$VS80 -r 10.2.2.2:80 -m -w 1" \
  "$VS9 -r 10.2.1.2:9000 -m -w 0" "$VS9 -r 10.2.2.2:9000 -m -w 0"
conn_echo during "the open connection broke when its server went quiescent"

# One real server of the quorum service: it counts as down, quorum 2 is lost, the sorry
# server comes in; the quiescent one stays at 0, the other leaves (keepalived's sorry rule).
vigilctl maintenance on "[10.1.0.100]:tcp:80" 10.2.1.2:80 >/tmp/out 2>&1 || fail "maintenance on failed: $(cat /tmp/out)"
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.3.2:80'" || fail "the sorry server did not come in"
expect_rules "$SVC80" "$SVC9" "$VS80 -r 10.2.1.2:80 -m -w 0" "$VS80 -r 10.2.3.2:80 -m -w 1" \
  "$VS9 -r 10.2.1.2:9000 -m -w 0" "$VS9 -r 10.2.2.2:9000 -m -w 0"
log_has "Lost quorum 2-0=2 > 1 for VS \[10.1.0.100\]:tcp:80" || fail "no quorum-lost line"
# A weight override that makes the quorum on its own: the sorry server leaves.
vigilctl weight 10.1.0.100:80 10.2.2.2:80 2 >/tmp/out 2>&1 || fail "vigilctl weight failed: $(cat /tmp/out)"
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.2.2:80 -m -w 2'" || fail "the override was not written"
expect_rules "$SVC80" "$SVC9" "$VS80 -r 10.2.1.2:80 -m -w 0" "$VS80 -r 10.2.2.2:80 -m -w 2" \
  "$VS9 -r 10.2.1.2:9000 -m -w 0" "$VS9 -r 10.2.2.2:9000 -m -w 0"
# Its checks go on and are shown.
vigilctl status --json >/tmp/status.json
grep -q '"maintenance":{"target":{"scope":"real_server","vs":"\[10.1.0.100\]:tcp:80","rs":"10.2.1.2:80"},"mode":"quiescent"' /tmp/status.json ||
  fail "the status does not show the maintenance: $(head -c 600 /tmp/status.json)"
grep -q '"weight_override":2' /tmp/status.json || fail "the status does not show the override"
vigilctl status >/tmp/status.txt
grep -q "maintenance quiescent (VS): patching" /tmp/status.txt || fail "vigilctl status shows no maintenance: $(cat /tmp/status.txt)"
grep -q "2 (was 1)" /tmp/status.txt || fail "vigilctl status shows no override: $(cat /tmp/status.txt)"

# A reload writes nothing; a restart with -I adopts the table and writes nothing.
state=$(rules)
marks=$(log_count "IPVS: reloaded configuration applied")
kill -HUP "$VPID"
wait_for 10 sh -c "[ \$(grep -c 'IPVS: reloaded configuration applied' $LOG) -gt $marks ]" || fail "no reload applied"
grep "IPVS: reloaded configuration applied" $LOG | tail -n 1 | grep -q "writes=0 " || fail "the reload wrote: $(grep 'reloaded configuration' $LOG | tail -n 1)"
[ "$(rules)" = "$state" ] || fail "the reload changed the table"
conn_echo reloaded "the open connection broke across the reload"
kill "$EVPID" 2>/dev/null
stop_vigild TERM
start_vigild /tmp/k.conf -I
grep "IPVS: table in step" $LOG | tail -n 1 | grep -q "writes=0" || fail "the restarted vigild wrote: $(grep 'table in step' $LOG | tail -n 1)"
[ "$(rules)" = "$state" ] || fail "the restart changed the table"
log_has "Maintenance on for RS 10.2.1.2:80 of VS \[10.1.0.100\]:tcp:80 (kept from before the restart)" || fail "the restart did not say what it kept"
conn_echo restarted "the open connection broke across the restart"
conn_close

# Remove mode (named without the protocol: it replaces the entry made with it), then
# everything off: the configured table again.
vigilctl maintenance on 10.1.0.100:80 10.2.1.2:80 --remove >/tmp/out 2>&1 || fail "--remove failed: $(cat /tmp/out)"
wait_for 5 sh -c "! ipvsadm -Sn | grep -q -- '-r 10.2.1.2:80 '" || fail "--remove left the real server"
vigilctl maintenance off 10.1.0.100:80 10.2.1.2:80 >/tmp/out 2>&1 || fail "off failed: $(cat /tmp/out)"
vigilctl maintenance off 10.1.0.100:9000 >/tmp/out 2>&1 || fail "off failed: $(cat /tmp/out)"
vigilctl weight 10.1.0.100:80 10.2.2.2:80 --clear >/tmp/out 2>&1 || fail "--clear failed: $(cat /tmp/out)"
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.2.2:80 -m -w 1'" || fail "the override did not go"
expect_rules "$SVC80" "$SVC9" "$VS80 -r 10.2.1.2:80 -m -w 1" "$VS80 -r 10.2.2.2:80 -m -w 1" \
  "$VS9 -r 10.2.1.2:9000 -m -w 1" "$VS9 -r 10.2.2.2:9000 -m -w 1"

# The whole director, for two seconds.
vigilctl maintenance on --director --expires 2s >/tmp/out 2>&1 || fail "--director failed: $(cat /tmp/out)"
wait_for 5 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.2.2:9000 -m -w 0'" || fail "the director did not go quiescent"
wait_for 15 sh -c "ipvsadm -Sn | grep -q -- '-r 10.2.2.2:9000 -m -w 1'" || fail "the director's maintenance did not expire"
log_has "Maintenance OFF for the director: expired" || fail "no expiry line"
[ "$(vigilctl maintenance list)" = "no maintenance entries and no weight overrides" ] || fail "entries left: $(vigilctl maintenance list)"
grep -q '"type":"MAINTENANCE"' /tmp/events || fail "no MAINTENANCE event on the stream"
grep -q '"type":"WEIGHT"' /tmp/events || fail "no WEIGHT event on the stream"
stop_vigild TERM
echo "maintenance: ok"
