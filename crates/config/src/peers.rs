//! Comparing the configurations of a MASTER/BACKUP pair: every difference that breaks
//! failover (seed 004 has one: the BACKUP's virtual_server is not the MASTER's).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use crate::model::{Config, InitialState, VirtualServer, VrrpInstance, VsKey};
use crate::span::Span;

/// One difference between the two sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIssue {
    /// A stable identifier, e.g. `vip-set`.
    pub code: &'static str,
    /// Where on side A (when it exists there).
    pub a: Option<Span>,
    /// Where on side B.
    pub b: Option<Span>,
    pub message: String,
}

impl fmt::Display for PeerIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |s: &Option<Span>| s.as_ref().map(ToString::to_string).unwrap_or_else(|| "-".into());
        write!(f, "{} | {}: {} [{}]", at(&self.a), at(&self.b), self.message, self.code)
    }
}

/// Everything in `a` and `b` that stops them from failing over to each other.
pub fn compare(a: &Config, b: &Config) -> Vec<PeerIssue> {
    let mut out = Vec::new();
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
                compare_instances(ia, &b.instances[k], &mut out);
            }
            None => out.push(PeerIssue {
                code: "instance-missing",
                a: Some(ia.span.clone()),
                b: None,
                message: format!(
                    "({}) virtual_router_id {} has no counterpart on B: nothing takes over its VIPs",
                    ia.name, ia.virtual_router_id
                ),
            }),
        }
    }
    for (k, ib) in b.instances.iter().enumerate() {
        if !matched_b.contains(&k) {
            out.push(PeerIssue {
                code: "instance-missing",
                a: None,
                b: Some(ib.span.clone()),
                message: format!(
                    "({}) virtual_router_id {} has no counterpart on A: nothing takes over its VIPs",
                    ib.name, ib.virtual_router_id
                ),
            });
        }
    }
    compare_virtual_servers(a, b, &mut out);
    out
}

fn compare_instances(a: &VrrpInstance, b: &VrrpInstance, out: &mut Vec<PeerIssue>) {
    let mut push =
        |code, message: String| out.push(PeerIssue { code, a: Some(a.span.clone()), b: Some(b.span.clone()), message });
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
                "{name} virtual_ipaddress differs: only on A: [{}], only on B: [{}]",
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
                push("unicast-peer", format!("{name} A's unicast_peer does not list B's unicast_src_ip"));
            }
            if !points_at(b, a) {
                push("unicast-peer", format!("{name} B's unicast_peer does not list A's unicast_src_ip"));
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

fn compare_virtual_servers(a: &Config, b: &Config, out: &mut Vec<PeerIssue>) {
    let find = |c: &Config, vs: &VirtualServer| -> Option<usize> {
        c.virtual_servers.iter().position(|o| o.key == vs.key && o.protocol == vs.protocol)
    };
    for vs in &a.virtual_servers {
        let Some(k) = find(b, vs) else {
            out.push(PeerIssue {
                code: "virtual-server-missing",
                a: Some(vs.span.clone()),
                b: None,
                message: format!(
                    "{} exists only on A: after a failover to B it is no longer served{}",
                    vs_label(vs),
                    not_a_vip(a, vs)
                ),
            });
            continue;
        };
        let other = &b.virtual_servers[k];
        let mut push = |code, message: String| {
            out.push(PeerIssue { code, a: Some(vs.span.clone()), b: Some(other.span.clone()), message })
        };
        let rs = |v: &VirtualServer| -> BTreeSet<(IpAddr, u16, i32)> {
            v.real_servers.iter().map(|r| (r.ip, r.port, r.weight)).collect()
        };
        if rs(vs) != rs(other) {
            push("real-servers", format!("{}: real_server sets or weights differ", vs_label(vs)));
        }
        if vs.scheduler != other.scheduler || vs.forwarding != other.forwarding {
            push(
                "lvs-method",
                format!(
                    "{}: {}/{:?} vs {}/{:?}",
                    vs_label(vs),
                    vs.scheduler.name(),
                    vs.forwarding,
                    other.scheduler.name(),
                    other.forwarding
                ),
            );
        }
        if vs.persistence_timeout != other.persistence_timeout {
            push("persistence", format!("{}: persistence_timeout differs", vs_label(vs)));
        }
    }
    for vs in &b.virtual_servers {
        if find(a, vs).is_none() {
            out.push(PeerIssue {
                code: "virtual-server-missing",
                a: None,
                b: Some(vs.span.clone()),
                message: format!(
                    "{} exists only on B: the pair does not serve the same services, so a failover changes what clients get{}",
                    vs_label(vs),
                    not_a_vip(b, vs)
                ),
            });
        }
    }
}
