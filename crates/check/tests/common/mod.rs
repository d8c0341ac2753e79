//! Servers for the tests, on loopback only: TCP acceptors, a scriptable HTTP server, a TLS
//! server with a self-signed certificate, a DNS responder, a UDP echo, an SMTP sink.
#![allow(dead_code)] // each test binary uses its own part

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, UdpSocket};
use tokio::task::JoinHandle;

use vigil_check::plan::{CheckSpec, Plan};

pub const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Parses a configuration and plans it; panics on configuration errors.
pub fn plan_of(text: &str) -> Plan {
    let parsed = vigil_config::parse_str("test.conf", text, &vigil_config::Options::default(), None);
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    let plan = vigil_check::plan(&parsed.config);
    assert!(plan.problems.is_empty(), "{:?}", plan.problems);
    plan
}

/// The only check of a one-real-server configuration; `checker` is the checker block.
pub fn check_of(addr: SocketAddr, checker: &str) -> CheckSpec {
    // A virtual server of the real server's family: keepalived skips one of the other.
    let vip = if addr.is_ipv4() { "127.0.0.2" } else { "::2" };
    let text = format!(
        "virtual_server {vip} 80 {{\n protocol TCP\n real_server {} {} {{\n {checker}\n }}\n}}\n",
        addr.ip(),
        addr.port()
    );
    plan_of(&text).checks.remove(0)
}

/// A listener with SO_REUSEADDR, so a test can close and reopen a port.
pub fn listener(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket.bind(addr).expect("bind");
    socket.listen(128).expect("listen")
}

/// Accepts and drops connections until aborted (which closes the port).
pub fn acceptor(listener: TcpListener) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            drop(s);
        }
    })
}

/// How the HTTP test server answers.
#[derive(Clone)]
pub enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// Nothing, ever (the connection stays open).
    Silence,
    /// The head, then the body a byte at a time, `gap` apart.
    Trickle { head: Vec<u8>, body: Vec<u8>, gap: Duration },
}

/// A plain HTTP server; returns its address and the requests it received.
pub async fn http_server(reply: Reply) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (reply, seen) = (reply.clone(), Arc::clone(&seen));
            tokio::spawn(async move { serve_http(s, reply, seen).await });
        }
    });
    (addr, requests)
}

pub async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, reply: Reply, seen: Arc<Mutex<Vec<String>>>) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    seen.lock().expect("lock").push(String::from_utf8_lossy(&req).into_owned());
    match reply {
        Reply::Bytes(b) => {
            let _ = s.write_all(&b).await;
            let _ = s.shutdown().await;
        }
        Reply::Silence => tokio::time::sleep(Duration::from_secs(3600)).await,
        Reply::Trickle { head, body, gap } => {
            let _ = s.write_all(&head).await;
            for b in body {
                tokio::time::sleep(gap).await;
                if s.write_all(&[b]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A TLS server with a self-signed certificate for `www.example`; returns its address, the
/// requests and the SNI names it saw (`None` when the client sent none).
pub async fn https_server(reply: Reply) -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
    let cert = rcgen::generate_simple_self_signed(vec!["www.example".to_string()]).expect("certificate");
    let der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let names = Arc::new(Mutex::new(Vec::new()));
    let seen_names = Arc::clone(&names);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (acceptor, reply, names) = (acceptor.clone(), reply.clone(), Arc::clone(&seen_names));
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(s).await {
                    names.lock().expect("lock").push(tls.get_ref().1.server_name().map(str::to_string));
                    serve_http(tls, reply, Arc::new(Mutex::new(Vec::new()))).await;
                }
            });
        }
    });
    (addr, names)
}

/// A DNS responder answering every query with the given RCODE (and one answer record).
pub async fn dns_server(rcode: u8) -> SocketAddr {
    let socket = UdpSocket::bind(LOOPBACK).await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80;
            reply[3] = (reply[3] & 0xf0) | rcode;
            reply[7] = 1;
            // The answer: a pointer to the question name, type SOA, class IN, TTL, no data.
            reply.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 0]);
            // A datagram with another id first, which the checker must ignore.
            let mut stray = reply.clone();
            stray[0] ^= 0xff;
            let _ = socket.send_to(&stray, from).await;
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

/// Echoes every datagram back, prefixed by `prefix`.
pub async fn udp_echo(prefix: &'static [u8]) -> SocketAddr {
    let socket = UdpSocket::bind(LOOPBACK).await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let mut reply = prefix.to_vec();
            reply.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

/// A port on which nothing listens (bound, then closed).
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind(LOOPBACK).await.expect("bind");
    l.local_addr().expect("addr")
}

/// One mail an SMTP sink received.
#[derive(Clone, Debug, Default)]
pub struct Received {
    pub helo: String,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// An SMTP server that greets with `banner` and records what it gets.
pub async fn smtp_sink(banner: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&mails);
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let mut mail = Received::default();
                let _ = w.write_all(format!("{banner}\r\n").as_bytes()).await;
                let mut in_data = false;
                loop {
                    let mut line = String::new();
                    match tokio::io::AsyncBufReadExt::read_line(&mut r, &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            store.lock().expect("lock").push(std::mem::take(&mut mail));
                            let _ = w.write_all(b"250 2.0.0 queued\r\n").await;
                        } else {
                            mail.data.push_str(&line);
                        }
                        continue;
                    }
                    let cmd = line.trim_end().to_string();
                    let reply: &[u8] = if let Some(h) = cmd.strip_prefix("HELO ") {
                        mail.helo = h.into();
                        b"250-sink\r\n250 HELP\r\n"
                    } else if let Some(f) = cmd.strip_prefix("MAIL FROM:") {
                        mail.from = f.into();
                        b"250 ok\r\n"
                    } else if let Some(t) = cmd.strip_prefix("RCPT TO:") {
                        mail.to.push(t.into());
                        b"250 ok\r\n"
                    } else if cmd == "DATA" {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"500 what\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (addr, mails)
}
