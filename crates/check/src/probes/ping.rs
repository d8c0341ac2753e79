//! PING_CHECK: one ICMP (or ICMPv6) echo request, passed by its echo reply.
//!
//! It uses a ping socket (SOCK_DGRAM, IPPROTO_ICMP) where `net.ipv4.ping_group_range` allows
//! it, else a raw socket (root). Both are connected to the target, so the kernel hands over
//! only what the target sends.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Protocol, SockAddr, Type};
use tokio::time::{timeout_at, Instant};

use super::{io_failure, report_icmp_errors, socket, ProbeContext};
use crate::plan::Endpoint;
use crate::verdict::{Failure, ProbeResult, Success};
use crate::wire::{echo_request, is_echo_reply};

/// Bytes of payload after the echo header.
const PAYLOAD: &[u8] = b"vigil health check";

pub(crate) async fn check(ep: &Endpoint, ctx: &ProbeContext, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let v6 = ep.addr().is_ipv6();
    let protocol = if v6 { Protocol::ICMPV6 } else { Protocol::ICMPV4 };
    let (sock, raw) = match socket(ep, Type::DGRAM, protocol) {
        Ok(s) => (s, false),
        Err(e) if matches!(e.raw_os_error(), Some(nix::libc::EACCES) | Some(nix::libc::EPERM)) => {
            (socket(ep, Type::RAW, protocol).map_err(io_failure)?, true)
        }
        Err(e) => return Err(io_failure(e)),
    };
    report_icmp_errors(&sock, ep.addr())?;
    sock.connect(&SockAddr::from(SocketAddr::new(ep.addr().ip(), 0))).map_err(io_failure)?;
    // tokio's UdpSocket only issues send(2) and recv(2), which are what a datagram ICMP or a
    // raw socket takes too: it serves as the async wrapper without any unsafe registration.
    let sock = tokio::net::UdpSocket::from_std(sock.into()).map_err(io_failure)?;
    let n = ctx.random();
    let (id, seq) = (n as u16, (n >> 16) as u16);
    let request = echo_request(v6, id, seq, PAYLOAD);
    match timeout_at(deadline, sock.send(&request)).await {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(io_failure(e)),
        Ok(Ok(_)) => {}
    }
    // Ping sockets choose the id themselves; raw IPv4 sockets deliver the IP header.
    let want_id = raw.then_some(id);
    let with_ip_header = raw && !v6;
    let mut buf = vec![0u8; 1500];
    loop {
        let n = match timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => return Err(Failure::NoReply),
            Ok(Err(e)) => return Err(io_failure(e)),
            Ok(Ok(n)) => n,
        };
        if is_echo_reply(&buf[..n], v6, with_ip_header, want_id, seq) {
            return Ok(Success::PLAIN);
        }
    }
}
