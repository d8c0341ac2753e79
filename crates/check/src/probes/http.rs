//! HTTP_GET and SSL_GET: fetch each url and judge the response (see [`crate::response`]).
//!
//! The exchange is HTTP/1.0 or 1.1 with `Connection: close` as keepalived speaks it, over a
//! connection made here; the response is read raw, so that the digest matches genhash's.
//! SSL_GET's TLS client context, with the `SSL` block's client certificate, is in `tls.rs`.

use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use super::{io_failure, tcp, ProbeContext};
use crate::plan::{HttpSpec, UrlSpec};
use crate::response::{Progress, ResponseReader};
use crate::verdict::{Failure, ProbeResult, Success};

pub(crate) async fn check(spec: &HttpSpec, ctx: &ProbeContext, timeout: Duration) -> ProbeResult {
    for url in &spec.urls {
        fetch(spec, url, ctx, Instant::now() + timeout).await?;
    }
    Ok(Success::PLAIN)
}

async fn fetch(spec: &HttpSpec, url: &UrlSpec, ctx: &ProbeContext, deadline: Instant) -> ProbeResult {
    let stream = tcp::connect(&spec.endpoint, deadline).await?;
    if !spec.tls {
        return exchange(stream, url.request.as_bytes(), url, deadline).await;
    }
    // A TLS session's state is large: kept out of line, it does not make every HTTP_GET
    // attempt as large (each is a task, moved whole when it is spawned).
    Box::pin(over_tls(spec, url, ctx, stream, deadline)).await
}

async fn over_tls(
    spec: &HttpSpec,
    url: &UrlSpec,
    ctx: &ProbeContext,
    stream: tokio::net::TcpStream,
    deadline: Instant,
) -> ProbeResult {
    let name = url
        .virtualhost
        .as_deref()
        .and_then(|v| ServerName::try_from(v.to_string()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)))
        .unwrap_or_else(|| ServerName::IpAddress(spec.endpoint.addr().ip().into()));
    let Some(config) = ctx.tls(spec.enable_sni) else {
        return Err(Failure::Tls("no SSL context: the SSL block could not be loaded".into()));
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let stream = match timeout_at(deadline, connector.connect(name, stream)).await {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(Failure::Tls(e.to_string())),
        Ok(Ok(s)) => s,
    };
    exchange(stream, url.request.as_bytes(), url, deadline).await
}

/// Sends the request and reads the response until the server closes, Content-Length is
/// reached or the deadline passes.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    req: &[u8],
    url: &UrlSpec,
    deadline: Instant,
) -> ProbeResult {
    match timeout_at(deadline, stream.write_all(req)).await {
        Err(_) => return Err(Failure::Timeout),
        Ok(Err(e)) => return Err(stream_failure(e)),
        Ok(Ok(())) => {}
    }
    let mut reader = ResponseReader::new(url);
    // Read into the buffer's spare room: zeroing 8 KB for every attempt was a quarter of
    // HTTP_GET's user time.
    let mut buf = Vec::with_capacity(8192);
    loop {
        buf.clear();
        let n = match timeout_at(deadline, stream.read_buf(&mut buf)).await {
            Err(_) => return Err(Failure::Timeout),
            // A TLS server that closes without close_notify has still sent everything.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Ok(Err(e)) => return Err(stream_failure(e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 || reader.feed(&buf[..n])? == Progress::Complete {
            break;
        }
    }
    reader.finish()
}

/// An error of the stream: over TLS, one that rustls reports (a fatal alert, such as a server
/// refusing the client certificate after a TLS 1.3 handshake) is a TLS failure.
fn stream_failure(e: std::io::Error) -> Failure {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => Failure::Tls(tls.to_string()),
        None => io_failure(e),
    }
}
