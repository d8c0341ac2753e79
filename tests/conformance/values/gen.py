#!/usr/bin/env python3
"""Generate small keepalived configs that vary one LVS/checker keyword value.

Writes cases/NNNN.conf and cases.tsv (id, keyword, location, checker, proto, line).
Location: vs = virtual_server body, rs = real_server body, chk = checker body,
url = url block inside HTTP_GET, rshdr = real_server header words, vshdr = virtual_server
header words, top = extra top-level text.
"""
import os, shutil, sys

# The output directory: the first argument (run.sh passes its DIR), else this one.
HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")

INTS = ["0", "1", "5", "-1", "-0", "+5", "255", "256", "65535", "65536", "2147483647",
        "2147483648", "4294967295", "4294967296", "99999999999999999999", "1.5", "1.0",
        "0.5", "0x10", "0X1F", "010", "08", "5s", "5ms", "1e3", "abc", '""', '"5"', "5 6",
        "", " 5x", "5#c"]
TIMERS = INTS + ["0.000001", "0.0000001", "0.01", "86400", "86401", "1000000", "4294",
                 "4295", "2147483", "2147484", "1.1234567", "-0.5", ".5", "5.", "inf", "nan"]
FLAGS = ["", "yes", "no", "on", "off", "true", "false", "YES", "On", "TRUE", "1", "0",
         "maybe", '""', "yes no", "enable"]
IPS = ["198.51.100.21", "198.51.100.256", "2001:db8::21", "::1", "0.0.0.0",
       "255.255.255.255", "198.51.100.21/24", "host.example", '""', "", "198.51.100",
       "1.2.3.4.5", "::ffff:198.51.100.21", "fe80::1%eth0", "fe80::1", "198.51.100.21 extra",
       "010.1.1.1", "0x7f.0.0.1", "127.0.0.1", "[2001:db8::21]", "2001:db8::g1", "localhost"]
PORTS = ["0", "1", "80", "65535", "65536", "-1", "http", "0x50", "080", "80.5", '""', "",
         "80 81", "99999999999", "+80", "80x"]
IFACES = ["eth0", "eth1", "eth9", "lo", '""', "", "eth0 extra", "ETH0", "averyveryverylongifname",
          "eth0.100", "123"]
STRS = ["x", '""', "", "a b", '"a b"', "x y z", "www.example.com",
        "'q'", "x" * 300]

cases = []


def add(kw, loc, values, checker="TCP_CHECK", proto="TCP", fmt=None):
    for v in values:
        line = (fmt or "{kw} {v}").format(kw=kw, v=v).rstrip()
        cases.append((kw, loc, checker, proto, line))


# ---------------- checker-common timing keywords (checker, real_server, virtual_server)
for kw in ["connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop"]:
    vals = INTS if kw == "retry" else TIMERS
    add(kw, "chk", vals)
for kw in ["connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop"]:
    add(kw, "rs", ["0", "1", "-1", "1.5", "abc", "", "4294967296", "86401"])
for kw in ["connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop"]:
    add(kw, "vs", (TIMERS if kw == "delay_loop" else ["0", "1", "-1", "1.5", "abc", "", "4294967296", "86401"]))

# ---------------- checker addressing
add("connect_ip", "chk", IPS)
add("connect_port", "chk", PORTS)
add("bindto", "chk", IPS)
add("bind_port", "chk", PORTS)
add("bind_if", "chk", IFACES)
add("fwmark", "chk", INTS)
add("log_all_failures", "chk", FLAGS)
# connect_ip/bindto family combos
for ck, pr in [("UDP_CHECK", "UDP"), ("PING_CHECK", "TCP"), ("DNS_CHECK", "UDP"), ("SMTP_CHECK", "TCP")]:
    add("connect_ip", "chk", ["2001:db8::21", "198.51.100.21", "0.0.0.0"], ck, pr)
    add("bindto", "chk", ["2001:db8::1", "198.51.100.1"], ck, pr)
    add("connect_port", "chk", ["0", "65535", "65536"], ck, pr)
