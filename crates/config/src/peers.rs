//! Comparing the configurations of directors that stand in for each other, in one of two
//! [`Mode`]s:
//!
//! * a MASTER and its BACKUPs by VRRP: every difference that breaks failover (seed 004 has
//!   one: the BACKUP's virtual_server is not the MASTER's);
//! * active/active directors behind ECMP, each announcing the VIPs by BGP: the router spreads
//!   the flows and may send any packet of a flow to any director (a director lost, a rehash),
//!   so a flow survives only if every director maps it to the same real server. Every
//!   difference in the IPVS side breaks that; [`Advice`] names what else it needs that a
//!   difference does not show.
//!
//! The first configuration (A) is the reference: each other one (B, C, ...) is compared with
//! it, not with each other.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::net::IpAddr;

use crate::model::{
    Config, Forwarding, GroupMember, InitialState, Protocol, SchedFlags, Scheduler, TunnelChecksum, TunnelKind,
    VirtualServer, VrrpInstance, VsKey,
};
use crate::span::Span;

/// What the compared directors are to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A MASTER and its BACKUPs: the VRRP instances and the virtual servers are compared.
    Failover,
    /// Active/active directors behind ECMP: only the virtual servers are compared (VRRP rules
    /// such as distinct priorities do not apply), and [`Advice`] is given.
    ScaleOut,
}

/// One difference between A and another side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIssue {
    /// A stable identifier, e.g. `vip-set`.
    pub code: &'static str,
    /// The other side: the index of its configuration (A is 0, B is 1, ...).
    pub side: usize,
    /// Where on side A (when it exists there).
    pub a: Option<Span>,
    /// Where on the other side.
    pub b: Option<Span>,
    pub message: String,
}

impl fmt::Display for PeerIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |s: &Option<Span>| s.as_ref().map(ToString::to_string).unwrap_or_else(|| "-".into());
        write!(f, "{} | {}: {} [{}]", at(&self.a), at(&self.b), self.message, self.code)
    }
}

/// A recommendation for active/active directors: not a difference between them, so it does
/// not make the check fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    /// A stable identifier, none of [`PeerIssue`]'s codes, e.g. `scheduler-not-mh`.
    pub code: &'static str,
    /// The virtual server it is about, in the first configuration that has it; `None` when
    /// it is about every director.
    pub at: Option<Span>,
    pub message: String,
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {} [{}]", self.message, self.code),
            None => write!(f, "{} [{}]", self.message, self.code),
        }
    }
}

/// Everything [`check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The differences from A, side after side in the order of the configurations.
    pub issues: Vec<PeerIssue>,
    /// Only in [`Mode::ScaleOut`].
    pub advice: Vec<Advice>,
}

/// How messages name configuration `index`: A, B, ..., Z, then #27, #28, ...
pub fn side_name(index: usize) -> String {
    match u8::try_from(index) {
        Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
        _ => format!("#{}", index + 1),
    }
}

/// Compares every configuration after the first with the first, as `mode` says; fewer than
/// two configurations have nothing to compare.
pub fn check(configs: &[Config], mode: Mode) -> Report {
    let mut report = Report::default();
    let Some((a, others)) = configs.split_first() else { return report };
    for (k, b) in others.iter().enumerate() {
        compare_sides(a, b, &Other::new(k + 1), mode, &mut report.issues);
    }
    if mode == Mode::ScaleOut {
        report.advice = advise(configs);
    }
    report
}

/// Everything in `a` and `b` that stops them from failing over to each other (the
/// [`Mode::Failover`] comparison of two configurations).
pub fn compare(a: &Config, b: &Config) -> Vec<PeerIssue> {
    let mut out = Vec::new();
    compare_sides(a, b, &Other::new(1), Mode::Failover, &mut out);
    out
}

/// The side compared with A.
struct Other {
    index: usize,
    name: String,
}

impl Other {
    fn new(index: usize) -> Other {
        Other { index, name: side_name(index) }
    }
}

fn compare_sides(a: &Config, b: &Config, other: &Other, mode: Mode, out: &mut Vec<PeerIssue>) {
    if mode == Mode::Failover {
        compare_all_instances(a, b, other, out);
    }
    compare_virtual_servers(a, b, other, mode, out);
}

