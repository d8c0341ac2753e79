#!/usr/bin/env python3
"""Checks the extracted keyword table against the real keepalived binary.

Usage: verify.py TABLE.tsv [KEEPALIVED]

For every row marked debian=yes, writes a configuration holding just that keyword
inside its block path and runs `keepalived -t` on it; the keyword must not be
reported as an unknown keyword. Rows marked debian=no must be reported unknown.
Prints the rows that disagree and exits 1 if there are any.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

NAMES = {"virtual_server": "192.0.2.10 80", "real_server": "192.0.2.20 80", "global_defs": "", "SSL": "",
         "host": "", "url": "", "authentication": ""}


def config(block, keyword):
    path = [] if block == "-" else block.split("/")
    lines = []
    for depth, b in enumerate(path):
        name = NAMES.get(b, "NAME" if depth == 0 else "")
        lines.append(f"{b} {name} {{".replace("  ", " "))
    lines.append(f"{keyword} 1")
    lines.extend("}" for _ in path)
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    keepalived = sys.argv[2] if len(sys.argv) == 3 else "keepalived"
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "k.conf"
        for line in Path(sys.argv[1]).read_text().splitlines():
            if line.startswith("#"):
                continue
            block, keyword, _, debian = line.split("\t")
            # These change how keepalived -t itself runs (namespaces, instance name, pid dir).
            if block == "-" and keyword in ("net_namespace", "net_namespace_ipvs", "namespace_with_ipsets",
                                            "instance", "use_pid_dir"):
                continue
            conf.write_text(config(block, keyword))
            out = subprocess.run([keepalived, "-t", "-l", "-n", "-f", str(conf)], capture_output=True,
                                 text=True, timeout=30, cwd=tmp)
            unknown = f"Unknown keyword '{keyword}'" in out.stdout + out.stderr
            if unknown != (debian == "no"):
                bad += 1
                print(f"{block}\t{keyword}\tdebian={debian}\tkeepalived says {'unknown' if unknown else 'known'}")
    print(f"{bad} disagreement(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