cases.append(("bindto+bind_if", "chk", "TCP_CHECK", "TCP", "bindto fe80::1\n            bind_if eth0"))
cases.append(("bindto+bind_if", "chk", "TCP_CHECK", "TCP", "bindto 198.51.100.1\n            bind_if eth1"))
cases.append(("connect_ip+bindto", "chk", "TCP_CHECK", "TCP", "connect_ip 2001:db8::21\n            bindto 198.51.100.1"))
cases.append(("connect_ip+bindto", "chk", "TCP_CHECK", "TCP", "connect_ip 198.51.100.21\n            bindto 2001:db8::1"))

# ---------------- real_server
add("weight", "rs", INTS)
add("inhibit_on_failure", "rs", FLAGS)
add("uthreshold", "rs", INTS)
add("lthreshold", "rs", INTS)
cases.append(("uthreshold+lthreshold", "rs", "TCP_CHECK", "TCP", "uthreshold 10\n        lthreshold 20"))
cases.append(("uthreshold+lthreshold", "rs", "TCP_CHECK", "TCP", "uthreshold 10\n        lthreshold 10"))
add("lvs_method", "rs", ["NAT", "DR", "TUN", "nat", "MASQ", "", "TUN type gre", "TUN type gue port 6080",
                         "TUN type gue", "DR extra"])
add("smtp_alert", "rs", FLAGS[:8])
add("alpha", "rs", ["", "yes", "no"])
add("virtualhost", "rs", STRS)
add("notify_up", "rs", ['"/bin/true"', "/bin/true", '""', "", '"/bin/true a b"', "/bin/true root",
                        "/bin/true root root", "/bin/true root root x", "/nonexistent/x.sh", "true"])
add("notify_down", "rs", ['"/bin/true"', '""', ""])
# real_server header
for hdr in ["198.51.100.21", "198.51.100.21 0", "198.51.100.21 65535", "198.51.100.21 65536",
            "198.51.100.21 -1", "198.51.100.21 http", "198.51.100.21 80 extra", "2001:db8::21 80",
            "198.51.100.21/32 80", "198.51.100.256 80", "host.example 80", "198.51.100.21 0x50",
            "198.51.100.21 080"]:
    cases.append(("real_server", "rshdr", "TCP_CHECK", "TCP", hdr))

# ---------------- virtual_server
SCHEDS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
          "twos", "RR", "Rr", "wlc extra", "", '""', "none", "rr,wrr"]
add("lvs_sched", "vs", SCHEDS)
add("lb_algo", "vs", ["rr", "mh", "fo", "ovf", "RR", ""])
METHODS = ["NAT", "DR", "TUN", "nat", "dr", "tun", "Nat", "MASQ", "LOCALNODE", "FULLNAT", "", '""',
           "NAT extra", "TUN type ipip", "TUN type gre", "TUN type gue port 6080", "TUN type gue",
           "TUN port 6080", "TUN type gre csum", "TUN type gre nocsum", "TUN type gue port 6080 remcsum",
           "TUN type ipip csum", "TUN type GRE", "TUN type gue port 0", "TUN type gue port 65536",
           "TUN type", "TUN bogus", "TUN type gue port 6080 csum nocsum"]
add("lvs_method", "vs", METHODS)
add("lb_kind", "vs", ["NAT", "DR", "TUN", "nat", ""])
add("protocol", "vs", ["TCP", "UDP", "SCTP", "tcp", "udp", "sctp", "Tcp", "ICMP", "", '""', "TCP UDP", "6", "17"])
add("persistence_timeout", "vs", INTS)
GRAN = ["255.255.255.0", "255.255.255.255", "0.0.0.0", "255.255.0.255", "255.0.0.0", "24", "/24", "0",
        "32", "33", "128", "129", "ffff:ffff:ffff:ffff::", "2001:db8::", "", '""', "255.255.255.0 x",
        "255.255.255.256", "-1", "1"]
