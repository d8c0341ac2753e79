//! Virtual addresses and interfaces over rtnetlink.
//!
//! [`Addresses`] adds, removes and lists addresses and looks interfaces up, each call one
//! request to the kernel. Adding an address that is already there and removing one that is not
//! are outcomes, not errors: the daemon remembers which VIPs it added itself, so that it removes
//! only those (keepalived logs "VIP already present" and leaves such an address alone).
//!
//! [`Monitor`] turns the kernel's link and address notifications into [`NetEvent`]s.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures::channel::mpsc::UnboundedReceiver;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{Handle, MulticastGroup};
use tokio::task::JoinHandle;

pub use netlink_packet_route::address::AddressScope;

use super::Error;
use crate::wire::MacAddr;

/// An address to add: `ip addr add IP/PREFIX [brd BRD] [scope S] [label L] [noprefixroute]
/// [nodad] [home] dev IF`, as `virtual_ipaddress` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The address.
    pub ip: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
    /// The label (`eth0:vip`, IPv4 only; the kernel has no IPv6 labels).
    pub label: Option<String>,
    /// The broadcast address (IPv4 only); none unless given, as keepalived does.
    pub brd: Option<Ipv4Addr>,
    /// The scope; [`AddressScope::Universe`] is `global`.
    pub scope: AddressScope,
    /// Do not add the prefix route (`IFA_F_NOPREFIXROUTE`).
    pub noprefixroute: bool,
    /// Skip duplicate address detection (`IFA_F_NODAD`, IPv6).
    pub nodad: bool,
    /// Mobile IPv6 home address (`IFA_F_HOMEADDRESS`).
    pub home: bool,
}

impl Vip {
    /// `ip/prefix`, global scope, no label, broadcast or flags.
    pub fn new(ip: IpAddr, prefix: u8) -> Vip {
        Vip {
            ip,
            prefix,
            label: None,
            brd: None,
            scope: AddressScope::Universe,
            noprefixroute: false,
            nodad: false,
            home: false,
        }
    }
}

/// What [`Addresses::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// The address was added.
    Added,
    /// The interface already had it (the kernel answered `EEXIST`); nothing changed.
    AlreadyPresent,
}

/// What [`Addresses::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The address was removed.
    Removed,
    /// The interface did not have it (the kernel answered `EADDRNOTAVAIL`); nothing changed.
    Absent,
}

/// An interface, as [`Addresses::link_by_name`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its index.
    pub ifindex: u32,
    /// Its name.
    pub name: String,
    /// Its hardware address, when it has a 6-byte one.
    pub mac: Option<MacAddr>,
    /// Administratively up and running (`IFF_UP` and `IFF_RUNNING`).
    pub up: bool,
    /// Its primary IPv4 address: the first that is not secondary. keepalived's default source
    /// for IPv4 adverts.
    pub primary_ipv4: Option<Ipv4Addr>,
    /// Its first IPv6 link-local address that has passed duplicate address detection,
    /// keepalived's default source for IPv6 adverts. While there is none, an
    /// [`NetEvent::AddrAdded`] announces the end of detection.
    pub link_local_ipv6: Option<Ipv6Addr>,
}

