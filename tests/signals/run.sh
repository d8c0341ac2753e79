#!/usr/bin/env bash
# keepalived's signals, vigild against keepalived 2.2.7: both run the same configuration, each
# alone in its own network namespace (so both are MASTER), each writing its dumps to its own
# TMPDIR. Then, by the numbers `keepalived --signum=NAME` prints:
#   json_layout   the JSON signal: both write keepalived.json; same keys at every level, same
#                 JSON type for every value (the values themselves may differ)
#   stats_clear   STATS_CLEAR: both write keepalived.stats with "Became master: 1", and the
#                 next STATS dump says 0; both still run
#   realtime      every other real-time signal (SIGRTMIN to SIGRTMAX): both still run
#   signum        `vigild --signum=NAME` prints what keepalived prints, for every name
#                 (SKIP while vigild's command line has no --signum)
#
# Usage (as root): tests/signals/run.sh
# Environment: VIGILD (default <repo>/target/debug/vigild), KEEPALIVED (default keepalived).
# Output: "PASS name", "FAIL name: reason" or "SKIP name: reason", then
# "N passed, M failed, K skipped". Exit status 0 when nothing failed, 1 otherwise, 2 when it
# cannot run at all (everything is then reported SKIP).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VIGILD=${VIGILD:-$REPO/target/debug/vigild}
# The daemons start from their own directories.
case $VIGILD in /*) ;; *) VIGILD=$PWD/$VIGILD ;; esac
KEEPALIVED=${KEEPALIVED:-keepalived}
TESTS=(json_layout stats_clear realtime signum)
passed=0 failed=0 skipped=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }
totals() { echo "$passed passed, $failed failed, $skipped skipped"; }
skip_all() {
    local t
    for t in "${TESTS[@]}"; do skip "$t" "$1"; done
    totals
    exit 2
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
command -v ip >/dev/null || skip_all "needs ip (iproute2)"
command -v python3 >/dev/null || skip_all "needs python3 (to compare the JSON files)"
command -v "$KEEPALIVED" >/dev/null || skip_all "needs keepalived"
[ -x "$VIGILD" ] || skip_all "no vigild at $VIGILD (cargo build -p vigild)"
JSON=$("$KEEPALIVED" --signum=JSON 2>/dev/null) || skip_all "this keepalived has no JSON signal (built without --enable-json)"
STATS_CLEAR=$("$KEEPALIVED" --signum=STATS_CLEAR)
STATS=$("$KEEPALIVED" --signum=STATS)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-signals.XXXXXX")
ID=$$
declare -A NS PID
NS[k]=vigil-sigk-$ID NS[v]=vigil-sigv-$ID

cleanup() {
    local s n
    for s in k v; do
        [ -n "${PID[$s]:-}" ] && kill -TERM "${PID[$s]}" 2>/dev/null
    done
    for s in k v; do
        [ -n "${PID[$s]:-}" ] || continue
        for n in $(seq 100); do
            kill -0 "${PID[$s]}" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "${PID[$s]}" 2>/dev/null
        wait "${PID[$s]}" 2>/dev/null
    done
    for s in k v; do
        # keepalived's VRRP child, should its parent have died without it.
        for n in $(ip netns pids "${NS[$s]}" 2>/dev/null); do kill -KILL "$n" 2>/dev/null; done
        ip netns delete "${NS[$s]}" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The configuration keepalived's JSON dump fills most: scripts, every list, authentication.
cat >"$WORK/keepalived.conf" <<'EOF'
global_defs {
    router_id signals
    enable_script_security
    script_user root
}
vrrp_script chk {
    script "/bin/true"
    interval 1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    track_interface {
        eth1
    }
    track_script {
        chk
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
    virtual_ipaddress_excluded {
        192.0.2.200/24
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254
    }
    virtual_rules {
        from 192.0.2.100 table 100
    }
    notify_master "/bin/true master"
    notify_backup "/bin/true backup"
    notify_fault "/bin/true fault"
    notify_stop "/bin/true stop"
    notify "/bin/true"
}
EOF

for s in k v; do
    ns=${NS[$s]}
    mkdir -p "$WORK/$s/tmp"
    ip netns add "$ns" || skip_all "cannot create a network namespace"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add eth0 type veth peer name eth0-peer
    ip -n "$ns" link add eth1 type veth peer name eth1-peer
    for l in eth0 eth0-peer eth1 eth1-peer; do ip -n "$ns" link set "$l" up; done
    ip -n "$ns" addr add 192.0.2.1/24 dev eth0
done

# -G: no syslog; private pid files so that parallel runs don't clash.
(cd "$WORK/k" && TMPDIR=$WORK/k/tmp exec ip netns exec "${NS[k]}" "$KEEPALIVED" -n -l -D -P -G \
    -f "$WORK/keepalived.conf" -p "$WORK/k/keepalived.pid" -r "$WORK/k/vrrp.pid" -c "$WORK/k/checkers.pid" \
    -b "$WORK/k/bfd.pid" >"$WORK/k/log" 2>&1 </dev/null) &
PID[k]=$!
(cd "$WORK/v" && TMPDIR=$WORK/v/tmp exec ip netns exec "${NS[v]}" "$VIGILD" -n -l -P -f "$WORK/keepalived.conf" \
    -p "$WORK/v/vigild.pid" --control-socket "$WORK/v/vigild.sock" >"$WORK/v/log" 2>&1 </dev/null) &
PID[v]=$!

name() { if [ "$1" = k ]; then echo keepalived; else echo vigild; fi; }
alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

# wait_for SECONDS COMMAND...: poll every 50 ms.
wait_for() {
    local n=$(($1 * 20))
    shift
    while ! "$@"; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || return 1
        sleep 0.05
    done
}

is_master() { grep -q "(VI_1) Entering MASTER STATE" "$WORK/$1/log"; }
for s in k v; do
    wait_for 15 is_master "$s" && continue
    echo "$(name "$s") did not become MASTER; its log:" >&2
    tail -n 20 "$WORK/$s/log" >&2
    # keepalived is the reference: without it nothing can be compared. vigild is under test.
    [ "$s" = k ] && skip_all "keepalived did not start"
    for t in "${TESTS[@]}"; do fail "$t" "vigild did not start"; done
    totals
    exit 1
done
# A few adverts, so that the counters have something to clear.
sleep 2

# dump SIDE SIGNAL FILE: remove FILE, send SIGNAL, wait for FILE to be written anew.
dump() {
    local file=$WORK/$1/tmp/$3
    rm -f "$file"
    kill -s "$2" "${PID[$1]}" 2>/dev/null || return 1
    wait_for 10 test -s "$file"
}

# ---- json_layout
shape_diff() {
    python3 - "$1" "$2" <<'EOF'
import json, sys

def shape(v, path, out):
    if isinstance(v, dict):
        out[path] = "object"
        for k, x in v.items():
            shape(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        out[path] = "array"
        for i, x in enumerate(v):
            shape(x, f"{path}[{i}]", out)
    else:
        # keepalived writes 5 where Vigil writes 5.0: both are JSON numbers.
        out[path] = {bool: "bool", int: "number", float: "number", str: "string"}.get(type(v), "null")
    return out

theirs, ours = (shape(json.load(open(f)), "$", {}) for f in sys.argv[1:3])
problems = [f"{p}: keepalived {theirs.get(p, 'absent')}, vigild {ours.get(p, 'absent')}"
            for p in sorted(set(theirs) | set(ours)) if theirs.get(p) != ours.get(p)]
print("; ".join(problems))
sys.exit(1 if problems else 0)
EOF
}
if ! dump k "$JSON" keepalived.json; then
    fail json_layout "keepalived wrote no keepalived.json"
elif ! dump v "$JSON" keepalived.json; then
    fail json_layout "vigild wrote no keepalived.json (alive: $(alive v && echo yes || echo no))"
elif ! diff=$(shape_diff "$WORK/k/tmp/keepalived.json" "$WORK/v/tmp/keepalived.json"); then
    fail json_layout "$diff"
else
    pass json_layout
fi

# ---- stats_clear
became() { sed -n 's/^  Became master: //p' "$WORK/$1/tmp/keepalived.stats"; }
why=''
for s in k v; do
    if ! dump "$s" "$STATS_CLEAR" keepalived.stats; then
        why+="$(name "$s") wrote no stats on STATS_CLEAR; "
        continue
    fi
    before=$(became "$s")
    if ! dump "$s" "$STATS" keepalived.stats; then
        why+="$(name "$s") wrote no stats on STATS after STATS_CLEAR; "
        continue
    fi
    after=$(became "$s")
    [ "$before" = 1 ] && [ "$after" = 0 ] || why+="$(name "$s"): Became master $before, then $after (want 1 then 0); "
    alive "$s" || why+="$(name "$s") died; "
done
if [ -z "$why" ]; then pass stats_clear; else fail stats_clear "${why%; }"; fi

# ---- realtime: keepalived ignores every signal it gives no meaning to.
why=''
rtmin=$(kill -l RTMIN) rtmax=$(kill -l RTMAX)
for s in k v; do
    for ((n = rtmin; n <= rtmax; n++)); do
        [ "$n" = "$JSON" ] || [ "$n" = "$STATS_CLEAR" ] || kill -s "$n" "${PID[$s]}" 2>/dev/null
    done
done
sleep 0.5
for s in k v; do alive "$s" || why+="$(name "$s") died; "; done
# A dump after them is answered by a survivor (a fatal signal ends a process as it is sent).
dump v "$STATS" keepalived.stats || why+="vigild answers no more; "
if [ -z "$why" ]; then pass realtime; else fail realtime "${why%; }"; fi

# ---- signum
if ! out=$("$VIGILD" --signum=JSON 2>&1); then
    skip signum "vigild has no --signum: ${out%%$'\n'*}"
else
    why=''
    for f in STOP RELOAD DATA STATS STATS_CLEAR JSON TDUMP NOSUCH; do
        want=$("$KEEPALIVED" --signum="$f" 2>/dev/null; echo "exit $?")
        got=$("$VIGILD" --signum="$f" 2>/dev/null; echo "exit $?")
        [ "$want" = "$got" ] || why+="$f: keepalived '${want//$'\n'/ }', vigild '${got//$'\n'/ }'; "
    done
    if [ -z "$why" ]; then pass signum; else fail signum "${why%; }"; fi
fi

totals
[ "$failed" -eq 0 ]
