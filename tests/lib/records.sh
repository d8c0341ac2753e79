# Shared by the network-namespace labs (tests/vrrp, tests/scaleout, and the benchmarks on them).

# forget_records NS: removes what a vigild in network namespace NS recorded in /run/vigild
# (KIND-netns-cookie-COOKIE: the VIPs and routes it added, kept for its next start). A vigild
# that had to be killed leaves them; the namespace's cookie is never given again, so nothing
# could take them for its own, but nothing of a lab is to stay in /run.
forget_records() {
    local cookie
    cookie=$(ip netns exec "$1" python3 -c 'import socket, struct
print(struct.unpack("Q", socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8))[0])' 2>/dev/null) &&
        rm -f /run/vigild/*-netns-cookie-"$cookie"
    return 0
}
