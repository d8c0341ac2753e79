#!/usr/bin/env bash
# Conformance check: does `vigild -t` give the same accept/reject verdict as
# `keepalived -t` (keepalived 2.2.7) for every tests/conformance/configs/*.conf?
#
# Usage: sudo tests/conformance/run.sh [--record] [--verbose] [CONFIG ...]
#
#   --record    also write keepalived's exit code and messages for each config to
#               tests/conformance/expected/NAME.txt (first line "exit=N", then the
#               messages, scrubbed of namespace names, PIDs and timestamps).
#               Works even when vigild has not been built yet.
#   --verbose   print both programs' messages for configs whose verdicts differ.
#   CONFIG      restrict the run to these configs (names or paths; default: all
#               top-level configs/*.conf; files under configs/inc/ are include
#               fragments and are never run on their own).
#
# Environment:
#   VIGILD      vigild binary (default: <repo>/target/debug/vigild)
#   KEEPALIVED  keepalived binary (default: keepalived from PATH)
#
# Everything runs inside a private network namespace (vigil-conf-<pid>) that has
# eth0 (192.0.2.1/24, 2001:db8::1/64) and eth1 (198.51.100.1/24); it is deleted on
# exit.  keepalived -t does not fork, write pid files or touch interfaces, but we
# still pass -n, -G and pid-file paths in a private temp directory, and check
# afterwards that nothing was left running in the namespace.
#
# Output: one line per config, then "N passed, M failed".  A config passes when
# both programs accept (exit 0) or both reject (exit != 0), and a rejection by vigild
# names FILE:LINE:COL in at least one error or warning; when keepalived itself is
# killed by a signal (exit >= 128: its -t crashes on some inputs) the config passes
# if vigild answers without crashing (shown as "ka-crash"). The exact-code column
# is informational.  Exit status: 0 all verdicts match, 1 some differ,
# 2 usage/setup error (not root, vigild missing, ...).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CONFIGS="$HERE/configs"
EXPECTED="$HERE/expected"
VIGILD=${VIGILD:-$REPO/target/debug/vigild}
KEEPALIVED=${KEEPALIVED:-keepalived}
CONFIG_ID=lab
TIMEOUT=20

record=0
verbose=0
selected=()
while [ $# -gt 0 ]; do
    case $1 in
        --record) record=1 ;;
        --verbose|-v) verbose=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
        *) selected+=("$1") ;;
    esac
    shift
done

