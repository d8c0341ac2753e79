# Guest side of scripts/fault-injection.sh: a fault-injection run in the kernel lab.
#
# One bridge: a client, two LVS-DR real servers (busybox httpd), lb1 running vigild (priority
# 150) and lb2 running keepalived (priority 100), the same keepalived.conf but for state and
# priority (VRRPv2, advert_int 1, VIP 10.0.0.100, a virtual_server on it with HTTP_GET checks,
# delay_loop 1).  After the first convergence, for DURATION seconds: the client starts a GET
# through the VIP every INTERVAL ms (fault_client, each request its own thread and TIMEOUT ms),
# a monitor per director samples every SAMPLE ms whether its daemon lives, holds the VIP, and
# the state its notify script last wrote; and faults come, one at a time, 8-20 s apart, drawn
# from a seeded RNG: kill -9 of a director's daemon and a restart 2-6 s later, SIGTERM and a
# restart, a link cut (the bridge side) and its restore, the VIP deleted on the MASTER behind
# its daemon's back (as NetworkManager would), `ipvsadm -C` on lb1 (vigild's director only:
# keepalived does not repair a flushed table).  Before each fault the lab must be converged
# again (both daemons up, lb1 MASTER with the VIP, lb1's table complete; 30 s at most).
# Prints the faults as they happen, then the report.
#
# DURATION and SEED are rewritten by scripts/fault-injection.sh.
DURATION=600
SEED=1
INTERVAL=20
TIMEOUT=1000
SAMPLE=20
DUMP=0
. /lab/bin/common.sh
VIP=10.0.0.100
# Master_Down_Interval = 3 x advert_int + (256 - priority) / 256 s, for each director as the
# BACKUP that takes over: lb1 (150) 3414 ms, lb2 (100) 3609 ms.
MDI1=3414
MDI2=3609

# keepalived looks up its script user; vigild's script_user too.
mkdir -p /etc/keepalived /var/run
echo 'root:x:0:0:root:/tmp:/bin/sh' >/etc/passwd
echo 'root:x:0:' >/etc/group

