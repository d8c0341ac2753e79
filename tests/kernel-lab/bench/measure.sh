# What the guest sides of scripts/bench-check.sh --lab and bench-scale.sh, and
# scripts/profile-reload.sh on the host, share: the open-file limit for
# thousands of sockets, and reading a process's CPU time and the servers' accepted count.
# Raised to 65536 when lower, never lowered; where the hard limit forbids it (a host without
# the right), said and left as it is.
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 65536 ] || ulimit -n 65536 2>/dev/null ||
  echo "measure.sh: the open-file limit stays at $(ulimit -n)" >&2
hz=100

# ticks PID (or PID/task/TID for one thread): its user and system time, in ticks.
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }
# accepted FILE: the connections bench_servers or scale-listener (writing to FILE) has accepted so far.
accepted() { grep '^accepted' "$1" | tail -n 1 | cut -d' ' -f2; }
