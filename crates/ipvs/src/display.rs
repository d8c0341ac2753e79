//! The listing in ipvsadm's layouts (`-Ln`, `--stats`, `--rate`, `--thresholds`,
//! `--persistent-conn`, `-Lcn`), byte for byte as ipvsadm 1.31 prints them, so scripts that
//! read ipvsadm's output can read ours.
//!
//! ipvsadm sorts services and destinations with C comparators that subtract unsigned values
//! into an `int` (so 200.0.0.1 sorts before 10.0.0.1) and glibc's merge sort; the order is
//! reproduced here from the same dump order with the same comparison and the same merge.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use serde::Serialize;

use crate::types::{DestEntry, Family, Info, ServiceEntry, ServiceFlags, ServiceKey, Stats};

/// Which columns to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `ipvsadm -Ln`.
    #[default]
    Plain,
    /// `ipvsadm -Ln --stats`.
    Stats,
    /// `ipvsadm -Ln --rate`.
    Rate,
    /// `ipvsadm -Ln --thresholds`.
    Thresholds,
    /// `ipvsadm -Ln --persistent-conn`.
    PersistentConn,
}

/// A service and its destinations, as listed.
pub type TableEntry = (ServiceEntry, Vec<DestEntry>);

/// An IPv6 address as glibc's `inet_ntop` writes it: like RFC 5952, except that an
/// IPv4-compatible address (`::a.b.c.d`) keeps its dotted quad.
fn ipv6(a: &Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let [.., a, b, c, d] = a.octets();
        return format!("::{a}.{b}.{c}.{d}");
    }
    a.to_string()
}

fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{}]:{port}", ipv6(a)),
    }
}

/// ipvsadm's comparison of two words: unsigned subtraction read as an `int`.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn words(addr: &IpAddr) -> [u32; 4] {
    let mut w = [0; 4];
    match addr {
        IpAddr::V4(a) => w[0] = u32::from(*a),
        IpAddr::V6(a) => {
            for (i, c) in a.octets().chunks(4).enumerate() {
                w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
    }
    w
}

/// ipvsadm compares addresses word by word, as many words as the first one's family has,
/// over the 16-byte union (an IPv4 address is followed by zeros).
fn cmp_addr(a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, wb) = (words(a), words(b));
    let n = if matches!(a, IpAddr::V6(_)) { 4 } else { 1 };
    (0..n).map(|i| diff(wa[i], wb[i])).find(|&r| r != 0).unwrap_or(0)
}

/// Fields of a service as libipvs holds them: fwmark, family, protocol, address, port
/// (a fwmark service has zero protocol, address and port).
fn service_fields(k: &ServiceKey) -> (u32, u16, u16, Option<IpAddr>, u16) {
    match *k {
        ServiceKey::Addr { protocol, addr, port } => (0, Family::of(&addr).raw(), protocol.raw(), Some(addr), port),
        ServiceKey::Fwmark { family, mark } => (mark, family.raw(), 0, None, 0),
    }
}

fn cmp_services(a: &ServiceKey, b: &ServiceKey) -> i32 {
    let (fa, afa, pa, addra, porta) = service_fields(a);
    let (fb, afb, pb, addrb, portb) = service_fields(b);
    let mut r = diff(fa, fb);
    if r == 0 {
        r = i32::from(afa) - i32::from(afb);
    }
    if r == 0 {
        r = i32::from(pa) - i32::from(pb);
    }
    if r == 0 {
        let zero = IpAddr::from([0u8; 4]);
        r = cmp_addr(&addra.unwrap_or(zero), &addrb.unwrap_or(zero));
    }
    if r == 0 {
        r = i32::from(porta) - i32::from(portb);
    }
    r
}

/// Destinations compare by address then port, whatever their family (kernel lab: an IPv6
/// destination of an IPv4 tunnel service sorts among the IPv4 ones by its first word).
fn cmp_dests(a: &DestEntry, b: &DestEntry) -> i32 {
    let (ka, kb) = (&a.dest.key, &b.dest.key);
    match cmp_addr(&ka.addr, &kb.addr) {
        0 => i32::from(ka.port) - i32::from(kb.port),
        r => r,
    }
}

