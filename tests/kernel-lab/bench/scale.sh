# Guest side of scripts/bench-scale.sh: vigild -C and keepalived -C, one after the other in one
# boot, RUNS times each, on the same generated table (SERVICES virtual servers x DESTS real
# servers, TCP_CHECK, delay_loop DELAY).  The real servers are the addresses of 10.20.0.0/14,
# routed to lo as local addresses, and scale-listener on 0.0.0.0:80 accepts every check and
# records the gaps between each real server's checks.  For each daemon: start to the full
# table, peak RSS (VmHWM summed over its processes), CPU per second and check lateness over a
# window of steady state, a reload with one weight changed, a reload with ADD real servers
# added, the stop.  Every wait has a limit: past it the figure is printed as ">LIMIT" and the
# run goes on; nothing here fails on a time.  The third program, connect_floor (WHO=floor), makes
# the same connections with no checker around them (socket, SO_LINGER 0, connect, close, paced to
# the schedule): its CPU and lateness over the same window are the kernel's floor under any
# checker making real connections.
#
# Inputs in /lab/bin: scale.env (SERVICES DESTS ADD DELAY RUNS WARM WINDOW START_LIMIT
# RELOAD_LIMIT STOP_LIMIT STRACE DAEMONS PROFILE VIGILD_ENV), scale-base.conf, scale-weight.conf (the first real
# server's weight 1 -> 7), scale-add.conf (that, plus ADD real servers), scale-listener,
# vigild, keepalived, connect_floor, strace and perf (optional), common.sh, measure.sh.
# PROFILE=1: perf samples vigild (cpu-clock, no call graphs) over the steady window and over
# each reload, and the top of each profile is printed.
. /lab/bin/common.sh
. /lab/bin/measure.sh
. /lab/bin/scale.env
CONF=/tmp/scale.conf
KLOG=/tmp/keepalived.log
now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d\n", s, u }'; }
ms_since() { echo $((($(now_us) - $1) / 1000)); }
lines() { wc -l </proc/net/ip_vs; }
full=$((3 + SERVICES + SERVICES * DESTS))
# The first real server (10.20.0.1:80) at weight 7, as /proc/net/ip_vs prints it.
weight7() { grep -Eq '^  -> 0A140001:0050 +[A-Za-z]+ +7 ' /proc/net/ip_vs; }
grown() { [ "$(lines)" -ge $((full + ADD)) ]; }
complete() { [ "$(lines)" -ge "$full" ]; }
alive() { kill -0 "$MAIN" 2>/dev/null; }
# A daemon that exits at start is reported with its log, not waited for.
complete_or_gone() { complete || ! alive; }
base_again() { [ "$(lines)" -eq "$full" ] && ! weight7; }

# until_ms LIMIT_S T0_US TEST...: polls TEST every 0.2 s; prints the ms from T0 to success, or
# ">LIMIT_S000" at the limit.  /proc/net/ip_vs rather than `ipvsadm -Ln`: the same lines,
# without a netlink dump and a parse in the poller, which shares the one CPU.
until_ms() {
  limit=$1 t0=$2; shift 2
  end=$((t0 + limit * 1000000))
  while ! "$@"; do
    [ "$(now_us)" -ge "$end" ] && { echo ">${limit}000"; return; }
    sleep 0.2
  done
  ms_since "$t0"
}

# The daemon's processes: vigild and connect_floor are one; keepalived -C is the parent and its
# checker child.
procs() { if [ "$WHO" != keepalived ]; then echo "$MAIN"; else echo "$MAIN $(cat /tmp/c.pid 2>/dev/null)"; fi; }
sum_ticks() { s=0; for p in $(procs); do s=$((s + $(ticks "$p"))); done; echo $s; }
# threads: "PID/TID COMM TICKS" for every thread of the daemon's processes.
threads() { for p in $(procs); do for t in /proc/"$p"/task/*; do echo "$p/${t##*/} $(tr ' ' _ <"$t"/comm) $(ticks "$p/task/${t##*/}")"; done; done; }
hwm() { for p in $(procs); do awk '/^VmHWM:/ { print $2 }' /proc/"$p"/status 2>/dev/null; done | awk '{ s += $1 } END { printf "%.1f", s / 1024 }'; }
listener() { echo "$1" >&4; }
report() {
  marks=$(grep -c '^lateness' /tmp/listener.out)
  listener report
  wait_for 30 sh -c "[ \$(grep -c '^lateness' /tmp/listener.out) -gt $marks ]"
  grep '^lateness' /tmp/listener.out | tail -n 1
}

