//! The I/O edges of VRRP: thin adapters between the kernel and the pure core.
//!
//! * [`VrrpSocket`]: a raw IP protocol 112 socket on one interface, IPv4 or IPv6, multicast or
//!   unicast. Bytes in and out; source, destination, TTL or hop limit and interface reported
//!   beside each received message.
//! * [`Addresses`]: virtual addresses over rtnetlink (add, remove, list) and interface lookups;
//!   [`Monitor`]: link and address changes as typed [`NetEvent`]s.
//! * [`Routes`]: routes and policy rules over rtnetlink (add, remove), tagged with protocol
//!   `keepalived`.
//! * [`FrameSender`]: whole Ethernet frames (gratuitous ARP, unsolicited neighbour
//!   advertisements, built by [`crate::wire`]) out of one interface over `AF_PACKET`.
//!
//! Nothing here decides anything: each entry point takes what it works on (an interface, an
//! address, a frame) and reports what happened, so that the daemon wires it to the state
//! machine and tests drive it inside a network namespace. Everything runs on the current tokio
//! runtime and never blocks it.

mod addr;
mod garp;
mod route;
mod socket;

use std::net::IpAddr;

pub use self::addr::{AddOutcome, AddressScope, Addresses, Link, Monitor, NetEvent, RemoveOutcome, Vip};
pub use self::garp::FrameSender;
pub use self::route::{Route, RouteKind, RouteScope, Routes, Rule, RT_TABLE_MAIN};
pub use self::socket::{
    Mode, Received, SocketConfig, VrrpSocket, IPPROTO_VRRP, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_TTL,
};
use crate::wire::{self, Family};

/// This process's network namespace as a number (the inode of `/proc/self/ns/net`), for
/// naming records under /run that several namespaces share; `None` when it cannot be read.
pub fn netns_id() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/net").ok()?;
    Some(link.to_string_lossy().chars().filter(char::is_ascii_digit).collect())
}

/// vigild's control socket for this network namespace: /run/vigil/vigild.sock in the host's
/// namespace (PID 1's), /run/vigil/vigild-net<ID>.sock in any other, so that `ip netns exec
/// NS vigilctl status` reaches the vigild of namespace NS.
pub fn control_socket() -> std::path::PathBuf {
    let host = std::fs::read_link("/proc/1/ns/net").ok();
    let ours = std::fs::read_link("/proc/self/ns/net").ok();
    match netns_id() {
        Some(id) if host != ours => format!("/run/vigil/vigild-net{id}.sock").into(),
        _ => "/run/vigil/vigild.sock".into(),
    }
}

/// Classic BPF `ret #0`: keep zero bytes of each packet, that is, deliver none. For sockets
/// that only send and would otherwise queue copies of what arrives.
const BPF_DROP_ALL: socket2::SockFilter = socket2::SockFilter::new(0x06, 0, 0, 0);