add("persistence_granularity", "vs", GRAN)
cases.append(("persistence_granularity+timeout", "vs", "TCP_CHECK", "TCP",
              "persistence_timeout 60\n    persistence_granularity 255.255.255.0"))
cases.append(("persistence_granularity+timeout", "vs", "TCP_CHECK", "TCP",
              "persistence_timeout 60\n    persistence_granularity 24"))
add("persistence_engine", "vs", ["sip", "SIP", "", '""', "foo"])
add("quorum", "vs", INTS)
add("hysteresis", "vs", INTS)
cases.append(("quorum+hysteresis", "vs", "TCP_CHECK", "TCP", "quorum 2\n    hysteresis 2"))
cases.append(("quorum+hysteresis", "vs", "TCP_CHECK", "TCP", "quorum 2\n    hysteresis 3"))
cases.append(("quorum+hysteresis", "vs", "TCP_CHECK", "TCP", "quorum 5\n    hysteresis 1"))
for kw in ["alpha", "omega", "ha_suspend", "inhibit_on_failure", "sorry_server_inhibit", "ops", "smtp_alert"]:
    add(kw, "vs", FLAGS)
add("ops", "vs", ["", "yes", "no"], "UDP_CHECK", "UDP")
for kw in ["flag-1", "flag-2", "flag-3"]:
    add(kw, "vs", ["", "yes", "no"])
for kw in ["sh-port", "sh-fallback", "mh-port", "mh-fallback"]:
    add(kw, "vs", ["", "yes", "no", "maybe"])   # with lvs_sched rr (wrong scheduler)
SORRY = ["203.0.113.60 80", "203.0.113.60", "203.0.113.60 0", "203.0.113.60 65535", "203.0.113.60 65536",
         "203.0.113.60 -1", "203.0.113.60 http", "2001:db8::60 80", "203.0.113.256 80", "", '""',
         "203.0.113.60 80 extra", "host.example 80", "203.0.113.60/32 80", "192.0.2.10 80"]
add("sorry_server", "vs", SORRY)
for m in ["NAT", "DR", "TUN", "nat", "", "TUN type gre", "bogus"]:
    cases.append(("sorry_server_lvs_method", "vs", "TCP_CHECK", "TCP",
                  ("sorry_server 203.0.113.60 80\n    sorry_server_lvs_method " + m).rstrip()))
cases.append(("sorry_server_lvs_method", "vs", "TCP_CHECK", "TCP", "sorry_server_lvs_method DR"))
for kw in ["quorum_up", "quorum_down"]:
    add(kw, "vs", ['"/bin/true"', "/bin/true", '""', "", "/bin/true root", '"/bin/true a b" root root x'])
add("virtualhost", "vs", STRS)
add("ip_family", "vs", ["inet", "inet6", "INET", "ipv4", "", "inet extra"])
for hdr in ["192.0.2.10 80", "192.0.2.10", "192.0.2.10 0", "192.0.2.10 65536", "2001:db8::10 80",
            "fwmark 1", "fwmark 0", "fwmark 4294967295", "fwmark 4294967296", "fwmark -1", "fwmark 0x10",
            "fwmark", "192.0.2.10 80 extra", "192.0.2.256 80", "group"]:
    cases.append(("virtual_server", "vshdr", "TCP_CHECK", "TCP", hdr))

