//! `ipvsadm-save` / `ipvsadm -Sn` output to keepalived virtual_server blocks.
//!
//! [`parse`] replays the rules (`-A`/`-E`/`-D` services, `-a`/`-e`/`-d` real servers, `-C`)
//! into a table, the way ipvsadm would build it; [`convert`] writes that table.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use super::emit::Item;
use super::{service_port, Checksum, Conversion, Issue, Method, Severity, TunKind, SCHEDULERS};

/// What a service is reached by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvcKey {
    Tcp(IpAddr, u16),
    Udp(IpAddr, u16),
    Sctp(IpAddr, u16),
    Fwmark { mark: u32, v6: bool },
}

/// One IPVS service and its destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub key: SvcKey,
    pub scheduler: String,
    /// IP_VS_SVC_F_SCHED1..3 (`flag-1..3`; `sh-fallback`/`mh-fallback` is 1, `sh-port`/`mh-port` 2).
    pub flags: [bool; 3],
    pub persistent: Option<u32>,
    /// `-M`: a dotted IPv4 netmask, or an IPv6 prefix length.
    pub netmask: Option<String>,
    pub pe: Option<String>,
    pub ops: bool,
    pub dests: Vec<Dest>,
    pub line: usize,
    pub text: String,
}

/// One real server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub ip: IpAddr,
    pub port: u16,
    pub method: Method,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub line: usize,
    pub text: String,
}

/// `--check`: the checker added to every real server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Tcp,
    Http(String),
}

impl FromStr for Check {
    type Err = String;

    fn from_str(s: &str) -> Result<Check, String> {
        match s.split_once(':') {
            None if s == "tcp" => Ok(Check::Tcp),
            Some(("http", path)) if path.starts_with('/') && super::emit::writable(path) => {
                Ok(Check::Http(path.into()))
            }
            _ => Err(format!("'{s}' is not tcp or http:/PATH")),
        }
    }
}

/// ipvsadm's default persistence timeout (`-p` without a value).
const DEFAULT_PERSISTENT: u32 = 300;

