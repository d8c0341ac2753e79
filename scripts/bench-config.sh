#!/usr/bin/env bash
# Config-check benchmark: `vigild -t` against `keepalived -t` on a generated keepalived.conf with
# VS virtual servers x RS real servers (TCP_CHECK each), in the same run, side by side.
# Prints wall time and peak RSS (median of RUNS runs) and the ratios. Reports; never fails on time.
#
# usage: sudo scripts/bench-config.sh [VS [RS [RUNS]]]   (default 1000 10 11)
# needs: root (a network namespace with the config's interface), keepalived, GNU time (/usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
vs=${1:-1000} rs=${2:-10} runs=${3:-11}
if [[ -z ${VIGILD:-} ]]; then
  cargo build --release -q -p vigild
fi
vigild=${VIGILD:-${CARGO_TARGET_DIR:-target}/release/vigild}
work=$(mktemp -d)
ns=vigil-bench-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add eth0 type dummy 2>/dev/null || ip -n "$ns" link add eth0 type veth peer name eth0-peer
ip -n "$ns" addr add 192.0.2.1/24 dev eth0
ip -n "$ns" link set eth0 up

conf=$work/keepalived.conf
{
  printf 'global_defs {\n  router_id bench\n}\n'
  printf 'vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n'
  printf '  virtual_ipaddress {\n    192.0.2.10/24\n  }\n}\n'
  for ((i = 0; i < vs; i++)); do
    printf 'virtual_server 192.0.2.10 %d {\n  delay_loop 6\n  lvs_sched wrr\n  lvs_method NAT\n  protocol TCP\n' $((10000 + i))
    for ((j = 1; j <= rs; j++)); do
      printf '  real_server 198.51.100.%d %d {\n    weight %d\n    TCP_CHECK {\n      connect_timeout 3\n      retry 3\n      delay_before_retry 3\n    }\n  }\n' \
        "$j" $((10000 + i)) "$j"
    done
    printf '}\n'
  done
} >"$conf"
lines=$(wc -l <"$conf")

# Inside the namespace: RUNS timed runs of each program, alternating, wall time from bash's
# EPOCHREALTIME (no extra process in the measured interval); then one run under GNU time for the
# peak RSS. Prints "NAME ms..." lines and "NAME rss KiB exit".
cat >"$work/measure.sh" <<'INNER'
set -u
runs=$1 conf=$2 vigild=$3 work=$4
ka=(keepalived -t -n -l -G -i bench -f "$conf" -p "$work/k.pid" -r "$work/v.pid" -c "$work/c.pid" -b "$work/b.pid")
vg=("$vigild" -t -i bench -f "$conf")
for ((r = 0; r < runs; r++)); do
  for name in keepalived vigild; do
    if [[ $name == keepalived ]]; then cmd=("${ka[@]}"); else cmd=("${vg[@]}"); fi
    t0=$EPOCHREALTIME; "${cmd[@]}" >/dev/null 2>&1; t1=$EPOCHREALTIME
    echo "$name ms $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) * 1000}')"
  done
done
for name in keepalived vigild; do
  if [[ $name == keepalived ]]; then cmd=("${ka[@]}"); else cmd=("${vg[@]}"); fi
  /usr/bin/time -f "$name rss %M %x" "${cmd[@]}" 2>&1 >/dev/null | tail -n1
done
INNER
ip netns exec "$ns" bash "$work/measure.sh" "$runs" "$conf" "$(realpath "$vigild")" "$work" >"$work/out"
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A t m x
for name in keepalived vigild; do
  t[$name]=$(awk -v n="$name" '$1 == n && $2 == "ms" {print $3}' "$work/out" | median)
  read -r m[$name] x[$name] < <(awk -v n="$name" '$1 == n && $2 == "rss" {print $3, $4}' "$work/out")
done
echo "config: $vs virtual servers x $rs real servers (TCP_CHECK), $lines lines; median of $runs runs"
printf '%-12s %12s %14s %6s\n' program "wall (ms)" "peak RSS (KiB)" exit
printf '%-12s %12s %14s %6s\n' keepalived "${t[keepalived]}" "${m[keepalived]}" "${x[keepalived]}"
printf '%-12s %12s %14s %6s\n' vigild "${t[vigild]}" "${m[vigild]}" "${x[vigild]}"
awk -v kt="${t[keepalived]}" -v vt="${t[vigild]}" -v km="${m[keepalived]}" -v vm="${m[vigild]}" 'BEGIN {
  printf "ratio vigild/keepalived: time %.3f, peak RSS %.3f\n", (kt > 0 ? vt / kt : 0), (km > 0 ? vm / km : 0) }'
