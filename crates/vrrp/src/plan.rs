//! What one instance runs on, resolved against the host: the state machine's settings, what
//! received adverts must match, the socket, the VIPs with the interface each lives on, and what
//! binds the instance to others (its sync group, its tracked items). The daemon builds a
//! [`Plan`] from the configuration; [`router::reload`](crate::router::reload) compares two of
//! them by value.

use std::net::{IpAddr, Ipv6Addr};

use crate::fsm;
use crate::io::{SocketConfig, Vip};
use crate::receive::Expect;
use crate::wire::{self, Auth, Family, MacAddr};

/// Everything needed to run one instance, resolved against the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The state machine's settings; `sync_group` is set when [`Plan::sync_group`] is.
    pub fsm: fsm::Config,
    /// What received adverts must match.
    pub expect: Expect,
    /// The socket adverts are sent and received on; its interface is the instance's, or its
    /// vmac's.
    pub socket: SocketConfig,
    /// IPv4 or IPv6.
    pub family: Family,
    /// The VIPs, in the configuration's order.
    pub vips: Vec<Address>,
    /// The version on the wire.
    pub wire_version: wire::Version,
    /// VRRPv2 authentication.
    pub auth: Auth,
    /// The `vrrp_sync_group` the instance is a member of.
    pub sync_group: Option<Membership>,
    /// The interfaces, scripts and files the instance tracks, in the configuration's order.
    pub tracked: Vec<Tracked>,
    /// The macvlan interface of `use_vmac`.
    pub vmac: Option<Vmac>,
}

impl Plan {
    /// The interface the instance speaks VRRP on.
    pub fn interface(&self) -> &str {
        &self.socket.interface
    }

    /// The VIP `ip`, if the instance has it.
    pub fn vip(&self, ip: IpAddr) -> Option<&Address> {
        self.vips.iter().find(|a| a.vip.ip == ip)
    }
}

/// The macvlan interface an instance with `use_vmac` speaks VRRP and holds its VIPs on (see
/// [`crate::vmac`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// Its name.
    pub name: String,
    /// Its MAC, the virtual router MAC.
    pub mac: MacAddr,
    /// Its parent: the instance's `interface`.
    pub parent: String,
    /// `vmac_xmit_base` as it takes effect: adverts go out of (and are heard on) the parent.
    pub xmit_base: bool,
    /// IPv6 stays enabled on it: an IPv6 instance, or IPv4 with excluded VIPs of IPv6.
    pub ipv6: bool,
    /// The link-local address it gets, to send IPv6 adverts from.
    pub link_local: Option<Ipv6Addr>,
}

/// A `vrrp_sync_group` as one of its members sees it: a member moves with the others, so
/// another group, or the same group with other members, makes it another instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The group's name.
    pub group: String,
    /// Every member, as the configuration lists them.
    pub members: Vec<String>,
}

/// One VIP and the interface it lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The interface: the VIP's `dev`, else the instance's own. A VIP written with
    /// `dev` naming the instance's interface is the same address as one written without.
    pub device: String,
    /// The address and its attributes (prefix, broadcast, label, scope, flags).
    pub vip: Vip,
}

/// What kind of item an instance tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackedKind {
    /// `track_interface`.
    Interface,
    /// `track_script`.
    Script,
    /// `track_file`.
    File,
    /// `track_bfd`.
    Bfd,
    /// `track_process`.
    Process,
}

/// One `track_interface`, `track_script`, `track_file`, `track_bfd` or `track_process` line of
/// an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Which list it is in.
    pub kind: TrackedKind,
    /// The interface, script or file name.
    pub name: String,
    /// The instance's own `weight`, overriding the item's.
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

impl TrackedKind {
    fn tag(self) -> u32 {
        match self {
            TrackedKind::Interface => 1,
            TrackedKind::Script => 2,
            TrackedKind::File => 3,
            TrackedKind::Bfd => 4,
            TrackedKind::Process => 5,
        }
    }
}

/// The state machine's tracker id of the item at `position` in the instance's list of
/// `kind` (see [`fsm::Input::TrackerChange`]): the kind in the high byte, so that ids of two
/// lists never meet.
pub fn tracker_id(kind: TrackedKind, position: usize) -> u32 {
    (kind.tag() << 24) | u32::try_from(position).unwrap_or(u32::MAX) & 0x00ff_ffff
}

/// The state machine's tracker id of "the MASTER holds its VIPs": reported down, without a
/// weight, when a VIP cannot be added, so that the instance goes to FAULT and the peer takes
/// over instead of announcing addresses nobody holds.
pub const VIPS_HELD: u32 = 0xff << 24;
