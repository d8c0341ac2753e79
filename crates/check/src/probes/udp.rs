//! UDP_CHECK: send the payload (random bytes when none is set) and wait for an answer.
//!
//! keepalived.conf(5): an ICMP error (port, host or net unreachable) fails the check. With
//! `require_reply` a reply must come, its length within `min_reply_length..=max_reply_length`,
//! and its bytes equal to the expected ones as far as both go, but for nibbles written `X`.
//! Without it, silence until the deadline is a pass.

use std::time::Duration;

use tokio::time::{timeout_at, Instant};

use super::{io_failure, udp_socket, ProbeContext};
use crate::plan::UdpSpec;
use crate::verdict::{Failure, ProbeResult, Success};

pub(crate) async fn check(spec: &UdpSpec, ctx: &ProbeContext, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let socket = udp_socket(&spec.endpoint).await?;
    let payload = match &spec.payload {
        Some(p) => p.clone(),
        None => ctx.random().to_be_bytes().to_vec(),
    };
    match timeout_at(deadline, socket.send(&payload)).await {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(io_failure(e)),
        Ok(Ok(_)) => {}
    }
    let mut buf = vec![0u8; 65536];
    match timeout_at(deadline, socket.recv(&mut buf)).await {
        Err(_) if spec.require_reply.is_some() => Err(Failure::NoReply),
        Err(_) => Ok(Success::PLAIN),
        Ok(Err(e)) if e.raw_os_error() == Some(nix::libc::ECONNREFUSED) => Err(Failure::PortUnreachable),
        Ok(Err(e)) => Err(io_failure(e)),
        Ok(Ok(n)) => reply_verdict(spec, &buf[..n]),
    }
}

fn reply_verdict(spec: &UdpSpec, reply: &[u8]) -> ProbeResult {
    let Some(want) = &spec.require_reply else { return Ok(Success::PLAIN) };
    let len = u32::try_from(reply.len()).unwrap_or(u32::MAX);
    let same = reply.iter().zip(&want.bytes).all(|(got, (value, mask))| got & mask == value & mask);
    if len < spec.min_reply_length || len > spec.max_reply_length || !same {
        return Err(Failure::ReplyMismatch);
    }
    Ok(Success::PLAIN)
}

#[cfg(test)]
mod tests {
    use vigil_config::model::ReplyPattern;

    use super::*;
    use crate::plan::Endpoint;

    fn spec(require: Option<&[u8]>, min: u32, max: u32) -> UdpSpec {
        UdpSpec {
            endpoint: Endpoint::new("127.0.0.1:9".parse().expect("literal")),
            payload: None,
            require_reply: require.map(|b| ReplyPattern { bytes: b.iter().map(|&v| (v, 0xff)).collect() }),
            min_reply_length: min,
            max_reply_length: max,
        }
    }

    #[test]
    fn replies() {
        let ok = Ok(Success::PLAIN);
        let bad = Err(Failure::ReplyMismatch);
        assert_eq!(reply_verdict(&spec(None, 0, 255), b"anything"), ok);
        assert_eq!(reply_verdict(&spec(Some(b""), 0, 255), b"anything"), ok);
        assert_eq!(reply_verdict(&spec(Some(b"ab"), 0, 255), b"abc"), ok);
        assert_eq!(reply_verdict(&spec(Some(b"abc"), 0, 255), b"ab"), ok, "compared as far as both go");
        assert_eq!(reply_verdict(&spec(Some(b"ab"), 0, 255), b"ax"), bad);
        assert_eq!(reply_verdict(&spec(Some(b""), 3, 255), b"ab"), bad);
        assert_eq!(reply_verdict(&spec(Some(b""), 0, 1), b"ab"), bad);
    }

    #[test]
    fn x_nibbles_match_anything() {
        let mut s = spec(None, 0, 255);
        s.require_reply = Some(ReplyPattern { bytes: vec![(0x01, 0xff), (0x00, 0x00), (0x20, 0xf0)] });
        assert_eq!(reply_verdict(&s, &[0x01, 0x7e, 0x2c]), Ok(Success::PLAIN));
        assert_eq!(reply_verdict(&s, &[0x01, 0xff]), Ok(Success::PLAIN), "compared as far as both go");
        assert_eq!(reply_verdict(&s, &[0x01, 0x7e, 0x3c]), Err(Failure::ReplyMismatch), "the high nibble counts");
        assert_eq!(reply_verdict(&s, &[0x02]), Err(Failure::ReplyMismatch));
    }
}
