# What the guest sides of scripts/bench-check.sh --lab share: the open-file limit for
# thousands of sockets, and reading a process's CPU time and the servers' accepted count.
ulimit -n 65536
hz=100

# ticks PID (or PID/task/TID for one thread): its user and system time, in ticks.
ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }
# accepted FILE: the connections bench_servers (writing to FILE) has accepted so far.
accepted() { grep '^accepted' "$1" | tail -n 1 | cut -d' ' -f2; }