/// A change to an interface or an address, as the kernel announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    /// An interface appeared.
    LinkAdded {
        /// Its index.
        ifindex: u32,
        /// Its name.
        name: String,
        /// Whether it is up and running.
        up: bool,
    },
    /// An interface went away.
    LinkRemoved {
        /// Its index.
        ifindex: u32,
        /// Its name.
        name: String,
    },
    /// An interface became up and running (`IFF_UP` and `IFF_RUNNING`).
    LinkUp {
        /// Its index.
        ifindex: u32,
    },
    /// An interface stopped being up and running.
    LinkDown {
        /// Its index.
        ifindex: u32,
    },
    /// An address was added, or changed (for example when duplicate address detection ends).
    AddrAdded {
        /// The interface.
        ifindex: u32,
        /// The address.
        ip: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
    /// An address was removed.
    AddrRemoved {
        /// The interface.
        ifindex: u32,
        /// The address.
        ip: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
}

/// A connection to the kernel's routing netlink, for addresses and interfaces.
///
/// The connection runs as a task on the runtime that created it, aborted on drop.
#[derive(Debug)]
pub struct Addresses {
    pub(super) handle: Handle,
    connection: JoinHandle<()>,
}

impl Addresses {
    /// Opens the netlink socket and spawns its connection task on the current tokio runtime.
    pub fn new() -> Result<Addresses, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime { what: "Addresses" })?;
        let (connection, handle, _) = rtnetlink::new_connection().map_err(Error::NetlinkOpen)?;
        Ok(Addresses { handle, connection: runtime.spawn(connection) })
    }

    /// Adds `vip` to interface `ifindex` (`ip addr add`).
    pub async fn add(&self, ifindex: u32, vip: &Vip) -> Result<AddOutcome, Error> {
        let mut request = self.handle.address().add(ifindex, vip.ip, vip.prefix);
        *request.message_mut() = vip_message(ifindex, vip);
        match request.execute().await {
            Ok(()) => {
                tracing::debug!(ifindex, ip = %vip.ip, prefix = vip.prefix, "address added");
                Ok(AddOutcome::Added)
            }
            Err(err) if errno(&err) == Some(nix::errno::Errno::EEXIST) => Ok(AddOutcome::AlreadyPresent),
            Err(err) => Err(netlink_error("adding an address", ifindex, err)),
        }
    }

    /// Removes `ip/prefix` from interface `ifindex` (`ip addr del`).
    pub async fn remove(&self, ifindex: u32, ip: IpAddr, prefix: u8) -> Result<RemoveOutcome, Error> {
        let request = self.handle.address().del(address_message(ifindex, ip, prefix));
        match request.execute().await {
            Ok(()) => {
                tracing::debug!(ifindex, %ip, prefix, "address removed");
                Ok(RemoveOutcome::Removed)
            }
            Err(err) if errno(&err) == Some(nix::errno::Errno::EADDRNOTAVAIL) => Ok(RemoveOutcome::Absent),
            Err(err) => Err(netlink_error("removing an address", ifindex, err)),
        }
    }

    /// The addresses on interface `ifindex`, both families, in the kernel's order.
    pub async fn list(&self, ifindex: u32) -> Result<Vec<(IpAddr, u8)>, Error> {
        let messages = self.addresses_of(ifindex).await?;
        Ok(messages
            .iter()
            .filter_map(|message| address_of(message).map(|ip| (ip, message.header.prefix_len)))
            .collect())
    }

    /// The interface named `name`, with its hardware and primary addresses.
    pub async fn link_by_name(&self, name: &str) -> Result<Link, Error> {
        let request = self.handle.link().get().match_name(name);
        let message = request.execute().try_next().await.map_err(|err| match errno(&err) {
            Some(nix::errno::Errno::ENODEV) => Error::NoSuchInterface { name: name.to_owned() },
            _ => Error::Netlink { op: "looking up an interface", source: err },
        })?;
        let message = message.ok_or_else(|| Error::NoSuchInterface { name: name.to_owned() })?;
        self.link_from(message).await
    }

    /// The interface with index `ifindex`, with its hardware and primary addresses.
    pub async fn link_by_index(&self, ifindex: u32) -> Result<Link, Error> {
        let request = self.handle.link().get().match_index(ifindex);
        let message = request.execute().try_next().await.map_err(|err| match errno(&err) {
            Some(nix::errno::Errno::ENODEV) => Error::NoSuchIfindex { ifindex },
            _ => Error::Netlink { op: "looking up an interface", source: err },
        })?;
        let message = message.ok_or(Error::NoSuchIfindex { ifindex })?;
        self.link_from(message).await
    }

    async fn link_from(&self, message: LinkMessage) -> Result<Link, Error> {
        let ifindex = message.header.index;
        let addresses = self.addresses_of(ifindex).await?;
        let primary_ipv4 =
            addresses.iter().filter(|message| !is_secondary(message)).find_map(|message| match address_of(message) {
                Some(IpAddr::V4(ip)) => Some(ip),
                _ => None,
            });
        let link_local_ipv6 =
            addresses.iter().filter(|message| is_usable(message)).find_map(|message| match address_of(message) {
                Some(IpAddr::V6(ip)) if ip.is_unicast_link_local() => Some(ip),
                _ => None,
            });
        Ok(Link {
            ifindex,
            name: link_name(&message).unwrap_or_default(),
            mac: message.attributes.iter().find_map(|attribute| match attribute {
                LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok().map(MacAddr),
                _ => None,
            }),
            up: is_up(&message),
            primary_ipv4,
            link_local_ipv6,
        })
    }

    async fn addresses_of(&self, ifindex: u32) -> Result<Vec<AddressMessage>, Error> {
        self.handle
            .address()
            .get()
            .set_link_index_filter(ifindex)
            .execute()
            .try_collect()
            .await
            .map_err(|err| netlink_error("listing addresses", ifindex, err))
    }
}