fn compare_all_instances(a: &Config, b: &Config, other: &Other, out: &mut Vec<PeerIssue>) {
    let mut matched_b = BTreeSet::new();
    for ia in &a.instances {
        let partner = b
            .instances
            .iter()
            .position(|ib| ib.name == ia.name)
            .or_else(|| b.instances.iter().position(|ib| ib.virtual_router_id == ia.virtual_router_id));
        match partner {
            Some(k) => {
                matched_b.insert(k);
                compare_instances(ia, &b.instances[k], other, out);
            }
            None => out.push(PeerIssue {
                code: "instance-missing",
                side: other.index,
                a: Some(ia.span.clone()),
                b: None,
                message: format!(
                    "({}) virtual_router_id {} has no counterpart on {}: nothing takes over its VIPs",
                    ia.name, ia.virtual_router_id, other.name
                ),
            }),
        }
    }
    for (k, ib) in b.instances.iter().enumerate() {
        if !matched_b.contains(&k) {
            out.push(PeerIssue {
                code: "instance-missing",
                side: other.index,
                a: None,
                b: Some(ib.span.clone()),
                message: format!(
                    "({}) virtual_router_id {} has no counterpart on A: nothing takes over its VIPs",
                    ib.name, ib.virtual_router_id
                ),
            });
        }
    }
}

fn compare_instances(a: &VrrpInstance, b: &VrrpInstance, other: &Other, out: &mut Vec<PeerIssue>) {
    let mut push = |code, message: String| {
        out.push(PeerIssue { code, side: other.index, a: Some(a.span.clone()), b: Some(b.span.clone()), message })
    };
    let bn = &other.name;
    let name = if a.name == b.name { format!("({})", a.name) } else { format!("({} / {})", a.name, b.name) };
    if a.virtual_router_id != b.virtual_router_id {
        push(
            "vrid",
            format!(
                "{name} virtual_router_id {} vs {}: they are different routers and both become MASTER",
                a.virtual_router_id, b.virtual_router_id
            ),
        );
    }
    if a.version != b.version {
        push(
            "version",
            format!("{name} VRRP version {} vs {}: adverts are dropped by the other side", a.version, b.version),
        );
    }
    if a.advert_int != b.advert_int {
        push(
            "advert-int",
            format!(
                "{name} advert_int {}s vs {}s: VRRPv2 peers drop each other's adverts",
                a.advert_int.as_secs_f64(),
                b.advert_int.as_secs_f64()
            ),
        );
    }
    let auth = |i: &VrrpInstance| {
        if i.version == 3 {
            None
        } else {
            i.authentication.as_ref().map(|x| (x.kind, x.pass.clone()))
        }
    };
    if auth(a) != auth(b) {
        push("authentication", format!("{name} authentication differs: adverts fail authentication on the other side"));
    }
    let vips = |i: &VrrpInstance| -> BTreeSet<(IpAddr, u8)> {
        i.virtual_ipaddress.iter().map(|v| (v.addr, v.prefix)).collect()
    };
    let (va, vb) = (vips(a), vips(b));
    if va != vb {
        let show =
            |s: BTreeSet<&(IpAddr, u8)>| s.iter().map(|(ip, p)| format!("{ip}/{p}")).collect::<Vec<_>>().join(" ");
        push(
            "vip-set",
            format!(
                "{name} virtual_ipaddress differs: only on A: [{}], only on {bn}: [{}]",
                show(va.difference(&vb).collect()),
                show(vb.difference(&va).collect())
            ),
        );
    }
    match (a.unicast_peer.is_empty(), b.unicast_peer.is_empty()) {
        (true, true) => {}
        (false, true) | (true, false) => push(
            "unicast-mode",
            format!("{name} one side sends unicast (unicast_peer) and the other multicast: neither hears the other"),
        ),
        (false, false) => {
            let points_at = |from: &VrrpInstance, to: &VrrpInstance| match to.unicast_src_ip {
                Some(src) => from.unicast_peer.iter().any(|p| p.addr == src),
                None => true,
            };
            if !points_at(a, b) {
                push("unicast-peer", format!("{name} A's unicast_peer does not list {bn}'s unicast_src_ip"));
            }
            if !points_at(b, a) {
                push("unicast-peer", format!("{name} {bn}'s unicast_peer does not list A's unicast_src_ip"));
            }
        }
    }
    if a.priority == b.priority {
        push(
            "priority-tie",
            format!(
                "{name} both have priority {}: the MASTER is chosen by the higher primary IP address, not by the config",
                a.priority
            ),
        );
    } else {
        let (hi, lo) = if a.priority > b.priority { (a, b) } else { (b, a) };
        if lo.state == InitialState::Master && hi.state == InitialState::Backup {
            push(
                "priority-order",
                format!(
                    "{name} the side with state MASTER has the lower priority ({} < {}): the other side takes over",
                    lo.priority, hi.priority
                ),
            );
        }
    }
    if a.state == InitialState::Master && b.state == InitialState::Master && a.nopreempt && b.nopreempt {
        push("state", format!("{name} both sides start as MASTER with nopreempt"));
    }
}

