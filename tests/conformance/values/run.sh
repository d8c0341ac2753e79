#!/usr/bin/env bash
# Differential run over keyword values: `keepalived -t` against `vigild -t` on small generated
# configurations (gen.py: one LVS or checker keyword value each, 1,586 of them; gen2.py: 227
# whole configurations that pin down mismatches gen.py found), inside a private network
# namespace set up as ../run.sh sets up its own. A report, not a test: it prints how many
# configurations got each verdict and leaves the configurations, both programs' output and
# the results in DIR. The namespace is ../ns.sh's.
#
# Usage: sudo tests/conformance/values/run.sh [DIR]   (default: a new temporary directory)
#
# DIR/results.tsv (gen.py) and DIR/results2.tsv (gen2.py), one line per configuration: id,
# verdict (match, KA_ACCEPT_VG_REJECT, KA_REJECT_VG_ACCEPT, ka-crash: keepalived killed by a
# signal, VG_CRASH), keepalived's exit, vigild's exit, keyword, location, checker, the line,
# keepalived's first messages, vigild's first error or warning. DIR/out*/ID.ka and ID.vg
# hold the whole output.
#
# Environment: VIGILD (default <repo>/target/debug/vigild), KEEPALIVED (default keepalived).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
VIGILD=${VIGILD:-$ROOT/target/debug/vigild}
KEEPALIVED=${KEEPALIVED:-keepalived}
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (a network namespace)" >&2; exit 2; }
[ -x "$VIGILD" ] || { echo "run.sh: no vigild at $VIGILD (cargo build, or set VIGILD)" >&2; exit 2; }
command -v "$KEEPALIVED" >/dev/null || { echo "run.sh: no keepalived" >&2; exit 2; }
DIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-values.XXXXXX")}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
NS="vigil-values-$$"
PIDS=$(mktemp -d)
# shellcheck source=../ns.sh
. "$HERE/../ns.sh"
cleanup() {
    set +e
    ns_down
    rm -rf "$PIDS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_up || { echo "run.sh: cannot set up namespace $NS" >&2; exit 2; }

python3 "$HERE/gen.py" "$DIR" >/dev/null
python3 "$HERE/gen2.py" "$DIR" >/dev/null
for part in "" 2; do
    out="$DIR/out$part" res="$DIR/results$part.tsv"
    mkdir -p "$out"
    : >"$res"
    while IFS=$'\t' read -r id kw loc ck _ line; do
        conf="$DIR/cases$part/$id.conf"
        ka=0 vg=0
        # (Braces: the shell's own "Terminated" when keepalived's -t kills itself goes too.)
        { (cd "$DIR/cases$part" && ulimit -n 1024 && exec timeout 20 ip netns exec "$NS" "$KEEPALIVED" -t -l -n -G -i lab \
            -p "$PIDS/k.pid" -r "$PIDS/v.pid" -c "$PIDS/c.pid" -b "$PIDS/b.pid" -f "$conf") </dev/null >"$out/$id.ka" 2>&1 || ka=$?; } 2>/dev/null
        (cd "$DIR/cases$part" && exec timeout 20 ip netns exec "$NS" "$VIGILD" -t -i lab -f "$conf") </dev/null >"$out/$id.vg" 2>&1 || vg=$?
        if [ "$vg" -ge 128 ]; then v=VG_CRASH
        elif [ "$ka" -ge 128 ]; then v=ka-crash
        elif [ "$ka" -eq 0 ] && [ "$vg" -eq 0 ]; then v=match
        elif [ "$ka" -ne 0 ] && [ "$vg" -ne 0 ]; then v=match
        elif [ "$ka" -eq 0 ]; then v=KA_ACCEPT_VG_REJECT
        else v=KA_REJECT_VG_ACCEPT
        fi
        kamsg=$(awk 'NF && !seen[$0]++ && n++ < 3' "$out/$id.ka" | tr '\n' '|')
        vgmsg=$(awk '/: (error|warning):/ { print; exit }' "$out/$id.vg")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$v" "$ka" "$vg" "$kw" "$loc" "$ck" "$line" "$kamsg" "$vgmsg" >>"$res"
    done <"$DIR/cases$part.tsv"
    printf '%s: %s\n' "$(basename "$res")" "$(cut -f2 "$res" | sort | uniq -c | awk '{ printf "%s %s  ", $2, $1 }')"
done
left=$(ip netns pids "$NS" 2>/dev/null || true)
[ -z "$left" ] || echo "warning: processes left in $NS: $left" >&2
echo "configurations, output and results in $DIR"
