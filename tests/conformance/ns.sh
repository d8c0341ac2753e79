# The network namespace the conformance runners (run.sh, values/run.sh) run keepalived -t and
# vigild -t in: lo, eth0 (192.0.2.1/24, 2001:db8::1/64) and eth1 (198.51.100.1/24), dummy
# interfaces when the kernel has them, otherwise veth pairs whose peers also stay inside.
# Sourced (bash); the caller names the namespace in NS.

# ns_up: creates the namespace; fails at the first step that fails (callers write
# `ns_up || die`, which turns set -e off inside).
ns_up() {
    ip netns add "$NS" || return 1
    ip -n "$NS" link set lo up || return 1
    local i
    for i in 0 1; do
        if ! ip -n "$NS" link add "eth$i" type dummy 2>/dev/null; then
            ip -n "$NS" link add "eth$i" type veth peer name "eth$i-peer" || return 1
            ip -n "$NS" link set "eth$i-peer" up || return 1
        fi
        ip -n "$NS" link set "eth$i" up || return 1
    done
    ip -n "$NS" addr add 192.0.2.1/24 dev eth0 || return 1
    ip -n "$NS" addr add 2001:db8::1/64 dev eth0 nodad || return 1
    ip -n "$NS" addr add 198.51.100.1/24 dev eth1
}

# ns_down: ends what runs in the namespace (only processes we started can be there) and
# deletes it; nothing when it is gone already.
ns_down() {
    grep -qw "^$NS" <<<"$(ip netns list 2>/dev/null)" || return 0
    local pid
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$NS" 2>/dev/null
}
