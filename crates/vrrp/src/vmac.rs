//! keepalived's `use_vmac`: an instance speaks VRRP and holds its VIPs on a macvlan interface of
//! its own whose MAC is the virtual router MAC (RFC 3768 7.3, RFC 5798 7.3), so that a takeover
//! moves no MAC: switches and the hosts' ARP caches stay right.
//!
//! Everything here decides, from what the kernel lists, as keepalived 2.2.7 does; the daemon
//! carries it out over rtnetlink:
//!
//! * which interface: a private-mode macvlan already on the instance's interface with the right
//!   MAC is used as it is, whatever its name; else the configured name (a macvlan of that name
//!   with another MAC is updated, one on another interface replaced, anything else ignored);
//!   else `vrrp.VRID`, or the first of `vrrp1.VRID`, `vrrp2.VRID`, ... (`vrrp6.VRID` first for
//!   IPv6) that no interface and no other instance has ([`choose`]);
//! * whether adverts go out of the vmac or of its parent (`vmac_xmit_base`, [`xmit_base`]);
//! * the IPv4 settings of the vmac and of its parent, and what to put back on the parent when
//!   its last vmac goes ([`Parents`]);
//! * `net.ipv4.conf.all.rp_filter`, lowered so that the vmac's own 0 takes effect, and put back
//!   at stop ([`clear_rp_filter`], [`restore_rp_filter`]).

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv6Addr;

use crate::wire::{Family, MacAddr};

/// The prefix of the names keepalived gives its vmacs (its `vmac_prefix`, which Vigil does not
/// read, changes it).
const PREFIX: &str = "vrrp";

/// The virtual router MAC of `vrid` in `family`: 00-00-5E-00-01-VRID, or 00-00-5E-00-02-VRID
/// for IPv6.
pub fn mac(vrid: u8, family: Family) -> MacAddr {
    match family {
        Family::Ipv4 => MacAddr::vrrp_ipv4(vrid),
        Family::Ipv6 => MacAddr::vrrp_ipv6(vrid),
    }
}

/// The names keepalived tries, in order, for a vmac without a configured (usable) name:
/// `vrrp.VRID`, then `vrrpN.VRID` with N = 1, 2, ... (IPv6 tries 6 first, then 1 to 5, 7, ...).
pub fn default_names(vrid: u8, family: Family) -> impl Iterator<Item = String> {
    let numbers: Box<dyn Iterator<Item = u16>> = match family {
        Family::Ipv4 => Box::new(1..=u16::MAX),
        Family::Ipv6 => Box::new(std::iter::once(6).chain((1..=u16::MAX).filter(|&n| n != 6))),
    };
    std::iter::once(format!("{PREFIX}.{vrid}")).chain(numbers.map(move |n| format!("{PREFIX}{n}.{vrid}")))
}

/// An interface as the kernel lists it, as far as choosing a vmac goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Its index.
    pub ifindex: u32,
    /// Its name.
    pub name: String,
    /// Its MAC, when it has a 6-byte one.
    pub mac: Option<MacAddr>,
    /// What it is when it is a macvlan; `None` for any other kind.
    pub macvlan: Option<Macvlan>,
}

/// A macvlan interface's parent and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Macvlan {
    /// The parent's index, when it is in this namespace.
    pub parent: Option<u32>,
    /// In private mode, the one keepalived makes (and the only one it reuses).
    pub private: bool,
}

/// What an instance asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Its `virtual_router_id`.
    pub vrid: u8,
    /// IPv4 or IPv6: which virtual router MAC.
    pub family: Family,
    /// The name given to `use_vmac`, if any.
    pub name: Option<String>,
    /// The index of the instance's `interface`, the vmac's parent.
    pub parent: u32,
}

/// How the chosen interface comes to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A private macvlan on the parent with the right MAC exists: used as it is.
    Reuse {
        /// Its index.
        ifindex: u32,
    },
    /// Created.
    Create,
    /// The configured name is a private macvlan on the parent with another MAC: its MAC is
    /// changed.
    Update {
        /// Its index.
        ifindex: u32,
    },
    /// The configured name is a private macvlan on another interface: removed, then created.
    Replace {
        /// The index of the one removed.
        ifindex: u32,
    },
}

/// Something [`choose`] says about its choice, in keepalived's words (after `(INSTANCE) `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A matching macvlan is used.
    Found {
        /// Its name.
        name: String,
    },
    /// The matching macvlan does not have the configured name; its own is used.
    NameMismatch {
        /// The configured name.
        configured: String,
        /// The macvlan's.
        found: String,
    },
    /// Another instance already uses the configured name.
    NameTaken {
        /// The name.
        name: String,
    },
    /// The configured name is an interface that is not a private macvlan: left alone.
    NotPrivateMacvlan {
        /// The name.
        name: String,
    },
    /// The configured name is a private macvlan that does not match: updated or replaced.
    Incompatible {
        /// The name.
        name: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Found { name } => write!(f, "Found matching interface {name}"),
            Note::NameMismatch { configured, found } => {
                write!(f, "vmac name mismatch {configured} <=> {found}. changing to {found}.")
            }
            Note::NameTaken { name } => write!(f, "another VRRP instance is already using {name} - ignoring name"),
            Note::NotPrivateMacvlan { name } => {
                write!(f, "interface {name} already exists and is not a private macvlan; ignoring vmac if_name")
            }
            Note::Incompatible { name } => {
                write!(f, "VMAC {name} already exists but is incompatible. It will be deleted/updated")
            }
        }
    }
}

