# Loading a 1,000 services x 10 destinations table: ipvsadm -R against ipvs-apply (pipelined,
# and one request per round trip), then re-applying it unchanged as a difference, which must
# send no write. Prints the figures; fails if the pipelined load is not faster than ipvsadm -R
# or if re-applying writes anything. Runs in the kernel lab's guest.
fail=0
cd /tmp
awk 'BEGIN {
  for (s = 0; s < 1000; s++) {
    vip = sprintf("10.%d.%d.1:80", 100 + int(s / 250), s % 250)
    print "-A -t " vip " -s wlc"
    for (d = 1; d <= 10; d++) printf "-a -t %s -r 172.16.%d.%d:8080 -m -w %d\n", vip, s % 250, d, d
  }
}' >big
echo "rules: $(wc -l <big) lines"
now() { cut -d' ' -f1 /proc/uptime | tr -d .; } # centiseconds
t0=$(now)
ipvsadm -R <big
t1=$(now)
ipvsadm -Sn | wc -l >n.ipvsadm
ipvsadm -C
t2=$(now)
ipvs-apply <big 2>pipe.err
t3=$(now)
ipvsadm -Sn | wc -l >n.ours
ipvsadm -C
t4=$(now)
ipvs-apply --one-by-one <big 2>single.err
t5=$(now)
ipvs-apply --sync <big 2>sync.err
ipvsadm=$(((t1 - t0) * 10))
pipelined=$(((t3 - t2) * 10))
single=$(((t5 - t4) * 10))
echo "ipvsadm -R:              ${ipvsadm} ms"
echo "ipvs-apply (pipelined):  ${pipelined} ms  $(cat pipe.err)"
echo "ipvs-apply (one by one): ${single} ms  $(cat single.err)"
echo "re-apply as difference:  $(cat sync.err)"
if cmp -s n.ipvsadm n.ours; then echo "ok   same table size ($(cat n.ours) lines)"; else echo "FAIL table sizes differ"; fail=1; fi
if [ "$pipelined" -lt "$ipvsadm" ]; then echo "ok   pipelined load beats ipvsadm -R"; else echo "FAIL pipelined load is not faster than ipvsadm -R"; fail=1; fi
if grep -q "writes=0 " sync.err; then echo "ok   unchanged re-apply sends zero writes"; else echo "FAIL unchanged re-apply wrote"; fail=1; fi
exit $fail
