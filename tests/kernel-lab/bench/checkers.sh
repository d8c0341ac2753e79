# Guest side of `scripts/bench-check.sh --lab`: the health checkers of vigild (-C) and of
# keepalived (-C) over the same N real servers on loopback (bench_servers), one after the
# other in the same boot, each also programming the same IPVS table.  For each: CPU % of the
# whole process (its checker child for keepalived), peak RSS, and the rate of checks the
# servers accepted; for TCP_CHECK also connect_floor, the same connections with no checker
# around them.  Configurations come as /lab/bin/bench-MODE.conf.
. /lab/bin/common.sh
DURATION=${DURATION:-20}
WARM=${WARM:-5}
ulimit -n 65536
hz=100

ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null || echo 0; }
accepted() { grep '^accepted' /tmp/servers.out | tail -n 1 | cut -d' ' -f2; }

# measure PID: "CPU% peak-RSS-MiB checks/s" over DURATION seconds.
measure() {
  c0=$(ticks "$1"); t0=$(now); a0=$(accepted); peak=0
  for _ in $(seq 1 "$DURATION"); do
    sleep 1
    [ -d /proc/"$1" ] || { echo "exited - -"; return; }
    r=$(rss_kb "$1"); [ "$r" -gt "$peak" ] && peak=$r
  done
  c1=$(ticks "$1"); t1=$(now); a1=$(accepted)
  echo "$c0 $c1 $t0 $t1 $a0 $a1 $peak" |
    awk -v hz=$hz '{ d = $4 - $3; printf "%.1f %.1f %.0f\n", 100 * ($2 - $1) / hz / d, $7 / 1024, ($6 - $5) / d }'
}

for conf in /lab/bin/bench-*.conf; do
  mode=$(basename "$conf" .conf | cut -d- -f2)
  n=$(grep -c real_server "$conf")
  bench_servers "$n" 8080 "$mode" >/tmp/servers.out &
  spid=$!
  wait_for 60 grep -q ready /tmp/servers.out || fail "bench_servers did not start"

  : >$LOG
  start_vigild "$conf"
  sleep "$WARM"
  vigil=$(measure "$VPID")
  down=$(grep -c "failed after" $LOG)
  stop_vigild TERM

  rm -f /tmp/c.pid
  keepalived -C -n -l -G -f "$conf" -p /tmp/k.pid -c /tmp/c.pid >/tmp/keepalived.log 2>&1 &
  kpid=$!
  sleep "$WARM"
  child=$(cat /tmp/c.pid 2>/dev/null)
  if [ -n "$child" ]; then keep=$(measure "$child"); else keep="exited - -"; fi
  kdown=$(grep -c "failed after\|Removing service" /tmp/keepalived.log)
  kill "$kpid"; wait "$kpid" 2>/dev/null
  # The kernel's share alone: the same connections with nothing around them.
  floor="- - -"
  if [ "$mode" = tcp ]; then
    connect_floor "$conf" $((DURATION + WARM + 30)) >/dev/null &
    fpid=$!
    sleep "$WARM"
    floor=$(measure "$fpid")
    kill "$fpid"; wait "$fpid" 2>/dev/null
  fi
  kill "$spid"; wait "$spid" 2>/dev/null

  echo "BENCH $mode N=$n delay_loop 1, ${DURATION} s measured after ${WARM} s (CPU % of one core, peak RSS MiB, checks/s the servers accepted, servers declared down)"
  echo "BENCH   vigild -C            $vigil $down"
  echo "BENCH   keepalived -C child  $keep $kdown"
  [ "$mode" = tcp ] && echo "BENCH   kernel floor         $floor (connect_floor: the same connections, no checker)"
  [ "${keep%% *}" = exited ] && tail -n 5 /tmp/keepalived.log
done
echo "checkers bench: done"
