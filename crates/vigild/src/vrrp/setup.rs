//! From the configuration model to what the VRRP runtime needs for one instance: the state
//! machine's configuration, what received adverts must match, the socket and the VIPs.

use std::net::IpAddr;

use vigil_config::model::{self, InitialState, Scope, Track, VrrpInstance};
use vigil_vrrp::fsm;
use vigil_vrrp::io::{self, AddressScope, Link, SocketConfig, Vip};
pub use vigil_vrrp::plan::Plan;
use vigil_vrrp::plan::{Address, Membership, Tracked, TrackedKind, Vmac};
use vigil_vrrp::receive::{self, Expect};
use vigil_vrrp::vmac;
use vigil_vrrp::wire::{self, Auth, Family};

/// Why an instance cannot run on this host.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No `interface` line (the config test already said so).
    #[error("({0}) has no interface")]
    NoInterface(String),
    /// The interface has no address to send adverts from.
    #[error("({name}) interface {interface} has no {family} address to send adverts from")]
    NoSource { name: String, interface: String, family: &'static str },
    /// The state machine refuses the settings.
    #[error("({name}) {source}")]
    Fsm { name: String, source: fsm::Error },
    /// Every unicast peer is this router's own source address.
    #[error("({name}) unicast_peer lists only this router's own address {address}: no other router would hear it")]
    UnicastSelfOnly { name: String, address: IpAddr },
}

fn scope(s: Option<Scope>) -> AddressScope {
    s.map_or(AddressScope::Universe, |s| AddressScope::from(s.number()))
}

/// VIP `a` and the interface it goes on: its `dev`, else `interface`; a VIP of the instance's
/// `family` that goes on `interface` goes on the instance's vmac instead, as keepalived puts it.
fn address(a: &model::VirtualAddress, interface: &str, vmac: Option<&str>, family: Family) -> Address {
    let on_interface = a.dev.as_deref().is_none_or(|d| d == interface);
    let device = match vmac {
        Some(vmac) if on_interface && Family::of(&a.addr) == family => vmac,
        _ => a.dev.as_deref().unwrap_or(interface),
    };
    Address { device: device.to_string(), vip: vip(a) }
}

/// Whether instance `i` sends its adverts out of its vmac's parent (`vmac_xmit_base` as it
/// takes effect).
pub fn xmit_base(global: &model::GlobalDefs, i: &VrrpInstance) -> bool {
    let strict = i.strict_mode.unwrap_or(global.vrrp_strict);
    vmac::xmit_base(i.vmac_xmit_base, i.use_vmac.is_some(), !i.unicast_peer.is_empty(), strict)
}

/// The BFD sessions instance `i` tracks, in order: its own `track_bfd` lines, then its sync
/// group's, which apply to every member. As keepalived 2.2.7 does, a member's own weighted
/// line is ignored unless the group has `sync_group_tracking_weight`, and a session on both
/// lists is tracked once, with the group's weight unless the instance's line is unweighted.
/// Each line comes out with its weight and `reverse` resolved against `bfds`: a line without
/// a weight takes its `bfd_instance`'s, and `reverse` on either applies.
pub fn track_bfd(i: &VrrpInstance, group: Option<&model::SyncGroup>, bfds: &[model::BfdInstance]) -> Vec<Track> {
    let weights_allowed = group.is_none_or(|g| g.sync_group_tracking_weight);
    let mut list: Vec<Track> =
        i.track_bfd.iter().filter(|t| weights_allowed || t.weight.is_none_or(|w| w == 0)).cloned().collect();
    model::merge_group_tracks(&mut list, group.map(|g| g.track_bfd.as_slice()).unwrap_or_default());
    for t in &mut list {
        let def = bfds.iter().find(|b| b.name == t.name);
        t.weight = Some(t.weight.unwrap_or(def.map_or(0, |d| d.weight)));
        t.reverse |= def.is_some_and(|d| d.weight_reverse);
    }
    list
}

fn tracked(kind: TrackedKind, t: &Track) -> Tracked {
    Tracked { kind, name: t.name.clone(), weight: t.weight, reverse: t.reverse }
}

/// The address to add for a `virtual_ipaddress` or `static_ipaddress` entry.
pub fn vip(a: &model::VirtualAddress) -> Vip {
    Vip {
        ip: a.addr,
        prefix: a.prefix,
        label: a.label.clone(),
        brd: a.brd,
        scope: scope(a.scope),
        noprefixroute: a.noprefixroute,
        nodad: a.nodad,
        home: a.home,
    }
}

