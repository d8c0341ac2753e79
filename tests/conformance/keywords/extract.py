#!/usr/bin/env python3
"""Extract keepalived's configuration keyword tree from its C source.

Usage: extract.py KEEPALIVED_SOURCE_DIR > keepalived-2.2.7-keywords.tsv

keepalived builds its keyword tree at start-up: install_keyword_root() adds a
top-level keyword, install_keyword() adds a keyword under the last keyword of
the current nesting level, install_sublevel()/install_sublevel_end() move that
level down and up. This script replays those calls in source order, following
calls into the helper functions that install keywords (the checkers' installers,
install_checker_common_keywords(), ...), and prints one row per keyword:

    block path <TAB> keyword <TAB> condition <TAB> debian

"block path" is the chain of enclosing keywords joined with '/' ('-' for the top
level); "condition" is the preprocessor condition the install call sits under
('-' when unconditional); "debian" is 'yes' when Debian's keepalived 2.2.7
package (its `keepalived -v` "Config options" and "System options") builds that
condition, 'no' otherwise. A keyword installed several times in one block
(keepalived takes the first) is listed once.
"""

import re
import sys
from pathlib import Path

# Macros defined by Debian's build of keepalived 2.2.7 (configure options
# --enable-snmp --enable-sha1 --enable-snmp-rfcv2 --enable-snmp-rfcv3 --enable-dbus
# --enable-json --enable-bfd --enable-regex; "Config options" and "System options"
# of `keepalived -v`), spelled as the source tests them.
DEBIAN = {
    "_WITH_VRRP_", "_WITH_LVS_", "_WITH_BFD_", "_WITH_REGEX_CHECK_", "_WITH_VRRP_AUTH_",
    "_HAVE_VRRP_VMAC_", "_WITH_JSON_", "_WITH_NFTABLES_", "_WITH_SNMP_", "_WITH_SNMP_VRRP_",
    "_WITH_SNMP_CHECKER_", "_WITH_SNMP_RFC_", "_WITH_SNMP_RFCV2_", "_WITH_SNMP_RFCV3_",
    "_WITH_DBUS_", "_WITH_SO_MARK_", "_HAVE_VRF_", "_HAVE_VRRP_IPVLAN_", "_HAVE_FIB_ROUTING_",
    "_HAVE_IPV4_DEVCONF_", "_HAVE_LIBNL3_", "_HAVE_PCRE2_", "_WITH_SHA1_",
    "_HAVE_IPVS_TUN_TYPE_", "_HAVE_IPVS_TUN_CSUM_", "_HAVE_IPVS_TUN_GRE_",
    "_WITH_LVS_64BIT_STATS_", "_HAVE_IPVS_SYNCD_ATTRIBUTES_", "_HAVE_SCHED_RT_",
    "_HAVE_SSL_SET_TLSEXT_HOST_NAME_", "_HAVE_NET_LINUX_IF_H_COLLISION_", "_HAVE_MEMFD_CREATE_",
    "_HAVE_IPV6_MULTICAST_ALL_", "_HAVE_IFLA_LINK_NETNSID_", "_HAVE_INET6_ADDR_GEN_MODE_",
    "_WITH_TRACK_PROCESS_", "_WITH_UNICAST_CHKSUM_COMPAT_", "_WITH_FIREWALL_",
    "IP_VS_SVC_F_SCHED1", "IP_VS_SVC_F_SCHED2", "IP_VS_SVC_F_SCHED3",
    "IP_VS_SVC_F_SCHED_SH_FALLBACK", "IP_VS_SVC_F_SCHED_SH_PORT",
    "IP_VS_SVC_F_SCHED_MH_FALLBACK", "IP_VS_SVC_F_SCHED_MH_PORT",
    "RTA_ENCAP", "RTA_EXPIRES", "RTA_NEWDST", "RTA_PREF", "FRA_SUPPRESS_PREFIXLEN",
    "FRA_SUPPRESS_IFGROUP", "FRA_TUN_ID", "RTAX_CC_ALGO", "RTAX_QUICKACK", "FRA_L3MDEV",
    "FRA_UID_RANGE", "RTAX_FASTOPEN_NO_COOKIE", "RTA_VIA", "FRA_PROTOCOL", "FRA_IP_PROTO",
    "FRA_SPORT_RANGE", "FRA_DPORT_RANGE", "RTA_TTL_PROPAGATE", "IFA_FLAGS",
    "LWTUNNEL_ENCAP_MPLS", "LWTUNNEL_ENCAP_ILA", "IPVS_DEST_ATTR_ADDR_FAMILY",
    "_WITH_LINKBEAT_",
}

