#!/usr/bin/env bash
# bench-table.sh N M RULES CONF: the benchmarks' table of N virtual services x M real servers
# (NAT, wlc, weights 1..M), as an `ipvsadm -R` rules file and as a keepalived.conf.
set -euo pipefail
awk -v n="$1" -v m="$2" -v rules="$3" -v conf="$4" 'BEGIN {
  for (i = 0; i < n; i++) {
    vip = sprintf("10.10.%d.%d", int(i / 250), i % 250 + 1)
    printf "-A -t %s:80 -s wlc\n", vip >rules
    printf "virtual_server %s 80 {\n    lvs_sched wlc\n    lvs_method NAT\n    protocol TCP\n", vip >conf
    for (j = 0; j < m; j++) {
      rs = sprintf("10.20.%d.%d", int(i / 25), (i % 25) * 10 + j + 1)
      printf "-a -t %s:80 -r %s:80 -m -w %d\n", vip, rs, j + 1 >rules
      printf "    real_server %s 80 {\n        weight %d\n    }\n", rs, j + 1 >conf
    }
    print "}" >conf
  }
}'