# T: ms since boot (/proc/uptime, to the hundredth), without a fork.
now_ms() { read -r up _ </proc/uptime; T=$((${up%.*} * 1000 + 1${up#*.} * 10 - 1000)); }
# sleep_ms MS
sleep_ms() { [ "$1" -gt 0 ] && sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }

director_segment
for i in 1 2; do
  # Not busybox httpd: a fork per request under emulation dropped SYNs (a full listen queue).
  nsx rs$i fault_client serve 0.0.0.0:80 "hello from rs$i" &
done
director_attach lb1 10.0.0.11
director_attach lb2 10.0.0.12
for n in 1 2; do
  state=$([ $n = 1 ] && echo MASTER || echo BACKUP) prio=$([ $n = 1 ] && echo 150 || echo 100)
  director_conf lb$n $state $prio "    script_user root" "    notify /tmp/notify-lb$n.sh" >/tmp/lb$n.conf
done
for n in 1 2; do
  # notify SCRIPT gets "INSTANCE VI_1 STATE PRIORITY".
  printf '#!/bin/sh\nread -r up _ </proc/uptime\necho "$up $3" >>/tmp/lb%s.notify\n' $n >/tmp/notify-lb$n.sh
  chmod 755 /tmp/notify-lb$n.sh
  : >/tmp/lb$n.notify
done

# start_lb N: lb1 vigild, lb2 keepalived, in the foreground of a background job, so that $!
# is the daemon (keepalived's parent); both write their VRRP process's pid to /tmp/lbN.vpid.
start_lb() {
  rm -f /tmp/lb$1.pid /tmp/lb$1.vpid /tmp/lb$1.cpid
  # The state the last daemon reported is not this one's.
  read -r up _ </proc/uptime; echo "$up INIT" >>/tmp/lb$1.notify
  echo "=== $up start" >>/tmp/lb$1.log
  if [ "$1" = 1 ]; then
    $IP netns exec lb1 vigild -f /tmp/lb1.conf -n -l -D -p /tmp/lb1.pid -r /tmp/lb1.vpid -c /tmp/lb1.cpid \
      --control-socket /tmp/lb1.sock >>/tmp/lb1.log 2>&1 &
  else
    $IP netns exec lb2 keepalived -f /tmp/lb2.conf -n -l -D -G -p /tmp/lb2.pid -r /tmp/lb2.vpid -c /tmp/lb2.cpid \
      >>/tmp/lb2.log 2>&1 &
  fi
  echo $! >/tmp/lb$1.main
}
# Every process of director N's daemon (keepalived: parent, VRRP and checker children).
pids_of() { cat /tmp/lb$1.vpid /tmp/lb$1.cpid /tmp/lb$1.main 2>/dev/null | sort -u; }
# kill9 N: a crash; the stale pid files go as a reboot would clear /run.
kill9() {
  kill -9 $(pids_of $1) 2>/dev/null
  wait "$(cat /tmp/lb$1.main)" 2>/dev/null
  rm -f /tmp/lb$1.pid /tmp/lb$1.vpid /tmp/lb$1.cpid
}
# term N: SIGTERM and its exit (kill -9 after 15 s, said in the log).
term() {
  p=$(cat /tmp/lb$1.main)
  kill -TERM "$p" 2>/dev/null
  ( sleep 15; kill -0 "$p" 2>/dev/null && { echo "lb$1 ignored SIGTERM for 15 s: kill -9"; kill -9 $(pids_of $1); } ) &
  w=$!
  wait "$p" 2>/dev/null
  kill "$w" 2>/dev/null
}
up_lb() { kill -0 "$(cat /tmp/lb$1.vpid 2>/dev/null)" 2>/dev/null; }
has_vip() { nsx lb$1 $IP -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
# Converged: both daemons up, the VIP on lb1 only, lb1's table lists both real servers.
converged() {
  up_lb 1 && up_lb 2 && has_vip 1 && ! has_vip 2 && [ "$(nsx lb1 ipvsadm -Ln | grep -c ' 10.0.0.2[12]:80 ')" = 2 ]
}

start_lb 1
start_lb 2
wait_for 30 converged || { echo "no first convergence in 30 s"; tail -n 20 /tmp/lb1.log /tmp/lb2.log; exit 1; }
sleep 2
now_ms; T0=$T
read -r WALL _ </proc/uptime
echo "converged at ${WALL}s since boot ($(date -u +%T) UTC): lb1 (vigild) MASTER; run of $DURATION s starts, seed $SEED"
run=$((DURATION + 1))
for n in 1 2; do
  $IP netns exec lb$n fault_client monitor $VIP /tmp/lb$n.vpid /tmp/lb$n.notify $SAMPLE $run /tmp/mon$n &
done
$IP netns exec client fault_client client $VIP:80 $INTERVAL $TIMEOUT $DURATION /tmp/requests &
CLIENT=$!
: >/tmp/events

# ev_begin, then the action, then ev_end ID KIND NODE: one line of the event log, "BEGIN END ID
# KIND NODE" (ms since boot: before the action and once it is done), echoed with the time since
# the start.
ev_begin() { now_ms; TB=$T; }
ev_end() {
  now_ms
  echo "$TB $T $*" >>/tmp/events
  r=$((TB - T0))
  echo "t=$((r / 1000)).$(printf %03d $((r % 1000)))s  $*  ($((T - TB)) ms)"
}

# The schedule: KIND NODE GAP_MS RESTORE_MS per fault, from the seed.
awk -v seed="$SEED" 'BEGIN {
  srand(seed); split("kill9 term link vipdel ipvsflush", kinds, " ")
  for (i = 0; i < 400; i++) {
    k = kinds[1 + int(rand() * 5)]; n = rand() < 0.67 ? 1 : 2
    if (k == "ipvsflush") n = 1
    printf "%s %d %d %d\n", k, n, 8000 + int(rand() * 12000), 2000 + int(rand() * 4000)
  }
}' >/tmp/schedule
stop=$((T0 + DURATION * 1000 - 25000))
last=$T0
id=0
while read -r kind n gap rd; do
  wait_for 30 converged || { ev_begin; ev_end 0 not-converged-after-30s -; }
  now_ms
  [ $((last + gap)) -gt $T ] && sleep_ms $((last + gap - T))
  now_ms
  [ "$T" -gt "$stop" ] && break
  last=$T
  id=$((id + 1))
  case $kind in
    kill9|term)
      ev_begin; $kind $n; ev_end $id $kind lb$n
      sleep_ms "$rd"
      ev_begin; start_lb $n; ev_end $id restart lb$n ;;
    link)
      ev_begin; $IP link set lb$n-p down; ev_end $id linkdown lb$n
      sleep_ms "$rd"
      ev_begin; $IP link set lb$n-p up; ev_end $id linkup lb$n ;;
    vipdel)
      h=1; has_vip 1 || h=2
      ev_begin; nsx lb$h $IP addr del $VIP/24 dev eth0; ev_end $id vipdel lb$h ;;
    ipvsflush) ev_begin; nsx lb1 ipvsadm -C; ev_end $id ipvsflush lb1 ;;
  esac