impl Drop for Addresses {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Link and address notifications from the kernel, as [`NetEvent`]s.
///
/// It remembers which interfaces exist and whether each is up, so that it reports changes of
/// those, not every notification. The connection task is aborted on drop.
#[derive(Debug)]
pub struct Monitor {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, netlink_sys::SocketAddr)>,
    links: HashMap<u32, bool>,
    connection: JoinHandle<()>,
}

impl Monitor {
    /// Subscribes to `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR` and `RTNLGRP_IPV6_IFADDR` on a new
    /// netlink socket, then reads the current interfaces, whose later changes it reports.
    pub async fn open() -> Result<Monitor, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime { what: "Monitor" })?;
        let groups = [MulticastGroup::Link, MulticastGroup::Ipv4Ifaddr, MulticastGroup::Ipv6Ifaddr];
        let (connection, handle, messages) =
            rtnetlink::new_multicast_connection(&groups).map_err(Error::NetlinkOpen)?;
        let connection = runtime.spawn(connection);
        // Subscribed first, dumped second: a change in between is queued and then compared with
        // the dump, so none is lost.
        let links = all_links(&handle).await?;
        let links = links.iter().map(|link| (link.header.index, is_up(link))).collect();
        Ok(Monitor { messages, links, connection })
    }

    /// The next change; `None` once the netlink connection has ended.
    pub async fn next(&mut self) -> Option<NetEvent> {
        loop {
            let (message, _) = self.messages.next().await?;
            let NetlinkMessage { payload, .. } = message;
            let netlink_packet_core::NetlinkPayload::InnerMessage(message) = payload else { continue };
            if let Some(event) = self.event(message) {
                tracing::debug!(?event, "network event");
                return Some(event);
            }
        }
    }

    fn event(&mut self, message: RouteNetlinkMessage) -> Option<NetEvent> {
        match message {
            // Bridge port notifications (AF_BRIDGE) say nothing about the link itself; a
            // DELLINK among them means a port left its bridge.
            RouteNetlinkMessage::NewLink(link) | RouteNetlinkMessage::DelLink(link)
                if link.header.interface_family == AddressFamily::Bridge =>
            {
                None
            }
            RouteNetlinkMessage::NewLink(link) => {
                let ifindex = link.header.index;
                let up = is_up(&link);
                match self.links.insert(ifindex, up) {
                    None => Some(NetEvent::LinkAdded { ifindex, name: link_name(&link).unwrap_or_default(), up }),
                    Some(was_up) if was_up == up => None,
                    Some(_) if up => Some(NetEvent::LinkUp { ifindex }),
                    Some(_) => Some(NetEvent::LinkDown { ifindex }),
                }
            }
            RouteNetlinkMessage::DelLink(link) => {
                let ifindex = link.header.index;
                self.links.remove(&ifindex);
                Some(NetEvent::LinkRemoved { ifindex, name: link_name(&link).unwrap_or_default() })
            }
            RouteNetlinkMessage::NewAddress(address) => address_of(&address).map(|ip| NetEvent::AddrAdded {
                ifindex: address.header.index,
                ip,
                prefix: address.header.prefix_len,
            }),
            RouteNetlinkMessage::DelAddress(address) => address_of(&address).map(|ip| NetEvent::AddrRemoved {
                ifindex: address.header.index,
                ip,
                prefix: address.header.prefix_len,
            }),
            _ => None,
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Every interface, in the kernel's order (`ip link show`).
pub(super) async fn all_links(handle: &Handle) -> Result<Vec<LinkMessage>, Error> {
    handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|source| Error::Netlink { op: "listing interfaces", source })
}

/// The request for `ip addr add` of `vip`.
fn vip_message(ifindex: u32, vip: &Vip) -> AddressMessage {
    let mut message = address_message(ifindex, vip.ip, vip.prefix);
    message.header.scope = vip.scope;
    if vip.ip.is_ipv4() {
        if let Some(label) = &vip.label {
            message.attributes.push(AddressAttribute::Label(label.clone()));
        }
        if let Some(brd) = vip.brd {
            message.attributes.push(AddressAttribute::Broadcast(brd));
        }
    }
    let mut flags = AddressFlags::empty();
    flags.set(AddressFlags::Nodad, vip.nodad);
    flags.set(AddressFlags::Noprefixroute, vip.noprefixroute);
    flags.set(AddressFlags::Homeaddress, vip.home);
    if !flags.is_empty() {
        // IFA_FLAGS carries the flags past the header's 8 bits (NOPREFIXROUTE is 0x200).
        message.header.flags = AddressHeaderFlags::from_bits_truncate((flags.bits() & 0xff) as u8);
        message.attributes.push(AddressAttribute::Flags(flags));
    }
    message
}

/// A request naming `ip/prefix` on `ifindex`: local and interface address both `ip`.
fn address_message(ifindex: u32, ip: IpAddr, prefix: u8) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    message.header.index = ifindex;
    message.header.prefix_len = prefix;
    message.attributes.push(AddressAttribute::Local(ip));
    message.attributes.push(AddressAttribute::Address(ip));
    message
}