/// glibc's `qsort` (a top-down merge sort that takes from the left run on ties), on indices,
/// so that a comparator that is not a total order gives ipvsadm's order.
fn merge_sort(idx: &mut [usize], cmp: &dyn Fn(usize, usize) -> i32) {
    let n = idx.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut idx[..n1], cmp);
    merge_sort(&mut idx[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(idx[i], idx[j]) <= 0 {
            merged.push(idx[i]);
            i += 1;
        } else {
            merged.push(idx[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&idx[i..n1]);
    merged.extend_from_slice(&idx[j..]);
    idx.copy_from_slice(&merged);
}

/// `items` in ipvsadm's order.
fn sorted<T>(items: &[T], cmp: impl Fn(&T, &T) -> i32) -> Vec<&T> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    merge_sort(&mut idx, &|a, b| cmp(&items[a], &items[b]));
    idx.into_iter().map(|i| &items[i]).collect()
}

/// ipvsadm's `print_largenum`: nine columns, with a K/M/G/T unit past 99,999,999.
fn largenum(out: &mut String, n: u64) {
    let (v, unit) = match n {
        0..100_000_000 => {
            let _ = write!(out, "{n:>9}");
            return;
        }
        100_000_000..1_000_000_000 => (n / 1_000, 'K'),
        1_000_000_000..1_000_000_000_000 => (n / 1_000_000, 'M'),
        1_000_000_000_000..1_000_000_000_000_000 => (n / 1_000_000_000, 'G'),
        _ => (n / 1_000_000_000_000, 'T'),
    };
    let _ = write!(out, "{v:>8}{unit}");
}

fn service_name(k: &ServiceKey) -> String {
    match *k {
        // ipvsadm prints the mark with %d.
        ServiceKey::Fwmark { family: Family::Inet, mark } => format!("FWM  {}", mark as i32),
        ServiceKey::Fwmark { family: Family::Inet6, mark } => format!("FWM  {} IPv6", mark as i32),
        ServiceKey::Addr { protocol, addr, port } => format!("{:<4} {}", protocol.upper(), addr_port(&addr, port)),
    }
}

/// Scheduler flag names as ipvsadm shows them: sh and mh name their two flags, the others
/// are flag-1..3 (flag-3 of sh and mh has no name and shows as nothing).
fn sched_flags(scheduler: &str, flags: ServiceFlags) -> Vec<String> {
    let named = |f: &str| -> Vec<String> {
        let mut v = Vec::new();
        if flags.has(ServiceFlags::SCHED1) {
            v.push(format!("{f}-fallback"));
        }
        if flags.has(ServiceFlags::SCHED2) {
            v.push(format!("{f}-port"));
        }
        v
    };
    match scheduler {
        "sh" | "mh" => named(scheduler),
        _ => [(ServiceFlags::SCHED1, "flag-1"), (ServiceFlags::SCHED2, "flag-2"), (ServiceFlags::SCHED3, "flag-3")]
            .into_iter()
            .filter(|(bit, _)| flags.has(*bit))
            .map(|(_, name)| name.to_owned())
            .collect(),
    }
}

/// Timeout, mask (when not a single address) and engine of a persistent service, each after
/// its word (`persistent`/`mask`/`pe` in listings, `-p`/`-M`/`--pe` in rules).
fn persistence(out: &mut String, s: &crate::types::Service, words: [&str; 3]) {
    if !s.flags.has(ServiceFlags::PERSISTENT) {
        return;
    }
    let [timeout, mask, pe_word] = words;
    let _ = write!(out, "{timeout} {}", s.timeout);
    match s.key.family() {
        Family::Inet if s.netmask != u32::MAX => {
            let _ = write!(out, "{mask} {}", std::net::Ipv4Addr::from(s.netmask));
        }
        Family::Inet6 if s.netmask != 128 => {
            let _ = write!(out, "{mask} {}", s.netmask);
        }
        _ => {}
    }
    if let Some(pe) = &s.pe_name {
        let _ = write!(out, "{pe_word} {pe}");
    }
}

fn service_line(out: &mut String, e: &ServiceEntry) {
    let s = &e.service;
    let _ = write!(out, "{} {}", service_name(&s.key), s.scheduler);
    if s.flags.0 & (ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3) != 0 {
        let _ = write!(out, " ({})", sched_flags(&s.scheduler, s.flags).join(","));
    }
    persistence(out, s, [" persistent", " mask", " pe"]);
    if s.flags.has(ServiceFlags::ONEPACKET) {
        out.push_str(" ops");
    }
    out.push('\n');
}

fn stats_cols(out: &mut String, values: [u64; 5]) {
    for v in values {
        largenum(out, v);
    }
    out.push('\n');
}

fn counters(s: &Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

fn rates(s: &Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// The whole listing, header included, as `ipvsadm -Ln` with `format`'s option prints it.
pub fn render(info: &Info, table: &[TableEntry], format: Format) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "IP Virtual Server version {info} (size={})", info.conn_tab_size);
    let first = "Prot LocalAddress:Port";
    let _ = match format {
        Format::Plain => writeln!(
            out,
            "{first} Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
        ),
        Format::Stats => writeln!(
            out,
            "{first:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        ),
        Format::Rate => writeln!(
            out,
            "{first:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        ),
        Format::Thresholds => writeln!(
            out,
            "{first:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        Format::PersistentConn => writeln!(
            out,
            "{first:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
    };
    for (svc, dests) in sorted(table, |a, b| cmp_services(&a.0.service.key, &b.0.service.key)) {
        match format {
            Format::Stats => {
                let _ = write!(out, "{:<33}", service_name(&svc.service.key));
                stats_cols(&mut out, counters(&svc.stats));
            }
            Format::Rate => {
                let _ = write!(out, "{:<33}", service_name(&svc.service.key));
                stats_cols(&mut out, rates(&svc.stats));
            }
            _ => service_line(&mut out, svc),
        }
        for d in sorted(dests, cmp_dests) {
            let name = addr_port(&d.dest.key.addr, d.dest.key.port);
            let _ = write!(out, "  -> {name:<28}");
            let _ = match format {
                Format::Plain => writeln!(
                    out,
                    " {:<7} {:<6} {:<10} {:<10}",
                    d.dest.forwarding.ipvsadm(),
                    d.dest.weight,
                    d.active_conns,
                    d.inactive_conns
                ),
                Format::Stats => {
                    stats_cols(&mut out, counters(&d.stats));
                    Ok(())
                }
                Format::Rate => {
                    let s = &d.stats;
                    let _ = write!(out, " {:>8} {:>8} {:>8}", s.cps, s.inpps, s.outpps);
                    largenum(&mut out, s.inbps);
                    largenum(&mut out, s.outbps);
                    writeln!(out)
                }
                Format::Thresholds => writeln!(
                    out,
                    " {:<10} {:<10} {:<10} {:<10}",
                    d.dest.u_threshold, d.dest.l_threshold, d.active_conns, d.inactive_conns
                ),
                Format::PersistentConn => writeln!(
                    out,
                    " {:<9} {:<11} {:<10} {:<10}",
                    d.dest.weight as u32, d.persistent_conns, d.active_conns, d.inactive_conns
                ),
            };
        }
    }
    out
}

/// A service as ipvsadm's rules name it (`-t 10.0.0.1:80`, `-f 1 -6`).
fn rule_service(k: &ServiceKey) -> String {
    match *k {
        ServiceKey::Fwmark { family: Family::Inet, mark } => format!("-f {}", mark as i32),
        ServiceKey::Fwmark { family: Family::Inet6, mark } => format!("-f {} -6", mark as i32),
        ServiceKey::Addr { protocol, addr, port } => {
            let opt = match protocol {
                crate::types::Protocol::Tcp => "-t",
                crate::types::Protocol::Udp => "-u",
                crate::types::Protocol::Sctp => "--sctp-service",
            };
            format!("{opt} {}", addr_port(&addr, port))
        }
    }
}

/// `ipvsadm -Sn`: the table as rules `ipvsadm -R` reads back. Like ipvsadm, it leaves out
/// the connection thresholds.
pub fn render_rules(table: &[TableEntry]) -> String {
    use crate::types::{Forwarding, TunnelType};
    let mut out = String::new();
    for (svc, dests) in sorted(table, |a, b| cmp_services(&a.0.service.key, &b.0.service.key)) {
        let s = &svc.service;
        let name = rule_service(&s.key);
        let _ = write!(out, "-A {name} -s {}", s.scheduler);
        persistence(&mut out, s, [" -p", " -M", " --pe"]);
        if s.flags.0 & (ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3) != 0 {
            let _ = write!(out, " -b {}", sched_flags(&s.scheduler, s.flags).join(","));
        }
        if s.flags.has(ServiceFlags::ONEPACKET) {
            out.push_str(" -o");
        }
        out.push('\n');
        for d in sorted(dests, cmp_dests) {
            let dest = &d.dest;
            let fwd = match dest.forwarding {
                Forwarding::Masq => "-m",
                Forwarding::Tunnel => "-i",
                Forwarding::DirectRoute | Forwarding::Local | Forwarding::Bypass => "-g",
            };
            let _ = write!(out, "-a {name} -r {} {fwd} -w {}", addr_port(&dest.key.addr, dest.key.port), dest.weight);
            if dest.forwarding == Forwarding::Tunnel {
                let csum = match dest.tunnel_flags {
                    f if f & TUNNEL_REMCSUM != 0 => "--tun-remcsum",
                    f if f & TUNNEL_CSUM != 0 => "--tun-csum",
                    _ => "--tun-nocsum",
                };
                let _ = match dest.tunnel_type {
                    TunnelType::IpIp => write!(out, " --tun-type ipip"),
                    TunnelType::Gue => write!(out, " --tun-type gue --tun-port {} {csum}", dest.tunnel_port),
                    TunnelType::Gre => write!(out, " --tun-type gre {csum}"),
                };
            }
            out.push('\n');
        }
    }
    out
}

/// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM` and `_REMCSUM` (`linux/ip_vs.h`).
pub const TUNNEL_CSUM: u16 = 1 << 0;
pub const TUNNEL_REMCSUM: u16 = 1 << 1;

/// `ipvsadm -L --timeout`.
pub fn render_timeouts(t: &crate::types::Timeouts) -> String {
    format!("Timeout (tcp tcpfin udp): {} {} {}\n", t.tcp, t.tcp_fin, t.udp)
}

/// `ipvsadm -L --daemon`: the master first, then the backup.
pub fn render_daemons(daemons: &[crate::types::SyncDaemon]) -> String {
    use crate::types::SyncRole;
    let mut out = String::new();
    for role in [SyncRole::Master, SyncRole::Backup] {
        for d in daemons.iter().filter(|d| d.role == role) {
            let group = d.mcast_group.map(|g| g.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "{} sync daemon (mcast={}, syncid={}, maxlen={}, group={group}, port={}, ttl={})",
                if role == SyncRole::Master { "master" } else { "backup" },
                d.interface,
                d.syncid,
                d.maxlen,
                d.mcast_port,
                d.mcast_ttl
            );
        }
    }
    out
}

/// One line of `/proc/net/ip_vs_conn`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// As the kernel names it (`TCP`, `UDP`, `SCTP`).
    pub protocol: String,
    pub client: (IpAddr, u16),
    pub virtual_addr: (IpAddr, u16),
    pub dest: (IpAddr, u16),
    pub state: String,
    /// Seconds left.
    pub expires: u32,
    /// Persistence engine and its data (`sip` and the Call-ID), if any.
    pub pe: Option<(String, String)>,
}

/// An address as the kernel writes it there: `%08X` of the IPv4 address in host order, or
/// `%pI6` (eight groups of four hex digits).
fn proc_addr(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        u32::from_str_radix(s, 16).ok().map(|v| IpAddr::V4(v.into()))
    }
}

fn proc_endpoint(addr: &str, port: &str) -> Option<(IpAddr, u16)> {
    Some((proc_addr(addr)?, u16::from_str_radix(port, 16).ok()?))
}

/// Reads `/proc/net/ip_vs_conn`'s text; lines that do not parse are skipped.
pub fn parse_connections(text: &str) -> Vec<Connection> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 9 {
                return None;
            }
            Some(Connection {
                protocol: f[0].to_owned(),
                client: proc_endpoint(f[1], f[2])?,
                virtual_addr: proc_endpoint(f[3], f[4])?,
                dest: proc_endpoint(f[5], f[6])?,
                state: f[7].to_owned(),
                expires: f[8].parse().ok()?,
                pe: match (f.get(9), f.get(10)) {
                    (Some(name), Some(data)) => Some(((*name).to_owned(), (*data).to_owned())),
                    _ => None,
                },
            })
        })
        .collect()
}

