#!/usr/bin/env bash
# Scale-out timings: repeats run.sh's quorum (b) and link-cut (d) measurements N times in one
# lab (see README.md) and prints their medians and maxima beside the goals:
#   checker verdict -> the director's nexthop gone at the router   goal: detection + 100 ms,
#       i.e. at most 100 ms after vigild's verdict
#   front link cut  -> the director's nexthop gone at the router   goal: BFD detection
#       (100 ms x 3 = 300 ms) + 100 ms = 400 ms
# Each repetition alternates between d1 (BIRD) and d3 (FRR; BIRD with D3=bird); the figures
# are given for both together and for each.  Nothing is judged: the exit status is 0 when every repetition
# measured something, 1 when one failed (no verdict, no withdrawal), 2 on a setup error.
#
# Usage (as root): tests/scaleout/bench.sh [N]      (default 10; or N=... in the environment)
# Environment: as run.sh (VIGILD, VIGILCTL, BIRD, BIRDC, FRR_DIR, VTYSH, D3); KEEP=1 keeps the
# lab's files (namespaces are always removed).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VIGILD=${VIGILD:-$REPO/target/debug/vigild}
VIGILCTL=${VIGILCTL:-$(dirname "$VIGILD")/vigilctl}
ROUNDS=${1:-${N:-10}}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

die() { echo "bench.sh: $*" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, not '$ROUNDS'"
[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces)"
for tool in ip awk python3 pgrep "$BIRD" "$BIRDC" "$VTYSH"; do command -v "$tool" >/dev/null || die "'$tool' not found"; done
[ -x "$VIGILD" ] || die "vigild binary not found at '$VIGILD'"
has_announce || die "this vigild has no --announce-config (route health injection not built in): $VIGILD"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-scaleout-bench.XXXXXX")
SDIR=$WORK/bench
mkdir -p "$SDIR"
: >"$SDIR/trace"
NS_REGISTRY=$WORK/namespaces
cleanup() {
    local rc=$? ns pid
    set +e
    # The lab lives in the measuring subshell, which tears it down; should it have been
    # killed, its namespaces are in the registry.
    # shellcheck disable=SC2013  # one namespace name (no blanks) a line
    for ns in $(sort -u "$NS_REGISTRY" 2>/dev/null); do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns delete "$ns" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "files kept in $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "scale-out bench: $ROUNDS rounds; $VIGILD; $("$BIRD" --version 2>&1 | head -n 1); FRR $("$FRR_DIR/zebra" --version 2>&1 | sed -n 's/^zebra version //p')"
# A subshell, so that a failed measurement (fail exits) ends the bench with its reason.
set +e
(
    set -e
    trap lab_teardown EXIT
    lab_setup
    all_up
    declare -a v_all v_bird v_frr c_all c_bird c_frr
    for i in $(seq "$ROUNDS"); do
        if [ $((i % 2)) -eq 1 ]; then d=d1; else d=d3; fi
        read -r total tbl prop src <<<"$(measure_quorum_loss "$d")"
        read -r cut back <<<"$(measure_linkcut "$d")"
        printf 'round %2d %s (%s): verdict -> gone %4d ms (verdict -> table %d, table -> router %d); link cut -> gone %4d ms (back after %d ms)\n' \
            "$i" "$d" "${ENGINE[$d]}" "$total" "$tbl" "$prop" "$cut" "$back"
        v_all+=("$total") c_all+=("$cut")
        if [ "$d" = d1 ]; then v_bird+=("$total") c_bird+=("$cut"); else v_frr+=("$total") c_frr+=("$cut"); fi
    done
    echo "verdict taken from: $src"
    echo
    printf '%-44s %-40s %s\n' "measure" "result" "goal"
    printf '%-44s %-40s %s\n' "checker verdict -> nexthop gone (all)" "$(stats "${v_all[@]}")" "<= 100 ms after the verdict"
    printf '%-44s %-40s %s\n' "  d1, ${ENGINE[d1]}" "$(stats "${v_bird[@]}")" ""
    printf '%-44s %-40s %s\n' "  d3, ${ENGINE[d3]}" "$(stats "${v_frr[@]}")" ""
    printf '%-44s %-40s %s\n' "link cut -> nexthop gone, BFD 100ms x3 (all)" "$(stats "${c_all[@]}")" "<= 400 ms (300 ms detection + 100)"
    printf '%-44s %-40s %s\n' "  d1, ${ENGINE[d1]}" "$(stats "${c_bird[@]}")" ""
    printf '%-44s %-40s %s\n' "  d3, ${ENGINE[d3]}" "$(stats "${c_frr[@]}")" ""
)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "bench.sh: a measurement failed: $(cat "$SDIR/reason" 2>/dev/null || echo "exit status $rc")"
    echo "trace:"; sed 's/^/    /' "$SDIR/trace" | tail -n 30
    exit 1
fi