/// The vmac interface an instance uses, and how it comes to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Its name.
    pub name: String,
    /// Its MAC.
    pub mac: MacAddr,
    /// Reused, created, updated or replaced.
    pub step: Step,
    /// What to log about it.
    pub notes: Vec<Note>,
}

/// Chooses the vmac interface of `want` among the interfaces that `existing` lists (in the
/// kernel's order) and the names `taken` by the other instances' vmacs.
pub fn choose(want: &Want, existing: &[Existing], taken: &[String]) -> Choice {
    let mac = mac(want.vrid, want.family);
    let mut notes = Vec::new();
    let matching = existing.iter().find(|e| {
        e.mac == Some(mac)
            && e.macvlan.is_some_and(|m| m.private && m.parent == Some(want.parent))
            && !taken.contains(&e.name)
    });
    if let Some(found) = matching {
        notes.push(Note::Found { name: found.name.clone() });
        if let Some(configured) = want.name.as_ref().filter(|n| **n != found.name) {
            notes.push(Note::NameMismatch { configured: configured.clone(), found: found.name.clone() });
        }
        return Choice { name: found.name.clone(), mac, step: Step::Reuse { ifindex: found.ifindex }, notes };
    }
    let configured = want.name.as_ref().filter(|name| {
        if taken.contains(name) {
            notes.push(Note::NameTaken { name: (*name).clone() });
            return false;
        }
        true
    });
    if let Some(name) = configured {
        match existing.iter().find(|e| e.name == *name) {
            None => return Choice { name: name.clone(), mac, step: Step::Create, notes },
            Some(e) => match e.macvlan {
                Some(m) if m.private => {
                    notes.push(Note::Incompatible { name: name.clone() });
                    let step = if m.parent == Some(want.parent) {
                        Step::Update { ifindex: e.ifindex }
                    } else {
                        Step::Replace { ifindex: e.ifindex }
                    };
                    return Choice { name: name.clone(), mac, step, notes };
                }
                _ => notes.push(Note::NotPrivateMacvlan { name: name.clone() }),
            },
        }
    }
    let free = |n: &String| !taken.contains(n) && !existing.iter().any(|e| e.name == *n);
    let name = default_names(want.vrid, want.family).find(free).unwrap_or_else(|| format!("{PREFIX}.{}", want.vrid));
    Choice { name, mac, step: Step::Create, notes }
}

/// Whether adverts go out of the vmac's parent rather than the vmac, as keepalived 2.2.7
/// settles it: unicast turns `vmac_xmit_base` on, then strict mode turns it off; without a
/// vmac it means nothing. (The configuration's diagnostics give keepalived's warnings.)
pub fn xmit_base(configured: bool, use_vmac: bool, unicast: bool, strict: bool) -> bool {
    use_vmac && (configured || unicast) && !strict
}

/// The modified EUI-64 link-local address of an interface with MAC `mac` (RFC 4291 appendix
/// A): what a vmac's parent without a link-local address of its own lends it.
pub fn eui64_link_local(mac: MacAddr) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac.octets();
    Ipv6Addr::from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, a ^ 0x02, b, c, 0xff, 0xfe, d, e, f])
}

/// An IPv4 per-interface setting (`IPV4_DEVCONF_*` in linux/ip.h), as
/// `net.ipv4.conf.IF.NAME` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DevConf {
    /// `rp_filter`.
    RpFilter,
    /// `arp_filter`.
    ArpFilter,
    /// `arp_ignore`.
    ArpIgnore,
    /// `promote_secondaries`.
    PromoteSecondaries,
    /// `accept_local`.
    AcceptLocal,
}

impl DevConf {
    /// The attribute number (`IPV4_DEVCONF_*` in linux/ip.h).
    pub fn number(self) -> u16 {
        match self {
            DevConf::RpFilter => 8,
            DevConf::ArpFilter => 13,
            DevConf::ArpIgnore => 19,
            DevConf::PromoteSecondaries => 20,
            DevConf::AcceptLocal => 23,
        }
    }
}

/// What an IPv4 vmac needs on itself (keepalived's vrrp_if_config.c): hear the other routers'
/// adverts although they come from a local subnet (`accept_local`), answer no ARP for its
/// parent's addresses (`arp_ignore`), accept what arrives without an address of its own
/// (`rp_filter` 0), and keep the other VIPs when the first one goes (`promote_secondaries`).
pub const VMAC_IPV4: [(DevConf, u32); 4] =
    [(DevConf::ArpIgnore, 1), (DevConf::AcceptLocal, 1), (DevConf::RpFilter, 0), (DevConf::PromoteSecondaries, 1)];