start() {
  if [ "$WHO" = floor ]; then
    connect_floor $CONF 100000 >/tmp/floor.log 2>&1 &
    MAIN=$!
  elif [ "$WHO" = vigild ]; then
    : >$LOG
    # With the systemd unit's Environment= lines (VIGILD_ENV, from scripts/bench-scale.sh).
    # shellcheck disable=SC2086 # one word per variable
    env ${VIGILD_ENV:-} vigild -f $CONF -n -l -C >>$LOG 2>&1 &
    MAIN=$!
  else
    rm -f /tmp/c.pid
    keepalived -C -n -l -G -f $CONF -p /tmp/k.pid -c /tmp/c.pid >$KLOG 2>&1 &
    MAIN=$!
  fi
}

# reload FILE TEST: the next configuration, SIGHUP, the ms until TEST holds; for vigild also
# its netlink writes and its own "Reload finished in" time, from its log.
reload() {
  marks=$(grep -c 'IPVS: reloaded configuration applied' $LOG 2>/dev/null)
  cp "$1" $CONF
  t0=$(now_us)
  kill -HUP "$MAIN"
  ms=$(until_ms "$RELOAD_LIMIT" "$t0" "$2")
  if [ "$WHO" = vigild ]; then
    wait_for "$RELOAD_LIMIT" sh -c "[ \$(grep -c 'IPVS: reloaded configuration applied' $LOG) -gt $marks ]"
    w=$(grep 'IPVS: reloaded configuration applied' $LOG | tail -n 1 | sed -n 's/.*writes=\([0-9]*\).*/\1/p')
    f=$(grep 'Reload finished in' $LOG | tail -n 1 | sed -n 's/.*Reload finished in \([0-9.]*\) ms.*/\1/p')
    echo "$ms ${w:--} ${f:--}"
  else
    echo "$ms - -"
  fi
}

# strace_reload FILE TEST: keepalived's netlink writes for one reload, counted by strace -c on
# its checker child (sendmsg and sendto: libnl sends with sendmsg).  Not timed: ptrace stops
# the child at every system call.
strace_reload() {
  child=$(cat /tmp/c.pid)
  strace -c -f -e trace=sendmsg,sendto -p "$child" -o /tmp/strace.out 2>/dev/null &
  spid=$!
  sleep 2
  cp "$1" $CONF
  t0=$(now_us)
  kill -HUP "$MAIN"
  until_ms "$RELOAD_LIMIT" "$t0" "$2" >/dev/null
  sleep 3
  kill -INT "$spid"; wait "$spid" 2>/dev/null
  awk '$NF == "sendmsg" || $NF == "sendto" { n += $4 } END { print n + 0 }' /tmp/strace.out
}

