#!/usr/bin/env python3
"""Read the scale-out harness's timestamped records (tests/scaleout/lib.sh).

Route monitors are `ip -o -ts monitor route` output: one change a line,
"[2026-01-02T03:04:05.123456] [Deleted ]DST ... [nexthop via A ...]...", the
time being local time at which ip read the change.  Times are printed as
seconds since the epoch.

  routes.py gone MON SINCE VIP VIA      first change after SINCE that leaves the
                                        main table's route to VIP without nexthop VIA
  routes.py back MON SINCE VIP VIA      first change after SINCE that gives it VIA
  routes.py changes MON SINCE VIP VIA UNTIL
                                        every change of VIA's presence in
                                        [SINCE, UNTIL]: "TIME gone|back" lines
  routes.py tblgone MON SINCE VIP TABLE first deletion of VIP's route in TABLE after SINCE
  routes.py tblback MON SINCE VIP TABLE first addition of it after SINCE
  routes.py logtimes LOG REGEX FROM_LINE
                                        every such line's time, one a line
  routes.py logtime LOG REGEX FROM_LINE first line of vigild's log after line
                                        FROM_LINE matching REGEX (its RFC 3339 UTC
                                        timestamp); nothing if none
"""
import calendar
import re
import sys
import time

TS = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\]\s+(.*)$")
VIA = re.compile(r"\bvia (?:inet )?([0-9.]+)")


def local_epoch(base, frac):
    return time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float(frac or 0)


def events(path, vip, table):
    """(time, deleted, vias) for each change of VIP's route in TABLE (None: main)."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = TS.match(line.rstrip("\n"))
            if not m:
                continue
            t = local_epoch(m.group(1), m.group(2))
            words = m.group(3).replace("\\", " ").split()
            deleted = bool(words) and words[0] == "Deleted"
            if deleted:
                words = words[1:]
            if not words or words[0] not in (vip, vip + "/32"):
                continue  # also skips "local VIP ..." (the address on lo) and other types
            tbl = None
            if "table" in words:
                tbl = words[words.index("table") + 1]
            if tbl != table:
                continue
            out.append((t, deleted, set(VIA.findall(" ".join(words)))))
    return out


def presence(evs, via, since):
    """Was VIA a nexthop just before SINCE?"""
    present = False
    for t, deleted, vias in evs:
        if t >= since:
            break
        present = (not deleted) and via in vias
    return present


def main(a):
    cmd = a[1]
    if cmd in ("gone", "back", "changes"):
        mon, since, vip, via = a[2], float(a[3]), a[4], a[5]
        until = float(a[6]) if cmd == "changes" else float("inf")
        evs = events(mon, vip, None)
        present = presence(evs, via, since)
        for t, deleted, vias in evs:
            if t < since or t > until:
                continue
            now = (not deleted) and via in vias
            if cmd == "gone" and not now:
                print("%.6f" % t)
                return
            if cmd == "back" and now:
                print("%.6f" % t)
                return
            if cmd == "changes" and now != present:
                print("%.6f %s" % (t, "back" if now else "gone"))
            present = now
    elif cmd in ("tblgone", "tblback"):
        mon, since, vip, table = a[2], float(a[3]), a[4], a[5]
        for t, deleted, _ in events(mon, vip, table):
            if t >= since and deleted == (cmd == "tblgone"):
                print("%.6f" % t)
                return
    elif cmd in ("logtime", "logtimes"):
        path, rx, start = a[2], re.compile(a[3]), int(a[4])
        ts = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z")
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                if n <= start:
                    continue
                m = ts.match(line)
                if m and rx.search(line):
                    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + float(m.group(2) or 0)
                    print("%.6f" % t)
                    if cmd == "logtime":
                        return
    else:
        sys.exit("routes.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
