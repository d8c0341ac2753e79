#!/usr/bin/env python3
"""Seeded random in-place edits of one vrrp_instance, written as admins write them.

Usage: reload_edits.py SEED STEP SIDE

Prints VI_1's block for SIDE (a: the MASTER, priority 150-200; b: the BACKUP, 50-100) after
STEP edits of the sequence SEED gives (the MASTER's file also tracks eth1 or not, with some
weight, and has a virtual route or not). Every step respells the kept VIPs in another syntax
keepalived accepts for the same address (bare or /32, `dev` naming the instance's interface or
not, `scope global` or not, options in any order) and makes one in-place edit: a VIP added,
removed or changed (prefix, dev, brd, label, scope, noprefixroute) among 192.0.2.110-119, the
priority, the garp settings, preempt_delay or a notify script. The kept VIPs (192.0.2.100-103 and
105, 203.0.113.104, and 198.51.100.105 on eth1) are the same address in every step: a reload must not touch them.
"""

import random
import sys

KEPT = [
    # (address, prefix, extra words that are part of its meaning)
    ("192.0.2.100", 32, []),
    ("192.0.2.101", 24, []),
    ("192.0.2.102", 24, ["brd 192.0.2.255"]),
    ("192.0.2.103", 24, ["label eth0:3"]),
    # The kernel refuses a second address of a subnet in another scope than the first's
    # (EINVAL): a scoped VIP is alone in its subnet.
    ("203.0.113.104", 32, ["scope link"]),
    ("192.0.2.105", 24, ["noprefixroute"]),
    ("198.51.100.105", 24, ["dev eth1"]),
]


def spell(rng, addr, prefix, words):
    """One VIP in a random spelling of the same meaning."""
    head = addr if prefix == 32 and rng.random() < 0.5 else f"{addr}/{prefix}"
    rest = list(words)
    if not any(w.startswith("dev ") for w in rest) and rng.random() < 0.5:
        rest.append("dev eth0")
    if not any(w.startswith("scope ") for w in rest) and rng.random() < 0.3:
        rest.append("scope global")
    rng.shuffle(rest)
    return " ".join([head] + rest)


def churn_vip(rng, last):
    words = []
    dev = rng.choice(["eth0", "eth0", "eth1"])
    net = "192.0.2" if dev == "eth0" else "198.51.100"
    prefix = rng.choice([32, 24, 16])
    if dev == "eth0" and rng.random() < 0.2:
        # A scoped VIP: a /32 of its own (see KEPT).
        net, prefix = "203.0.113", 32
        words.append(rng.choice(["scope link", "scope host"]))
    if dev == "eth1" or rng.random() < 0.5:
        words.append(f"dev {dev}")
    if rng.random() < 0.3:
        words.append(f"brd {net}.255")
    if rng.random() < 0.3:
        words.append(f"label {dev}:{last}")
    if rng.random() < 0.2:
        words.append("noprefixroute")
    return (f"{net}.{last}", prefix, words)


def state_after(seed, steps):
    rng = random.Random(seed)
    s = {
        "churn": {110: churn_vip(rng, 110)},
        "prio_a": 150,
        "prio_b": 100,
        "garp_delay": 5,
        "garp_repeat": 5,
        "preempt_delay": 0,
        "notify": False,
        "track": None,
        "route": False,
    }
    for _ in range(steps):
        kind = rng.randrange(10)
        free = [n for n in range(110, 120) if n not in s["churn"]]
        if kind in (0, 1) and free:
            last = rng.choice(free)
            s["churn"][last] = churn_vip(rng, last)
        elif kind == 2 and s["churn"]:
            del s["churn"][rng.choice(sorted(s["churn"]))]
        elif kind == 3 and s["churn"]:
            last = rng.choice(sorted(s["churn"]))
            s["churn"][last] = churn_vip(rng, last)
        elif kind == 4:
            s["prio_a"] = rng.randrange(150, 201)
            s["prio_b"] = rng.randrange(50, 101)
        elif kind == 5:
            s["garp_delay"] = rng.randrange(0, 10)
            s["garp_repeat"] = rng.randrange(1, 6)
        elif kind == 6:
            s["preempt_delay"] = rng.randrange(0, 60)
        elif kind == 7:
            s["notify"] = not s["notify"]
        elif kind == 8:
            # The MASTER's tracking: eth1 (up) with a weight, another weight, or none.
            s["track"] = rng.choice([None, -10, 10, 20])
        else:
            s["route"] = not s["route"]
    return s


def main():
    seed, step, side = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    s = state_after(seed, step)
    # The spelling changes with every step and side, the meaning only with the edits.
    rng = random.Random(f"{seed}-{step}-{side}")
    vips = [spell(rng, *v) for v in KEPT] + [spell(rng, *s["churn"][n]) for n in sorted(s["churn"])]
    rng.shuffle(vips)
    lines = [
        "vrrp_instance VI_1 {",
        "    state BACKUP",
        "    interface eth0",
        "    virtual_router_id 51",
        f"    priority {s['prio_a'] if side == 'a' else s['prio_b']}",
        "    advert_int 1",
        f"    garp_master_delay {s['garp_delay']}",
        f"    garp_master_repeat {s['garp_repeat']}",
        f"    preempt_delay {s['preempt_delay']}",
    ]
    if s["notify"]:
        lines.append("    notify_master /bin/true")
    # Tracking and routes are the director's own: only the MASTER's file has them.
    if side == "a" and s["track"] is not None:
        lines += ["    track_interface {", f"        eth1 weight {s['track']}", "    }"]
    if side == "a" and s["route"]:
        lines += ["    virtual_routes {", "        198.18.0.0/15 dev eth1", "    }"]
    lines.append("    virtual_ipaddress {")
    lines += [f"        {v}" for v in vips]
    lines += ["    }", "}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