# Entry points, in the order vrrp_init_keywords()/check_init_keywords() call them.
ENTRIES = [
    ("init_global_keywords", ["true"]),
    ("init_vrrp_keywords", ["true"]),
    ("init_check_keywords", ["true"]),
    ("init_bfd_keywords", ["true"]),
    ("add_track_file_keywords", ["true"]),
]

INSTALLS = ("install_keyword_root", "install_keyword", "install_keyword_conditional",
            "install_sublevel", "install_sublevel_end")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def evaluate(expr, defined):
    """Evaluates a #if expression: defined(X), !, &&, ||, parentheses, bare macros."""
    e = re.sub(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)",
               lambda m: " True " if (m.group(1) or m.group(2)) in defined else " False ", expr)
    e = re.sub(r"\b(?!True\b|False\b)([A-Za-z_]\w*)\b",
               lambda m: " True " if m.group(1) in defined else " False ", e)
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    try:
        return bool(eval(e, {"__builtins__": {}}))  # noqa: S307 - the expression is built above
    except SyntaxError:
        return False


def annotate(text, defined):
    """Returns [(line, condition, active)] with preprocessor lines blanked out."""
    out = []
    stack = []  # (label, active, any_branch_taken)
    local = set(defined)
    for line in text.split("\n"):
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if m:
            d, rest = m.group(1), m.group(2).strip()
            if d in ("ifdef", "ifndef", "if"):
                expr = rest if d == "if" else (("!" if d == "ifndef" else "") + rest)
                val = evaluate(expr if d == "if" else ("defined " + rest if d == "ifdef" else "!defined " + rest), local)
                stack.append([expr, val, val])
            elif d == "elif" and stack:
                prev = stack[-1]
                val = evaluate(rest, local) and not prev[2]
                stack[-1] = [f"!({prev[0]}) && ({rest})", val, prev[2] or val]
            elif d == "else" and stack:
                prev = stack[-1]
                stack[-1] = [f"!({prev[0]})", not prev[2], True]
            elif d == "endif" and stack:
                stack.pop()
            elif d == "define" and all(s[1] for s in stack):
                local.add(rest.split()[0] if rest else "")
            out.append(("", "", True))
            continue
        cond = " && ".join(paren(s[0]) for s in stack) if stack else "-"
        out.append((line, cond, all(s[1] for s in stack)))
    return out


def paren(expr):
    expr = re.sub(r"defined\s*\(?\s*(\w+)\s*\)?", r"\1", expr).strip()
    return f"({expr})" if re.search(r"&&|\|\|", expr) else expr


def functions(src_dir, defined):
    """Maps function name -> (params, [(kind, args, cond, active)]) for every C function."""
    funcs = {}
    for path in sorted(Path(src_dir).rglob("*.c")):
        lines = annotate(strip_comments(path.read_text(errors="replace")), defined)
        i = 0
        while i < len(lines):
            m = re.match(r"^(\w+)\(([^)]*)\)\s*$", lines[i][0])
            if m and i + 1 < len(lines) and lines[i + 1][0].startswith("{"):
                name, params = m.group(1), m.group(2)
                pnames = [p.split()[-1].lstrip("*") for p in params.split(",") if p.strip() and p.strip() != "void"]
                body = []
                j = i + 2
                while j < len(lines) and not lines[j][0].startswith("}"):
                    body.append(lines[j])
                    j += 1
                funcs.setdefault(name, (pnames, body))
                i = j
            i += 1
    return funcs


