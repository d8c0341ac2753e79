# Guest side of scripts/bench-ipvs.sh: apply the same big table with `ipvsadm -R` (what
# ipvsadm-restore runs, minus its flush) and with vigild, cold and then unchanged.
. /lab/bin/common.sh
RUNS=${RUNS:-5}
now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d\n", s, u }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# field_ms: from a "table in step" line, read_ms + write_ms (reading the table, writing the
# difference), whole milliseconds.
field_ms() { sed 's/.*read_ms=\([0-9.]*\) write_ms=\([0-9.]*\).*/\1 \2/' | awk '{ printf "%d\n", $1 + $2 }'; }
rules=/lab/bin/bench.rules
conf=/lab/bin/bench.conf
echo "table: $(grep -c '^-A' $rules) services, $(grep -c '^-a' $rules) destinations"

: >/tmp/ipvsadm.ms
for _ in $(seq 1 "$RUNS"); do
  ipvsadm -C
  t0=$(now_us); ipvsadm -R <$rules || fail "ipvsadm -R failed"; t1=$(now_us)
  echo $(((t1 - t0) / 1000)) >>/tmp/ipvsadm.ms
done
rules >/tmp/by-ipvsadm

: >/tmp/vigild.ms; : >/tmp/vigild-wall.ms
for _ in $(seq 1 "$RUNS"); do
  ipvsadm -C
  t0=$(now_us)
  start_vigild $conf -I
  t1=$(now_us)
  grep "IPVS: table in step" $LOG | tail -n 1 | field_ms >>/tmp/vigild.ms
  echo $(((t1 - t0) / 1000)) >>/tmp/vigild-wall.ms
  stop_vigild TERM
done
rules >/tmp/by-vigild
diff /tmp/by-ipvsadm /tmp/by-vigild >/dev/null || fail "vigild's table differs from ipvsadm -R's"

# Unchanged re-apply: a second vigild over the table the first one left (-I).
start_vigild $conf -I
reapply=$(grep "IPVS: table in step" $LOG | tail -n 1)
stop_vigild TERM
writes=$(echo "$reapply" | sed 's/.*writes=\([0-9]*\).*/\1/')
reread=$(echo "$reapply" | sed 's/.*read_ms=\([0-9.]*\).*/\1/')
rewrite=$(echo "$reapply" | sed 's/.*write_ms=\([0-9.]*\).*/\1/')

echo "BENCH cold apply, median of $RUNS (ms): ipvsadm -R $(median </tmp/ipvsadm.ms)  vigild read+apply $(median </tmp/vigild.ms)  vigild start-to-applied $(median </tmp/vigild-wall.ms)"
echo "BENCH all runs ipvsadm -R: $(tr '\n' ' ' </tmp/ipvsadm.ms)"
echo "BENCH all runs vigild read+apply: $(tr '\n' ' ' </tmp/vigild.ms)"
echo "BENCH unchanged re-apply: vigild writes=$writes (reading the table ${reread} ms, writing ${rewrite} ms); ipvsadm -R cannot re-apply (File exists)"
[ "$writes" = 0 ] || fail "the unchanged re-apply wrote $writes messages"
