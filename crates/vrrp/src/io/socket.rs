//! Raw IP sockets for VRRP (IP protocol 112) on one interface, on tokio.
//!
//! One [`VrrpSocket`] serves one interface and one family, both ways. It deals in VRRP messages
//! only: the kernel writes the IP header on send (no `IP_HDRINCL`), and on receive the source,
//! destination, TTL or hop limit and interface come back beside the message in a [`Received`].
//! The socket checks nothing VRRP cares about (TTL 255, VRID, checksum): that is the state
//! machine's job, with what [`Received`] reports.
//!
//! For IPv6 the kernel neither fills nor verifies the VRRP checksum (no `IPV6_CHECKSUM` is set),
//! so a sender computes it over the pseudo-header with its own source address: give the socket
//! that address as [`SocketConfig::src`] so that the kernel sends from it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ops::Range;
use std::os::fd::AsRawFd;

use nix::sys::socket::{self as nix_socket, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::{interface_index, Error, BPF_DROP_ALL};
use crate::wire::{ipv4, Family};

/// The IP protocol number of VRRP (RFC 3768 5.2.4, RFC 5798 5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;

/// The IPv4 multicast group of VRRP (RFC 3768 5.2.2), keepalived's default `vrrp_mcast_group4`.
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group of VRRP (RFC 5798 5.1.2.2), keepalived's default `vrrp_mcast_group6`.
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The TTL or hop limit VRRP sends with and requires on receive (RFC 3768 5.2.3, RFC 5798 5.1.1.3).
pub const VRRP_TTL: u8 = 255;

/// IP precedence "internetwork control" (DSCP CS6), the TOS keepalived gives its adverts.
const TOS_INTERNET_CONTROL: u32 = 0xc0;

/// How a socket addresses its adverts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Send to a multicast group and receive what is sent to it on the interface.
    Multicast {
        /// The group: [`VRRP_GROUP_V4`] or [`VRRP_GROUP_V6`] unless configured otherwise
        /// (`vrrp_mcast_group4`, `vrrp_mcast_group6`).
        group: IpAddr,
    },
    /// Send to each peer in turn (keepalived's `unicast_peer`); receive what is sent to us.
    Unicast {
        /// The peers, all of the socket's family.
        peers: Vec<IpAddr>,
    },
}

/// Everything [`VrrpSocket::open`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// The interface to send and receive on (`SO_BINDTODEVICE`).
    pub interface: String,
    /// IPv4 or IPv6; every address below must be of this family.
    pub family: Family,
    /// Multicast or unicast.
    pub mode: Mode,
    /// The source address to bind (`mcast_src_ip`, `unicast_src_ip`); the kernel picks one
    /// when `None`. It must already be configured on the host.
    pub src: Option<IpAddr>,
    /// TTL (IPv4) or hop limit (IPv6) of what the socket sends: [`VRRP_TTL`] unless
    /// `unicast_ttl` says otherwise.
    pub ttl: u8,
    /// The source address is another interface's: a vmac sending from its parent's address.
    pub borrowed_src: bool,
}

impl SocketConfig {
    /// Multicast to the standard VRRP group of `family` on `interface`, TTL 255, no bound source.
    pub fn multicast(interface: impl Into<String>, family: Family) -> SocketConfig {
        let group = match family {
            Family::Ipv4 => IpAddr::V4(VRRP_GROUP_V4),
            Family::Ipv6 => IpAddr::V6(VRRP_GROUP_V6),
        };
        SocketConfig {
            interface: interface.into(),
            family,
            mode: Mode::Multicast { group },
            src: None,
            ttl: VRRP_TTL,
            borrowed_src: false,
        }
    }

    /// Unicast to `peers` from `src` on `interface`, TTL 255.
    pub fn unicast(
        interface: impl Into<String>,
        family: Family,
        src: Option<IpAddr>,
        peers: Vec<IpAddr>,
    ) -> SocketConfig {
        SocketConfig {
            interface: interface.into(),
            family,
            mode: Mode::Unicast { peers },
            src,
            ttl: VRRP_TTL,
            borrowed_src: false,
        }
    }

    /// Every address the configuration names, to check their family.
    fn addresses(&self) -> impl Iterator<Item = &IpAddr> {
        let mode: &[IpAddr] = match &self.mode {
            Mode::Multicast { group } => std::slice::from_ref(group),
            Mode::Unicast { peers } => peers,
        };
        self.src.iter().chain(mode)
    }
}

/// One received VRRP message: where it came from and went to, and where it sits in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The IP source address.
    pub src: IpAddr,
    /// The IP destination address: the group, or one of ours in unicast.
    pub dst: IpAddr,
    /// The IPv4 TTL or the IPv6 hop limit the packet arrived with.
    pub ttl: u8,
    /// The interface it arrived on.
    pub ifindex: u32,
    /// The VRRP message's bytes in the buffer given to [`VrrpSocket::recv`].
    pub payload: Range<usize>,
}