/// The address a message is about: the local address (`IFA_LOCAL`) when there is one, as on
/// point-to-point links `IFA_ADDRESS` is the peer.
fn address_of(message: &AddressMessage) -> Option<IpAddr> {
    let local = message.attributes.iter().find_map(|attribute| match attribute {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    local.or_else(|| {
        message.attributes.iter().find_map(|attribute| match attribute {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })
}

/// An address's flags; `IFA_FLAGS`, when present, supersedes the header's 8 bits.
fn flags_of(message: &AddressMessage) -> AddressFlags {
    let flags = message.attributes.iter().find_map(|attribute| match attribute {
        AddressAttribute::Flags(flags) => Some(*flags),
        _ => None,
    });
    flags.unwrap_or_else(|| AddressFlags::from_bits_retain(u32::from(message.header.flags.bits())))
}

fn is_secondary(message: &AddressMessage) -> bool {
    flags_of(message).contains(AddressFlags::Secondary)
}

/// Whether an address can be a source: not still in, nor failed, duplicate address detection.
fn is_usable(message: &AddressMessage) -> bool {
    !flags_of(message).intersects(AddressFlags::Tentative | AddressFlags::Dadfailed)
}

fn link_name(message: &LinkMessage) -> Option<String> {
    message.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::IfName(name) => Some(name.clone()),
        _ => None,
    })
}

/// Up as VRRP means it: administratively up and with carrier.
fn is_up(message: &LinkMessage) -> bool {
    message.header.flags.contains(LinkFlags::Up | LinkFlags::Running)
}

/// The errno the kernel answered a request with, if that is how it failed.
fn errno(err: &rtnetlink::Error) -> Option<nix::errno::Errno> {
    match err {
        rtnetlink::Error::NetlinkError(message) => message.code.map(|code| nix::errno::Errno::from_raw(-code.get())),
        _ => None,
    }
}

pub(super) fn netlink_error(op: &'static str, ifindex: u32, err: rtnetlink::Error) -> Error {
    match errno(&err) {
        Some(denied @ (nix::errno::Errno::EPERM | nix::errno::Errno::EACCES)) => Error::PermissionDenied {
            what: op,
            interface: format!("ifindex {ifindex}"),
            capability: "CAP_NET_ADMIN",
            source: denied.into(),
        },
        Some(nix::errno::Errno::ENODEV) => Error::NoSuchIfindex { ifindex },
        _ => Error::Netlink { op, source: err },
    }
}