fn vs_label(vs: &VirtualServer) -> String {
    match &vs.key {
        VsKey::Addr { ip, port } => format!("virtual_server {ip} {port}"),
        VsKey::Fwmark { mark } => format!("virtual_server fwmark {mark}"),
        VsKey::Group { name } => format!("virtual_server group {name}"),
    }
}

/// A hint when a virtual server's address is none of its own side's VIPs (a typo, usually).
fn not_a_vip(side: &Config, vs: &VirtualServer) -> String {
    let VsKey::Addr { ip, .. } = vs.key else { return String::new() };
    let vips: Vec<IpAddr> = side.instances.iter().flat_map(|i| &i.virtual_ipaddress).map(|v| v.addr).collect();
    if vips.is_empty() || vips.contains(&ip) {
        return String::new();
    }
    let shown: Vec<String> = vips.iter().map(ToString::to_string).collect();
    format!("; {ip} is not one of that side's VIPs ({})", shown.join(", "))
}

fn compare_virtual_servers(a: &Config, b: &Config, other: &Other, mode: Mode, out: &mut Vec<PeerIssue>) {
    let find = |c: &Config, vs: &VirtualServer| -> Option<usize> {
        c.virtual_servers.iter().position(|o| o.key == vs.key && o.protocol == vs.protocol)
    };
    let bn = &other.name;
    for vs in &a.virtual_servers {
        match find(b, vs) {
            Some(k) => compare_virtual_server(a, vs, b, &b.virtual_servers[k], other, out),
            None => out.push(PeerIssue {
                code: "virtual-server-missing",
                side: other.index,
                a: Some(vs.span.clone()),
                b: None,
                message: match mode {
                    Mode::Failover => format!(
                        "{} exists only on A: after a failover to {bn} it is no longer served{}",
                        vs_label(vs),
                        not_a_vip(a, vs)
                    ),
                    Mode::ScaleOut => format!(
                        "{} exists only on A: the flows the router sends to {bn} for it are not served{}",
                        vs_label(vs),
                        not_a_vip(a, vs)
                    ),
                },
            }),
        }
    }
    for vs in &b.virtual_servers {
        if find(a, vs).is_none() {
            out.push(PeerIssue {
                code: "virtual-server-missing",
                side: other.index,
                a: None,
                b: Some(vs.span.clone()),
                message: match mode {
                    Mode::Failover => format!(
                        "{} exists only on {bn}: A and {bn} do not serve the same services, so a failover changes what clients get{}",
                        vs_label(vs),
                        not_a_vip(b, vs)
                    ),
                    Mode::ScaleOut => format!(
                        "{} exists only on {bn}: the flows the router sends to A for it are not served{}",
                        vs_label(vs),
                        not_a_vip(b, vs)
                    ),
                },
            });
        }
    }
}