impl Received {
    /// The VRRP message, from the buffer it was received into.
    pub fn payload<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.payload.clone()]
    }
}

/// A raw IP protocol 112 socket bound to one interface, IPv4 or IPv6, multicast or unicast.
///
/// It is two sockets, as keepalived's are: a raw socket bound to a source address receives
/// only datagrams addressed to that address, so the one that sends is bound to the source and
/// the one that receives is not.
#[derive(Debug)]
pub struct VrrpSocket {
    /// Sends, from the bound source address; receives nothing (a filter drops all).
    sender: UdpSocket,
    /// Receives; not bound to an address, which would hide multicast from a raw socket.
    receiver: UdpSocket,
    interface: String,
    ifindex: u32,
    family: Family,
    mode: Mode,
}

/// What one `recvmsg` call returned, before it is checked.
struct Datagram {
    len: usize,
    truncated: bool,
    from: Option<IpAddr>,
    dst: Option<IpAddr>,
    ifindex: Option<u32>,
    hop_limit: Option<i32>,
}

impl VrrpSocket {
    /// Opens, configures and registers the socket with the current tokio runtime.
    ///
    /// Needs `CAP_NET_RAW`, a tokio runtime with I/O enabled, the interface to exist and
    /// `src` (when given) to be configured on it.
    pub fn open(config: &SocketConfig) -> Result<VrrpSocket, Error> {
        for addr in config.addresses() {
            if Family::of(addr) != config.family {
                return Err(Error::FamilyMismatch { addr: *addr, family: config.family });
            }
        }
        let interface = config.interface.clone();
        let ifindex = interface_index(&interface)?;
        let sender = open_sender(config, ifindex)?;
        let receiver = open_receiver(config, ifindex)?;
        tracing::debug!(
            interface,
            ifindex,
            family = %config.family,
            mode = ?config.mode,
            src = ?config.src,
            "VRRP socket open"
        );
        Ok(VrrpSocket {
            sender: register(sender, &interface)?,
            receiver: register(receiver, &interface)?,
            interface,
            ifindex,
            family: config.family,
            mode: config.mode.clone(),
        })
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Waits for the next VRRP message and receives it into `buf`.
    ///
    /// An error about one datagram ([`Error::Truncated`], [`Error::BadIpHeader`],
    /// [`Error::MissingAncillary`]) leaves the socket usable: log it and call again.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Received, Error> {
        let datagram = self
            .receiver
            .async_io(Interest::READABLE, || recv_datagram(&self.receiver, self.family, buf))
            .await
            .map_err(|source| Error::Recv { interface: self.interface.clone(), source })?;
        if datagram.truncated {
            return Err(Error::Truncated { interface: self.interface.clone(), len: buf.len() });
        }
        let ifindex = datagram.ifindex.ok_or_else(|| self.missing(self.pktinfo_name()))?;
        let received = match self.family {
            Family::Ipv4 => {
                let packet = ipv4::Packet::new_checked(&buf[..datagram.len])
                    .map_err(|source| Error::BadIpHeader { interface: self.interface.clone(), source })?;
                Received {
                    src: IpAddr::V4(packet.src_addr()),
                    dst: IpAddr::V4(packet.dst_addr()),
                    ttl: packet.ttl(),
                    ifindex,
                    payload: packet.header_len()..usize::from(packet.total_len()),
                }
            }
            Family::Ipv6 => {
                let hop_limit = datagram.hop_limit.ok_or_else(|| self.missing("IPV6_HOPLIMIT"))?;
                Received {
                    src: datagram.from.ok_or_else(|| self.missing("the source address"))?,
                    dst: datagram.dst.ok_or_else(|| self.missing(self.pktinfo_name()))?,
                    ttl: u8::try_from(hop_limit).map_err(|_| self.missing("a valid IPV6_HOPLIMIT"))?,
                    ifindex,
                    payload: 0..datagram.len,
                }
            }
        };
        tracing::trace!(
            interface = self.interface,
            src = %received.src,
            dst = %received.dst,
            ttl = received.ttl,
            len = received.payload.len(),
            "VRRP packet received"
        );
        Ok(received)
    }