# ---------------- HTTP_GET / SSL_GET
for ck in ["HTTP_GET", "SSL_GET"]:
    add("path", "url", ["/", "/index.html", "", '""', "/a b", '"/a b"', "index.html", "/%20?x=1#frag",
                        "http://example.com/", "/" + "a" * 2000] if ck == "HTTP_GET" else ["/", ""], ck)
    add("status_code", "url", ["200", "200-299", "200 301", "200,301", "200-299 404", "99", "100", "599",
                               "600", "0", "1000", "299-200", "2xx", "", '""', "200-", "-200", "200-600",
                               "200.0", "0x10", "301 302 303 304 305 306 307", "200-200", "200 - 299",
                               "abc", "+200", "200-299,404"] if ck == "HTTP_GET" else ["200", "600"], ck)
    add("digest", "url", ["d41d8cd98f00b204e9800998ecf8427e", "D41D8CD98F00B204E9800998ECF8427E",
                          "d41d8cd98f00b204e9800998ecf8427", "d41d8cd98f00b204e9800998ecf8427ef",
                          "g41d8cd98f00b204e9800998ecf8427e", "", '""', "abc",
                          "d41d8cd98f00b204e9800998ecf8427e extra"] if ck == "HTTP_GET" else ["abc"], ck)
    add("virtualhost", "url", STRS if ck == "HTTP_GET" else ["x", ""], ck)
    add("regex", "url", ["foo", "^ok$", '"a b"', "(", "[", "a{2,1}", "", '""', "\\d+", "*"] if ck == "HTTP_GET" else ["("], ck)
    add("regex_no_match", "url", ["", "yes", "no"], ck)
    add("regex_options", "url", ["caseless", "", "bogus", "caseless multiline"], ck)
    add("regex_stack", "url", ["1000", "0", "", "abc"], ck)
    add("regex_min_offset", "url", ["0", "10", "-1", "abc"], ck)
    add("regex_max_offset", "url", ["0", "10", "-1", "abc"], ck)
    add("http_protocol", "chk", ["1.0", "1.1", "1.0C", "1.0K", "2", "2.0", "HTTP/1.1", "", '""', "1.1 x", "1.2", "0.9"], ck)
    add("virtualhost", "chk", STRS, ck)
    add("enable_sni", "chk", FLAGS[:8], ck)
    add("fast_recovery", "chk", FLAGS[:8], ck)
    add("connect_timeout", "chk", ["0", "1.5", "-1"], ck)
    add("connect_port", "chk", ["443", "0", "65536"], ck)
# digest + status_code together, regex + digest etc.
cases.append(("digest+status_code", "url", "HTTP_GET", "TCP", "digest d41d8cd98f00b204e9800998ecf8427e"))
cases.append(("regex+digest", "url", "HTTP_GET", "TCP",
              "regex foo\n                digest d41d8cd98f00b204e9800998ecf8427e"))

# ---------------- MISC_CHECK
add("misc_path", "chk", ["/bin/true", '"/bin/true"', '"/bin/true a b"', '""', "", "true", "/nonexistent/x.sh",
                         "/bin/true root", '"/bin/true" root root', "/bin/true extra words here",
                         "'/bin/true a'", "/tmp"], "MISC_CHECK")
add("misc_timeout", "chk", TIMERS, "MISC_CHECK")
add("misc_dynamic", "chk", FLAGS, "MISC_CHECK")
add("user", "chk", ["root", "root root", "root wheel", "root nogroup", "nosuchuser", "", '""', "0",
                    "root root x"], "MISC_CHECK")

# ---------------- SMTP_CHECK
add("helo_name", "chk", STRS + ["mail.example.com", "a..b", "-x"], "SMTP_CHECK")
add("connect_timeout", "chk", ["0", "5", "1.5"], "SMTP_CHECK")
add("retry", "chk", ["0", "3", "-1"], "SMTP_CHECK")

# ---------------- DNS_CHECK
add("type", "chk", ["A", "a", "AAAA", "aaaa", "NS", "CNAME", "SOA", "MX", "TXT", "PTR", "SRV", "ANY",
                    "AXFR", "CAA", "", '""', "A AAAA", "1", "soa"], "DNS_CHECK", "UDP")
add("name", "chk", ["example.com", "example.com.", ".", "", '""', "a b", "x" * 63 + ".com", "x" * 64 + ".com",
                    ".".join(["abcdefghi"] * 26), ".".join(["abcdefghi"] * 30), "exa_mple.com", "a..b",
                    "*.example.com", "192.0.2.1"], "DNS_CHECK", "UDP")
