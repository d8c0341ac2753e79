#!/usr/bin/env python3
"""Tiny TCP endpoints for the scale-out harness (tests/scaleout/run.sh).

  flows.py realserver ADDR PORT
      A real server as the directors' TCP_CHECK sees it: accepts and closes.
      SIGUSR1 closes the listening socket (connections are refused: the check
      fails at once), SIGUSR2 listens again.  Prints "listening" / "closed"
      with a timestamp on each change.
  flows.py vip NAME ADDR PORT
      The service a director answers for the VIP locally (no IPVS on the
      host): every connection first gets "NAME\\n"; then the request line
      "slow SECONDS" gets a line every 0.1 s for SECONDS and "end\\n";
      anything else just the name.  One thread per connection.
  flows.py count ADDR PORT N
      N fresh connections (each a new source port, so that an L4 ECMP hash
      spreads them); prints "NAME COUNT" per director and "error COUNT" for
      connections that failed.
  flows.py slow ADDR PORT SECONDS OUTFILE [WANT [TRIES]]
      A long-lived connection: connects (again, up to TRIES times, until the
      director that answers is WANT), writes "director NAME sport PORT" to
      OUTFILE, asks for SECONDS of slow transfer, then appends
      "done LINES" when it ended with "end", or "broken LINES REASON".
"""
import os
import select
import signal
import socket
import sys
import threading
import time


def stamp():
    return "%.6f" % time.time()


def realserver(addr, port):
    state = {"want": True, "sock": None}

    def open_sock():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)
        s.setblocking(False)
        return s

    def on_usr1(_sig, _frm):
        state["want"] = False

    def on_usr2(_sig, _frm):
        state["want"] = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGUSR2, on_usr2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        if state["want"] and state["sock"] is None:
            state["sock"] = open_sock()
            print(stamp(), "listening", flush=True)
        elif not state["want"] and state["sock"] is not None:
            state["sock"].close()
            state["sock"] = None
            print(stamp(), "closed", flush=True)
        if state["sock"] is None:
            time.sleep(0.01)
            continue
        try:
            r, _, _ = select.select([state["sock"]], [], [], 0.01)
        except InterruptedError:
            continue
        if r and state["sock"] is not None:
            try:
                c, _ = state["sock"].accept()
                c.close()
            except (BlockingIOError, OSError):
                pass


def vip(name, addr, port):
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # The VIP may not be on lo yet (vigild adds it): bind anyway.
    s.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND
    s.bind((addr, port))
    s.listen(256)

    def serve(c):
        try:
            c.sendall((name + "\n").encode())
            c.settimeout(5)
            req = b""
            while not req.endswith(b"\n"):
                chunk = c.recv(100)
                if not chunk:
                    return
                req += chunk
            words = req.decode().split()
            if len(words) == 2 and words[0] == "slow":
                end = time.time() + float(words[1])
                i = 0
                while time.time() < end:
                    c.sendall(("%s line %d\n" % (name, i)).encode())
                    i += 1
                    time.sleep(0.1)
                c.sendall(b"end\n")
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def one(addr, port, timeout=2.0):
    c = socket.create_connection((addr, port), timeout=timeout)
    f = c.makefile("rb")
    name = f.readline().decode().strip()
    return c, f, name


def count(addr, port, n):
    seen = {}
    for _ in range(n):
        try:
            c, f, name = one(addr, port)
            c.sendall(b"name\n")
            c.close()
            key = name or "error"
        except OSError:
            key = "error"
        seen[key] = seen.get(key, 0) + 1
    for k in sorted(seen):
        print(k, seen[k])


def slow(addr, port, seconds, out, want=None, tries=30):
    name = None
    for _ in range(tries):
        try:
            c, f, name = one(addr, port)
        except OSError as e:
            name = None
            err = e
            continue
        if want is None or name == want:
            break
        c.sendall(b"name\n")
        c.close()
        name = None
    if name is None:
        with open(out, "w") as o:
            o.write("nodirector %s\n" % (want or err))
        return
    with open(out, "w") as o:
        o.write("director %s sport %d\n" % (name, c.getsockname()[1]))
    c.settimeout(5)
    c.sendall(("slow %s\n" % seconds).encode())
    lines = 0
    reason = "eof"
    try:
        while True:
            line = f.readline()
            if not line:
                break
            if line == b"end\n":
                reason = None
                break
            lines += 1
    except OSError as e:
        reason = type(e).__name__ + ":" + str(e).replace(" ", "_")
    with open(out, "a") as o:
        o.write("%s %s %d %s\n" % (stamp(), "done" if reason is None else "broken", lines, reason or ""))


def main(argv):
    cmd = argv[1]
    if cmd == "realserver":
        realserver(argv[2], int(argv[3]))
    elif cmd == "vip":
        vip(argv[2], argv[3], int(argv[4]))
    elif cmd == "count":
        count(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "slow":
        slow(argv[2], int(argv[3]), argv[4], argv[5], argv[6] if len(argv) > 6 else None,
             int(argv[7]) if len(argv) > 7 else 30)
    else:
        sys.exit("flows.py: unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