    /// Sends one VRRP message: to `dst` when given, otherwise to the group (multicast) or to
    /// every peer in turn (unicast).
    ///
    /// In unicast every peer is tried even when one fails; the first failure is returned. With
    /// no peers nothing is sent.
    pub async fn send(&self, payload: &[u8], dst: Option<IpAddr>) -> Result<(), Error> {
        let targets: &[IpAddr] = match (&dst, &self.mode) {
            (Some(dst), _) => std::slice::from_ref(dst),
            (None, Mode::Multicast { group }) => std::slice::from_ref(group),
            (None, Mode::Unicast { peers }) => peers,
        };
        let mut first_error = None;
        for &target in targets {
            if let Err(err) = self.send_one(payload, target).await {
                tracing::debug!(interface = self.interface, dst = %target, error = %err, "VRRP send failed");
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn send_one(&self, payload: &[u8], dst: IpAddr) -> Result<(), Error> {
        if Family::of(&dst) != self.family {
            return Err(Error::FamilyMismatch { addr: dst, family: self.family });
        }
        let addr = sock_addr(dst, self.ifindex);
        let sent = self
            .sender
            .async_io(Interest::WRITABLE, || SockRef::from(&self.sender).send_to(payload, &addr))
            .await
            .map_err(|source| Error::Send { interface: self.interface.clone(), dst, source })?;
        if sent != payload.len() {
            let source = std::io::Error::other(format!("sent {sent} of {} bytes", payload.len()));
            return Err(Error::Send { interface: self.interface.clone(), dst, source });
        }
        tracing::trace!(interface = self.interface, %dst, len = payload.len(), "VRRP packet sent");
        Ok(())
    }

    fn pktinfo_name(&self) -> &'static str {
        match self.family {
            Family::Ipv4 => "IP_PKTINFO",
            Family::Ipv6 => "IPV6_PKTINFO",
        }
    }

    fn missing(&self, what: &'static str) -> Error {
        Error::MissingAncillary { interface: self.interface.clone(), what }
    }
}

/// A non-blocking raw protocol 112 socket of `config`'s family, bound to its interface.
fn raw_socket(config: &SocketConfig) -> Result<Socket, Error> {
    let domain = match config.family {
        Family::Ipv4 => Domain::IPV4,
        Family::Ipv6 => Domain::IPV6,
    };
    let interface = config.interface.as_str();
    let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(IPPROTO_VRRP))))
        .map_err(|source| Error::socket("opening a raw IP socket", interface, source))?;
    socket.set_nonblocking(true).map_err(|source| Error::socket("setting O_NONBLOCK", interface, source))?;
    socket
        .bind_device(Some(interface.as_bytes()))
        .map_err(|source| Error::socket("binding to the interface (SO_BINDTODEVICE)", interface, source))?;
    Ok(socket)
}

/// The sending socket: TOS, TTL, no multicast loop (so no local socket gets our own adverts),
/// bound to the source address when there is one.
fn open_sender(config: &SocketConfig, ifindex: u32) -> Result<Socket, Error> {
    let interface = config.interface.as_str();
    let socket = raw_socket(config)?;
    let step =
        |op: &'static str, result: std::io::Result<()>| result.map_err(|source| Error::socket(op, interface, source));
    step("attaching a drop-all filter", socket.attach_filter(&[BPF_DROP_ALL]))?;
    if let Some(src) = config.src {
        socket.bind(&sock_addr(src, ifindex)).map_err(|source| Error::source_address(src, interface, source))?;
    }
    let ttl = u32::from(config.ttl);
    match config.family {
        Family::Ipv4 => {
            step("setting IP_TOS", socket.set_tos_v4(TOS_INTERNET_CONTROL))?;
            step("setting IP_TTL", socket.set_ttl_v4(ttl))?;
            step("setting IP_MULTICAST_TTL", socket.set_multicast_ttl_v4(ttl))?;
            step("setting IP_MULTICAST_LOOP", socket.set_multicast_loop_v4(false))?;
            // SO_BINDTODEVICE already picks the interface of multicast sends (socket2 sets
            // IP_MULTICAST_IF by address only); by address it also sets the multicast source.
            if let Some(IpAddr::V4(src)) = config.src {
                match socket.set_multicast_if_v4(&src) {
                    Ok(()) => {}
                    // A borrowed source (a vmac's parent holds it) is on another interface
                    // than the socket's: the kernel refuses the pair, and needs neither, since
                    // the bound device and the bound source already pick interface and source.
                    Err(e) if config.borrowed_src && e.raw_os_error() == Some(nix::errno::Errno::EINVAL as i32) => {}
                    Err(source) => return Err(Error::source_address(IpAddr::V4(src), interface, source)),
                }
            }
        }
        Family::Ipv6 => {
            step("setting IPV6_TCLASS", socket.set_tclass_v6(TOS_INTERNET_CONTROL))?;
            step("setting IPV6_UNICAST_HOPS", socket.set_unicast_hops_v6(ttl))?;
            step("setting IPV6_MULTICAST_HOPS", socket.set_multicast_hops_v6(ttl))?;
            step("setting IPV6_MULTICAST_LOOP", socket.set_multicast_loop_v6(false))?;
            step("setting IPV6_MULTICAST_IF", socket.set_multicast_if_v6(ifindex))?;
        }
    }
    Ok(socket)
}