/// The settings that decide which real server a flow goes to; a difference in any of them
/// sends the same flow elsewhere on the other side (after a failover, or at once behind ECMP).
fn compare_virtual_server(
    ca: &Config,
    a: &VirtualServer,
    cb: &Config,
    b: &VirtualServer,
    other: &Other,
    out: &mut Vec<PeerIssue>,
) {
    let mut push = |code, message: String| {
        out.push(PeerIssue { code, side: other.index, a: Some(a.span.clone()), b: Some(b.span.clone()), message })
    };
    let (label, bn) = (vs_label(a), &other.name);

    let (ra, rb) = (real_servers(a), real_servers(b));
    let only = |x: &BTreeMap<(IpAddr, u16), RealSettings>, y: &BTreeMap<(IpAddr, u16), RealSettings>| {
        x.keys().filter(|k| !y.contains_key(k)).map(|(ip, port)| endpoint(*ip, *port)).collect::<Vec<_>>()
    };
    let mut rs_diff = Vec::new();
    let (only_a, only_b) = (only(&ra, &rb), only(&rb, &ra));
    if !only_a.is_empty() {
        rs_diff.push(format!("only on A: [{}]", only_a.join(" ")));
    }
    if !only_b.is_empty() {
        rs_diff.push(format!("only on {bn}: [{}]", only_b.join(" ")));
    }
    let common: Vec<(&(IpAddr, u16), &RealSettings, &RealSettings)> =
        ra.iter().filter_map(|(k, x)| rb.get(k).map(|y| (k, x, y))).collect();
    for ((ip, port), x, y) in &common {
        if x.weight != y.weight {
            rs_diff.push(format!("{} weight {} on A, {} on {bn}", endpoint(*ip, *port), x.weight, y.weight));
        }
    }
    if !rs_diff.is_empty() {
        push("real-servers", format!("{label}: real servers differ: {}", rs_diff.join("; ")));
    }

    let mut method_diff = Vec::new();
    if a.scheduler != b.scheduler {
        method_diff.push(format!("lvs_sched {} on A, {} on {bn}", a.scheduler.name(), b.scheduler.name()));
    }
    if a.forwarding != b.forwarding {
        method_diff.push(format!("lvs_method {} on A, {} on {bn}", method(a.forwarding), method(b.forwarding)));
    }
    for ((ip, port), x, y) in &common {
        // Each real server's own method, when either side sets one there; the service's
        // method difference is reported once, above.
        if x.forwarding != y.forwarding && (x.own_forwarding || y.own_forwarding) {
            method_diff.push(format!(
                "real_server {}: lvs_method {} on A, {} on {bn}",
                endpoint(*ip, *port),
                method(x.forwarding),
                method(y.forwarding)
            ));
        }
    }
    if !method_diff.is_empty() {
        push("lvs-method", format!("{label}: {}", method_diff.join("; ")));
    }

    if a.sched_flags != b.sched_flags {
        push(
            "sched-flags",
            format!(
                "{label}: scheduler flags {} on A, {} on {bn}: sh and mh hash flows differently",
                sched_flags(a.scheduler, a.sched_flags),
                sched_flags(b.scheduler, b.sched_flags)
            ),
        );
    }

    let mut persistence_diff = Vec::new();
    if a.persistence_timeout != b.persistence_timeout {
        let show = |t: Option<u32>| t.map_or_else(|| "none".to_string(), |t| format!("{t}s"));
        persistence_diff.push(format!(
            "persistence_timeout {} on A, {} on {bn}",
            show(a.persistence_timeout),
            show(b.persistence_timeout)
        ));
    }
    if a.persistence_granularity != b.persistence_granularity {
        let show = |g: Option<IpAddr>| g.map_or_else(|| "none".to_string(), |g| g.to_string());
        persistence_diff.push(format!(
            "persistence_granularity {} on A, {} on {bn}",
            show(a.persistence_granularity),
            show(b.persistence_granularity)
        ));
    }
    let (ea, eb) = (&a.extra().persistence_engine, &b.extra().persistence_engine);
    if ea != eb {
        let show = |e: &Option<String>| e.clone().unwrap_or_else(|| "none".into());
        persistence_diff.push(format!("persistence_engine {} on A, {} on {bn}", show(ea), show(eb)));
    }
    if !persistence_diff.is_empty() {
        push("persistence", format!("{label}: {}", persistence_diff.join("; ")));
    }

    if a.ops != b.ops {
        let on = if a.ops { "A" } else { bn.as_str() };
        push("ops", format!("{label}: ops (one-packet scheduling) only on {on}"));
    }

    if let (VsKey::Group { name }, VsKey::Group { .. }) = (&a.key, &b.key) {
        let (ga, gb) = (group_members(ca, name), group_members(cb, name));
        if ga != gb {
            let show = |x: &BTreeSet<Member>, y: &BTreeSet<Member>| {
                x.difference(y).map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            push(
                "group-members",
                format!(
                    "virtual_server_group {name} differs: only on A: [{}], only on {bn}: [{}]",
                    show(&ga, &gb),
                    show(&gb, &ga)
                ),
            );
        }
    }

    let sorry = |v: &VirtualServer| {
        v.extra()
            .sorry_server
            .as_ref()
            .map(|s| (s.ip, s.port, s.forwarding.unwrap_or(v.forwarding), v.sorry_server_inhibit))
    };
    if sorry(a) != sorry(b) {
        let show = |s: Option<(IpAddr, u16, Forwarding, bool)>| match s {
            Some((ip, port, fwd, inhibit)) => {
                format!("{} {}{}", endpoint(ip, port), method(fwd), if inhibit { " inhibit" } else { "" })
            }
            None => "none".into(),
        };
        push("sorry-server", format!("{label}: sorry_server {} on A, {} on {bn}", show(sorry(a)), show(sorry(b))));
    }
}

/// What a real server contributes to the mapping of flows.
struct RealSettings {
    weight: i32,
    /// Its own `lvs_method`, else the virtual server's.
    forwarding: Forwarding,
    /// Whether the real server sets `lvs_method` itself.
    own_forwarding: bool,
}

fn real_servers(vs: &VirtualServer) -> BTreeMap<(IpAddr, u16), RealSettings> {
    vs.real_servers
        .iter()
        .map(|r| {
            let settings = RealSettings {
                weight: r.weight,
                forwarding: r.forwarding.unwrap_or(vs.forwarding),
                own_forwarding: r.forwarding.is_some(),
            };
            ((r.ip, r.port), settings)
        })
        .collect()
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(_) => format!("{ip}:{port}"),
        IpAddr::V6(_) => format!("[{ip}]:{port}"),
    }
}

