//! The probes: thin async functions that talk to a server and say whether it passed.
//!
//! Each attempt has one hard deadline, the checker's `connect_timeout` (`misc_timeout` for
//! MISC_CHECK), covering connect, TLS, request and the whole response: a server that trickles
//! bytes is cut when it runs out, not when it stops sending. An HTTP check with several urls
//! gives each url its own deadline, as keepalived fetches each on its own connection.
//! Errors the kernel reports at once (connection refused, host unreachable from ICMP) fail
//! the attempt at once.

pub(crate) mod connects;
mod dns;
mod file;
mod http;
mod misc;
mod ping;
pub mod script_nice;
pub(crate) mod smtp;
pub(crate) mod tcp;
mod tls;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::plan::{CheckSpec, Endpoint, ProbeKind};
use crate::verdict::{Failure, ProbeResult};

pub use tls::TlsClient;

/// What probes share: TLS client settings, the host name and a source of ids.
#[derive(Debug)]
pub struct ProbeContext {
    /// `None` when the `SSL` block could not be loaded: every SSL_GET attempt fails.
    tls: Option<TlsClient>,
    hostname: String,
    counter: AtomicU64,
}

impl ProbeContext {
    /// `seed` varies the DNS ids, ICMP ids and UDP payloads between runs. SSL_GET uses
    /// keepalived's context without an `SSL` block ([`ProbeContext::with_tls`] changes it).
    pub fn new(hostname: String, seed: u64) -> ProbeContext {
        ProbeContext { tls: Some(TlsClient::anonymous()), hostname, counter: AtomicU64::new(seed) }
    }

    /// The same context with SSL_GET's settings from an `SSL` block; `None` when they could
    /// not be loaded.
    pub fn with_tls(self, tls: Option<TlsClient>) -> ProbeContext {
        ProbeContext { tls, ..self }
    }

    /// A fresh pseudo-random number. Probe tasks share the context, so each call seeds a
    /// generator of its own from the next count: no lock, and no two calls draw the same seed.
    pub fn random(&self) -> u64 {
        fastrand::Rng::with_seed(self.counter.fetch_add(1, Ordering::Relaxed)).u64(..)
    }

    fn tls(&self, sni: bool) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.as_ref().map(|t| t.config(sni))
    }
}

/// Runs one attempt of a check. The runner starts TCP_CHECK's connects itself
/// (`probes/connects.rs`); this runs the same connect on its own.
pub async fn probe(spec: &CheckSpec, ctx: &ProbeContext) -> ProbeResult {
    let timeout = spec.timing.timeout;
    match &spec.kind {
        ProbeKind::Tcp(ep) => connects::check(ep, timeout).await,
        ProbeKind::Http(h) => http::check(h, ctx, timeout).await,
        ProbeKind::Misc(m) => misc::check(m, timeout).await,
        ProbeKind::Smtp(s) => smtp::check(&s.endpoint, s.helo_name.as_deref().unwrap_or(&ctx.hostname), timeout).await,
        ProbeKind::Dns(d) => dns::check(&d.endpoint, &d.name, d.qtype, ctx, timeout).await,
        ProbeKind::Udp(u) => udp::check(u, ctx, timeout).await,
        ProbeKind::Ping(ep) => ping::check(ep, ctx, timeout).await,
        ProbeKind::File(f) => file::check(f).await,
        // The runner never schedules it: the BFD task's reports decide it.
        ProbeKind::Bfd(name) => Err(Failure::Io(format!("BFD_CHECK of {name} is not probed; its session decides it"))),
    }
}

/// A non-blocking socket towards `ep.addr()`, bound and marked as the checker asks.
fn socket(ep: &Endpoint, ty: Type, protocol: Protocol) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(ep.addr()), ty.nonblocking(), Some(protocol))?;
    let Some(src) = &ep.source else { return Ok(socket) };
    if let Some(dev) = &src.bind_if {
        socket.bind_device(Some(dev.as_bytes()))?;
    }
    if let Some(mark) = src.fwmark {
        socket.set_mark(mark)?;
    }
    if src.bindto.is_some() || src.bind_port.is_some() {
        let ip = src.bindto.unwrap_or(match ep.addr() {
            SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
        });
        socket.set_reuse_address(true)?;
        socket.bind(&SockAddr::from(SocketAddr::new(ip, src.bind_port.unwrap_or(0))))?;
    }
    Ok(socket)
}

/// Linux reports only "fatal" ICMP errors (port unreachable) to a datagram socket; with
/// IP_RECVERR a host or network unreachable ends the receive at once too, instead of after
/// the whole timeout (keepalived #1822, #765).
fn report_icmp_errors(socket: &Socket, to: SocketAddr) -> Result<(), Failure> {
    use nix::sys::socket::{setsockopt, sockopt};
    let set = match to {
        SocketAddr::V4(_) => setsockopt(socket, sockopt::Ipv4RecvErr, &true),
        SocketAddr::V6(_) => setsockopt(socket, sockopt::Ipv6RecvErr, &true),
    };
    set.map_err(|e| io_failure(e.into()))
}

/// A connected UDP socket towards `ep.addr()`, told of ICMP errors.
async fn udp_socket(ep: &Endpoint) -> Result<tokio::net::UdpSocket, Failure> {
    let socket = socket(ep, Type::DGRAM, Protocol::UDP).map_err(io_failure)?;
    report_icmp_errors(&socket, ep.addr())?;
    let socket = tokio::net::UdpSocket::from_std(socket.into()).map_err(io_failure)?;
    socket.connect(ep.addr()).await.map_err(io_failure)?;
    Ok(socket)
}

/// Maps a socket error to a failure; unreachable and refused are told apart for the logs.
fn io_failure(e: io::Error) -> Failure {
    match e.raw_os_error() {
        Some(nix::libc::ECONNREFUSED) => Failure::Refused,
        Some(nix::libc::EHOSTUNREACH) | Some(nix::libc::ENETUNREACH) => Failure::Unreachable(e.to_string()),
        _ => Failure::Io(e.to_string()),
    }
}