done </tmp/schedule
wait $CLIENT
sleep 2
now_ms; TEND=$T

# ---- the report ------------------------------------------------------------------------------
sort -n /tmp/requests >/tmp/requests.sorted
awk -v t0="$T0" -v tend="$TEND" -v step="$SAMPLE" -v mdi1="$MDI1" -v mdi2="$MDI2" \
  -v interval="$INTERVAL" -v timeout="$TIMEOUT" -v dur="$DURATION" -v seed="$SEED" '
function rel(t) { return sprintf("%.3f", (t - t0) / 1000) }
# the A-master set (daemon alive, last notify MASTER) and the B set (alive, holds the VIP) at
# grid sample i, as a string "lb1", "lb2", "lb1+lb2" or "-".
function set(a1, a2) { return a1 && a2 ? "lb1+lb2" : a1 ? "lb1" : a2 ? "lb2" : "-" }
FILENAME == "/tmp/mon1" || FILENAME == "/tmp/mon2" {
  k = FILENAME == "/tmp/mon1" ? 1 : 2
  n = ++mn[k]; mt[k, n] = $1; ma[k, n] = $2; mv[k, n] = $3; ms[k, n] = $4
  next
}
FILENAME == "/tmp/events" {
  ne++; et[ne] = $1; ed[ne] = $2; eid[ne] = $3; ek[ne] = $4; en[ne] = $5
  next
}
FILENAME == "/tmp/requests.sorted" {
  nr++; rs[nr] = $1; re[nr] = $2; rok[nr] = ($3 == "ok")
  if ($3 != "ok") { why[$4]++ } else { served[$4]++ }
  next
}
END {
  # ---- mastership, sampled on a grid of step ms over the span both monitors cover.
  g0 = mt[1, 1] > mt[2, 1] ? mt[1, 1] : mt[2, 1]
  g1 = mt[1, mn[1]] < mt[2, mn[2]] ? mt[1, mn[1]] : mt[2, mn[2]]
  i1 = i2 = 1; ei = 0; link1 = link2 = 1; nch = 0; prevA = ""; nab = 0; prevAB = ""
  for (t = g0; t <= g1; t += step) {
    while (i1 < mn[1] && mt[1, i1 + 1] <= t) i1++
    while (i2 < mn[2] && mt[2, i2 + 1] <= t) i2++
    while (ei < ne && et[ei + 1] <= t) {
      ei++
      if (ek[ei] == "linkdown") { if (en[ei] == "lb1") link1 = 0; else link2 = 0 }
      if (ek[ei] == "linkup") { if (en[ei] == "lb1") link1 = 1; else link2 = 1 }
    }
    a1 = ma[1, i1] && ms[1, i1] == "MASTER"; a2 = ma[2, i2] && ms[2, i2] == "MASTER"
    b1 = ma[1, i1] && mv[1, i1]; b2 = ma[2, i2] && mv[2, i2]
    samples++
    A = set(a1, a2); B = set(b1, b2)
    if (A != prevA) { nch++; cht[nch] = t; chs[nch] = A; prevA = A }
    if (A "/" B != prevAB) { nab++; abt[nab] = t; abs[nab] = A "/" B; prevAB = A "/" B }
    sampIso[samples] = !link1 || !link2
    # stale VIP: held by a director whose daemon is dead
    if ((mv[1, i1] && !ma[1, i1]) || (mv[2, i2] && !ma[2, i2])) stale++
    # a live daemon that says MASTER without the VIP, or holds it saying something else
    if ((ma[1, i1] && (ms[1, i1] == "MASTER") != (mv[1, i1] == 1)) || (ma[2, i2] && (ms[2, i2] == "MASTER") != (mv[2, i2] == 1))) mism++
    sampT[samples] = t; sampA[samples] = A; sampB[samples] = B
  }
  # ---- requests
  for (i = 1; i <= nr; i++) { if (rok[i]) { nok++; okS[nok] = rs[i] } else nfail++ }
  # ---- events: which are failover windows, and where each ends
  for (e = 1; e <= ne; e++) {
    # the A set just before the event
    before = "-"
    for (c = 1; c <= nch && cht[c] < et[e]; c++) before = chs[c]
    eb[e] = before
    k = ek[e]
    fault = (k == "kill9" || k == "term" || k == "linkdown" || k == "vipdel" || k == "ipvsflush")
    wasm = index(before, en[e]) > 0
    role[e] = fault ? (wasm ? "MASTER" : "BACKUP") : ""
    label[e] = fault ? k " " role[e] "(" en[e] ")" : k " " en[e]
    # A window: a fault on the MASTER (an IPVS flush counts when lb1 is MASTER), or lb1 back
    # (it preempts).
    win[e] = (fault && wasm) || (!fault && en[e] == "lb1")
    if (k == "not-converged-after-30s") win[e] = 0
    if (!win[e]) continue
    nextt = e < ne ? et[e + 1] : tend
    # settled: the action done and the last change of MASTERs (VRRP state or VIP) before the
    # next event
    settle = ed[e]
    for (c = 1; c <= nab; c++) if (abt[c] > et[e] && abt[c] < nextt && abt[c] > settle) settle = abt[c]
    # left without a MASTER then (kill -9, and the restart came before the MDI of the BACKUP ran
    # out): on until there is one again, past the next event
    cur = ""
    for (c = 1; c <= nab && abt[c] <= settle; c++) cur = abs[c]
    if (cur ~ /^-\// || cur ~ /\/-$/)
      for (; c <= nab; c++) if (abs[c] !~ /^-\// && abs[c] !~ /\/-$/) { settle = abt[c]; break }
    # From the start of the action (a link change lands somewhere while ip runs, which under
    # emulation can take a second).
    ws[e] = et[e]; we[e] = -1
    for (j = 1; j <= nok; j++) if (okS[j] >= settle) { we[e] = okS[j]; break }
    if (we[e] < 0) we[e] = tend
    wl[e] = we[e] - ws[e]
    after[e] = ""
    for (c = 1; c <= nab; c++) if (abt[c] > et[e] && abt[c] < nextt) after[e] = after[e] (after[e] == "" ? "" : " ") abs[c] "@" (abt[c] - et[e])
  }
  # ---- samples with two MASTERs or none, inside a failover window or not
  for (i = 1; i <= samples; i++) {
    inw = 0
    for (e = 1; e <= ne; e++) if (win[e] && sampT[i] >= ws[e] && sampT[i] <= we[e]) { inw = 1; break }
    if (sampA[i] == "lb1+lb2") { twoA++; if (sampIso[i]) twoAiso++; if (!inw) twoAout++ }
    if (sampA[i] == "-") { noneA++; if (!inw) noneAout++ }
    if (sampB[i] == "lb1+lb2") { twoB++; if (sampIso[i]) twoBiso++; if (!inw) twoBout++ }
    if (sampB[i] == "-") { noneB++; if (!inw) noneBout++ }
  }
  # ---- failures: inside a window or not; outages (runs of failed requests, by start time)
  inrun = 0
  for (i = 1; i <= nr; i++) {
    if (!rok[i]) {
      inside = 0
      for (e = 1; e <= ne; e++) if (win[e] && rs[i] <= we[e] && re[i] >= ws[e]) { inside = 1; break }
      if (!inside) { outside++; if (outside <= 10) outl = outl sprintf("    t=%s %s\n", rel(rs[i]), rel(re[i])) }
      if (!inrun) { inrun = 1; rstart = rs[i]; rfirstend = re[i]; rfails = 0 }
      rfails++
      continue
    }
    if (inrun) { inrun = 0; no++; os[no] = rstart; ol[no] = rs[i] - rstart; of[no] = rfails }
  }
  if (inrun) { no++; os[no] = rstart; ol[no] = tend - rstart; of[no] = rfails }
  # the event an outage follows: the last one begun before its first failed request started
  # (one request interval of slack for a request just sent when the fault came)
  for (o = 1; o <= no; o++) { oe[o] = 0; for (e = 1; e <= ne; e++) if (et[e] <= os[o] + interval) oe[o] = e }
  # per window: the time its requests failed (the sum of the outages after its event) and the
  # longest of those outages
  for (e = 1; e <= ne; e++) {
    span[e] = 0; wmax[e] = 0
    for (o = 1; o <= no; o++) if (oe[o] == e) { span[e] += ol[o]; if (ol[o] > wmax[e]) wmax[e] = ol[o] }
  }

  print ""
  print "==== fault-injection report (seed " seed ")"
  printf "run: %.1f s after the first convergence; lb1 vigild (priority 150), lb2 keepalived (priority 100), VRRPv2 advert_int 1\n", (tend - t0) / 1000
  printf "Master_Down_Interval: %d ms (lb2 taking over, the goal below uses it), %d ms (lb1); goal: no outage over %d ms\n", mdi2, mdi1, mdi2 + 50
  print "IPVS flushes (ipvsadm -C) go to lb1 (vigild) only: keepalived does not repair a flushed table"
  printf "client: a GET through the VIP every %d ms, %d ms timeout each (concurrent); mastership sampled every %d ms\n", interval, timeout, step
  print ""
  print "faults injected:"
  for (e = 1; e <= ne; e++) if (role[e] != "") { nf++; fk[ek[e]]++; fkr[ek[e] " " role[e]]++ }
  printf "  %d in all:", nf
  for (k in fk) printf " %s %d", k, fk[k]
  print ""
  printf "  on the MASTER / the BACKUP:"
  for (k in fkr) printf " [%s] %d", k, fkr[k]
  print ""
  for (e = 1; e <= ne; e++) if (ek[e] == "not-converged-after-30s") notconv++
  if (notconv) printf "  %d times the lab was not converged 30 s after a fault (the next came anyway)\n", notconv
  print ""
  printf "requests: %d sent, %d ok, %d failed, %d failed outside a failover window\n", nr, nok, nfail, outside + 0
  printf "  served by:"; for (k in served) printf " %s %d", k, served[k]; print ""
  if (nfail) { printf "  failures:"; for (k in why) printf " %s %d", k, why[k]; print "" }
  if (outside) { print "  failures outside a window (start end, first 10):"; printf "%s", outl }
  max = 0; mi = 0
  for (o = 1; o <= no; o++) if (ol[o] > max) { max = ol[o]; mi = o }
  if (mi) printf "longest outage: %d ms (%d failed requests) at t=%s s, after %s at t=%s s\n", max, of[mi], rel(os[mi]), oe[mi] ? label[oe[mi]] : "no fault", oe[mi] ? rel(et[oe[mi]]) : "-"
  else print "longest outage: none (no request failed)"
  printf "outages (runs of failed requests): %d\n", no + 0
  print ""
  print "per event kind (a failover window: from a fault on the MASTER, or lb1 coming back and"
  print "preempting, until the first successful request once the MASTER is settled; an outage: a"
  print "run of failed requests, from the first one to the first success after it):"
  printf "  %-22s %5s %7s %8s %10s %7s\n", "", "count", "windows", "max win", "max outage", "failed"
  printf "  %-22s %5s %7s %8s %10s %7s\n", "", "", "", "ms", "ms", "reqs"
  for (e = 1; e <= ne; e++) if (ek[e] != "not-converged-after-30s") { L = label[e]; sub(/\(.*\)/, "", L); if (role[e] == "") L = label[e]; kc[L]++; if (win[e]) { kw[L]++; if (wl[e] > kwl[L]) kwl[L] = wl[e] } }
  for (o = 1; o <= no; o++) if (oe[o]) { L = label[oe[o]]; sub(/\(.*\)/, "", L); if (role[oe[o]] == "") L = label[oe[o]]; if (ol[o] > ko[L]) ko[L] = ol[o]; kf[L] += of[o] }
  for (L in kc) printf "  %-22s %5d %7d %8d %10d %7d\n", L, kc[L], kw[L] + 0, kwl[L] + 0, ko[L] + 0, kf[L] + 0
  print ""
  print "mastership samples after the first convergence (" samples " samples, " step " ms apart):"
  print "                                                  two   of which     none    (outside"
  print "                                                       one cut off           windows)"
  printf "  VRRP state (daemon alive, notify said MASTER): %5d %7d (%d) %8d (%d)\n", twoA, twoAiso, twoAout, noneA, noneAout
  printf "  VIP holders (daemon alive, VIP on eth0):       %5d %7d (%d) %8d (%d)\n", twoB, twoBiso, twoBout, noneB, noneBout
  printf "  a stale VIP on a director whose daemon is dead: %d samples; a live daemon whose state and VIP disagree: %d samples\n", stale + 0, mism + 0
  print ""
  over = 0; overw = 0
  for (o = 1; o <= no; o++) if (ol[o] > mdi2 + 50) { over++; overl = overl sprintf("    t=%s s: %d ms after %s\n", rel(os[o]), ol[o], oe[o] ? label[oe[o]] : "no fault") }
  for (e = 1; e <= ne; e++) if (win[e] && wl[e] > mdi2 + 50) overw++
  printf "goal: no request fails outside a failover window: %s (%d outside)\n", outside ? "NOT MET" : "met", outside + 0
  printf "goal: no outage (requests failing without a break) longer than MDI + 50 ms = %d ms: %s (longest %d ms)\n", mdi2 + 50, over ? "NOT MET (" over ")" : "met", max
  if (over) printf "%s", overl
  printf "  (windows counted to the settled MASTER, failing or not, longer than %d ms: %d; a BACKUP that\n", mdi2 + 50, overw
  print "  preempts waits its own MDI first, as RFC 3768 says, and serves meanwhile)"
  print ""
  print "outages, with their cause: MDI wait = after kill -9 or a link cut of the MASTER, no longer"
  print "than MDI + 50 ms; Skew_Time wait = after SIGTERM of the MASTER (it sends priority 0: the"
  print "BACKUP takes over after (256 - 100) / 256 s = 609 ms), no longer than 659 ms; IPVS repair ="
  print "after ipvsadm -C, no longer than delay_loop + 50 ms; VIP re-add, failback (lb1 preempting):"
  print "as named; anything else: other"
  for (o = 1; o <= no; o++) {
    e = oe[o]; k = e ? ek[e] : "-"
    cause = "other"
    if (e && role[e] == "MASTER" && (k == "kill9" || k == "linkdown")) cause = ol[o] <= mdi2 + 50 ? "MDI wait" : "longer than MDI + 50 ms"
    if (e && role[e] == "MASTER" && k == "term") cause = ol[o] <= 609 + 50 ? "Skew_Time wait (priority-0 advert)" : ol[o] <= mdi2 + 50 ? "longer than Skew_Time, within MDI" : "longer than MDI + 50 ms"
    if (e && role[e] == "MASTER" && k == "ipvsflush") cause = ol[o] <= 1050 ? "IPVS repair" : "IPVS repair, longer than delay_loop + 50 ms"
    if (e && role[e] == "MASTER" && k == "vipdel") cause = "VIP re-add"
    if (e && (k == "restart" || k == "linkup") && en[e] == "lb1") cause = "failback"
    printf "  t=%9s s %6d ms %4d failed  after %-24s %s\n", rel(os[o]), ol[o], of[o], e ? label[e] " t=" rel(et[e]) : "(no fault)", cause
  }
  print ""
  print "events (t s, event, MASTER before, window ms, changes after it until the next event as"
  print "VRRP-MASTERs/VIP-holders@ms after the event; lb1+lb2 two, - none):"
  print "t s, event, MASTER before, window ms, failed ms (sum of its outages), changes"
  for (e = 1; e <= ne; e++) printf "  %9s  %-24s %-8s %6s %6s  %s\n", rel(et[e]), label[e], eb[e], win[e] ? wl[e] : "-", win[e] ? span[e] : "-", after[e]
}' /tmp/mon1 /tmp/mon2 /tmp/events /tmp/requests.sorted

echo ""
for i in 1 2; do
  nsx rs$i cat /proc/net/netstat | awk -v rs=rs$i '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 } else for (i = 2; i <= NF; i++) if (n[i] ~ /^(ListenOverflows|ListenDrops)$/) printf "%s %s %s  ", rs, n[i], $i }'
done
echo "(SYNs dropped at the real servers' listen queues)"
echo "lb1 (vigild) log: WARN/ERROR lines, counted (timestamps cut):"
grep -E " (WARN|ERROR) " /tmp/lb1.log | sed 's/^[^ ]* *//' | sort | uniq -c | sort -rn | head -n 20
echo "lb1 (vigild) transitions: $(grep -c 'Entering' /tmp/lb1.log); lb2 (keepalived): $(grep -c 'Entering' /tmp/lb2.log)"
# vigild's log: from "Entering MASTER STATE" (the first advert goes then, and the old MASTER drops
# the VIP) to the first gratuitous ARP; from the process start to VRRP starting.
awk '/Entering MASTER STATE/ { split($1, a, "T"); split(a[2], b, ":"); m = b[1] * 3600 + b[2] * 60 + b[3]; next }
  m && /Sending gratuitous ARPs/ { split($1, a, "T"); split(a[2], b, ":"); g = b[1] * 3600 + b[2] * 60 + b[3]
    d = int((g - m) * 1000); n++; sum += d; if (d > max) max = d; m = 0 }
  END { if (n) printf "vigild, Entering MASTER (its first advert goes then) to its burst of gratuitous ARPs logged: %d times, mean %d ms, max %d ms\n", n, sum / n, max }' /tmp/lb1.log
awk '/^=== / { s = 1; next } s && /Z / { split($1, a, "T"); split(a[2], b, ":"); t0 = b[1] * 3600 + b[2] * 60 + b[3]; s = 0 }
  t0 && /starting: VRRP/ { split($1, a, "T"); split(a[2], b, ":"); d = int((b[1] * 3600 + b[2] * 60 + b[3] - t0) * 1000); n++; sum += d; if (d > max) max = d; t0 = 0 }
  END { if (n) printf "vigild, first log line to VRRP starting: %d starts, mean %d ms, max %d ms (debug build, emulated CPU)\n", n, sum / n, max }' /tmp/lb1.log
# notify lag: from the VIP appearing on a live director to its notify script reporting MASTER
for n in 1 2; do
  awk -v who=lb$n '{ if ($2 && $3 && !(pv && pa)) { t = $1; w = 1 } if (w && $4 == "MASTER") { d = $1 - t; c++; s += d; if (d > m) m = d; w = 0 } pv = $3; pa = $2 }
    END { if (c) printf "%s notify MASTER after the VIP appeared: %d times, mean %d ms, max %d ms\n", who, c, s / c, m }' /tmp/mon$n
done
echo "lb2 (keepalived) notable lines, counted:"
grep -iE "error|warn|fail|receive.*(lower|higher)|Entering FAULT|removed|Netlink" /tmp/lb2.log | sed 's/^[A-Z][a-z][a-z] [A-Z][a-z][a-z] *[0-9]* [0-9:]* [0-9]*: //' | sort | uniq -c | sort -rn | head -n 20
if [ "$DUMP" = 1 ]; then
  for f in /tmp/events /tmp/mon1 /tmp/mon2 /tmp/lb1.notify /tmp/lb2.notify /tmp/requests.sorted /tmp/lb1.log /tmp/lb2.log; do
    sed "s|^|RAW $f |" $f
  done
fi
for n in 1 2; do
  up_lb $n && kill -TERM $(cat /tmp/lb$n.main) 2>/dev/null
done
sleep 2
exit 0
