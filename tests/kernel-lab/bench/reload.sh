# Guest side of scripts/bench-reload.sh: vigild runs a big table; one real server's weight
# changes in the file and vigild reloads (SIGHUP), RUNS times.  Side by side, what an admin
# without a reloading daemon does: the one `ipvsadm -e` by hand, or a rebuild of the whole
# table with `ipvsadm -C; ipvsadm -R` (what re-running a rules file does).
. /lab/bin/common.sh
RUNS=${RUNS:-5}
now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d\n", s, u }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rules=/lab/bin/bench.rules
cp /lab/bin/bench.conf /tmp/bench.conf
echo "table: $(grep -c '^-A' $rules) services, $(grep -c '^-a' $rules) destinations"
# The real server whose weight changes: the first of the file (weight 1).
vip=$(awk '/^virtual_server/ { print $2; exit }' /tmp/bench.conf)
rs=$(awk '/real_server/ { print $2; exit }' /tmp/bench.conf)

start_vigild /tmp/bench.conf
: >/tmp/reload.ms; : >/tmp/finished.ms; : >/tmp/writes
w=1
for _ in $(seq 1 "$RUNS"); do
  old=$w; w=$((w == 1 ? 7 : 1))
  # Only the first `weight` line of the file (that real server's).
  awk -v old="$old" -v new="$w" '!done && $1 == "weight" && $2 == old { sub(/weight .*/, "weight " new); done = 1 } { print }' \
    /tmp/bench.conf >/tmp/bench.new && mv /tmp/bench.new /tmp/bench.conf
  marks=$(log_count "IPVS: reloaded configuration applied")
  t0=$(now_us)
  kill -HUP "$VPID"
  wait_for 60 sh -c "[ \$(grep -c 'IPVS: reloaded configuration applied' $LOG) -gt $marks ]" || fail "no reload applied"
  t1=$(now_us)
  ipvsadm -Sn | grep -q -- "-a -t $vip:80 -r $rs:80 -m -w $w\$" || fail "the weight of $rs is not $w after the reload"
  echo $(((t1 - t0) / 1000)) >>/tmp/reload.ms
  grep "Reload finished in" $LOG | tail -n 1 | sed 's/.*Reload finished in \([0-9.]*\) ms.*/\1/' >>/tmp/finished.ms
  grep "IPVS: reloaded configuration applied" $LOG | tail -n 1 | sed 's/.*writes=\([0-9]*\).*/\1/' >>/tmp/writes
done
stop_vigild TERM

: >/tmp/edit.ms; : >/tmp/rebuild.ms
ipvsadm -R <$rules
for _ in $(seq 1 "$RUNS"); do
  t0=$(now_us); ipvsadm -e -t "$vip:80" -r "$rs:80" -m -w 7 || fail "ipvsadm -e failed"; t1=$(now_us)
  echo $(((t1 - t0) / 1000)) >>/tmp/edit.ms
  t0=$(now_us); ipvsadm -C; ipvsadm -R <$rules || fail "ipvsadm -R failed"; t1=$(now_us)
  echo $(((t1 - t0) / 1000)) >>/tmp/rebuild.ms
done
ipvsadm -C

echo "BENCH reload with one weight changed, median of $RUNS (ms): vigild signal-to-applied $(median </tmp/reload.ms) (its own 'Reload finished' $(median </tmp/finished.ms))  ipvsadm -e by hand $(median </tmp/edit.ms)  ipvsadm -C + -R rebuild $(median </tmp/rebuild.ms)"
echo "BENCH netlink writes per vigild reload: $(tr '\n' ' ' </tmp/writes)(goal: 1); the rebuild writes $(($(wc -l <$rules) + 1))"
echo "BENCH all runs vigild signal-to-applied: $(tr '\n' ' ' </tmp/reload.ms)"
for n in $(cat /tmp/writes); do [ "$n" = 1 ] || fail "a reload wrote $n messages for one weight change"; done
