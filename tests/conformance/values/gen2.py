#!/usr/bin/env python3
"""Follow-up cases (whole configs) pinning down the mismatches found by gen.py.
Writes cases2/NNNN.conf and cases2.tsv in the same format (run.sh runs both sets)."""
import os, shutil, sys

# The output directory: the first argument (run.sh passes its DIR), else this one.
HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases2")
cases = []

HDR = "global_defs {\n    script_user root\n    enable_script_security\n}\n"
TF = 'track_file tf_rs {\n    file "/dev/null"\n}\n'


def vs(body, rss, addr="192.0.2.10 80", proto="TCP", sched="rr"):
    out = "virtual_server %s {\n    delay_loop 10\n    lvs_sched %s\n    lvs_method NAT\n" % (addr, sched)
    if proto:
        out += "    protocol %s\n" % proto
    out += "".join("    %s\n" % l for l in body.split("\n") if l)
    for hdr, rsbody in rss:
        out += "    real_server %s {\n" % hdr
        out += "".join("        %s\n" % l for l in rsbody.split("\n") if l)
        out += "    }\n"
    return out + "}\n"


def add(kw, desc, text):
    cases.append((kw, desc, HDR + text))


def rs1(chk="TCP_CHECK {\n}", hdr="198.51.100.21 80", extra=""):
    return [(hdr, extra + ("\n" if extra else "") + chk)]


# line-length limit: path / payload / helo_name / DNS name of growing length
for n in [400, 480, 490, 500, 505, 510, 511, 512, 513, 520, 600, 1000, 1020, 1030, 1100, 2000, 4000]:
    add("line-length", "url path, line length %d" % (16 + n + 6),
        vs("", rs1("HTTP_GET {\n    url {\n        path /%s\n        status_code 200\n    }\n}" % ("a" * (n - 1)))))
    add("line-length", "helo_name len %d" % n, vs("", rs1("SMTP_CHECK {\n    helo_name %s\n}" % ("h" * n))))
# braces glued inside a word
for w in ["a{2,1}", "a{2}", "/x{y}", "a}b", "a{b", '"a{2}"']:
    add("brace-in-word", "regex " + w,
        vs("", rs1("HTTP_GET {\n    url {\n        path /\n        regex %s\n    }\n}" % w)))
    add("brace-in-word", "helo_name " + w, vs("", rs1("SMTP_CHECK {\n    helo_name %s\n}" % w)))