/// A forwarding method in keepalived's words.
fn method(f: Forwarding) -> String {
    let Forwarding::Tun(t) = f else {
        return if f == Forwarding::Dr { "DR" } else { "NAT" }.to_string();
    };
    let kind = match t.kind {
        TunnelKind::Ipip => String::new(),
        TunnelKind::Gue => format!(" type gue port {}", t.port),
        TunnelKind::Gre => " type gre".into(),
    };
    let checksum = match t.checksum {
        TunnelChecksum::NoCsum => "",
        TunnelChecksum::Csum => " csum",
        TunnelChecksum::RemCsum => " remcsum",
    };
    format!("TUN{kind}{checksum}")
}

/// The flags in keepalived's words for this scheduler (`sh-port` is flag-2 of sh).
fn sched_flags(scheduler: Scheduler, flags: SchedFlags) -> String {
    let names = match scheduler {
        Scheduler::Sh => ["sh-fallback", "sh-port", "flag-3"],
        Scheduler::Mh => ["mh-fallback", "mh-port", "flag-3"],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    let set: Vec<&str> =
        [flags.flag1, flags.flag2, flags.flag3].into_iter().zip(names).filter(|(on, _)| *on).map(|(_, n)| n).collect();
    if set.is_empty() {
        "none".into()
    } else {
        format!("[{}]", set.join(" "))
    }
}

/// A virtual_server_group entry without its position, to compare two sides by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Member {
    Range { first: IpAddr, last_octet: Option<u16>, port: u16 },
    Fwmark(u32),
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Range { first, last_octet: Some(last), port } => write!(f, "{first}-{last} {port}"),
            Member::Range { first, last_octet: None, port } => write!(f, "{first} {port}"),
            Member::Fwmark(mark) => write!(f, "fwmark {mark}"),
        }
    }
}

fn group_members(c: &Config, name: &str) -> BTreeSet<Member> {
    c.virtual_server_groups
        .iter()
        .filter(|g| g.name == name)
        .flat_map(|g| &g.members)
        .map(|m| match m {
            GroupMember::Range { first, last_octet, port, .. } => {
                Member::Range { first: *first, last_octet: *last_octet, port: *port }
            }
            GroupMember::Fwmark { mark, .. } => Member::Fwmark(*mark),
        })
        .collect()
}

/// Advice for active/active directors: about each virtual server, where it is first defined
/// (a later side that defines it otherwise has an issue already), and about what every
/// director needs.
fn advise(configs: &[Config]) -> Vec<Advice> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stateful = false;
    for vs in configs.iter().flat_map(|c| &c.virtual_servers) {
        stateful |= vs.protocol != Protocol::Udp;
        if seen.insert((&vs.key, vs.protocol)) {
            advise_virtual_server(vs, &mut out);
        }
    }
    // keepalived 2.2.7 has no keyword for these sysctls (nor does the keyword table), so they
    // are outside anything check-peers reads.
    if stateful {
        out.push(Advice {
            code: "sloppy-tcp",
            at: None,
            message:
                "on every director, set sysctl net.ipv4.vs.sloppy_tcp=1 (and net.ipv4.vs.sloppy_sctp=1 for SCTP): \
                      without it a director that gets a connection mid-stream (no SYN seen) does not schedule it, \
                      and its own stack answers with a reset; keepalived.conf has no keyword for it, so check-peers \
                      cannot see it"
                    .into(),
        });
    }
    out
}