add("type", "chk", ["A"], "DNS_CHECK", "TCP")

# ---------------- UDP_CHECK
add("payload", "chk", ["01", "0102", "1", "abc", "0x01", "", '""', '"01 02"', "zz", "01 zz", "0A0b",
                       "00", "ff", "ff00", "01" * 100, "01" * 2000, "-1", "01-02"], "UDP_CHECK", "UDP")
add("require_reply", "chk", ["", "01", "XX", "xX01", "0x01", '""', "zz", "ff", "ff00", "01 XX 02", "X",
                             "abc"], "UDP_CHECK", "UDP")
for kw in ["min_reply_length", "max_reply_length"]:
    add(kw, "chk", INTS, "UDP_CHECK", "UDP")
for mn, mx in [("10", "5"), ("5", "10"), ("5", "5"), ("0", "0")]:
    cases.append(("min+max_reply_length", "chk", "UDP_CHECK", "UDP",
                  f"min_reply_length {mn}\n            max_reply_length {mx}"))
cases.append(("require_reply+min_reply_length", "chk", "UDP_CHECK", "UDP",
              "require_reply 0102\n            min_reply_length 10\n            max_reply_length 5"))
add("connect_timeout", "chk", ["0", "5"], "UDP_CHECK", "TCP")

# ---------------- FILE_CHECK
add("track_file", "chk", ["tf_rs", "tf_none", "", '""', "tf_rs extra", "TF_RS"], "FILE_CHECK")
for w in ["0", "1", "254", "255", "-254", "-255", "10 reverse", "10 rev", "reverse", "", "1.5", "abc",
          "10 reverse extra", "-10 reverse", "0x10"]:
    cases.append(("FILE_CHECK weight", "chk", "FILE_CHECK", "TCP", ("track_file tf_rs\n            weight " + w).rstrip()))
for extra in ["dynamic", "dynamic yes", "weight 10\n            dynamic", "weight 0 reverse"]:
    cases.append(("FILE_CHECK dynamic", "chk", "FILE_CHECK", "TCP", "track_file tf_rs\n            " + extra))
add("connect_timeout", "chk", ["5"], "FILE_CHECK", "TCP", fmt="track_file tf_rs\n            {kw} {v}")
add("delay_loop", "chk", ["5"], "FILE_CHECK", "TCP", fmt="track_file tf_rs\n            {kw} {v}")

# ---------------- PING_CHECK
add("connect_ip", "chk", ["198.51.100.21", "2001:db8::21", "host.example"], "PING_CHECK")
add("connect_port", "chk", ["80", "0"], "PING_CHECK")
add("connect_timeout", "chk", ["0", "1", "1.5", "86401"], "PING_CHECK")
add("retry", "chk", ["0", "5"], "PING_CHECK")
add("bind_if", "chk", ["eth0", "eth9"], "PING_CHECK")
add("fwmark", "chk", ["1", "0"], "PING_CHECK")
add("delay_loop", "chk", ["0", "5", "1.5"], "PING_CHECK")
add("PING_CHECK", "chk", [""], "PING_CHECK", fmt="")

# ---------------- wrong-checker keywords (valid elsewhere)
for ck, kw in [("TCP_CHECK", "misc_path /bin/true"), ("TCP_CHECK", "helo_name x"), ("PING_CHECK", "payload 01"),
               ("UDP_CHECK", "type A"), ("TCP_CHECK", "http_protocol 1.1"), ("SMTP_CHECK", "track_file tf_rs"),
               ("TCP_CHECK", "weight 5"), ("DNS_CHECK", "require_reply 01"), ("MISC_CHECK", "bind_if eth0"),
               ("FILE_CHECK", "connect_ip 198.51.100.21")]:
    pr = "UDP" if ck in ("UDP_CHECK", "DNS_CHECK") else "TCP"
    line = kw if ck != "FILE_CHECK" else "track_file tf_rs\n            " + kw
    cases.append(("wrong-checker:" + kw.split()[0], "chk", ck, pr, line))