# weight 0 / quorum / hysteresis with several real servers
two = lambda w1, w2: [("198.51.100.21 80", "weight %s\nTCP_CHECK {\n}" % w1), ("198.51.100.22 80", "weight %s\nTCP_CHECK {\n}" % w2)]
add("weight", "weight 0 + weight 1", vs("", two(0, 1)))
add("weight", "weight 0 + weight 0", vs("", two(0, 0)))
add("weight", "weight 0 + weight 0, quorum 1 omitted; sorry_server", vs("sorry_server 203.0.113.60 80", two(0, 0)))
add("quorum", "quorum 2, weights 1+1", vs("quorum 2", two(1, 1)))
add("quorum", "quorum 3, weights 1+1", vs("quorum 3", two(1, 1)))
add("quorum", "quorum 2, weights 1+1, hysteresis 1", vs("quorum 2\nhysteresis 1", two(1, 1)))
add("quorum", "quorum 2, weights 1+1, hysteresis 2", vs("quorum 2\nhysteresis 2", two(1, 1)))
add("quorum", "quorum 1, hysteresis 0", vs("quorum 1\nhysteresis 0", two(1, 1)))
add("hysteresis", "hysteresis 1 (default quorum 1), 2 RS", vs("hysteresis 1", two(1, 1)))
add("quorum", "quorum 5, weights 3+3", vs("quorum 5", two(3, 3)))
add("quorum", "quorum 7, weights 3+3", vs("quorum 7", two(3, 3)))
add("quorum", "quorum 5 no real servers weight (rs without weight) x2", vs("quorum 5", [("198.51.100.21 80", ""), ("198.51.100.22 80", "")]))
# sorry_server_inhibit position
add("sorry_server_inhibit", "after sorry_server", vs("sorry_server 203.0.113.60 80\nsorry_server_inhibit", rs1()))
add("sorry_server_inhibit", "before sorry_server", vs("sorry_server_inhibit\nsorry_server 203.0.113.60 80", rs1()))
add("sorry_server", "sorry_server without port", vs("sorry_server 203.0.113.60", rs1()))
add("sorry_server", "ipv6 sorry in ipv6 VS", vs("sorry_server 2001:db8::60 80", rs1(hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("sorry_server", "ipv4 sorry in ipv6 VS", vs("sorry_server 203.0.113.60 80", rs1(hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
# scheduler flags vs scheduler
for sched, flag in [("sh", "sh-port"), ("sh", "sh-fallback"), ("mh", "mh-port"), ("mh", "mh-fallback"),
                    ("mh", "sh-port"), ("sh", "mh-port"), ("rr", "flag-1"), ("wlc", "sh-port"), ("rr", "mh-fallback")]:
    add("sched-flag", "%s with %s" % (flag, sched), vs(flag, rs1(), sched=sched))
# address families
add("real_server", "ipv4 RS in ipv6 VS", vs("", rs1(hdr="198.51.100.21 80"), addr="2001:db8::10 80"))
add("real_server", "ipv6 RS in ipv4 VS", vs("", rs1(hdr="2001:db8::21 80")))
add("real_server", "RS with /32", vs("", rs1(hdr="198.51.100.21/32 80")))
add("real_server", "RS with /24", vs("", rs1(hdr="198.51.100.21/24 80")))
add("real_server", "RS ipv6 with /128 in ipv6 VS", vs("", rs1(hdr="2001:db8::21/128 80"), addr="2001:db8::10 80"))
add("virtual_server", "VS with /32", vs("", rs1(), addr="192.0.2.10/32 80"))
add("ip_family", "inet6 on ipv6 VS", vs("ip_family inet6", rs1(hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("ip_family", "inet on ipv6 VS", vs("ip_family inet", rs1(hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("ip_family", "inet6 on fwmark VS", vs("ip_family inet6", rs1(hdr="2001:db8::21"), addr="fwmark 1", proto=None))
add("ip_family", "inet6 on fwmark VS with ipv4 RS", vs("ip_family inet6", rs1(hdr="198.51.100.21"), addr="fwmark 1", proto=None))
for g in ["64", "128", "ffff:ffff:ffff:ffff::", "255.255.255.0", "0", "129"]:
    add("persistence_granularity", "ipv6 VS granularity " + g,
        vs("persistence_timeout 60\npersistence_granularity " + g, rs1(hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
for g in ["0", "33", "129", "200", "255", "256"]:
    add("persistence_granularity", "ipv4 VS granularity " + g, vs("persistence_granularity " + g, rs1()))
# checker addresses
add("connect_ip", "fe80::1 with bind_if eth0", vs("", rs1("TCP_CHECK {\n    connect_ip fe80::1\n    bind_if eth0\n}")))
add("connect_ip", "fe80::1 with bind_if before", vs("", rs1("TCP_CHECK {\n    bind_if eth0\n    connect_ip fe80::1\n}")))
add("bindto", "ipv6 bindto + ipv6 connect_ip", vs("", rs1("TCP_CHECK {\n    connect_ip 2001:db8::21\n    bindto 2001:db8::1\n}")))
add("bindto", "ipv6 bindto before ipv6 connect_ip", vs("", rs1("TCP_CHECK {\n    bindto 2001:db8::1\n    connect_ip 2001:db8::21\n}")))
add("bindto", "ipv6 bindto in ipv6 RS", vs("", rs1("TCP_CHECK {\n    bindto 2001:db8::1\n}", hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("bindto", "ipv4 bindto in ipv6 RS", vs("", rs1("TCP_CHECK {\n    bindto 198.51.100.1\n}", hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("bindto", "fe80 bindto + bind_if in ipv6 RS", vs("", rs1("TCP_CHECK {\n    bindto fe80::1\n    bind_if eth0\n}", hdr="2001:db8::21 80"), addr="2001:db8::10 80"))
add("connect_ip", "connect_ip /24", vs("", rs1("TCP_CHECK {\n    connect_ip 198.51.100.21/24\n}")))
add("connect_ip", "connect_ip /33", vs("", rs1("TCP_CHECK {\n    connect_ip 198.51.100.21/33\n}")))
add("bindto", "bindto /24", vs("", rs1("TCP_CHECK {\n    bindto 198.51.100.1/24\n}")))
for n in [15, 16]:
    add("bind_if", "bind_if name length %d" % n, vs("", rs1("TCP_CHECK {\n    bind_if %s\n}" % ("e" * n))))
# retry 0 at each level
add("retry", "retry 0 in checker", vs("", rs1("TCP_CHECK {\n    retry 0\n}")))
add("retry", "retry 0 in real_server", vs("", rs1(extra="retry 0")))
add("retry", "retry 0 in virtual_server", vs("retry 0", rs1()))
# timers: connect_timeout max at each level, big delay_loop
for lvl in ["chk", "rs", "vs"]:
    for v in ["4294.967295", "4294.967296", "4294", "3600"]:
        line = "connect_timeout " + v
        if lvl == "chk":
            add("connect_timeout", "%s %s" % (lvl, line), vs("", rs1("TCP_CHECK {\n    %s\n}" % line)))
        elif lvl == "rs":
            add("connect_timeout", "%s %s" % (lvl, line), vs("", rs1(extra=line)))
        else:
            add("connect_timeout", "%s %s" % (lvl, line), vs(line, rs1()))
for v in ["100000", "100000000", "18446744073709", "18446744073709.551614", "18446744073709.551615", "18446744073710"]:
    add("delay_loop", "delay_loop " + v, vs("delay_loop " + v, rs1()))
for v in ["100000", "18446744073709", "18446744073710", "18446744073709551615", "18446744073709551616"]:
    add("delay_before_retry", "delay_before_retry " + v, vs("", rs1("TCP_CHECK {\n    delay_before_retry %s\n}" % v)))
    add("warmup", "warmup " + v, vs("", rs1("TCP_CHECK {\n    warmup %s\n}" % v)))
for v in ["0", "4294", "3600"]:
    add("misc_timeout", "misc_timeout " + v, vs("", rs1("MISC_CHECK {\n    misc_path /bin/true\n    misc_timeout %s\n}" % v)))
# UDP reply lengths
for mn, mx in [("300", "400"), ("256", None), ("255", None), (None, "65535"), ("0", "0"), ("10", "10")]:
    body = ""
    if mn is not None:
        body += "\n    min_reply_length " + mn
    if mx is not None:
        body += "\n    max_reply_length " + mx
    add("reply_length", "min %s max %s" % (mn, mx), vs("", rs1("UDP_CHECK {%s\n}" % body), proto="UDP"))
add("reply_length", "max before min (400, 300)", vs("", rs1("UDP_CHECK {\n    max_reply_length 400\n    min_reply_length 300\n}"), proto="UDP"))
# FILE_CHECK weight range
for w in ["255", "256", "1000", "2147483647", "2147483648", "-2147483647", "-2147483648"]:
    add("FILE_CHECK weight", "weight " + w, TF + vs("", rs1("FILE_CHECK {\n    track_file tf_rs\n    weight %s\n}" % w)))
# HTTP status_code forms, url without status code
for sc in ["200,301", "200, 301", "200 ,301", "200-299,404"]:
    add("status_code", "status_code " + sc, vs("", rs1("HTTP_GET {\n    url {\n        path /\n        status_code %s\n    }\n}" % sc)))
add("status_code", "url with path only", vs("", rs1("HTTP_GET {\n    url {\n        path /\n    }\n}")))
add("status_code", "status_code with no value", vs("", rs1("HTTP_GET {\n    url {\n        path /\n        status_code\n    }\n}")))
add("regex", "regex with no value", vs("", rs1("HTTP_GET {\n    url {\n        path /\n        regex\n    }\n}")))
for hp in ["1.0", "1.0C", "1.1", "1.0c", "1.1C", "1.0K", "1.0k", "2"]:
    add("http_protocol", "http_protocol " + hp, vs("", rs1("HTTP_GET {\n    http_protocol %s\n    url {\n        path /\n    }\n}" % hp)))
# DNS names
for nm in ["a..b", "*.example.com", "_srv._tcp.example.com", ".example.com", "example..com.", "a.b.", "..",
           "-a.example.com", "a b.example.com"]:
    add("DNS name", "name " + nm, vs("", rs1("DNS_CHECK {\n    name %s\n}" % nm), proto="UDP"))
# MISC_CHECK user forms
for u in ["root", "root root", "root wheel", "root nogroup", "nosuchuser", "0", "root 0", "daemon", "nobody"]:
    add("MISC user", "user " + u, vs("", rs1("MISC_CHECK {\n    misc_path /bin/true\n    user %s\n}" % u)))
for p in ['"/bin/true" nosuchuser', '"/bin/true" root wheel', '"/bin/true" root root']:
    add("misc_path user", "misc_path " + p, vs("", rs1("MISC_CHECK {\n    misc_path %s\n}" % p)))
for p in ['"/bin/true" nosuchuser', '"/bin/true" root wheel']:
    add("notify_up user", "notify_up " + p, vs("", rs1(extra="notify_up " + p)))
    add("quorum_up user", "quorum_up " + p, vs("quorum_up " + p, rs1()))
# keywords valid elsewhere, inside the wrong checker (common table in Vigil)
for ck, kw, pr in [("MISC_CHECK", "bind_if eth0", "TCP"), ("MISC_CHECK", "connect_ip 198.51.100.21", "TCP"),
                   ("MISC_CHECK", "connect_port 80", "TCP"), ("MISC_CHECK", "bindto 198.51.100.1", "TCP"),
                   ("MISC_CHECK", "fwmark 1", "TCP"), ("MISC_CHECK", "connect_timeout 5", "TCP"),
                   ("MISC_CHECK", "retry 1", "TCP"), ("MISC_CHECK", "delay_before_retry 1", "TCP"),
                   ("MISC_CHECK", "warmup 1", "TCP"), ("MISC_CHECK", "delay_loop 5", "TCP"),
                   ("MISC_CHECK", "log_all_failures", "TCP"),
                   ("FILE_CHECK", "bind_if eth0", "TCP"), ("FILE_CHECK", "retry 1", "TCP"),
                   ("FILE_CHECK", "warmup 1", "TCP"), ("FILE_CHECK", "connect_port 80", "TCP"),
                   ("FILE_CHECK", "log_all_failures", "TCP"), ("FILE_CHECK", "delay_before_retry 1", "TCP"),
                   ("PING_CHECK", "bind_port 1000", "TCP"), ("PING_CHECK", "bindto 198.51.100.1", "TCP"),
                   ("PING_CHECK", "warmup 1", "TCP"),
                   ("DNS_CHECK", "bind_if eth0", "UDP"), ("UDP_CHECK", "bind_if eth0", "UDP"),
                   ("SMTP_CHECK", "bind_if eth0", "TCP"), ("HTTP_GET", "bind_if eth0", "TCP")]:
    pre = "    misc_path /bin/true\n" if ck == "MISC_CHECK" else "    track_file tf_rs\n" if ck == "FILE_CHECK" else \
        "    url {\n        path /\n    }\n" if ck == "HTTP_GET" else ""
    add("checker-common:" + kw.split()[0], "%s in %s" % (kw, ck),
        (TF if ck == "FILE_CHECK" else "") + vs("", rs1("%s {\n%s    %s\n}" % (ck, pre, kw)), proto=pr))
# lvs_method extra words
for m in ["NAT extra", "DR extra", "TUN extra", "NAT NAT", "DR # c"]:
    add("lvs_method", "lvs_method " + m, vs("", rs1()).replace("lvs_method NAT", "lvs_method " + m))
# empty quoted values for numbers
for kw in ["retry", "delay_before_retry", "warmup", "fwmark"]:
    add('empty-quoted', kw + ' ""', vs("", rs1('TCP_CHECK {\n    %s ""\n}' % kw)))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    with open(os.path.join(HERE, "cases2.tsv"), "w") as f:
        for i, (kw, desc, text) in enumerate(cases):
            name = "%04d" % i
            with open(os.path.join(OUT, name + ".conf"), "w") as g:
                g.write("# " + desc + "\n" + text)
            f.write("\t".join([name, kw, "full", "-", "-", desc]) + "\n")
    print(len(cases), "cases")


main()
