//! HTTP_GET and SSL_GET: fetch each url and judge the response (see [`crate::response`]).
//!
//! The exchange is HTTP/1.0 or 1.1 with `Connection: close` as keepalived speaks it, over a
//! connection made here; the response is read raw, so that the digest matches genhash's.
//! TLS certificates are not verified, as keepalived does not verify them without an `SSL`
//! block (which Vigil does not support yet).

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
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
        .unwrap_or_else(|| ServerName::IpAddress(spec.endpoint.addr.ip().into()));
    let connector = tokio_rustls::TlsConnector::from(ctx.tls(spec.enable_sni));
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
        Ok(Err(e)) => return Err(io_failure(e)),
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
            Ok(Err(e)) => return Err(io_failure(e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 || reader.feed(&buf[..n])? == Progress::Complete {
            break;
        }
    }
    reader.finish()
}

/// TLS client settings: any certificate is accepted, signatures are still checked.
pub(crate) fn client_config(sni: bool) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    config.enable_sni = sni;
    Arc::new(config)
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
