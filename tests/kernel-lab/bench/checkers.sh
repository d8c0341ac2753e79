# Guest side of `scripts/bench-check.sh --lab`: the health checkers of vigild (-C) and of
# keepalived (-C) over the same N real servers on loopback (bench_servers), one after the
# other in the same boot, each also programming the same IPVS table.  For each: CPU % of the
# whole process (its checker child for keepalived), peak RSS, and the rate of checks the
# servers accepted; for TCP_CHECK also connect_floor, the same connections with no checker
# around them.  Configurations come as /lab/bin/bench-MODE.conf.
. /lab/bin/common.sh
. /lab/bin/measure.sh
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
WARM=${WARM:-5}

rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null || echo 0; }

# measure PID: "CPU% peak-RSS-MiB checks/s" over DURATION seconds.
measure() {
  c0=$(ticks "$1"); t0=$(now); a0=$(accepted /tmp/servers.out); peak=0
  for _ in $(seq 1 "$DURATION"); do
    sleep 1
    [ -d /proc/"$1" ] || { echo "exited - -"; return; }
    r=$(rss_kb "$1"); [ "$r" -gt "$peak" ] && peak=$r
  done
  c1=$(ticks "$1"); t1=$(now); a1=$(accepted /tmp/servers.out)
  echo "$c0 $c1 $t0 $t1 $a0 $a1 $peak" |
    awk -v hz=$hz '{ d = $4 - $3; printf "%.1f %.1f %.0f\n", 100 * ($2 - $1) / hz / d, $7 / 1024, ($6 - $5) / d }'
}

# per_check LINES: the median over rounds of CPU % per check a second ("CPU RSS RATE ..." lines).
per_check() { awk '$3 > 0 { print $1 / $3 }' | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.5f", v[int((NR + 1) / 2)]; else printf "-" }'; }

for conf in /lab/bin/bench-*.conf; do
  mode=$(basename "$conf" .conf | cut -d- -f2)
  n=$(grep -c real_server "$conf")
  bench_servers "$n" 8080 "$mode" >/tmp/servers.out &
  spid=$!
  wait_for 60 grep -q ready /tmp/servers.out || fail "bench_servers did not start"
  echo "BENCH $mode N=$n delay_loop 1, $ROUNDS rounds of ${DURATION} s measured after ${WARM} s (CPU % of one core, peak RSS MiB, checks/s the servers accepted, servers declared down)"
  : >/tmp/vigil.runs; : >/tmp/keep.runs; : >/tmp/floor.runs
  # The programs take turns, so that a slow spell of the host falls on all of them.
  for round in $(seq 1 "$ROUNDS"); do
    : >$LOG
    start_vigild "$conf"
    sleep "$WARM"
    vigil=$(measure "$VPID")
    down=$(grep -c "failed after" $LOG)
    stop_vigild TERM
    echo "$vigil" >>/tmp/vigil.runs

    rm -f /tmp/c.pid
    keepalived -C -n -l -G -f "$conf" -p /tmp/k.pid -c /tmp/c.pid >/tmp/keepalived.log 2>&1 &
    kpid=$!
    sleep "$WARM"
    child=$(cat /tmp/c.pid 2>/dev/null)
    if [ -n "$child" ]; then keep=$(measure "$child"); else keep="exited - -"; fi
    kdown=$(grep -c "failed after\|Removing service" /tmp/keepalived.log)
    kill "$kpid"; wait "$kpid" 2>/dev/null
    echo "$keep" >>/tmp/keep.runs
    [ "${keep%% *}" = exited ] && tail -n 5 /tmp/keepalived.log

    # The kernel's share alone: the same connections with nothing around them.
    floor="- - -"
    if [ "$mode" = tcp ]; then
      connect_floor "$conf" $((DURATION + WARM + 30)) >/dev/null &
      fpid=$!
      sleep "$WARM"
      floor=$(measure "$fpid")
      kill "$fpid"; wait "$fpid" 2>/dev/null
      echo "$floor" >>/tmp/floor.runs
    fi
    echo "BENCH   round $round vigild -C            $vigil $down"
    echo "BENCH   round $round keepalived -C child  $keep $kdown"
    [ "$mode" = tcp ] && echo "BENCH   round $round kernel floor         $floor (connect_floor: the same connections, no checker)"
  done
  kill "$spid"; wait "$spid" 2>/dev/null
  v=$(per_check </tmp/vigil.runs); k=$(per_check </tmp/keep.runs); f=$(per_check </tmp/floor.runs)
  ratio=$(echo "$v $k" | awk '$2 > 0 { printf "%.2f", $1 / $2 }')
  # The same ratio taken in each round, then the median: the host's slow spells move whole
  # rounds, and a ratio within a round cancels them.
  paired=$(paste -d' ' /tmp/vigil.runs /tmp/keep.runs | awk '$3 > 0 && $4 > 0 && $6 > 0 { print ($1 / $3) / ($4 / $6) }' |
    sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else printf "-" }')
  echo "BENCH $mode CPU % per check a second, median of $ROUNDS: vigild $v, keepalived $k, kernel floor $f; vigild / keepalived ${ratio:--}; median of the rounds' own ratios $paired"
done
echo "checkers bench: done"