def render(kw, loc, checker, proto, line):
    vs = {"delay_loop": "delay_loop 10", "lvs_sched": "lvs_sched rr", "lvs_method": "lvs_method NAT",
          "protocol": "protocol " + proto}
    vs_extra, rs_extra, chk_lines, url_extra = [], [], [], []
    vshdr, rshdr = "192.0.2.10 80", "198.51.100.21 80"
    first = line.split()[0] if line.split() else ""
    if loc == "vs":
        for k in list(vs):
            if first == k or (first == "lb_algo" and k == "lvs_sched") or (first == "lb_kind" and k == "lvs_method"):
                del vs[k]
        vs_extra.append(line)
    elif loc == "rs":
        rs_extra.append(line)
    elif loc == "chk":
        chk_lines.append(line)
    elif loc == "url":
        url_extra.append(line)
    elif loc == "rshdr":
        rshdr = line
    elif loc == "vshdr":
        vshdr = line
        if line.startswith("fwmark"):
            del vs["protocol"]
            rshdr = "198.51.100.21"
        if line.startswith("2001:"):
            rshdr = "2001:db8::21 80"
    # checker body defaults
    if checker in ("HTTP_GET", "SSL_GET"):
        url = {"path": "path /", "status_code": "status_code 200"}
        for u in url_extra:
            k = u.split()[0] if u.split() else ""
            url.pop(k, None)
            if k == "digest" and kw == "digest":
                url.pop("status_code", None)
        body = list(url.values()) + url_extra
        chk_lines = chk_lines + ["url {"] + ["    " + b for b in body] + ["}"]
    elif checker == "MISC_CHECK":
        if not any(l.split()[:1] == ["misc_path"] for l in chk_lines):
            chk_lines = ["misc_path /bin/true"] + chk_lines
    elif checker == "FILE_CHECK":
        if not any("track_file" in l for l in chk_lines):
            chk_lines = ["track_file tf_rs"] + chk_lines
    out = ["# kw=%s loc=%s checker=%s" % (kw, loc, checker),
           "global_defs {", "    script_user root", "    enable_script_security", "}"]
    if checker == "FILE_CHECK":
        out += ["track_file tf_rs {", '    file "/dev/null"', "}"]
    out.append("virtual_server %s {" % vshdr)
    out += ["    " + v for v in vs.values()]
    out += ["    " + v for v in vs_extra]
    out.append("    real_server %s {" % rshdr)
    out += ["        " + v for v in rs_extra]
    out.append("        %s {" % checker)
    out += ["            " + v for v in chk_lines if v != ""]
    out.append("        }")
    out += ["    }", "}", ""]
    return "\n".join(out)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    # baselines first: each checker with no variation
    base = [("BASELINE", "none", ck, pr, "") for ck, pr in
            [("TCP_CHECK", "TCP"), ("HTTP_GET", "TCP"), ("SSL_GET", "TCP"), ("MISC_CHECK", "TCP"),
             ("SMTP_CHECK", "TCP"), ("DNS_CHECK", "UDP"), ("UDP_CHECK", "UDP"), ("FILE_CHECK", "TCP"),
             ("PING_CHECK", "TCP")]]
    seen, allc = set(), []
    for c in base + cases:
        key = (c[1], c[2], c[3], c[4], c[0] if c[1] in ("none",) else "")
        if key in seen:
            continue
        seen.add(key)
        allc.append(c)
    with open(os.path.join(HERE, "cases.tsv"), "w") as f:
        for i, (kw, loc, ck, pr, line) in enumerate(allc):
            name = "%04d" % i
            with open(os.path.join(OUT, name + ".conf"), "w") as g:
                g.write(render(kw, loc, ck, pr, line))
            f.write("\t".join([name, kw, loc, ck, pr, line.replace("\n", " \\n ")]) + "\n")
    print(len(allc), "cases")


main()