/// A parent's `arp_ignore` and `arp_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpConf {
    /// `arp_ignore`.
    pub arp_ignore: u32,
    /// `arp_filter`.
    pub arp_filter: u32,
}

impl ArpConf {
    /// What the parent of an IPv4 vmac needs, so that it answers no ARP request for the VIPs
    /// with its own MAC.
    pub const VMAC_PARENT: ArpConf = ArpConf { arp_ignore: 1, arp_filter: 1 };

    /// The settings to write.
    pub fn settings(self) -> [(DevConf, u32); 2] {
        [(DevConf::ArpIgnore, self.arp_ignore), (DevConf::ArpFilter, self.arp_filter)]
    }
}

/// The parents whose `arp_ignore` and `arp_filter` the vmacs on them changed: what they were,
/// to put back when the last of those vmacs goes, as keepalived does.
#[derive(Debug, Default)]
pub struct Parents {
    changed: HashMap<u32, (usize, ArpConf)>,
}

impl Parents {
    /// A vmac was created on `parent`, whose settings are `current`: the settings to write, if
    /// the parent does not have them yet.
    pub fn acquire(&mut self, parent: u32, current: ArpConf) -> Option<ArpConf> {
        if let Some((count, _)) = self.changed.get_mut(&parent) {
            *count += 1;
            return None;
        }
        if current == ArpConf::VMAC_PARENT {
            return None;
        }
        self.changed.insert(parent, (1, current));
        Some(ArpConf::VMAC_PARENT)
    }

    /// A vmac created on `parent` is gone: the settings to put back, once no other remains.
    pub fn release(&mut self, parent: u32) -> Option<ArpConf> {
        let (count, saved) = self.changed.get_mut(&parent)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        let saved = *saved;
        self.changed.remove(&parent);
        Some(saved)
    }
}

/// A value of `net.ipv4.conf.NAME.rp_filter` to write; NAME is `all`, `default` or an
/// interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpFilterWrite {
    /// `all`, `default` or the interface.
    pub name: String,
    /// The value it had (as read before the change).
    pub from: u32,
    /// The value to write.
    pub to: u32,
}

/// What [`clear_rp_filter`] changed, to put back at stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpFilterSaved {
    /// `all`'s value before, and what `default` and the interfaces were raised to.
    all: u32,
    /// `default`'s value before, when it was raised.
    default: Option<u32>,
    /// The interfaces raised, with their value before.
    interfaces: Vec<(String, u32)>,
}

/// The kernel filters by the higher of `all.rp_filter` and an interface's own, so an IPv4
/// vmac's `rp_filter` 0 (it has no address on the subnet its adverts come from) works only with
/// `all` at 0. As keepalived does when it creates the first one: `default` and every interface
/// below `all` are raised to it first (so nothing filters less than before, now or when created
/// later), then `all` is set to 0. `None` when `all` is 0 already. `interfaces` are the
/// interfaces' current values.
pub fn clear_rp_filter(
    all: u32,
    default: u32,
    interfaces: &[(String, u32)],
) -> Option<(Vec<RpFilterWrite>, RpFilterSaved)> {
    if all == 0 {
        return None;
    }
    let write = |name: &str, from: u32, to: u32| RpFilterWrite { name: name.to_string(), from, to };
    let mut writes = Vec::new();
    let raised_default = (default < all).then_some(default);
    if raised_default.is_some() {
        writes.push(write("default", default, all));
    }
    let raised: Vec<(String, u32)> = interfaces.iter().filter(|(_, v)| *v < all).cloned().collect();
    writes.extend(raised.iter().map(|(name, v)| write(name, *v, all)));
    writes.push(write("all", all, 0));
    Some((writes, RpFilterSaved { all, default: raised_default, interfaces: raised }))
}

/// What to write at stop to undo [`clear_rp_filter`], given the values now (`all`, `default`
/// when it can be read, and those of the interfaces it raised that still exist): only a value
/// still as it was left goes back, as keepalived does, so a change made since by someone else
/// stays.
pub fn restore_rp_filter(
    saved: &RpFilterSaved,
    all: u32,
    default: Option<u32>,
    interfaces: &[(String, u32)],
) -> Vec<RpFilterWrite> {
    let write = |name: &str, from: u32, to: u32| RpFilterWrite { name: name.to_string(), from, to };
    let mut writes = Vec::new();
    if all == 0 {
        writes.push(write("all", 0, saved.all));
    }
    if let Some(d) = saved.default.filter(|_| default == Some(saved.all)) {
        writes.push(write("default", saved.all, d));
    }
    for (name, before) in &saved.interfaces {
        if interfaces.iter().any(|(n, v)| n == name && *v == saved.all) {
            writes.push(write(name, saved.all, *before));
        }
    }
    writes
}

#[cfg(test)]
mod tests;