/// The receiving socket: the group joined (multicast), only joined groups delivered, and the
/// ancillary data [`Received`] is made of.
fn open_receiver(config: &SocketConfig, ifindex: u32) -> Result<Socket, Error> {
    let interface = config.interface.as_str();
    let socket = raw_socket(config)?;
    let step =
        |op: &'static str, result: std::io::Result<()>| result.map_err(|source| Error::socket(op, interface, source));
    match config.family {
        Family::Ipv4 => {
            // Without this a socket gets every group any socket on the host joined.
            step("setting IP_MULTICAST_ALL", socket.set_multicast_all_v4(false))?;
            step("setting IP_PKTINFO", setsockopt_bool(&socket, sockopt::Ipv4PacketInfo))?;
            if let Mode::Multicast { group: IpAddr::V4(group) } = config.mode {
                let on = InterfaceIndexOrAddress::Index(ifindex);
                step("joining the VRRP group (IP_ADD_MEMBERSHIP)", socket.join_multicast_v4_n(&group, &on))?;
            }
        }
        Family::Ipv6 => {
            step("setting IPV6_MULTICAST_ALL", socket.set_multicast_all_v6(false))?;
            step("setting IPV6_RECVHOPLIMIT", socket.set_recv_hoplimit_v6(true))?;
            step("setting IPV6_RECVPKTINFO", setsockopt_bool(&socket, sockopt::Ipv6RecvPacketInfo))?;
            if let Mode::Multicast { group: IpAddr::V6(group) } = config.mode {
                step("joining the VRRP group (IPV6_ADD_MEMBERSHIP)", socket.join_multicast_v6(&group, ifindex))?;
            }
        }
    }
    Ok(socket)
}

/// Registers `socket` with the current tokio runtime. tokio takes an owned socket of any kind
/// through its `UdpSocket` type (the safe way since `AsyncFd::new` was deprecated); only its
/// readiness and `async_io` are used, never a UDP call.
fn register(socket: Socket, interface: &str) -> Result<UdpSocket, Error> {
    UdpSocket::from_std(std::net::UdpSocket::from(socket)).map_err(|source| Error::Socket {
        op: "registering with the tokio runtime",
        interface: interface.to_owned(),
        source,
    })
}

/// The socket address for `ip`; IPv6 gets the interface as scope so that link-local
/// addresses resolve on it.
fn sock_addr(ip: IpAddr, ifindex: u32) -> SockAddr {
    let addr = match ip {
        IpAddr::V4(ip) => SocketAddr::V4(SocketAddrV4::new(ip, 0)),
        IpAddr::V6(ip) => SocketAddr::V6(SocketAddrV6::new(ip, 0, 0, ifindex)),
    };
    SockAddr::from(addr)
}

/// Turns on a boolean socket option nix knows and socket2 does not.
fn setsockopt_bool<O: nix_socket::SetSockOpt<Val = bool>>(socket: &Socket, option: O) -> std::io::Result<()> {
    nix_socket::setsockopt(socket, option, &true).map_err(std::io::Error::from)
}

/// One `recvmsg` on a ready socket, with the ancillary data the family needs.
fn recv_datagram(socket: &UdpSocket, family: Family, buf: &mut [u8]) -> std::io::Result<Datagram> {
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut datagram = Datagram { len: 0, truncated: false, from: None, dst: None, ifindex: None, hop_limit: None };
    match family {
        Family::Ipv4 => {
            let mut cmsg = nix::cmsg_space!(nix::libc::in_pktinfo);
            // The source is in the IP header the kernel delivers with the message.
            let msg = nix_socket::recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
            datagram.len = msg.bytes;
            datagram.truncated = msg.flags.contains(MsgFlags::MSG_TRUNC);
            for cmsg in msg.cmsgs()? {
                if let ControlMessageOwned::Ipv4PacketInfo(info) = cmsg {
                    datagram.ifindex = u32::try_from(info.ipi_ifindex).ok();
                }
            }
        }
        Family::Ipv6 => {
            let mut cmsg = nix::cmsg_space!(nix::libc::in6_pktinfo, nix::libc::c_int);
            let msg =
                nix_socket::recvmsg::<SockaddrIn6>(socket.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
            datagram.len = msg.bytes;
            datagram.truncated = msg.flags.contains(MsgFlags::MSG_TRUNC);
            datagram.from = msg.address.map(|addr| IpAddr::V6(addr.ip()));
            for cmsg in msg.cmsgs()? {
                match cmsg {
                    ControlMessageOwned::Ipv6PacketInfo(info) => {
                        datagram.ifindex = Some(info.ipi6_ifindex);
                        datagram.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    }
                    ControlMessageOwned::Ipv6HopLimit(hops) => datagram.hop_limit = Some(hops),
                    _ => {}
                }
            }
        }
    }
    Ok(datagram)
}