/// What went wrong at the edges, with what to do about it where the user can do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The process lacks a capability the operation needs.
    #[error("{what} on {interface}: permission denied; this needs {capability} (run as root)")]
    PermissionDenied {
        /// What was being done.
        what: &'static str,
        /// The interface, or `-` when none is involved.
        interface: String,
        /// The capability that grants it.
        capability: &'static str,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// No interface has this name.
    #[error("interface {name} not found: check the interface name in the configuration and `ip link`")]
    NoSuchInterface {
        /// The name looked up.
        name: String,
    },
    /// No interface has this index (it may have just been removed).
    #[error("no interface with index {ifindex}; it may have been removed")]
    NoSuchIfindex {
        /// The index looked up.
        ifindex: u32,
    },
    /// An address of the other family than the socket's.
    #[error("{addr} is not an {family} address, as this {family} VRRP socket needs")]
    FamilyMismatch {
        /// The offending address.
        addr: IpAddr,
        /// The socket's family.
        family: Family,
    },
    /// The source address to send from is not configured on this host.
    #[error("source address {addr} is not configured on {interface}: add it, or fix mcast_src_ip / unicast_src_ip")]
    AddressNotAvailable {
        /// The source address.
        addr: IpAddr,
        /// The socket's interface.
        interface: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// A system call failed while opening or configuring a socket.
    #[error("{op} on {interface} failed: {source}")]
    Socket {
        /// The step that failed.
        op: &'static str,
        /// The interface.
        interface: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// Receiving from a VRRP socket failed.
    #[error("receiving VRRP on {interface} failed: {source}")]
    Recv {
        /// The socket's interface.
        interface: String,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// Sending a VRRP message failed.
    #[error("sending VRRP to {dst} on {interface} failed: {source}")]
    Send {
        /// The socket's interface.
        interface: String,
        /// The destination.
        dst: IpAddr,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// A received datagram did not fit in the buffer; the rest of it is lost.
    #[error("datagram on {interface} longer than the {len}-byte receive buffer; pass a larger buffer")]
    Truncated {
        /// The socket's interface.
        interface: String,
        /// The buffer's size.
        len: usize,
    },
    /// The IPv4 header the kernel delivered with a datagram did not parse.
    #[error("malformed IPv4 header received on {interface}: {source}")]
    BadIpHeader {
        /// The socket's interface.
        interface: String,
        /// What was wrong with it.
        #[source]
        source: wire::Error,
    },
    /// Ancillary data the socket asked the kernel for did not come with a datagram.
    #[error("{what} missing from a datagram received on {interface}")]
    MissingAncillary {
        /// The socket's interface.
        interface: String,
        /// The missing item.
        what: &'static str,
    },
    /// Called outside a tokio runtime.
    #[error("{what} must be created inside a tokio runtime")]
    NoRuntime {
        /// What was being created.
        what: &'static str,
    },
    /// Opening a netlink route socket failed.
    #[error("opening a netlink route socket failed: {0}")]
    NetlinkOpen(#[source] std::io::Error),
    /// The kernel refused a netlink request, or the connection to it is gone.
    #[error("netlink {op} failed: {source}")]
    Netlink {
        /// The request.
        op: &'static str,
        /// The error, with the kernel's errno when it sent one.
        #[source]
        source: rtnetlink::Error,
    },
    /// `AF_PACKET` on this interface gives no Ethernet channel.
    #[error(
        "interface {interface} has no Ethernet AF_PACKET channel; gratuitous ARP and NA need an Ethernet-like link"
    )]
    NotEthernet {
        /// The interface.
        interface: String,
    },
    /// Sending a whole frame failed.
    #[error("sending a {len}-byte frame on {interface} failed: {source}")]
    FrameSend {
        /// The interface.
        interface: String,
        /// The frame's length.
        len: usize,
        /// The system error.
        #[source]
        source: std::io::Error,
    },
    /// The blocking task that sends frames panicked or was cancelled.
    #[error("the frame sending task for {interface} failed: {source}")]
    BlockingTask {
        /// The interface.
        interface: String,
        /// Why the task ended.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl Error {
    /// A failed socket call of a raw socket: a refusal for lack of privilege says which
    /// capability is missing, a missing device says which.
    fn socket(op: &'static str, interface: &str, source: std::io::Error) -> Error {
        match source.raw_os_error().map(nix::errno::Errno::from_raw) {
            Some(nix::errno::Errno::EPERM | nix::errno::Errno::EACCES) => {
                Error::PermissionDenied { what: op, interface: interface.to_owned(), capability: "CAP_NET_RAW", source }
            }
            Some(nix::errno::Errno::ENODEV) => Error::NoSuchInterface { name: interface.to_owned() },
            _ => Error::Socket { op, interface: interface.to_owned(), source },
        }
    }

    /// A failed use of a source address: not being configured is the usual cause.
    fn source_address(addr: IpAddr, interface: &str, source: std::io::Error) -> Error {
        if source.raw_os_error() == Some(nix::errno::Errno::EADDRNOTAVAIL as i32) {
            Error::AddressNotAvailable { addr, interface: interface.to_owned(), source }
        } else {
            Error::socket("binding the source address", interface, source)
        }
    }
}

/// The index of the interface named `name`.
fn interface_index(name: &str) -> Result<u32, Error> {
    nix::net::if_::if_nametoindex(name).map_err(|errno| match errno {
        nix::errno::Errno::ENODEV | nix::errno::Errno::ENXIO | nix::errno::Errno::EINVAL => {
            Error::NoSuchInterface { name: name.to_owned() }
        }
        other => Error::socket("looking up the interface index", name, other.into()),
    })
}