# profile NAME: the top of perf's profile /tmp/NAME.perf, by function.
profile() {
  perf report -i /tmp/"$1".perf --stdio --no-children --sort comm 2>/dev/null | grep -v '^#' | grep . | head -n 5 |
    sed "s/^/BENCH   profile $1 by thread: /"
  perf report -i /tmp/"$1".perf --stdio --no-children --sort dso 2>/dev/null | grep -v '^#' | grep . | head -n 4 |
    sed "s/^/BENCH   profile $1 by object: /"
  perf report -i /tmp/"$1".perf --stdio --no-children --sort symbol 2>/dev/null | grep -v '^#' | grep . | head -n 12 |
    sed "s/^/BENCH   profile $1, all code: /"
  perf report -i /tmp/"$1".perf --stdio --no-children --dso vigild --sort symbol 2>/dev/null | grep -v '^#' | grep . | head -n 25 |
    sed "s/^/BENCH   profile $1, vigild's own code: /"
}
# perf_start NAME / perf_stop: samples vigild into /tmp/NAME.perf when PROFILE=1.
perf_start() {
  PERF=
  [ "$WHO" = vigild ] && [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null || return 0
  perf record -q -e cpu-clock -F 499 -p "$MAIN" -o /tmp/"$1".perf >/dev/null 2>&1 &
  PERF=$! PERF_NAME=$1
  sleep 1
}
perf_stop() {
  [ -n "$PERF" ] || return 0
  kill -INT "$PERF"; wait "$PERF" 2>/dev/null
  profile "$PERF_NAME"
  PERF=
}

ulimit -n 1048576 2>/dev/null || ulimit -n 65536
echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse
echo 65535 >/proc/sys/net/core/somaxconn
echo 65535 >/proc/sys/net/ipv4/tcp_max_syn_backlog
$IP route add local 10.20.0.0/14 dev lo
mkfifo /tmp/listener.ctl
scale-listener 80 "$DELAY" </tmp/listener.ctl >/tmp/listener.out &
LPID=$!
exec 4>/tmp/listener.ctl
wait_for 30 grep -q ready /tmp/listener.out || fail "scale-listener did not start"
echo "BENCH table: $SERVICES virtual servers x $DESTS real servers = $((SERVICES * DESTS)) TCP_CHECKs, delay_loop $DELAY ($((SERVICES * DESTS / DELAY)) checks/s); reload adds $ADD; $RUNS run(s) each; window ${WINDOW} s after ${WARM} s"

for run in $(seq 1 "$RUNS"); do
  for WHO in ${DAEMONS:-vigild keepalived floor}; do
    ipvsadm -C
    cp /lab/bin/scale-base.conf $CONF
    t0=$(now_us)
    start
    if [ "$WHO" = floor ]; then
      # No table: the same connections from the start, timed from the first window.
      start_ms=-
    else
      start_ms=$(until_ms "$START_LIMIT" "$t0" complete_or_gone)
    fi
    if ! alive; then
      wait "$MAIN"
      echo "BENCH run $run $WHO exited at start (status $?); its log:"
      tail -n 20 "$([ "$WHO" = vigild ] && echo $LOG || echo $KLOG)" | sed 's/^/BENCH   /'
      continue
    fi
    echo "BENCH   progress: $WHO start_ms=$start_ms"
    echo "BENCH   $WHO peak RSS so far: $(hwm) MiB after the start"
    sleep "$WARM"

    perf_start steady
    listener reset
    threads >/tmp/threads.0
    c0=$(sum_ticks); l0=$(ticks "$LPID"); a0=$(accepted /tmp/listener.out); w0=$(now_us)
    sleep "$WINDOW"
    c1=$(sum_ticks); l1=$(ticks "$LPID"); a1=$(accepted /tmp/listener.out); w1=$(now_us)
    threads >/tmp/threads.1
    late=$(report)
    cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$w0" -v t1="$w1" -v hz=$hz 'BEGIN { printf "%.1f", 100 * (b - a) / hz / ((t1 - t0) / 1e6) }')
    lcpu=$(awk -v a="$l0" -v b="$l1" -v t0="$w0" -v t1="$w1" -v hz=$hz 'BEGIN { printf "%.1f", 100 * (b - a) / hz / ((t1 - t0) / 1e6) }')
    rate=$(awk -v a="$a0" -v b="$a1" -v t0="$w0" -v t1="$w1" 'BEGIN { printf "%.0f", (b - a) / ((t1 - t0) / 1e6) }')
    p99=$(echo "$late" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
    gaps=$(echo "$late" | sed -n 's/.*gaps=\([0-9]*\).*/\1/p')
    seen=$(echo "$late" | sed -n 's/.*servers=\([0-9]*\).*/\1/p')

    perf_stop
    echo "BENCH   progress: $WHO cpu_pct=$cpu $late"
    echo "BENCH   $WHO peak RSS so far: $(hwm) MiB after the steady window"
    if [ "$WHO" = floor ]; then
      kill -TERM "$MAIN"; wait "$MAIN" 2>/dev/null
      echo "BENCH run $run floor cpu_pct=$cpu checks_per_s=$rate listener_cpu_pct=$lcpu late_p99_ms=${p99:--} gaps=${gaps:--} servers_checked=${seen:--}"
      echo "BENCH   $late"
      continue
    fi
    perf_start reload-weight
    rw=$(reload /lab/bin/scale-weight.conf weight7)
    perf_stop
    echo "BENCH   progress: $WHO weight reload: $rw"
    echo "BENCH   $WHO peak RSS so far: $(hwm) MiB after the weight reload"
    perf_start reload-add
    ra=$(reload /lab/bin/scale-add.conf grown)
    perf_stop
    echo "BENCH   progress: $WHO add reload: $ra"
    echo "BENCH   $WHO peak RSS so far: $(hwm) MiB after the add reload"
    kw=- ka=-
    if [ "$WHO" = keepalived ] && [ "$run" = 1 ] && [ "$STRACE" = 1 ] && command -v strace >/dev/null; then
      reload /lab/bin/scale-base.conf base_again >/dev/null
      kw=$(strace_reload /lab/bin/scale-weight.conf weight7)
      ka=$(strace_reload /lab/bin/scale-add.conf grown)
    fi
    rss=$(hwm)

    perf_start stop
    t0=$(now_us)
    kill -TERM "$MAIN"
    # wait returns as the process ends; the limit is for a daemon that does not.
    ( sleep "$STOP_LIMIT"; kill -KILL "$MAIN" 2>/dev/null ) &
    guard=$!
    wait "$MAIN" 2>/dev/null
    stop_ms=$(ms_since "$t0")
    kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
    [ "$stop_ms" -ge $((STOP_LIMIT * 1000)) ] && stop_ms=">${STOP_LIMIT}000"
    perf_stop
    left=$(($(lines) - 3))

    set -- $rw; w_ms=$1 w_writes=$2 w_self=$3
    set -- $ra; a_ms=$1 a_writes=$2 a_self=$3
    [ "$WHO" = keepalived ] && { w_writes=$kw; a_writes=$ka; }
    echo "BENCH run $run $WHO start_ms=$start_ms rss_mib=$rss cpu_pct=$cpu checks_per_s=$rate listener_cpu_pct=$lcpu late_p99_ms=${p99:--} gaps=${gaps:--} servers_checked=${seen:--} weight_ms=$w_ms weight_writes=$w_writes weight_self_ms=$w_self add_ms=$a_ms add_writes=$a_writes add_self_ms=$a_self stop_ms=$stop_ms left_after_stop=$left"
    echo "BENCH   $late"
    # Where the CPU went, per thread (vigild: the checkers' runtime, the IPVS owner with its
    # once-a-delay_loop audit, the main runtime; keepalived: its parent and checker child).
    awk -v hz=$hz -v s=$(((w1 - w0) / 1000)) -v who="$WHO" 'NR == FNR { t0[$1] = $3; next }
      { printf "BENCH   %s thread %s %s: %.1f %% of a core\n", who, $1, $2, 100 * ($3 - t0[$1]) / hz / (s / 1000) }' /tmp/threads.0 /tmp/threads.1
    if [ "$WHO" = vigild ]; then
      grep -E 'table in step|reloaded configuration applied|Reload finished|Stopping|Stopped Vigil|checking it every' $LOG | sed 's/^/BENCH   vigild: /'
      grep -c 'CHECK on service .* failed' $LOG | sed 's/^/BENCH   vigild: real servers declared down: /'
    else
      grep -c 'CHECK on service .* failed' $KLOG | sed 's/^/BENCH   keepalived: real servers declared down: /'
    fi
  done
done
exec 4>&-
kill "$LPID" 2>/dev/null
echo "scale bench: done"
