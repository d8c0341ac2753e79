# The checkers drive the table: three real servers behind a NAT virtual server with HTTP_GET
# checks and a client fetching through the VIP in a loop.  A stopped server leaves the table
# within delay_loop + retry * delay_before_retry + connect_timeout and the client sees no
# failure after that; with all stopped the sorry server answers and quorum_down runs; a
# server that comes back is re-added.  A second virtual server over the same servers, with
# TCP_CHECK and inhibit_on_failure, keeps them at weight 0 instead and loses its quorum of 2.
# Every transition also reaches lvs_notify_fifo (keepalived's lines, through the reader script
# it starts) and `vigilctl events`, numbered, in the order it happened.
. /lab/bin/common.sh
nat_lab 4
cat >/tmp/event.sh <<'SH'
#!/bin/sh
echo "$*" >>/tmp/events
SH
chmod +x /tmp/event.sh
cat >/tmp/fifo-reader.sh <<'SH'
#!/bin/sh
exec cat "$1" >>/tmp/fifo-lines
SH
chmod +x /tmp/fifo-reader.sh
rs_checks() { # PORT
  for i in 1 2 3; do cat <<CONF
    real_server 10.2.$i.2 80 {
        weight 1
        notify_down "/tmp/event.sh $1 rs$i down"
        notify_up "/tmp/event.sh $1 rs$i up"
        $2 {
            $3
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
CONF
  done
}
{
  cat <<CONF
global_defs {
    lvs_notify_fifo /tmp/lvs.fifo
    lvs_notify_fifo_script /tmp/fifo-reader.sh
}
virtual_server 10.1.0.100 80 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    sorry_server 10.2.4.2 80
    quorum_down "/tmp/event.sh 80 quorum down"
    quorum_up "/tmp/event.sh 80 quorum up"
CONF
  rs_checks 80 HTTP_GET "url {
                path /index.html
                status_code 200
            }"
  cat <<CONF
}
virtual_server 10.1.0.100 8080 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    inhibit_on_failure
    quorum 2
    quorum_down "/tmp/event.sh 8080 quorum down"
    quorum_up "/tmp/event.sh 8080 quorum up"
CONF
  rs_checks 8080 TCP_CHECK ""
  echo "}"
} >/tmp/k.conf
: >/tmp/events
start_vigild /tmp/k.conf
# Every server starts up (no alpha): all in both tables.
[ "$(ipvsadm -Sn | grep -c -- '-a -t 10.1.0.100:80 -r 10.2.[123].2:80 -m -w 1')" = 3 ] || fail "not three real servers"