fn advise_virtual_server(vs: &VirtualServer, out: &mut Vec<Advice>) {
    let mut push = |code, message: String| out.push(Advice { code, at: Some(vs.span.clone()), message });
    let label = vs_label(vs);
    let sched = vs.scheduler.name();
    match vs.scheduler {
        Scheduler::Mh => {}
        Scheduler::Sh | Scheduler::Dh => push(
            "scheduler-not-mh",
            format!(
                "{label}: lvs_sched {sched} maps a flow the same way on every director, but a change of the real servers \
                 (one fails, one is added) remaps most flows; mh (Maglev hashing) remaps only that server's share"
            ),
        ),
        _ => push(
            "scheduler-not-mh",
            format!(
                "{label}: lvs_sched {sched} picks a real server from this director's own state, so a flow the router \
                 moves to another director goes to another real server; mh (Maglev hashing) maps it the same way on \
                 every director without shared state"
            ),
        ),
    }
    let nat = (vs.forwarding == Forwarding::Nat && vs.real_servers.is_empty())
        || vs.real_servers.iter().any(|r| r.forwarding.unwrap_or(vs.forwarding) == Forwarding::Nat);
    if nat {
        push(
            "nat-forwarding",
            format!(
                "{label}: lvs_method NAT: the real servers send their replies to one director (their gateway), which \
                 has no connection entry for the flows the router gave the others; use DR or TUN"
            ),
        );
    }
    let hashed = matches!(vs.scheduler, Scheduler::Mh | Scheduler::Sh | Scheduler::Dh);
    if hashed && vs.real_servers.iter().any(|r| !r.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure)) {
        push(
            "inhibit-on-failure",
            format!(
                "{label}: without inhibit_on_failure a failed real server is removed, and put back at the head of \
                 IPVS's list when it recovers; {sched} builds its table in that order, so the table changes and \
                 differs between directors that saw failures in another order; inhibit_on_failure keeps the server \
                 in place with weight 0"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_str, Options};

    fn conf(name: &str, text: &str) -> Config {
        let parsed = parse_str(name, text, &Options::default(), None);
        assert!(!parsed.has_errors(), "{name}: {:#?}", parsed.diagnostics);
        parsed.config
    }

    /// A virtual server 192.0.2.10 80 with `body` (everything but its real servers) and two
    /// real servers whose blocks get `rs` each.
    fn director(name: &str, body: &str, rs: &str) -> Config {
        conf(
            name,
            &format!(
                "virtual_server 192.0.2.10 80 {{\n protocol TCP\n {body}\n \
                 real_server 198.51.100.1 80 {{\n {rs}\n TCP_CHECK {{\n }}\n }}\n \
                 real_server 198.51.100.2 80 {{\n {rs}\n TCP_CHECK {{\n }}\n }}\n}}\n"
            ),
        )
    }

    /// What [`director`] takes: the virtual server's settings and each real server's.
    type Settings<'a> = (&'a str, &'a str);

    const MH_DR: &str = "lvs_sched mh\n lvs_method DR\n inhibit_on_failure";

    fn codes(issues: &[PeerIssue]) -> Vec<&'static str> {
        issues.iter().map(|i| i.code).collect()
    }

    fn advice_codes(advice: &[Advice]) -> Vec<&'static str> {
        advice.iter().map(|a| a.code).collect()
    }

    #[test]
    fn side_names() {
        let names: Vec<String> = [0, 1, 2, 25, 26, 99].into_iter().map(side_name).collect();
        assert_eq!(names, ["A", "B", "C", "Z", "#27", "#100"]);
    }

    /// One row per setting that maps flows: the two directors differ in it alone, and exactly
    /// that code is reported, in both modes.
    #[test]
    fn each_flow_setting_is_compared() {
        let cases: [(&str, Settings, Settings, &[&str]); 14] = [
            ("same", (MH_DR, ""), (MH_DR, ""), &[]),
            ("weight", (MH_DR, ""), (MH_DR, "weight 2"), &["real-servers"]),
            ("scheduler", (MH_DR, ""), ("lvs_sched sh\n lvs_method DR\n inhibit_on_failure", ""), &["lvs-method"]),
            ("lb_algo spelling is the same", (MH_DR, ""), ("lb_algo mh\n lb_kind DR\n inhibit_on_failure", ""), &[]),
            ("forwarding", (MH_DR, ""), ("lvs_sched mh\n lvs_method TUN\n inhibit_on_failure", ""), &["lvs-method"]),
            (
                "tunnel type",
                ("lvs_sched mh\n lvs_method TUN", ""),
                ("lvs_sched mh\n lvs_method TUN type gre", ""),
                &["lvs-method"],
            ),
            ("real server's own method", (MH_DR, ""), (MH_DR, "lvs_method TUN"), &["lvs-method"]),
            ("own method equal to the service's", (MH_DR, ""), (MH_DR, "lvs_method DR"), &[]),
            ("mh-port", (MH_DR, ""), (&format!("{MH_DR}\n mh-port"), ""), &["sched-flags"]),
            ("mh-fallback", (&format!("{MH_DR}\n mh-fallback"), ""), (&format!("{MH_DR}\n flag-1"), ""), &[]),
            ("flag-3", (MH_DR, ""), (&format!("{MH_DR}\n flag-3"), ""), &["sched-flags"]),
            ("persistence", (MH_DR, ""), (&format!("{MH_DR}\n persistence_timeout 300"), ""), &["persistence"]),
            (
                "granularity",
                (&format!("{MH_DR}\n persistence_timeout 300"), ""),
                (&format!("{MH_DR}\n persistence_timeout 300\n persistence_granularity 255.255.255.0"), ""),
                &["persistence"],
            ),
            ("sorry server", (MH_DR, ""), (&format!("{MH_DR}\n sorry_server 198.51.100.9 80"), ""), &["sorry-server"]),
        ];
        for (what, (body_a, rs_a), (body_b, rs_b), want) in cases {
            let (a, b) = (director("a.conf", body_a, rs_a), director("b.conf", body_b, rs_b));
            assert_eq!(codes(&compare(&a, &b)), want, "{what}: failover");
            let report = check(&[a, b], Mode::ScaleOut);
            assert_eq!(codes(&report.issues), want, "{what}: scale-out");
        }
    }

    #[test]
    fn ops_is_compared_on_udp_services() {
        let udp = |ops: &str| {
            conf(
                "u.conf",
                &format!(
                    "virtual_server 192.0.2.10 53 {{\n protocol UDP\n lvs_sched mh\n lvs_method DR\n {ops}\n \
                     real_server 198.51.100.1 53 {{\n inhibit_on_failure\n }}\n}}\n"
                ),
            )
        };
        let report = check(&[udp(""), udp("ops")], Mode::ScaleOut);
        assert_eq!(codes(&report.issues), ["ops"]);
        // UDP only: no TCP or SCTP service, so no sloppy_tcp advice either.
        assert_eq!(report.advice, []);
    }

    #[test]
    fn real_server_sets_name_both_sides() {
        let a = director("a.conf", MH_DR, "");
        let b = conf(
            "b.conf",
            &format!(
                "virtual_server 192.0.2.10 80 {{\n protocol TCP\n {MH_DR}\n \
                 real_server 198.51.100.1 80 {{\n }}\n real_server 198.51.100.3 80 {{\n }}\n}}\n"
            ),
        );
        let issues = compare(&a, &b);
        assert_eq!(codes(&issues), ["real-servers"]);
        assert!(issues[0].message.contains("only on A: [198.51.100.2:80]"), "{}", issues[0]);
        assert!(issues[0].message.contains("only on B: [198.51.100.3:80]"), "{}", issues[0]);
    }

    #[test]
    fn group_members_are_compared() {
        let group = |members: &str| {
            conf(
                "g.conf",
                &format!(
                    "virtual_server_group WEB {{\n {members}\n}}\n\
                     virtual_server group WEB {{\n protocol TCP\n {MH_DR}\n real_server 198.51.100.1 80 {{\n }}\n}}\n"
                ),
            )
        };
        let same = group("192.0.2.10 80\n 192.0.2.11 80");
        let reordered = group("192.0.2.11 80\n 192.0.2.10 80");
        let other = group("192.0.2.10 80\n 192.0.2.12 80");
        assert_eq!(codes(&compare(&same, &reordered)), Vec::<&str>::new());
        let issues = compare(&same, &other);
        assert_eq!(codes(&issues), ["group-members"]);
        assert!(issues[0].message.contains("only on A: [192.0.2.11 80], only on B: [192.0.2.12 80]"), "{}", issues[0]);
    }

    /// Scale-out leaves VRRP out: equal priorities and a missing instance are no difference.
    #[test]
    fn scale_out_ignores_vrrp() {
        let vrrp = |prio: u8, vrid: u8| {
            conf(
                "v.conf",
                &format!(
                    "vrrp_instance VI_{vrid} {{\n state BACKUP\n interface eth0\n virtual_router_id {vrid}\n \
                     priority {prio}\n virtual_ipaddress {{\n 192.0.2.10/24\n }}\n}}\n"
                ),
            )
        };
        let (a, b) = (vrrp(100, 51), vrrp(100, 52));
        assert_eq!(codes(&compare(&a, &b)), ["instance-missing", "instance-missing"]);
        let same_vrid = vrrp(100, 51);
        assert_eq!(codes(&compare(&a, &same_vrid)), ["priority-tie"]);
        assert_eq!(check(&[a, b, same_vrid], Mode::ScaleOut), Report::default());
    }

    #[test]
    fn every_side_is_compared_with_the_first() {
        let a = director("a.conf", MH_DR, "");
        let b = director("b.conf", MH_DR, "");
        let c = director("c.conf", "lvs_sched rr\n lvs_method DR\n inhibit_on_failure", "");
        let d = conf("d.conf", "");
        let report = check(&[a, b, c, d], Mode::ScaleOut);
        let found: Vec<(usize, &str, Option<u32>, Option<u32>)> = report
            .issues
            .iter()
            .map(|i| (i.side, i.code, i.a.as_ref().map(|s| s.line), i.b.as_ref().map(|s| s.line)))
            .collect();
        assert_eq!(found, [(2, "lvs-method", Some(1), Some(1)), (3, "virtual-server-missing", Some(1), None)]);
        assert!(report.issues[0].message.contains("lvs_sched mh on A, rr on C"), "{}", report.issues[0]);
        assert!(report.issues[1].message.contains("router sends to D"), "{}", report.issues[1]);
    }

    /// Golden advice, one row per virtual server: what it is advised, in order.
    #[test]
    fn scale_out_advice() {
        let cases: [(&str, Settings, &[&str]); 7] = [
            ("mh, DR, inhibit", (MH_DR, ""), &[]),
            ("rr", ("lvs_sched rr\n lvs_method DR", ""), &["scheduler-not-mh"]),
            ("sh", ("lvs_sched sh\n lvs_method DR\n inhibit_on_failure", ""), &["scheduler-not-mh"]),
            ("NAT", ("lvs_sched mh\n lvs_method NAT\n inhibit_on_failure", ""), &["nat-forwarding"]),
            ("NAT on one real server", (MH_DR, "lvs_method NAT"), &["nat-forwarding"]),
            ("mh without inhibit", ("lvs_sched mh\n lvs_method DR", ""), &["inhibit-on-failure"]),
            ("inhibit on each real server", ("lvs_sched mh\n lvs_method DR", "inhibit_on_failure"), &[]),
        ];
        for (what, (body, rs), want) in cases {
            let report = check(&[director("a.conf", body, rs), director("b.conf", body, rs)], Mode::ScaleOut);
            assert_eq!(report.issues, [], "{what}");
            let mut want = want.to_vec();
            want.push("sloppy-tcp");
            assert_eq!(advice_codes(&report.advice), want, "{what}");
        }
        assert_eq!(compare(&director("a.conf", "lvs_sched rr", ""), &director("b.conf", "lvs_sched rr", "")), []);
    }

    /// A virtual server is advised once, where it is first defined; the sysctl advice is about
    /// every director and names no line.
    #[test]
    fn advice_is_given_once() {
        let rr = "lvs_sched rr\n lvs_method DR\n inhibit_on_failure";
        let report = check(
            &[director("a.conf", rr, ""), director("b.conf", rr, ""), director("c.conf", rr, "")],
            Mode::ScaleOut,
        );
        let at: Vec<(&str, Option<String>)> = report
            .advice
            .iter()
            .map(|a| (a.code, a.at.as_ref().map(|s| format!("{}:{}", s.file.display(), s.line))))
            .collect();
        assert_eq!(at, [("scheduler-not-mh", Some("a.conf:1".into())), ("sloppy-tcp", None)]);
        assert_eq!(check(&[director("a.conf", rr, "")], Mode::Failover), Report::default());
    }
}
