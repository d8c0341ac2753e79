//! What a reload does to a running instance, decided by comparing its running [`Plan`] with
//! the new one, by value.
//!
//! An instance resigns and starts again only when what it *is* changed: its interface, VRID,
//! version, address family, socket (multicast group, unicast peers, source, TTL), vmac or sync
//! group. Anything else changes in place, in the same state: the state machine takes its new
//! settings and tracked items, and a MASTER touches only the VIPs that differ. A VIP that differs
//! in any attribute (`dev`, `brd`, `label`, `scope`, prefix, flags) is removed as it was and
//! added as it is now; the others stay on their interface untouched and are not announced
//! again.

use std::fmt;

use crate::fsm;
use crate::plan::{Address, Plan};

/// What to do with one running instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconfigure {
    /// The same plan: nothing to do.
    Unchanged,
    /// The same instance with other settings.
    InPlace(InPlace),
    /// Another instance under the same name: resign and start again.
    Restart(Restart),
}

/// The changes to make in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InPlace {
    /// The state machine's new settings, when they differ.
    pub fsm: Option<fsm::Config>,
    /// Received adverts are checked against other expectations (VIP list, password).
    pub expect_changed: bool,
    /// The tracked interfaces, scripts or files changed: the state machine takes the new set
    /// at once ([`fsm::Input::TrackersReplaced`]).
    pub trackers_changed: bool,
    /// VIPs of the running plan that the new one does not have as they are, to remove while
    /// MASTER, before any is added.
    pub remove: Vec<Address>,
    /// VIPs of the new plan that the running one does not have as they are, to add (and
    /// announce) while MASTER.
    pub add: Vec<Address>,
}

/// Why an instance restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// `interface`.
    Interface,
    /// `virtual_router_id`.
    Vrid,
    /// `version`.
    Version,
    /// IPv4 or IPv6 (`native_ipv6`, the first VIP's family).
    Family,
    /// The multicast group, unicast peers, source address or TTL.
    Socket,
    /// Membership of a `vrrp_sync_group`: joined, left, or the group's members changed.
    SyncGroup,
    /// `use_vmac` or `vmac_xmit_base`.
    Vmac,
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restart::Interface => "its interface changed",
            Restart::Vrid => "its virtual_router_id changed",
            Restart::Version => "its VRRP version changed",
            Restart::Family => "its address family changed",
            Restart::Socket => "its multicast group, unicast peers, source address or TTL changed",
            Restart::SyncGroup => "its sync group changed",
            Restart::Vmac => "its use_vmac or vmac_xmit_base changed",
        })
    }
}

/// Decides what a reload from `old` to `new` does to the instance.
pub fn decide(old: &Plan, new: &Plan) -> Reconfigure {
    if old == new {
        return Reconfigure::Unchanged;
    }
    if let Some(reason) = restart(old, new) {
        return Reconfigure::Restart(reason);
    }
    let remove = old.vips.iter().filter(|a| !new.vips.contains(a)).cloned().collect();
    let add = new.vips.iter().filter(|a| !old.vips.contains(a)).cloned().collect();
    Reconfigure::InPlace(InPlace {
        fsm: (old.fsm != new.fsm).then(|| new.fsm.clone()),
        expect_changed: old.expect != new.expect,
        trackers_changed: old.tracked != new.tracked,
        remove,
        add,
    })
}

fn restart(old: &Plan, new: &Plan) -> Option<Restart> {
    let checks = [
        // The vmac is the socket's interface: a change to it is named first.
        (old.vmac != new.vmac, Restart::Vmac),
        (old.interface() != new.interface(), Restart::Interface),
        (old.fsm.vrid != new.fsm.vrid, Restart::Vrid),
        // IPv6 is VRRPv3 only: a family change is also a version change, and named as such.
        (old.family != new.family, Restart::Family),
        (old.fsm.version != new.fsm.version || old.wire_version != new.wire_version, Restart::Version),
        (old.socket != new.socket || old.fsm.primary_address != new.fsm.primary_address, Restart::Socket),
        (old.sync_group != new.sync_group, Restart::SyncGroup),
    ];
    checks.into_iter().find_map(|(changed, reason)| changed.then_some(reason))
}

impl InPlace {
    /// Whether the VIP list changes.
    pub fn touches_vips(&self) -> bool {
        !self.remove.is_empty() || !self.add.is_empty()
    }
}

#[cfg(test)]
mod tests;
