# Guest side of `scripts/bench-check.sh --lab --together`: vigild -C and keepalived -C at the
# same time in one boot, each checking its own N real servers (bench_servers at port 8080 for
# vigild, 8081 for keepalived) and programming its own virtual server (127.0.0.2:80 and
# 127.0.0.3:80). Taking turns, a slow spell of the host falls on one program and not the
# other, and single rounds moved by 10 %; running together, both see the same spell. For each
# window of DURATION seconds: CPU % of vigild (the whole process) and of keepalived's checker
# child, and the checks a second each one's servers accepted; at the end the CPU per check of
# the two over all windows, and its ratio. Configurations come as /lab/bin/bench-MODE.conf.
. /lab/bin/common.sh
. /lab/bin/measure.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-9}
WARM=${WARM:-5}

threads() { for t in /proc/"$VPID"/task/*; do echo "$(cat "$t"/comm) $(ticks "$VPID/task/${t##*/}")"; done; }
sample() { echo "$(ticks "$VPID") $(ticks "$child") $(accepted /tmp/servers-v.out) $(accepted /tmp/servers-k.out) $(now)"; }

for conf in /lab/bin/bench-*.conf; do
  mode=$(basename "$conf" .conf | cut -d- -f2)
  n=$(grep -c real_server "$conf")
  sed -e 's/^virtual_server 127.0.0.2 80 {/virtual_server 127.0.0.3 80 {/' -e 's/ 8080 {$/ 8081 {/' \
    "$conf" >/tmp/keepalived-"$mode".conf
  bench_servers "$n" 8080 "$mode" >/tmp/servers-v.out &
  vspid=$!
  bench_servers "$n" 8081 "$mode" >/tmp/servers-k.out &
  kspid=$!
  wait_for 60 grep -q ready /tmp/servers-v.out || fail "bench_servers did not start"
  wait_for 60 grep -q ready /tmp/servers-k.out || fail "bench_servers did not start"
  : >$LOG
  start_vigild "$conf"
  rm -f /tmp/c.pid
  keepalived -C -n -l -G -f /tmp/keepalived-"$mode".conf -p /tmp/k.pid -c /tmp/c.pid >/tmp/keepalived.log 2>&1 &
  kpid=$!
  sleep "$WARM"
  child=$(cat /tmp/c.pid 2>/dev/null)
  [ -n "$child" ] && [ -d /proc/"$child" ] || { tail -n 5 /tmp/keepalived.log; fail "keepalived's checker is not running"; }
  echo "BENCH $mode together, N=$n each, delay_loop 1, $ROUNDS windows of ${DURATION} s after ${WARM} s (CPU % of one core, checks/s the servers accepted)"
  threads >/tmp/threads.0
  first=$(sample)
  last=$first
  for round in $(seq 1 "$ROUNDS"); do
    sleep "$DURATION"
    next=$(sample)
    echo "$last $next" | awk -v hz=$hz -v r="$round" '{
      d = $10 - $5; vc = 100 * ($6 - $1) / hz / d; kc = 100 * ($7 - $2) / hz / d
      vr = ($8 - $3) / d; kr = ($9 - $4) / d
      ratio = (vr > 0 && kr > 0 && kc > 0) ? (vc / vr) / (kc / kr) : 0
      printf "BENCH   window %d: vigild -C %.1f %% at %.0f/s, keepalived -C child %.1f %% at %.0f/s; per check vigild / keepalived %.2f\n", r, vc, vr, kc, kr, ratio }'
    last=$next
  done
  threads >/tmp/threads.1
  # vigild's threads: the checkers' runtime, the IPVS owner (with its once-a-delay_loop audit
  # of the table) and the main runtime.
  paste -d' ' /tmp/threads.0 /tmp/threads.1 | awk -v hz=$hz -v d="$(echo "$first $last" | awk '{ print $10 - $5 }')" \
    '{ printf "BENCH   vigild thread %s: %.1f %%\n", $1, 100 * ($4 - $2) / hz / d }'
  down=$(grep -c "failed after" $LOG)
  kdown=$(grep -c "failed after\|Removing service" /tmp/keepalived.log)
  echo "$first $last" | awk -v hz=$hz -v n="$ROUNDS" -v vd="$down" -v kd="$kdown" '{
    d = $10 - $5; vc = 100 * ($6 - $1) / hz / d; kc = 100 * ($7 - $2) / hz / d
    vr = ($8 - $3) / d; kr = ($9 - $4) / d
    printf "BENCH together CPU %% per check a second over all %d windows: vigild %.5f (%.1f %% at %.0f/s), keepalived %.5f (%.1f %% at %.0f/s); vigild / keepalived %.2f; servers declared down: vigild %d, keepalived %d\n",
      n, vc / vr, vc, vr, kc / kr, kc, kr, (vc / vr) / (kc / kr), vd, kd }'
  stop_vigild TERM
  kill "$kpid"; wait "$kpid" 2>/dev/null
  kill "$vspid" "$kspid"; wait "$vspid" "$kspid" 2>/dev/null
done
echo "checkers together bench: done"