/// `ipvsadm -Lcn`.
pub fn render_connections(conns: &[Connection]) -> String {
    let mut out = String::from(
        "IPVS connection entries\npro expire state       source             virtual            destination\n",
    );
    for c in conns {
        let _ = writeln!(
            out,
            "{:<3} {:02}:{:02}  {:<11} {:<18} {:<18} {}",
            c.protocol,
            c.expires / 60,
            c.expires % 60,
            c.state,
            addr_port(&c.client.0, c.client.1),
            addr_port(&c.virtual_addr.0, c.virtual_addr.1),
            addr_port(&c.dest.0, c.dest.1)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Dest, DestKey, Forwarding, Protocol, Service, TunnelType};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn svc(key: ServiceKey, sched: &str, flags: u32, timeout: u32, netmask: Option<u32>, pe: Option<&str>) -> Service {
        let mut s = Service::new(key, sched);
        s.flags = ServiceFlags(flags | ServiceFlags::HASHED);
        s.timeout = timeout;
        if let Some(m) = netmask {
            s.netmask = m;
        }
        s.pe_name = pe.map(str::to_owned);
        s
    }

    fn key(protocol: Protocol, addr: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr { protocol, addr: ip(addr), port }
    }

    fn dest(addr: &str, port: u16, fwd: Forwarding, weight: i32) -> DestEntry {
        DestEntry {
            dest: Dest::new(DestKey { addr: ip(addr), port }, fwd, weight),
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
        }
    }

    fn entry(service: Service, dests: Vec<DestEntry>) -> TableEntry {
        (ServiceEntry { service, stats: Stats::default() }, dests)
    }

    /// The table of the kernel-lab capture behind tests/display/*.txt, in the kernel's dump
    /// order (as /proc/net/ip_vs listed it); the expected files are ipvsadm 1.31's output for it.
    fn lab_table() -> Vec<TableEntry> {
        use Forwarding::*;
        use Protocol::*;
        let p = ServiceFlags::PERSISTENT;
        let tunnel = |a: &str, t: TunnelType, port: u16, flags: u16| {
            let mut d = dest(a, 80, Tunnel, 1);
            d.dest.tunnel_type = t;
            d.dest.tunnel_port = port;
            d.dest.tunnel_flags = flags;
            d
        };
        let mut ipip = tunnel("10.0.1.3", TunnelType::IpIp, 0, 0);
        ipip.dest.u_threshold = 100;
        ipip.dest.l_threshold = 10;
        vec![
            entry(
                svc(key(Tcp, "192.168.100.200", 8080), "lblcr", 0, 0, None, None),
                vec![dest("192.168.200.200", 65535, Masq, 65535)],
            ),
            entry(
                svc(key(Tcp, "10.0.0.1", 80), "rr", 0, 0, None, None),
                vec![
                    tunnel("10.0.1.8", TunnelType::Gue, 6082, 4),
                    tunnel("10.0.1.7", TunnelType::Gre, 0, 1),
                    tunnel("10.0.1.6", TunnelType::Gue, 6081, 0),
                    tunnel("10.0.1.5", TunnelType::Gre, 0, 0),
                    tunnel("10.0.1.4", TunnelType::Gue, 6080, 0),
                    ipip,
                    dest("10.0.1.2", 80, DirectRoute, 0),
                    dest("10.0.1.1", 8080, Masq, 3),
                ],
            ),
            entry(svc(key(Tcp, "10.0.0.123", 65535), "wrr", p, 10, Some(0xff00_0000), None), vec![]),
            entry(svc(key(Udp, "2001:db8::1", 5060), "rr", p, 60, None, Some("sip")), vec![]),
            entry(
                svc(key(Tcp, "2001:db8::1", 443), "wrr", p, 60, None, Some("sip")),
                vec![dest("2001:db8:1::10", 443, Masq, 100)],
            ),
            entry(
                svc(key(Udp, "10.0.0.3", 0), "sh", p | ServiceFlags::SCHED1 | ServiceFlags::SCHED2, 360, None, None),
                vec![],
            ),
            entry(svc(key(Udp, "10.0.0.2", 53), "wlc", p, 360, Some(0xffff_ff00), None), vec![]),
            entry(svc(ServiceKey::Fwmark { family: Family::Inet, mark: 1 }, "rr", 0, 0, None, None), vec![]),
            entry(svc(ServiceKey::Fwmark { family: Family::Inet6, mark: 2 }, "lc", p, 100, Some(64), None), vec![]),
        ]
    }

    const INFO: Info = Info { version: 0x010201, conn_tab_size: 4096 };

    #[test]
    fn listings_match_ipvsadm() {
        let table = lab_table();
        for (format, want) in [
            (Format::Plain, include_str!("../tests/display/Ln.txt")),
            (Format::Stats, include_str!("../tests/display/Ln-stats.txt")),
            (Format::Rate, include_str!("../tests/display/Ln-rate.txt")),
            (Format::Thresholds, include_str!("../tests/display/Ln-thresholds.txt")),
            (Format::PersistentConn, include_str!("../tests/display/Ln-persistent-conn.txt")),
        ] {
            assert_eq!(render(&INFO, &table, format), want, "{format:?}");
        }
    }

    #[test]
    fn sort_keeps_ipvsadms_wrapping_order() {
        // Added 200.0.0.1, 10.0.0.1, 129.0.0.1: the kernel lists them newest first, and
        // ipvsadm 1.31 printed 129.0.0.1, 200.0.0.1, 10.0.0.1 (kernel lab).
        let dests: Vec<DestEntry> =
            ["129.0.0.1", "10.0.0.1", "200.0.0.1"].into_iter().map(|a| dest(a, 80, Forwarding::Masq, 1)).collect();
        let order: Vec<String> = sorted(&dests, cmp_dests).iter().map(|d| d.dest.key.addr.to_string()).collect();
        assert_eq!(order, ["129.0.0.1", "200.0.0.1", "10.0.0.1"]);
    }

    #[test]
    fn flags_and_marks_print_like_ipvsadm() {
        let mut out = String::new();
        let s = svc(
            key(Protocol::Udp, "10.0.0.10", 53),
            "nq",
            ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3,
            0,
            None,
            None,
        );
        service_line(&mut out, &ServiceEntry { service: s, stats: Stats::default() });
        let s = svc(key(Protocol::Udp, "10.0.0.7", 53), "sh", ServiceFlags::SCHED3, 0, None, None);
        service_line(&mut out, &ServiceEntry { service: s, stats: Stats::default() });
        let s = svc(
            key(Protocol::Udp, "10.0.0.5", 53),
            "rr",
            ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET,
            30,
            None,
            None,
        );
        service_line(&mut out, &ServiceEntry { service: s, stats: Stats::default() });
        let s = svc(ServiceKey::Fwmark { family: Family::Inet, mark: u32::MAX }, "rr", 0, 0, None, None);
        service_line(&mut out, &ServiceEntry { service: s, stats: Stats::default() });
        let s = svc(
            key(Protocol::Sctp, "10.0.0.4", 3868),
            "mh",
            ServiceFlags::SCHED1 | ServiceFlags::SCHED2,
            0,
            None,
            None,
        );
        service_line(&mut out, &ServiceEntry { service: s, stats: Stats::default() });
        // As ipvsadm 1.31 printed them in the kernel lab.
        assert_eq!(
            out,
            "UDP  10.0.0.10:53 nq (flag-1,flag-2,flag-3)\nUDP  10.0.0.7:53 sh ()\nUDP  10.0.0.5:53 rr persistent 30 ops\n\
             FWM  -1 rr\nSCTP 10.0.0.4:3868 mh (mh-fallback,mh-port)\n"
        );
    }

    #[test]
    fn large_numbers_get_units() {
        let mut out = String::new();
        for n in [0, 99_999_999, 100_000_000, 2_500_000_000, 7_000_000_000_000, u64::MAX] {
            largenum(&mut out, n);
        }
        assert_eq!(out, "        0 99999999  100000K    2500M    7000G18446744T");
    }

    #[test]
    fn connections_from_proc() {
        // /proc/net/ip_vs_conn and ipvsadm -Lcn after traffic through an LVS-NAT service in the lab.
        let proc = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                    TCP 0A010002 AEB0 0A010064 0050 0A020102 0050 TIME_WAIT       119\n";
        let conns = parse_connections(proc);
        assert_eq!(
            render_connections(&conns),
            "IPVS connection entries\npro expire state       source             virtual            destination\n\
             TCP 01:59  TIME_WAIT   10.1.0.2:44720     10.1.0.100:80      10.2.1.2:80\n"
        );
        let v6 = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
                  UDP 2001:0db8:0000:0000:0000:0000:0000:0002 13C4 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 \
                  2001:0db8:0001:0000:0000:0000:0000:0010 13C4 UDP             299 sip abc@host\n";
        let c = &parse_connections(v6)[0];
        assert_eq!(c.client, (ip("2001:db8::2"), 5060));
        assert_eq!(c.pe, Some(("sip".to_owned(), "abc@host".to_owned())));
    }

    #[test]
    fn ipv6_like_inet_ntop() {
        assert_eq!(ipv6(&"::1.2.3.4".parse().expect("v6")), "::1.2.3.4");
        assert_eq!(ipv6(&"::ffff:1.2.3.4".parse().expect("v6")), "::ffff:1.2.3.4");
        assert_eq!(ipv6(&"::1".parse().expect("v6")), "::1");
        assert_eq!(ipv6(&"2001:db8::1".parse().expect("v6")), "2001:db8::1");
    }
}