/// `IP:PORT`, `[V6]:PORT`, or an address alone (port 0); service names as ipvsadm -S prints
/// them without -n.
fn address(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (a, rest) = inner.split_once(']').ok_or_else(|| format!("'{s}' lacks the closing ']'"))?;
        (a, rest.strip_prefix(':'))
    } else if s.matches(':').count() > 1 {
        (s, None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let ip = host
        .parse::<IpAddr>()
        .map_err(|_| format!("'{host}' is not an address (save with -n, or write the address)"))?;
    let port = port.map(|p| service_port(p).ok_or_else(|| format!("unknown port '{p}'"))).transpose()?;
    Ok((ip, port))
}

/// The options of one rule line.
#[derive(Debug, Default)]
struct Rule {
    service: Option<SvcKey>,
    v6: bool,
    scheduler: Option<String>,
    flags: Option<[bool; 3]>,
    persistent: Option<u32>,
    netmask: Option<String>,
    pe: Option<String>,
    ops: bool,
    real: Option<(IpAddr, Option<u16>)>,
    method: Option<Method>,
    weight: Option<u32>,
    u_threshold: Option<u32>,
    l_threshold: Option<u32>,
    tun_kind: Option<TunKind>,
    tun_port: Option<u16>,
    tun_csum: Option<Checksum>,
}

fn flags(value: &str) -> Result<[bool; 3], String> {
    let mut f = [false; 3];
    for name in value.split(',') {
        match name {
            "flag-1" | "sh-fallback" | "mh-fallback" => f[0] = true,
            "flag-2" | "sh-port" | "mh-port" => f[1] = true,
            "flag-3" => f[2] = true,
            other => return Err(format!("unknown scheduler flag '{other}'")),
        }
    }
    Ok(f)
}

fn rule(words: &[&str]) -> Result<Rule, String> {
    let mut r = Rule::default();
    let mut i = 0;
    let value = |i: &mut usize, opt: &str| -> Result<String, String> {
        *i += 1;
        words.get(*i).map(|w| w.to_string()).ok_or_else(|| format!("{opt} needs a value"))
    };
    let num = |v: &str, opt: &str| v.parse::<u32>().map_err(|_| format!("{opt} '{v}' is not a number"));
    while i < words.len() {
        let opt = words[i];
        match opt {
            "-t" | "--tcp-service" | "-u" | "--udp-service" | "--sctp-service" => {
                let v = value(&mut i, opt)?;
                let (ip, port) = address(&v)?;
                let port = port.unwrap_or(0);
                r.service = Some(match opt {
                    "-t" | "--tcp-service" => SvcKey::Tcp(ip, port),
                    "-u" | "--udp-service" => SvcKey::Udp(ip, port),
                    _ => SvcKey::Sctp(ip, port),
                });
            }
            "-f" | "--fwmark-service" => {
                let v = value(&mut i, opt)?;
                let mark = num(&v, opt)?;
                r.service = Some(SvcKey::Fwmark { mark, v6: false });
            }
            "-6" | "--ipv6" => r.v6 = true,
            "-s" | "--scheduler" => r.scheduler = Some(value(&mut i, opt)?),
            "-b" | "--sched-flags" => r.flags = Some(flags(&value(&mut i, opt)?)?),
            "-p" | "--persistent" => {
                // The timeout is optional on ipvsadm's command line.
                match words.get(i + 1).filter(|w| !w.starts_with('-')) {
                    Some(w) => {
                        r.persistent = Some(num(w, opt)?);
                        i += 1;
                    }
                    None => r.persistent = Some(DEFAULT_PERSISTENT),
                }
            }
            "-M" | "--netmask" => r.netmask = Some(value(&mut i, opt)?),
            "--pe" => r.pe = Some(value(&mut i, opt)?),
            "-o" | "-O" | "--ops" | "ops" => r.ops = true,
            "-r" | "--real-server" => r.real = Some(address(&value(&mut i, opt)?)?),
            "-g" | "--gatewaying" => r.method = Some(Method::Dr),
            "-m" | "--masquerading" => r.method = Some(Method::Nat),
            "-i" | "--ipip" => r.method = Some(Method::TUN),
            "-w" | "--weight" => r.weight = Some(num(&value(&mut i, opt)?, opt)?),
            "-x" | "--u-threshold" => r.u_threshold = Some(num(&value(&mut i, opt)?, opt)?),
            "-y" | "--l-threshold" => r.l_threshold = Some(num(&value(&mut i, opt)?, opt)?),
            "--tun-type" => {
                r.tun_kind = Some(match value(&mut i, opt)?.as_str() {
                    "ipip" => TunKind::Ipip,
                    "gue" => TunKind::Gue,
                    "gre" => TunKind::Gre,
                    other => return Err(format!("unknown tunnel type '{other}'")),
                })
            }
            "--tun-port" => {
                let v = value(&mut i, opt)?;
                r.tun_port = Some(v.parse::<u16>().map_err(|_| format!("--tun-port '{v}' is not a port"))?);
            }
            "--tun-nocsum" => r.tun_csum = Some(Checksum::None),
            "--tun-csum" => r.tun_csum = Some(Checksum::On),
            "--tun-remcsum" => r.tun_csum = Some(Checksum::Remote),
            other => return Err(format!("unknown option '{other}'")),
        }
        i += 1;
    }
    if let (Some(SvcKey::Fwmark { v6, .. }), true) = (r.service.as_mut(), r.v6) {
        *v6 = true;
    }
    if let Some(Method::Tun { .. }) = r.method {
        r.method = Some(Method::Tun {
            kind: r.tun_kind.unwrap_or_default(),
            port: r.tun_port.unwrap_or(0),
            csum: r.tun_csum.unwrap_or_default(),
        });
    }
    Ok(r)
}

/// The table the rules build.
pub fn parse(text: &str) -> (Vec<Service>, Vec<Issue>) {
    let mut table: Vec<Service> = Vec::new();
    let mut issues = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let words: Vec<&str> = raw.split_whitespace().collect();
        let Some((&cmd, rest)) = words.split_first() else { continue };
        if cmd.starts_with('#') {
            continue;
        }
        let mut drop = |why: String| issues.push(Issue::new(line, Severity::Dropped, why));
        let r = match rule(rest) {
            Ok(r) => r,
            Err(e) => {
                drop(format!("rule not converted: {e}"));
                continue;
            }
        };
        if matches!(cmd, "-C" | "--clear") {
            table.clear();
            continue;
        }
        let Some(key) = r.service else {
            drop("no service (-t, -u, --sctp-service or -f)".into());
            continue;
        };
        // A real server line names an IPv6 fwmark service with -6 as its service line does; one
        // without it still finds the service by the real server's family.
        let found = table.iter().position(|s| s.key == key).or_else(|| match (key, r.real) {
            (SvcKey::Fwmark { mark, v6: false }, Some((ip, _))) if ip.is_ipv6() => {
                table.iter().position(|s| s.key == SvcKey::Fwmark { mark, v6: true })
            }
            _ => None,
        });
        match cmd {
            "-A" | "--add-service" | "-E" | "--edit-service" => {
                let adding = matches!(cmd, "-A" | "--add-service");
                let svc = match (found, adding) {
                    (Some(_), true) => {
                        drop("the service exists already (ipvsadm refuses this rule)".into());
                        continue;
                    }
                    (None, false) => {
                        drop("no such service to edit".into());
                        continue;
                    }
                    (Some(i), false) => &mut table[i],
                    (None, true) => {
                        table.push(Service {
                            key,
                            scheduler: "wlc".into(),
                            flags: [false; 3],
                            persistent: None,
                            netmask: None,
                            pe: None,
                            ops: false,
                            dests: Vec::new(),
                            line,
                            text: raw.trim().to_string(),
                        });
                        table.last_mut().expect("just pushed")
                    }
                };
                if let Some(s) = r.scheduler {
                    svc.scheduler = s;
                }
                if let Some(f) = r.flags {
                    svc.flags = f;
                }
                svc.persistent = r.persistent.or(if adding { None } else { svc.persistent });
                svc.netmask = r.netmask.or(if adding { None } else { svc.netmask.take() });
                svc.pe = r.pe.or(if adding { None } else { svc.pe.take() });
                svc.ops = r.ops || (!adding && svc.ops);
            }
            "-D" | "--delete-service" => match found {
                Some(i) => {
                    table.remove(i);
                }
                None => drop("no such service to delete".into()),
            },
            "-a" | "--add-server" | "-e" | "--edit-server" | "-d" | "--delete-server" => {
                let Some(i) = found else {
                    drop("the real server's service is not defined above".into());
                    continue;
                };
                let Some((ip, port)) = r.real else {
                    drop("no real server (-r)".into());
                    continue;
                };
                let svc = &mut table[i];
                let port = port.unwrap_or(match svc.key {
                    SvcKey::Tcp(_, p) | SvcKey::Udp(_, p) | SvcKey::Sctp(_, p) => p,
                    SvcKey::Fwmark { .. } => 0,
                });
                let at = svc.dests.iter().position(|d| d.ip == ip && d.port == port);
                match (cmd, at) {
                    ("-a" | "--add-server", Some(_)) => drop("the real server exists already".into()),
                    ("-a" | "--add-server", None) => svc.dests.push(Dest {
                        ip,
                        port,
                        method: r.method.unwrap_or(Method::Dr),
                        weight: r.weight.unwrap_or(1),
                        u_threshold: r.u_threshold.unwrap_or(0),
                        l_threshold: r.l_threshold.unwrap_or(0),
                        line,
                        text: raw.trim().to_string(),
                    }),
                    ("-e" | "--edit-server", Some(j)) => {
                        let d = &mut svc.dests[j];
                        d.method = r.method.unwrap_or(d.method);
                        d.weight = r.weight.unwrap_or(d.weight);
                        d.u_threshold = r.u_threshold.unwrap_or(d.u_threshold);
                        d.l_threshold = r.l_threshold.unwrap_or(d.l_threshold);
                    }
                    (_, Some(j)) => {
                        svc.dests.remove(j);
                    }
                    (_, None) => drop("no such real server".into()),
                }
            }
            other => drop(format!("unknown command '{other}'")),
        }
    }
    (table, issues)
}

