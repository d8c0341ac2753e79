//! BFD's UDP sockets (RFC 5881): one per family receiving on port 3784 with each datagram's
//! TTL or hop limit and local address, and one per session sending from a port in 49152 to
//! 65535 with the session's TTL.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{self as nix_socket, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// RFC 5881 4: Control packets go to UDP port 3784.
pub const CONTROL_PORT: u16 = 3784;

/// RFC 5881 4: "The source port MUST be in the range 49152 through 65535."
const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;

/// A datagram as it arrived.
pub struct Datagram {
    pub len: usize,
    pub from: IpAddr,
    /// The local address it was sent to.
    pub to: Option<IpAddr>,
    /// Its TTL or hop limit.
    pub ttl: Option<u8>,
}

/// Opens the receiving socket of `v6`'s family on port 3784, asking the kernel for each
/// datagram's TTL or hop limit and destination address.
pub fn open_receiver(v6: bool) -> io::Result<UdpSocket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    let addr = if v6 {
        socket.set_only_v6(true)?;
        nix_socket::setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true)?;
        nix_socket::setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)?;
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), CONTROL_PORT)
    } else {
        nix_socket::setsockopt(&socket, sockopt::Ipv4RecvTtl, &true)?;
        nix_socket::setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)?;
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), CONTROL_PORT)
    };
    socket.bind(&SockAddr::from(addr))?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// Opens a session's sending socket: from `source` when set, from a port in 49152 to 65535
/// (the first free one from `start`), with `ttl` as its TTL or hop limit. A plain
/// non-blocking socket: a packet that cannot go at once is lost as on the wire, and the next
/// one follows within the interval.
pub fn open_sender(neighbor: IpAddr, source: Option<IpAddr>, ttl: u8, start: u16) -> io::Result<std::net::UdpSocket> {
    let v6 = neighbor.is_ipv6();
    let socket = Socket::new(if v6 { Domain::IPV6 } else { Domain::IPV4 }, Type::DGRAM, Some(Protocol::UDP))?;
    if v6 {
        socket.set_only_v6(true)?;
        socket.set_unicast_hops_v6(u32::from(ttl))?;
    } else {
        socket.set_ttl_v4(u32::from(ttl))?;
    }
    let ip = source.unwrap_or(if v6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) });
    let span = u32::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
    let first = u32::from(start.clamp(*SOURCE_PORTS.start(), *SOURCE_PORTS.end()) - SOURCE_PORTS.start());
    let mut last = None;
    for n in 0..span {
        let port = SOURCE_PORTS.start() + u16::try_from((first + n) % span).unwrap_or(0);
        match socket.bind(&SockAddr::from(SocketAddr::new(ip, port))) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = last {
        return Err(e);
    }
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Receives one datagram into `buf` once the socket is readable.
pub async fn receive(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    socket.async_io(Interest::READABLE, || recv_datagram(socket, buf)).await
}

fn recv_datagram(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(nix::libc::in6_pktinfo, nix::libc::c_int);
    let msg = nix_socket::recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())?;
    let from = msg
        .address
        .and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a datagram without a source address"))?;
    let mut datagram = Datagram { len: msg.bytes, from, to: None, ttl: None };
    for c in msg.cmsgs()? {
        match c {
            ControlMessageOwned::Ipv4Ttl(ttl) => datagram.ttl = u8::try_from(ttl).ok(),
            ControlMessageOwned::Ipv6HopLimit(hops) => datagram.ttl = u8::try_from(hops).ok(),
            ControlMessageOwned::Ipv4PacketInfo(info) => {
                datagram.to = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr))))
            }
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                datagram.to = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)))
            }
            _ => {}
        }
    }
    Ok(datagram)
}