def events(body):
    """The calls of a body in order, with the `if (PARAM) {` gates around them."""
    gates = []  # stack of param name or None per open brace
    out = []
    for line, cond, active in joined(body):
        for tok in re.finditer(r"if\s*\(\s*(!?\w+)\s*\)\s*\{|\{|\}|\b(\w+)\s*\(([^;]*)\)\s*;", line):
            if tok.group(0).startswith("if"):
                gates.append(tok.group(1))
            elif tok.group(0) == "{":
                gates.append(None)
            elif tok.group(0) == "}":
                if gates:
                    gates.pop()
            else:
                args = split_args(tok.group(3))
                out.append((tok.group(2), args, cond, active, [g for g in gates if g]))
    return out


def joined(body):
    """Joins a call split over several lines (its arguments may hold #if lines, blanked by
    annotate()) into one line, which keeps the condition of the line the call starts on."""
    out = []
    pending = None
    for line, cond, active in body:
        if pending is not None:
            pending[0] += " " + line.strip()
            if pending[0].count("(") <= pending[0].count(")"):
                out.append(tuple(pending))
                pending = None
            continue
        if line.count("(") > line.count(")"):
            pending = [line, cond, active]
        else:
            out.append((line, cond, active))
    if pending is not None:
        out.append(tuple(pending))
    return out


def split_args(s):
    args, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        args.append(cur.strip())
    return args


class Node:
    def __init__(self, name, cond, active):
        self.name, self.cond, self.active, self.children = name, cond, active, []


def replay(funcs):
    root = Node("-", "-", True)
    state = {"sublevel": 0}
    installers = set()

    def installs(name, seen=()):
        if name in INSTALLS:
            return True
        if name not in funcs or name in seen:
            return False
        return any(installs(c, seen + (name,)) for c, *_ in events(funcs[name][1]))

    for name in funcs:
        if installs(name):
            installers.add(name)

    def current():
        node = root.children[-1]
        for _ in range(state["sublevel"]):
            node = node.children[-1]
        return node

    def run(fname, argv, outer_conds):
        params, body = funcs[fname]
        env = dict(zip(params, argv))
        for call, args, cond, active, gates in events(body):
            ok = True
            for g in gates:
                neg = g.startswith("!")
                v = env.get(g.lstrip("!"))
                if v in ("true", "false"):
                    ok = ok and ((v == "true") != neg)
            if not ok:
                continue
            conds = outer_conds + ([cond] if cond != "-" else [])
            c = " && ".join(conds) if conds else "-"
            if call == "install_sublevel":
                state["sublevel"] += 1
            elif call == "install_sublevel_end":
                state["sublevel"] -= 1
            elif call in ("install_keyword_root", "install_keyword", "install_keyword_conditional"):
                word = args[0]
                word = env.get(word, word)
                if not word.startswith('"'):
                    raise SystemExit(f"{fname}: cannot resolve keyword {args[0]}")
                node = Node(word.strip('"'), c, active and outer_active[0])
                if call == "install_keyword_root":
                    root.children.append(node)
                    state["sublevel"] = 0
                else:
                    current().children.append(node)
            elif call in installers and call != fname:
                prev = outer_active[0]
                outer_active[0] = prev and active
                run(call, [env.get(a, a) for a in args], conds)
                outer_active[0] = prev

    outer_active = [True]
    for fname, argv in ENTRIES:
        run(fname, argv, [])
    return root


def emit(node, path, seen, out):
    for child in node.children:
        key = (path, child.name)
        if key not in seen:
            seen.add(key)
            out.append((path, child.name, child.cond, "yes" if child.active else "no"))
        emit(child, child.name if path == "-" else f"{path}/{child.name}", seen, out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    funcs = functions(Path(sys.argv[1]) / "keepalived", DEBIAN)
    funcs.update({k: v for k, v in functions(Path(sys.argv[1]) / "lib", DEBIAN).items() if k not in funcs})
    root = replay(funcs)
    rows = []
    emit(root, "-", set(), rows)
    print("# block\tkeyword\tcondition\tdebian")
    for r in rows:
        print("\t".join(r))


if __name__ == "__main__":
    main()
