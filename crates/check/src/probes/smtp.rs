//! SMTP_CHECK: the 220 greeting, `HELO name` answered by 250, then QUIT.

use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::{timeout_at, Instant};

use super::{io_failure, tcp};
use crate::plan::Endpoint;
use crate::verdict::{Failure, ProbeResult, Success};
use crate::wire::smtp_reply_line;

/// A reply line longer than this, or a reply of more lines, is not SMTP.
const MAX_LINE: usize = 4096;
const MAX_LINES: usize = 100;

pub(crate) async fn check(ep: &Endpoint, helo: &str, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let stream = tcp::connect(ep, deadline).await?;
    let mut stream = BufReader::new(stream);
    let (code, line) = within(deadline, read_reply(&mut stream)).await?;
    if code != 220 {
        return Err(Failure::Banner(line));
    }
    within(deadline, send(&mut stream, &format!("HELO {helo}\r\n"))).await?;
    let (code, line) = within(deadline, read_reply(&mut stream)).await?;
    if code != 250 {
        return Err(Failure::Helo(line));
    }
    // A polite goodbye; the verdict is already in.
    let _ = within(deadline, send(&mut stream, "QUIT\r\n")).await;
    Ok(Success::PLAIN)
}

/// Runs an I/O step before the deadline.
pub(crate) async fn within<T>(
    deadline: Instant,
    step: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, Failure> {
    match timeout_at(deadline, step).await {
        Err(_) => Err(Failure::Timeout),
        Ok(Err(e)) => Err(io_failure(e)),
        Ok(Ok(v)) => Ok(v),
    }
}

pub(crate) async fn send<W: AsyncWrite + Unpin>(w: &mut W, line: &str) -> std::io::Result<()> {
    w.write_all(line.as_bytes()).await?;
    w.flush().await
}

/// Reads a whole (possibly multi-line) reply: its code and last line.
pub(crate) async fn read_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<(u16, String)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    for _ in 0..MAX_LINES {
        let mut line = String::new();
        let n = (&mut *r).take(MAX_LINE as u64).read_line(&mut line).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let line = line.trim_end().to_string();
        match smtp_reply_line(&line) {
            Some((code, true)) => return Ok((code, line)),
            Some((_, false)) => {}
            None => return Err(bad(&format!("not an SMTP reply: {line}"))),
        }
    }
    Err(bad("SMTP reply too long"))
}
