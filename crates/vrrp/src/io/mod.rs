//! The I/O edges of VRRP: thin adapters between the kernel and the pure core.
//!
//! * [`VrrpSocket`]: a raw IP protocol 112 socket on one interface, IPv4 or IPv6, multicast or
//!   unicast. Bytes in and out; source, destination, TTL or hop limit and interface reported
//!   beside each received message.
//! * [`Addresses`]: virtual addresses over rtnetlink (add, remove, list) and interface lookups;
//!   [`Monitor`]: link and address changes as typed [`NetEvent`]s.
//! * [`Addresses`] also lists, creates and removes the macvlan interfaces of `use_vmac` and
//!   writes their settings.
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
mod link;
mod netns;
mod route;
mod socket;

use std::net::IpAddr;

pub use self::addr::{AddOutcome, AddressScope, Addresses, Link, Monitor, NetEvent, RemoveOutcome, Vip};
pub use self::garp::FrameSender;
pub use self::link::{ipv4_interfaces, ipv4_sysctl, set_ipv4_sysctl, set_ipv6_disabled};
pub use self::netns::netns_cookie;
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

/// Where named network namespaces live: `ip netns add NAME` bind-mounts the namespace on
/// /run/netns/NAME, and `ip netns exec NAME` enters it.
const NAMED_NETNS_DIR: &str = "/run/netns";

/// vigild's control socket for this network namespace: /run/vigil/vigild-NAME.sock when this
/// process runs in the namespace /run/netns/NAME (so that `ip netns exec NAME vigilctl status`
/// reaches the vigild started with `ip netns exec NAME vigild`), /run/vigil/vigild.sock
/// otherwise.
///
/// It reads only what any process may read whatever its capabilities (its own
/// /proc/self/ns/net and the world-readable /run/netns), never another process's namespace
/// such as PID 1's, which a systemd unit with reduced capabilities is refused: vigild and
/// vigilctl in the same namespace always reach the same path.
pub fn control_socket() -> std::path::PathBuf {
    let ours = namespace_key(std::path::Path::new("/proc/self/ns/net"));
    let named = match (ours, std::fs::read_dir(NAMED_NETNS_DIR)) {
        (Some(_), Ok(dir)) => dir
            .filter_map(Result::ok)
            .filter_map(|entry| Some((entry.file_name().into_string().ok()?, namespace_key(&entry.path())?)))
            .collect(),
        _ => Vec::new(),
    };
    control_socket_for(ours, &named)
}

/// A namespace file's identity: the device and inode `stat` reports for it (a bind mount on
/// /run/netns/NAME has the namespace's own), `None` when it cannot be read.
fn namespace_key(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The pure part of [`control_socket`]: `ours` is this process's namespace, `named` the
/// entries of /run/netns with theirs. A namespace mounted under several names takes the first
/// in byte order, so the answer does not depend on the directory's order.
fn control_socket_for(ours: Option<(u64, u64)>, named: &[(String, (u64, u64))]) -> std::path::PathBuf {
    let name = ours.and_then(|ours| named.iter().filter(|(_, key)| *key == ours).map(|(name, _)| name).min());
    match name {
        Some(name) => format!("/run/vigil/vigild-{name}.sock").into(),
        None => "/run/vigil/vigild.sock".into(),
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
    /// Reading or writing a setting under /proc/sys failed.
    #[error("accessing {path} failed: {source}")]
    Sysctl {
        /// The file.
        path: String,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::control_socket_for;

    fn named(entries: &[(&str, (u64, u64))]) -> Vec<(String, (u64, u64))> {
        entries.iter().map(|(name, key)| ((*name).to_owned(), *key)).collect()
    }

    #[test]
    fn a_named_namespace_has_its_own_socket() {
        let ns = named(&[("blue", (4, 4026532281)), ("red", (4, 4026532350))]);
        assert_eq!(control_socket_for(Some((4, 4026532350)), &ns), PathBuf::from("/run/vigil/vigild-red.sock"));
        assert_eq!(control_socket_for(Some((4, 4026532281)), &ns), PathBuf::from("/run/vigil/vigild-blue.sock"));
    }

    #[test]
    fn a_namespace_without_a_name_uses_the_default_socket() {
        let ns = named(&[("blue", (4, 4026532281))]);
        let default = PathBuf::from("/run/vigil/vigild.sock");
        assert_eq!(control_socket_for(Some((4, 4026531840)), &ns), default, "the host's namespace");
        assert_eq!(control_socket_for(Some((4, 4026531840)), &[]), default, "no /run/netns");
        assert_eq!(control_socket_for(None, &ns), default, "our namespace unreadable");
    }

    #[test]
    fn the_inode_alone_does_not_match() {
        // A stale /run/netns entry is a plain file on another device: an equal inode number
        // there names another object.
        let ns = named(&[("stale", (45, 4026532281))]);
        assert_eq!(control_socket_for(Some((4, 4026532281)), &ns), PathBuf::from("/run/vigil/vigild.sock"));
    }

    #[test]
    fn several_names_for_one_namespace_pick_the_first_whatever_the_order() {
        let key = (4, 4026532400);
        let want = PathBuf::from("/run/vigil/vigild-alpha.sock");
        assert_eq!(control_socket_for(Some(key), &named(&[("beta", key), ("alpha", key)])), want);
        assert_eq!(control_socket_for(Some(key), &named(&[("alpha", key), ("beta", key)])), want);
    }
}