/// The instance's address family: IPv6 with `native_ipv6` or when its first VIP is IPv6.
pub fn family(i: &VrrpInstance) -> Family {
    if i.native_ipv6 || i.virtual_ipaddress.first().is_some_and(|a| a.addr.is_ipv6()) {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// Resolves one instance against its interface. `sync_group` names the group it is a member
/// of; the state machine is made a member by the daemon once the group's members run.
/// `vmac_name` is the interface [`vmac::choose`] chose for `use_vmac` (`vrrp.VRID` when none
/// was).
pub fn plan(
    global: &model::GlobalDefs,
    i: &VrrpInstance,
    link: &Link,
    sync_group: Option<&model::SyncGroup>,
    bfds: &[model::BfdInstance],
    vmac_name: Option<&str>,
) -> Result<Plan, SetupError> {
    let family = family(i);
    let xmit_base = xmit_base(global, i);
    // A vmac sending IPv6 adverts itself borrows its parent's link-local address, or, when the
    // parent has none, the one the parent's MAC makes, as keepalived does.
    let vmac_sends = i.use_vmac.is_some() && !xmit_base;
    let configured_src = i.unicast_src_ip.or(i.mcast_src_ip);
    let primary: Option<IpAddr> = configured_src.or(match family {
        Family::Ipv4 => link.primary_ipv4.map(IpAddr::V4),
        Family::Ipv6 => {
            link.link_local_ipv6.or_else(|| link.mac.filter(|_| vmac_sends).map(vmac::eui64_link_local)).map(IpAddr::V6)
        }
    });
    let Some(primary) = primary else {
        let family = if family == Family::Ipv4 { "IPv4" } else { "IPv6 link-local" };
        return Err(SetupError::NoSource { name: i.name.clone(), interface: link.name.clone(), family });
    };
    let vmac = i.use_vmac.as_ref().map(|_| Vmac {
        name: vmac_name.map_or_else(
            || vmac::default_names(i.virtual_router_id, family).next().unwrap_or_default(),
            str::to_string,
        ),
        mac: vmac::mac(i.virtual_router_id, family),
        parent: link.name.clone(),
        xmit_base,
        ipv6: family == Family::Ipv6 || i.virtual_ipaddress_excluded.iter().any(|a| Family::of(&a.addr) != family),
        link_local: match primary {
            IpAddr::V6(ll) if vmac_sends => Some(ll),
            _ => None,
        },
    });
    // Adverts go out of, and are heard on, the vmac unless `vmac_xmit_base`.
    let socket_interface = match &vmac {
        Some(v) if !v.xmit_base => v.name.clone(),
        _ => link.name.clone(),
    };
    let version = if i.version == 3 || family == Family::Ipv6 { fsm::Version::V3 } else { fsm::Version::V2 };
    let mut c = fsm::Config::new(i.virtual_router_id, version, i.priority, primary);
    c.advert_int = i.advert_int;
    c.initial_state = i.state_configured.then_some(match i.state {
        InitialState::Master => fsm::InitialState::Master,
        InitialState::Backup => fsm::InitialState::Backup,
    });
    c.nopreempt = i.nopreempt;
    c.preempt_delay = i.preempt_delay;
    c.accept = i.accept.unwrap_or(!(i.strict_mode.unwrap_or(global.vrrp_strict)));
    c.vips = i.virtual_ipaddress.iter().map(|a| a.addr).collect();
    c.garp_master_delay = i.garp_master_delay;
    c.garp_master_repeat = i.garp_master_repeat;
    c.garp_master_refresh = i.garp_master_refresh;
    c.garp_master_refresh_repeat = i.garp_master_refresh_repeat;
    c.garp_lower_prio_delay = i.garp_master_delay;
    c.garp_lower_prio_repeat = i.garp_master_repeat;
    // A MASTER that steps down for a higher-priority one says so with one last advert (what
    // keepalived's `higher_prio_send_advert` does, there off by default): after a split brain
    // heals, the winner then hears a lower priority, answers, and announces its VIPs again,
    // whichever side's advert crossed the mended link first.
    c.higher_prio_send_advert = true;
    c.validate().map_err(|source| SetupError::Fsm { name: i.name.clone(), source })?;

    let password = match (&i.authentication, version) {
        (Some(a), fsm::Version::V2) if a.kind == model::AuthType::Pass => Some(receive::password(&a.pass)),
        _ => None,
    };
    let expect = Expect {
        vrid: i.virtual_router_id,
        version,
        password,
        vips: c.vips.clone(),
        skip_addr_check: i.skip_check_adv_addr || global.vrrp_skip_check_adv_addr,
    };
    let mut socket = if i.unicast_peer.is_empty() {
        let mut s = SocketConfig::multicast(socket_interface, family);
        s.mode = io::Mode::Multicast {
            group: match family {
                Family::Ipv4 => IpAddr::V4(global.vrrp_mcast_group4),
                Family::Ipv6 => IpAddr::V6(global.vrrp_mcast_group6),
            },
        };
        s
    } else {
        // A file shared by both directors lists both: adverts to ourselves are not sent.
        let peers: Vec<IpAddr> = i.unicast_peer.iter().map(|p| p.addr).filter(|&a| a != primary).collect();
        if peers.is_empty() {
            return Err(SetupError::UnicastSelfOnly { name: i.name.clone(), address: primary });
        }
        SocketConfig::unicast(socket_interface, family, None, peers)
    };
    // IPv6 checksums cover the source address, so the socket must send from the one we use.
    socket.src = Some(primary);
    socket.borrowed_src = vmac_sends;
    if let Some(ttl) = i.unicast_ttl.filter(|_| !i.unicast_peer.is_empty()) {
        socket.ttl = ttl;
    }
    Ok(Plan {
        expect,
        socket,
        family,
        vips: i
            .virtual_ipaddress
            .iter()
            .map(|a| address(a, &link.name, vmac.as_ref().map(|v| v.name.as_str()), family))
            .collect(),
        wire_version: match version {
            fsm::Version::V2 => wire::Version::V2,
            fsm::Version::V3 => wire::Version::V3,
        },
        auth: password.map(Auth::Pass).unwrap_or(Auth::None),
        fsm: c,
        sync_group: sync_group
            .map(|g| Membership { group: g.name.clone(), members: g.members.iter().map(|(m, _)| m.clone()).collect() }),
        tracked: i
            .track_interface
            .iter()
            .map(|t| tracked(TrackedKind::Interface, t))
            .chain(i.track_script.iter().map(|t| tracked(TrackedKind::Script, t)))
            .chain(i.track_file.iter().map(|t| tracked(TrackedKind::File, t)))
            .chain(i.track_process.iter().map(|t| tracked(TrackedKind::Process, t)))
            .chain(track_bfd(i, sync_group, bfds).iter().map(|t| tracked(TrackedKind::Bfd, t)))
            .collect(),
        vmac,
    })
}

#[cfg(test)]
mod tests;