# The client: one request every 0.1 s, each logged with the time it started.
( while :; do
    t=$(now); r=$(nsx client timeout 3 wget -q -O - http://10.1.0.100/ 2>/dev/null || echo failed)
    echo "$t $r" >>/tmp/fetches
    sleep 0.1
  done ) &
loop=$!
in_vs() { ipvsadm -Ln -t 10.1.0.100:"$1" | grep -q " $2:80 "; }
# weight_is PORT RS WEIGHT: RS is in the virtual server on PORT at WEIGHT.
weight_is() { [ "$(ipvsadm -Ln -t 10.1.0.100:"$1" | awk -v d="$2:80" '$2 == d {print $4}')" = "$3" ]; }
sleep 2

t0=$(now)
rs_stop 1
wait_for 20 sh -c "! ipvsadm -Ln -t 10.1.0.100:80 | grep -q ' 10.2.1.2:80 '" || fail "rs1 stayed in the table"
t1=$(now)
echo "FIGURE rs1 left the table $(echo "$t1 $t0" | awk '{printf "%.2f", $1 - $2}') s after it stopped (bound: delay_loop 1 + retry 1 x delay_before_retry 1 + connect_timeout 1 = 3 s)"
wait_for 10 weight_is 8080 10.2.1.2 0 || fail "rs1 not at weight 0 in the inhibit_on_failure VS"
sleep 3
t2=$(now)
failed=$(awk -v t="$t1" '$1 > t && /failed/' /tmp/fetches | wc -l)
served=$(awk -v t="$t1" '$1 > t' /tmp/fetches | wc -l)
echo "FIGURE after the removal: $served requests, $failed failed; before it: $(awk -v t="$t1" '$1 <= t && /failed/' /tmp/fetches | wc -l) failed"
[ "$failed" = 0 ] || fail "the client saw failed requests after rs1 left the table"
[ "$served" -gt 5 ] || fail "the client loop is not running"
awk -v t="$t1" '$1 > t' /tmp/fetches | grep -q "rs1" && fail "rs1 answered after it stopped"
grep -q "^80 rs1 down" /tmp/events || fail "notify_down did not run for rs1"

# Two left of three in the inhibit VS: weight 2 of quorum 2 still holds.
grep -q "^8080 quorum down" /tmp/events && fail "quorum_down ran with the quorum still met"
rs_stop 2
wait_for 20 sh -c "grep -q '^8080 quorum down' /tmp/events" || fail "quorum_down did not run when the weight fell below the quorum"
log_has "Lost quorum 2-0=2 > 1 for VS \[10.1.0.100\]:tcp:8080" || fail "no 'Lost quorum' line"
rs_stop 3
wait_for 20 in_vs 80 10.2.4.2 || fail "the sorry server did not take over"
wait_for 10 sh -c "grep -q '^80 quorum down' /tmp/events" || fail "quorum_down did not run for port 80"
sleep 1
nsx client timeout 3 wget -q -O - http://10.1.0.100/ | grep -q "hello from rs4" || fail "the sorry server does not answer"
for i in 1 2 3; do weight_is 8080 10.2.$i.2 0 || fail "rs$i not inhibited (weight 0) in port 8080"; done
log_has "Adding sorry server \[10.2.4.2\]:tcp:80 to VS \[10.1.0.100\]:tcp:80" || fail "no 'Adding sorry server' line"

rs_start 1
wait_for 20 in_vs 80 10.2.1.2 || fail "rs1 was not re-added"
wait_for 10 sh -c "! ipvsadm -Ln -t 10.1.0.100:80 | grep -q ' 10.2.4.2:80 '" || fail "the sorry server stayed"
wait_for 10 weight_is 8080 10.2.1.2 1 || fail "rs1 not back at weight 1 in port 8080"
grep -q "^80 rs1 up" /tmp/events || fail "notify_up did not run for rs1"
wait_for 5 sh -c "grep -q '^80 quorum up' /tmp/events" || fail "quorum_up did not run for port 80"
sleep 1
nsx client timeout 3 wget -q -O - http://10.1.0.100/ | grep -q "hello from rs1" || fail "rs1 does not answer through the VIP"
kill $loop
echo "--- events"; cat /tmp/events
echo "--- lvs_notify_fifo"; cat /tmp/fifo-lines
# The FIFO in keepalived's words, in order: rs1 down, port 80's quorum lost, rs1 back.
at() { grep -n -m1 -x "$1" /tmp/fifo-lines | cut -d: -f1; }
down=$(at 'RS \[10.2.1.2\]:tcp:80 \[10.1.0.100\]:tcp:80 DOWN')
lost=$(at 'VS \[10.1.0.100\]:tcp:80 DOWN')
back=$(at 'RS \[10.2.1.2\]:tcp:80 \[10.1.0.100\]:tcp:80 UP')
[ -n "$down" ] && [ -n "$lost" ] && [ -n "$back" ] && [ "$down" -lt "$lost" ] && [ "$lost" -lt "$back" ] ||
  fail "lvs_notify_fifo lacks rs1's transitions in order (lines '$down' '$lost' '$back')"
grep -q '^VS \[10.1.0.100\]:tcp:8080 DOWN$' /tmp/fifo-lines || fail "lvs_notify_fifo lacks port 8080's lost quorum"
# The stream has the same events, numbered 1, 2, 3, ... (the backlog, then it is cut off).
timeout 2 vigilctl events --json >/tmp/stream || true
awk -F'"seq":' '{ split($2, a, ","); if (a[1] != NR) bad = 1 } END { exit bad || NR == 0 }' /tmp/stream || fail "the event stream is not numbered 1, 2, 3, ..."
[ "$(wc -l </tmp/stream)" = "$(wc -l </tmp/fifo-lines)" ] || fail "the stream and the FIFO differ: $(wc -l </tmp/stream) and $(wc -l </tmp/fifo-lines) events"
echo "FIGURE lvs_notify_fifo and vigilctl events carried $(wc -l </tmp/stream) transitions, numbered 1..$(wc -l </tmp/stream)"
echo "--- vigild's log lines for rs1"
grep -E "10.2.1.2|quorum|sorry" $LOG | sed 's/^[^ ]* *//' | head -n 30
# From the last failed probe of rs1 to the acknowledgement of its removal, from the log's
# timestamps (the checker logs the verdict, the IPVS owner logs after the kernel's ack).
verdict=$(grep -m1 "HTTP_CHECK on service \[10.2.1.2\]:tcp:80 failed" $LOG | cut -d' ' -f1)
removed=$(grep -m1 "Removing service \[10.2.1.2\]:tcp:80 from VS \[10.1.0.100\]:tcp:80" $LOG | cut -d' ' -f1)
# Timestamps are RFC 3339 (UTC); the difference in ms from the time of day is enough here.
ms() { echo "$1" | awk -F'[T:Z]' '{ printf "%.3f", ($2 * 3600 + $3 * 60 + $4) * 1000 }'; }
echo "FIGURE from rs1's failed verdict to the kernel's acknowledgement of its removal: $(echo "$(ms "$removed") $(ms "$verdict")" | awk '{ printf "%.1f", $1 - $2 }') ms ($verdict -> $removed)"
stop_vigild TERM
echo "checks: ok"