die() { echo "run.sh: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "must be run as root (it creates a network namespace)"
command -v ip >/dev/null || die "'ip' (iproute2) not found"
command -v "$KEEPALIVED" >/dev/null || die "keepalived not found (set KEEPALIVED=/path/to/keepalived)"

have_vigild=1
if [ ! -x "$VIGILD" ]; then
    have_vigild=0
    if [ "$record" -eq 0 ]; then
        die "vigild binary not found at '$VIGILD'.
Build it first (cargo build, from $REPO) or point VIGILD=/path/to/vigild at it.
(Use --record to only record keepalived's answers without vigild.)"
    fi
    echo "run.sh: note: vigild not found at '$VIGILD'; recording keepalived only" >&2
fi

# ---- config list ---------------------------------------------------------
configs=()
if [ ${#selected[@]} -gt 0 ]; then
    for s in "${selected[@]}"; do
        b=$(basename "$s"); b=${b%.conf}
        [ -f "$CONFIGS/$b.conf" ] || die "no such config: $CONFIGS/$b.conf"
        configs+=("$b.conf")
    done
else
    shopt -s nullglob
    for f in "$CONFIGS"/*.conf; do configs+=("$(basename "$f")"); done
    shopt -u nullglob
fi
[ ${#configs[@]} -gt 0 ] || die "no configs found in $CONFIGS"

# ---- namespace -------------------------------------------------------------
NS="vigil-conf-$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-conf.XXXXXX")

# shellcheck source=ns.sh
. "$HERE/ns.sh"
cleanup() {
    local rc=$?
    set +e
    ns_down
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_up || die "cannot set up namespace $NS (neither dummy nor veth interfaces available?)"

# ---- helpers ---------------------------------------------------------------
# Make recorded output stable: no namespace name, temp dir, PIDs or timestamps.
scrub() {
    sed -E \
        -e "s/$NS/<netns>/g" \
        -e "s#$WORK#<tmp>#g" \
        -e "s#$REPO/#<repo>/#g" \
        -e 's/\[[0-9]+\]/[<pid>]/g' \
        -e 's/\b(pid|PID|process) [0-9]+/\1 <pid>/g' \
        -e 's/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8}( [0-9]{4})?:? //' \
        -e 's/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} //' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]{8,}(Z|[+-][0-9:]{4,5})?/<time>/g'
}

# run_in_ns OUTFILE CMD... -> sets $rc. Runs from the configs directory so that
# file names in messages are the bare config names.  The extra subshell keeps
# bash's own "Segmentation fault" report (keepalived 2.2.7 crashes on some
# unterminated quotes) out of our output; the exit status (139) is kept.
run_in_ns() {
    local out=$1; shift
    set +e
    ( cd "$CONFIGS" && ulimit -n 1024 && { timeout "$TIMEOUT" ip netns exec "$NS" "$@" >"$out" 2>&1; } ) 2>/dev/null
    rc=$?
    set -e
}

verdict() { [ "$1" -eq 0 ] && echo accept || echo reject; }

# ---- main loop -------------------------------------------------------------
[ "$record" -eq 1 ] && mkdir -p "$EXPECTED"
pass=0 fail=0
printf '%-44s %-12s %-12s %-9s %s\n' CONFIG KEEPALIVED VIGILD VERDICT EXACT
for conf in "${configs[@]}"; do
    name=${conf%.conf}
    ka_out="$WORK/$name.keepalived"
    vg_out="$WORK/$name.vigild"

    run_in_ns "$ka_out" "$KEEPALIVED" -t -l -n -G -i "$CONFIG_ID" \
        -p "$WORK/keepalived.pid" -r "$WORK/vrrp.pid" -c "$WORK/checkers.pid" -b "$WORK/bfd.pid" \
        -f "$conf"
    ka_rc=$rc

    if [ "$record" -eq 1 ]; then
        { echo "exit=$ka_rc"; scrub <"$ka_out"; } >"$EXPECTED/$name.txt"
    fi

    if [ "$have_vigild" -eq 0 ]; then
        printf '%-44s %-12s %-12s %-9s %s\n' "$name" "$ka_rc" "-" "-" "-"
        continue
    fi

    run_in_ns "$vg_out" "$VIGILD" -t -i "$CONFIG_ID" -f "$conf"
    vg_rc=$rc

    if [ "$ka_rc" -ge 128 ]; then
        # keepalived was killed by a signal (2.2.7 segfaults on some unterminated quotes and
        # SIGTERMs itself for non-root script users): no verdict to compare, Vigil must simply
        # answer without crashing.
        if [ "$vg_rc" -lt 128 ]; then v=ka-crash; pass=$((pass + 1)); else v=MISMATCH; fail=$((fail + 1)); fi
    elif [ "$(verdict "$ka_rc")" = "$(verdict "$vg_rc")" ]; then
        v=match; pass=$((pass + 1))
    else
        v=MISMATCH; fail=$((fail + 1))
    fi
    # A rejection must point at the source: at least one "FILE:LINE:" diagnostic.
    if [ "$vg_rc" -ne 0 ] && [ "$v" != MISMATCH ] && ! grep -Eq '^[^ :]+:[0-9]+:[0-9]+: (error|warning)' "$vg_out"; then
        v=NO-LINE; pass=$((pass - 1)); fail=$((fail + 1))
    fi
    [ "$ka_rc" -eq "$vg_rc" ] && exact=same || exact=differs
    printf '%-44s %-12s %-12s %-9s %s\n' "$name" "$ka_rc($(verdict "$ka_rc"))" "$vg_rc($(verdict "$vg_rc"))" "$v" "$exact"
    if [ "$verbose" -eq 1 ] && { [ "$v" = MISMATCH ] || [ "$v" = NO-LINE ]; }; then
        echo "    keepalived said:"; scrub <"$ka_out" | sed -n '1,12s/^/      /p'
        echo "    vigild said:";     head -n 12 "$vg_out" | sed 's/^/      /'
    fi
done

# keepalived -t must not leave anything behind.
left=$(ip netns pids "$NS" 2>/dev/null || true)
[ -z "$left" ] || echo "run.sh: warning: processes left in $NS: $left (killed)" >&2
for f in keepalived.pid vrrp.pid checkers.pid bfd.pid; do
    [ ! -e "$WORK/$f" ] || echo "run.sh: warning: keepalived -t wrote $f" >&2
done

if [ "$record" -eq 1 ]; then
    echo "recorded keepalived's answers for ${#configs[@]} configs in ${EXPECTED#"$REPO"/}/"
fi
if [ "$have_vigild" -eq 0 ]; then
    echo "vigild not built: no comparison done"
    exit 0
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