/// The keepalived flag keywords for a scheduler's flag bits (keepalived names them after sh
/// and mh for those schedulers).
fn flag_names(scheduler: &str) -> [&'static str; 3] {
    match scheduler {
        "sh" => ["sh-fallback", "sh-port", "flag-3"],
        "mh" => ["mh-fallback", "mh-port", "flag-3"],
        _ => ["flag-1", "flag-2", "flag-3"],
    }
}

fn method_line(keyword: &str, m: Method) -> Item {
    let mut w = vec![keyword.to_string()];
    w.extend(m.words());
    Item::Line(w)
}

/// keepalived.conf virtual_server blocks for a saved table; `check` adds a checker to every
/// real server.
pub fn convert(file: &str, text: &str, check: Option<&Check>) -> Conversion {
    let (table, mut issues) = parse(text);
    let mut items = vec![Item::comment(format!("virtual servers converted from {file} by vigilctl import ipvsadm"))];
    for svc in &table {
        let line = svc.line;
        if svc.dests.is_empty() {
            issues.push(Issue::new(
                line,
                Severity::Dropped,
                "service without real servers: keepalived ignores such a virtual_server, so it is not written",
            ));
            continue;
        }
        let mut body = Vec::new();
        if !SCHEDULERS.contains(&svc.scheduler.as_str()) {
            issues.push(Issue::new(
                line,
                Severity::Dropped,
                format!("scheduler '{}' is not one keepalived knows; wlc is used", svc.scheduler),
            ));
        }
        let sched = if SCHEDULERS.contains(&svc.scheduler.as_str()) { svc.scheduler.as_str() } else { "wlc" };
        body.push(Item::line(&["lvs_sched", sched]));
        for (on, name) in svc.flags.iter().zip(flag_names(sched)) {
            if *on {
                body.push(Item::line(&[name]));
            }
        }
        let method = Method::most_common(svc.dests.iter().map(|d| d.method)).unwrap_or(Method::Dr);
        body.push(method_line("lvs_method", method));
        let words: Vec<String> = match svc.key {
            SvcKey::Tcp(ip, port) | SvcKey::Udp(ip, port) | SvcKey::Sctp(ip, port) => {
                let proto = match svc.key {
                    SvcKey::Tcp(..) => "TCP",
                    SvcKey::Udp(..) => "UDP",
                    _ => "SCTP",
                };
                body.push(Item::line(&["protocol", proto]));
                vec!["virtual_server".into(), ip.to_string(), port.to_string()]
            }
            SvcKey::Fwmark { mark, v6 } => {
                if v6 {
                    body.push(Item::line(&["ip_family", "inet6"]));
                }
                vec!["virtual_server".into(), "fwmark".into(), mark.to_string()]
            }
        };
        if let Some(p) = svc.persistent {
            body.push(Item::line(&["persistence_timeout".to_string(), p.to_string()]));
        }
        if let Some(mask) = &svc.netmask {
            let full = mask == "128" || mask.parse::<Ipv4Addr>().is_ok_and(|m| m.is_broadcast());
            if svc.persistent.is_none() {
                issues.push(Issue::new(
                    line,
                    Severity::Note,
                    "-M: the netmask applies to persistent services only; ignored",
                ));
            } else if !full {
                body.push(Item::line(&["persistence_granularity", mask.as_str()]));
            }
        }
        if let Some(pe) = &svc.pe {
            body.push(Item::line(&["persistence_engine", pe.as_str()]));
        }
        if svc.ops {
            if matches!(svc.key, SvcKey::Udp(..)) {
                body.push(Item::line(&["ops"]));
            } else {
                issues.push(Issue::new(
                    line,
                    Severity::Dropped,
                    "one-packet scheduling: keepalived takes ops for UDP services only",
                ));
            }
        }
        let fwmark = matches!(svc.key, SvcKey::Fwmark { .. });
        for d in &svc.dests {
            let mut rs = vec![Item::line(&["weight".to_string(), d.weight.to_string()])];
            if d.method != method {
                rs.push(method_line("lvs_method", d.method));
            }
            if d.u_threshold > 0 {
                rs.push(Item::line(&["uthreshold".to_string(), d.u_threshold.to_string()]));
            }
            if d.l_threshold > 0 {
                rs.push(Item::line(&["lthreshold".to_string(), d.l_threshold.to_string()]));
            }
            match (check, d.port) {
                (None, _) => {}
                (Some(_), 0) => issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!("--check: real server {} has no port to check; add connect_port by hand", d.ip),
                )),
                (Some(check), port) => {
                    // A fwmark service's real_server has no port (keepalived ignores it there),
                    // so the checker names it.
                    let mut inner = Vec::new();
                    if fwmark {
                        inner.push(Item::line(&["connect_port".to_string(), port.to_string()]));
                    }
                    rs.push(match check {
                        Check::Tcp => Item::block(&["TCP_CHECK"], inner),
                        Check::Http(path) => {
                            inner.insert(0, Item::block(&["url"], vec![Item::line(&["path", path.as_str()])]));
                            Item::block(&["HTTP_GET"], inner)
                        }
                    });
                }
            }
            if fwmark && d.port != 0 {
                issues.push(Issue::new(
                    d.line,
                    Severity::Dropped,
                    format!(
                        "real server {}: port {} under a fwmark service: keepalived.conf cannot carry it (keepalived clears it), so it is programmed as port 0",
                        d.ip, d.port
                    ),
                ));
            }
            body.push(Item::comment(format!("{file}:{}: {}", d.line, d.text)));
            let mut head = vec!["real_server".to_string(), d.ip.to_string()];
            if !fwmark {
                head.push(d.port.to_string());
            }
            body.push(Item::Block(head, rs));
        }
        items.push(Item::comment(format!("{file}:{line}: {}", svc.text)));
        items.push(Item::Block(words, body));
    }
    issues.sort_by_key(|i| i.line);
    Conversion { items, issues }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_config::model::{Forwarding, Protocol, Tunnel, TunnelChecksum, TunnelKind, VirtualServer, VsKey};
    use vigil_config::Options;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn rules_replay_into_a_table() {
        let text = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -g -w 1
-a -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 1
-e -t 10.0.0.1:80 -r 10.0.1.2:80 -g -w 5
-d -t 10.0.0.1:80 -r 10.0.1.1:80
-E -t 10.0.0.1:80 -s wlc -p
-A -u 10.0.0.1:53 -s rr
-D -u 10.0.0.1:53
-a -u 10.0.0.9:53 -r 10.0.1.1:53 -g
-Z -t 10.0.0.1:80
";
        let (table, issues) = parse(text);
        assert_eq!(table.len(), 1);
        let s = &table[0];
        assert_eq!((s.scheduler.as_str(), s.persistent), ("wlc", Some(DEFAULT_PERSISTENT)));
        assert_eq!(s.dests.iter().map(|d| (d.ip, d.weight)).collect::<Vec<_>>(), [(ip("10.0.1.2"), 5)]);
        let lines: Vec<usize> = issues.iter().map(|i| i.line).collect();
        assert_eq!(lines, [9, 10], "{issues:?}");
        let (table, _) = parse("-A -t 10.0.0.1:80 -s rr\n-C\n");
        assert!(table.is_empty());
    }

    #[test]
    fn options() {
        let r = rule(&["-t", "[2001:db8::1]:443", "-s", "mh", "-b", "mh-port,mh-fallback", "-p", "60", "-M", "64"])
            .expect("valid");
        assert_eq!(r.service, Some(SvcKey::Tcp(ip("2001:db8::1"), 443)));
        assert_eq!((r.flags, r.persistent, r.netmask.as_deref()), (Some([true, true, false]), Some(60), Some("64")));
        let r = rule(&[
            "-f",
            "9",
            "-6",
            "-r",
            "[2001:db8::2]:0",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-csum",
            "-w",
            "0",
            "-x",
            "10",
            "-y",
            "2",
        ])
        .expect("valid");
        assert_eq!(r.service, Some(SvcKey::Fwmark { mark: 9, v6: true }));
        assert_eq!(r.method, Some(Method::Tun { kind: TunKind::Gue, port: 6080, csum: Checksum::On }));
        assert_eq!((r.weight, r.u_threshold, r.l_threshold), (Some(0), Some(10), Some(2)));
        let r = rule(&["-u", "10.0.0.1:domain", "-o"]).expect("valid");
        assert_eq!((r.service, r.ops), (Some(SvcKey::Udp(ip("10.0.0.1"), 53)), true));
        for bad in [&["-t", "web:80"][..], &["-s"], &["-b", "fast"], &["--frobnicate"], &["--tun-type", "vxlan"]] {
            assert!(rule(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checks_parse() {
        assert_eq!("tcp".parse::<Check>(), Ok(Check::Tcp));
        assert_eq!("http:/status".parse::<Check>(), Ok(Check::Http("/status".into())));
        for bad in ["udp", "http:status", "http", "http:/a\"b"] {
            assert!(bad.parse::<Check>().is_err(), "{bad}");
        }
    }

    /// Address, port, weight, method, upper and lower thresholds.
    type RealShape = (IpAddr, u16, i32, Forwarding, Option<u32>, Option<u32>);

    /// What a service and its real servers amount to, from either side.
    #[derive(Debug, PartialEq)]
    struct Shape {
        key: VsKey,
        protocol: Protocol,
        scheduler: String,
        flags: [bool; 3],
        persistence: Option<u32>,
        granularity: Option<IpAddr>,
        ops: bool,
        pe: Option<String>,
        v6: bool,
        reals: Vec<RealShape>,
    }

    fn forwarding(m: Method) -> Forwarding {
        match m {
            Method::Nat => Forwarding::Nat,
            Method::Dr => Forwarding::Dr,
            Method::Tun { kind, port, csum } => Forwarding::Tun(Tunnel {
                kind: match kind {
                    super::TunKind::Ipip => TunnelKind::Ipip,
                    super::TunKind::Gue => TunnelKind::Gue,
                    super::TunKind::Gre => TunnelKind::Gre,
                },
                port,
                checksum: match csum {
                    Checksum::None => TunnelChecksum::NoCsum,
                    Checksum::On => TunnelChecksum::Csum,
                    Checksum::Remote => TunnelChecksum::RemCsum,
                },
            }),
        }
    }

    fn from_table(s: &Service) -> Shape {
        let (key, protocol) = match s.key {
            SvcKey::Tcp(ip, port) => (VsKey::Addr { ip, port }, Protocol::Tcp),
            SvcKey::Udp(ip, port) => (VsKey::Addr { ip, port }, Protocol::Udp),
            SvcKey::Sctp(ip, port) => (VsKey::Addr { ip, port }, Protocol::Sctp),
            // keepalived reads a fwmark service's protocol as TCP, whatever it is.
            SvcKey::Fwmark { mark, .. } => (VsKey::Fwmark { mark }, Protocol::Tcp),
        };
        let granularity = s.netmask.as_deref().map(|m| match m.parse::<u8>() {
            Ok(len) => IpAddr::from(std::net::Ipv6Addr::from(u128::MAX << (128 - u32::from(len)))),
            Err(_) => ip(m),
        });
        Shape {
            key,
            protocol,
            scheduler: s.scheduler.clone(),
            flags: s.flags,
            persistence: s.persistent,
            granularity,
            ops: s.ops,
            pe: s.pe.clone(),
            v6: matches!(s.key, SvcKey::Fwmark { v6: true, .. }),
            reals: s
                .dests
                .iter()
                .map(|d| {
                    let port = if matches!(s.key, SvcKey::Fwmark { .. }) { 0 } else { d.port };
                    let t = |v: u32| (v > 0).then_some(v);
                    (d.ip, port, d.weight as i32, forwarding(d.method), t(d.u_threshold), t(d.l_threshold))
                })
                .collect(),
        }
    }

    fn from_config(vs: &VirtualServer) -> Shape {
        Shape {
            key: vs.key.clone(),
            protocol: vs.protocol,
            scheduler: vs.scheduler.name().to_string(),
            flags: [vs.sched_flags.flag1, vs.sched_flags.flag2, vs.sched_flags.flag3],
            persistence: vs.persistence_timeout,
            granularity: vs.persistence_granularity,
            ops: vs.ops,
            pe: vs.extra().persistence_engine.clone(),
            v6: vs.ip_family == Some(6),
            reals: vs
                .real_servers
                .iter()
                .map(|r| {
                    (
                        r.ip,
                        r.port,
                        r.weight,
                        r.forwarding.unwrap_or(vs.forwarding),
                        r.extra().uthreshold,
                        r.extra().lthreshold,
                    )
                })
                .collect(),
        }
    }

    /// `ipvsadm -Sn` text (the 1.31 layout) through the importer and back through Vigil's
    /// parser gives the same services, real servers and flags.
    #[test]
    fn saved_table_round_trips_through_vigil_config() {
        let saved = "\
-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0
-a -t 192.0.2.1:80 -r 10.0.0.1:80 -g -w 2
-a -t 192.0.2.1:80 -r 10.0.0.2:80 -g -w 1 -x 500 -y 100
-a -t 192.0.2.1:80 -r 10.0.0.3:8080 -m -w 1
-A -u 192.0.2.1:53 -s rr -o
-a -u 192.0.2.1:53 -r 10.0.0.4:53 -i -w 1
-A -t 192.0.2.2:443 -s sh -b sh-fallback,sh-port
-a -t 192.0.2.2:443 -r 10.0.0.5:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum
-a -t 192.0.2.2:443 -r 10.0.0.6:443 -i -w 1 --tun-type gre --tun-csum
-A -f 7 -s mh -b mh-port
-a -f 7 -r 10.0.0.7:0 -g -w 3
-A -f 8 -6 -s lc -p 60 -M 64
-a -f 8 -6 -r [2001:db8::7]:0 -m -w 1
-A -f 9 -6 -s rr
-a -f 9 -r [2001:db8::9]:0 -g -w 1
-A -t [2001:db8::1]:443 -s wlc -p 120 --pe sip
-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 4
-A --sctp-service 192.0.2.3:3868 -s fo -b flag-3
-a --sctp-service 192.0.2.3:3868 -r 10.0.0.8:3868 -m -w 1
";
        let (table, issues) = parse(saved);
        assert!(issues.is_empty(), "{issues:?}");
        let c = convert("saved", saved, None);
        assert!(c.issues.is_empty(), "{:?}", c.issues);
        let parsed = vigil_config::parse_str("out.conf", &c.text(), &Options::default(), None);
        assert_eq!(vigil_config::exit_code(&parsed.diagnostics, false), 0, "{}\n{:?}", c.text(), parsed.diagnostics);
        let want: Vec<Shape> = table.iter().map(from_table).collect();
        let got: Vec<Shape> = parsed.config.virtual_servers.iter().map(|vs| from_config(vs)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_fwmark_real_server_port_is_reported_as_dropped() {
        let saved = "-A -f 3 -s wrr\n-a -f 3 -r 10.0.0.2:8080 -m -w 2\n-a -f 3 -r 10.0.0.3:0 -g -w 1\n";
        let c = convert("saved", saved, None);
        assert_eq!(c.issues.iter().map(|i| (i.line, i.severity)).collect::<Vec<_>>(), [(2, Severity::Dropped)]);
        assert_eq!(c.exit_code(), 1);
        let parsed = vigil_config::parse_str("out.conf", &c.text(), &Options::default(), None);
        let ports: Vec<u16> = parsed.config.virtual_servers[0].real_servers.iter().map(|r| r.port).collect();
        assert_eq!(ports, [0, 0]);
    }

    #[test]
    fn check_option_adds_a_checker() {
        let saved =
            "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 10.0.0.1:80 -g\n-A -f 3 -s rr\n-a -f 3 -r 10.0.0.2:0 -g\n";
        let c = convert("saved", saved, Some(&Check::Tcp));
        let parsed = vigil_config::parse_str("out.conf", &c.text(), &Options::default(), None);
        let counts: Vec<usize> =
            parsed.config.virtual_servers.iter().map(|v| v.real_servers[0].checkers.len()).collect();
        assert_eq!(counts, [1, 0], "the fwmark real server has no port to check");
        assert_eq!(c.issues.iter().map(|i| (i.line, i.severity)).collect::<Vec<_>>(), [(4, Severity::Dropped)]);
        assert_eq!(c.exit_code(), 1);
    }

    #[test]
    fn empty_services_are_not_written() {
        let c = convert("saved", "-A -t 192.0.2.1:80 -s rr\n", None);
        assert_eq!(c.items.len(), 1);
        assert_eq!(c.exit_code(), 1);
    }
}
