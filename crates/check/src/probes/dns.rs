//! DNS_CHECK: a query over UDP; any answer to it with RCODE 0 passes (keepalived's
//! check_dns.c does not look at the answer count). Datagrams that are not an answer to the
//! query are ignored; an ICMP port unreachable fails at once.

use std::time::Duration;

use tokio::time::{timeout_at, Instant};

use super::{io_failure, udp_socket, ProbeContext};
use crate::plan::Endpoint;
use crate::verdict::{Failure, ProbeResult, Success};
use crate::wire::{dns_query, dns_rcode};

pub(crate) async fn check(ep: &Endpoint, name: &str, qtype: u16, ctx: &ProbeContext, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let socket = udp_socket(ep).await?;
    let id = ctx.random() as u16;
    let query = dns_query(id, name, qtype);
    match timeout_at(deadline, socket.send(&query)).await {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(io_failure(e)),
        Ok(Ok(_)) => {}
    }
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return Err(Failure::NoReply),
            Ok(Err(e)) if e.raw_os_error() == Some(nix::libc::ECONNREFUSED) => return Err(Failure::PortUnreachable),
            Ok(Err(e)) => return Err(io_failure(e)),
            Ok(Ok(n)) => n,
        };
        match dns_rcode(&buf[..n], id) {
            None => continue,
            Some(0) => return Ok(Success::PLAIN),
            Some(rcode) => return Err(Failure::Rcode(rcode)),
        }
    }
}
