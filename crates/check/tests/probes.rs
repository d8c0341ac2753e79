//! Every probe against real servers on loopback, and the failure modes.

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use common::*;
use vigil_check::probes::{probe, ProbeContext};
use vigil_check::verdict::{Failure, ProbeResult, Success, WeightReport};

fn ctx() -> ProbeContext {
    ProbeContext::new("tester".into(), 42)
}

async fn run(addr: SocketAddr, checker: &str) -> ProbeResult {
    probe(&check_of(addr, checker), &ctx()).await
}

/// `printf hello | md5sum`
const HELLO_MD5: &str = "5d41402abc4b2a76b9719d911017c592";
const OK_HELLO: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[tokio::test]
async fn tcp_connects_and_fails_on_a_closed_port() {
    let l = listener(LOOPBACK);
    let addr = l.local_addr().expect("addr");
    let _a = acceptor(l);
    assert_eq!(run(addr, "TCP_CHECK { }").await, Ok(Success::PLAIN));
    assert_eq!(run(closed_port().await, "TCP_CHECK { }").await, Err(Failure::Refused));
}

/// A connect that gets no answer: a listener with a backlog of 0 that never accepts drops
/// SYNs once its queue is full, so connects to it hang (all on loopback, nothing leaves the
/// host).
#[tokio::test]
async fn tcp_connect_timeout() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&LOOPBACK.into()).expect("bind");
    socket.listen(0).expect("listen");
    let addr = socket.local_addr().expect("addr").as_socket().expect("inet");
    let mut held = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    let start = Instant::now();
    let r = run(addr, "TCP_CHECK {\n connect_timeout 0.4\n }").await;
    assert_eq!(r, Err(Failure::ConnectTimeout));
    let took = start.elapsed();
    // Not before the deadline, and not at the kernel's own end of the connect (a minute of
    // SYN retries): the bound is a hang's, not a speed.
    assert!(took >= Duration::from_millis(390) && took < Duration::from_secs(5), "{took:?}");
}

fn http_get(extra: &str) -> String {
    format!("HTTP_GET {{\n connect_timeout 0.5\n url {{\n path /health\n {extra}\n }}\n }}")
}

#[tokio::test]
async fn http_status_digest_regex() {
    let (addr, requests) = http_server(Reply::Bytes(OK_HELLO.to_vec())).await;
    let pass = [
        String::new(),
        format!("digest {HELLO_MD5}"),
        "status_code 200-204".into(),
        "regex \"^hel+o$\"".into(),
        "regex bye\n regex_no_match".into(),
    ];
    for extra in pass {
        assert_eq!(run(addr, &http_get(&extra)).await, Ok(Success::PLAIN), "{extra}");
    }
    let req = requests.lock().expect("lock")[0].clone();
    assert_eq!(req, format!("GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {addr}\r\n\r\n"));

    let r = run(addr, &http_get("digest 00000000000000000000000000000000")).await;
    assert!(matches!(r, Err(Failure::Digest { .. })), "{r:?}");
    let r = run(addr, &http_get("regex bye")).await;
    assert_eq!(r, Err(Failure::Regex { url: "/health".into(), no_match: false }));
    let r = run(addr, &http_get("status_code 201")).await;
    assert_eq!(r, Err(Failure::Status { url: "/health".into(), status: 200 }));
}

#[tokio::test]
async fn http_wrong_status_and_virtualhost() {
    let (addr, requests) = http_server(Reply::Bytes(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec())).await;
    let checker = "HTTP_GET {\n http_protocol 1.1\n url {\n path /\n virtualhost www.example\n }\n }";
    assert_eq!(run(addr, checker).await, Err(Failure::Status { url: "/".into(), status: 500 }));
    let req = requests.lock().expect("lock")[0].clone();
    assert_eq!(req, "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n");
}

#[tokio::test]
async fn http_server_that_never_answers_is_cut_at_the_deadline() {
    let (addr, _) = http_server(Reply::Silence).await;
    let start = Instant::now();
    assert_eq!(run(addr, &http_get("")).await, Err(Failure::Timeout));
    let took = start.elapsed();
    // The server never answers: the upper bound is a hang's, not a speed.
    assert!(took >= Duration::from_millis(490) && took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn http_trickling_body_is_cut_at_the_deadline() {
    let reply = Reply::Trickle {
        head: b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec(),
        body: vec![b'x'; 100],
        gap: Duration::from_millis(50),
    };
    let (addr, _) = http_server(reply).await;
    let start = Instant::now();
    // Each byte comes well within the deadline; the whole body does not.
    assert_eq!(run(addr, &http_get(&format!("digest {HELLO_MD5}"))).await, Err(Failure::Timeout));
    let took = start.elapsed();
    // Cut at the deadline, not after the whole body (5 s).
    assert!(took >= Duration::from_millis(490) && took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn http_refused_and_empty() {
    assert_eq!(run(closed_port().await, &http_get("")).await, Err(Failure::Refused));
    let (addr, _) = http_server(Reply::Bytes(Vec::new())).await;
    assert_eq!(run(addr, &http_get("")).await, Err(Failure::NoData));
}

fn ssl_get(extra: &str) -> String {
    format!("SSL_GET {{\n connect_timeout 1\n {extra}\n url {{\n path /\n virtualhost www.example\n digest {HELLO_MD5}\n }}\n }}")
}

#[tokio::test]
async fn https_with_and_without_sni() {
    let (addr, names) = https_server(Reply::Bytes(OK_HELLO.to_vec())).await;
    assert_eq!(run(addr, &ssl_get("")).await, Ok(Success::PLAIN));
    assert_eq!(run(addr, &ssl_get("enable_sni")).await, Ok(Success::PLAIN));
    let seen = names.lock().expect("lock").clone();
    assert_eq!(seen, [None, Some("www.example".to_string())]);
}

#[tokio::test]
async fn tls_handshake_failure() {
    // A plain server where TLS is expected: the handshake gets an HTTP response.
    let listener = tokio::net::TcpListener::bind(LOOPBACK).await.expect("bind");
    let plain = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = tokio::io::AsyncWriteExt::write_all(&mut s, b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
        }
    });
    let r = run(plain, &ssl_get("")).await;
    assert!(matches!(r, Err(Failure::Tls(_))), "{r:?}");
}

/// A directory of the test's own, removed when it goes out of scope, pass or fail.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Scratch {
        Scratch(tempfile::Builder::new().prefix(&format!("vigil-check-{name}-")).tempdir().expect("dir"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes an executable shell script.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

fn misc(path: &Path, extra: &str) -> String {
    format!("MISC_CHECK {{\n misc_path \"{} arg\"\n {extra}\n }}", path.display())
}

#[tokio::test]
async fn misc_exit_codes_and_dynamic_weight() {
    let addr = LOOPBACK;
    let dir = Scratch::new("exits");
    let ok = dir.script("ok", "[ \"$1\" = arg ] || exit 3\nexit 0");
    assert_eq!(run(addr, &misc(&ok, "")).await, Ok(Success::PLAIN));
    let fail = dir.script("fail", "exit 1");
    assert_eq!(run(addr, &misc(&fail, "")).await, Err(Failure::Exit(1)));
    let seven = dir.script("seven", "exit 7");
    assert_eq!(run(addr, &misc(&seven, "")).await, Err(Failure::Exit(7)));
    assert_eq!(run(addr, &misc(&seven, "misc_dynamic")).await, Ok(Success { weight: WeightReport::Set(5) }));
    let missing = PathBuf::from("/nonexistent/vigil-check");
    assert!(matches!(run(addr, &misc(&missing, "")).await, Err(Failure::Spawn(_))));
}

#[tokio::test]
async fn misc_timeout_kills_the_process_group() {
    let dir = Scratch::new("timeout");
    let pids = dir.path("pids");
    // The script and a child it starts both outlive the timeout unless killed: had it not been
    // killed, the script would have ended well, after 30 s.
    let slow = dir.script("slow", &format!("sleep 30 &\necho $$ $! > {}\nwait", pids.display()));
    let start = Instant::now();
    assert_eq!(run(LOOPBACK, &misc(&slow, "misc_timeout 0.5")).await, Err(Failure::ScriptTimeout));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(490), "not before the timeout: {took:?}");
    let text = std::fs::read_to_string(&pids).expect("pids written");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for pid in text.split_whitespace() {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
        assert!(!alive, "process {pid} still runs");
    }
}

#[tokio::test]
async fn misc_killed_by_a_signal() {
    let dir = Scratch::new("signal");
    let killed = dir.script("killed", "kill -9 $$");
    assert_eq!(run(LOOPBACK, &misc(&killed, "")).await, Err(Failure::Signal(9)));
}

#[tokio::test]
async fn smtp_banner_and_helo() {
    let (addr, mails) = smtp_sink("220 sink ESMTP").await;
    assert_eq!(run(addr, "SMTP_CHECK {\n helo_name checker.example\n }").await, Ok(Success::PLAIN));
    // No mail is sent, and the sink saw nothing but the session.
    assert!(mails.lock().expect("lock").is_empty());
    let (busy, _) = smtp_sink("554 no service").await;
    assert_eq!(run(busy, "SMTP_CHECK { }").await, Err(Failure::Banner("554 no service".into())));
}

#[tokio::test]
async fn dns_answers() {
    let ok = dns_server(0).await;
    assert_eq!(run(ok, "DNS_CHECK {\n type A\n name example.com\n }").await, Ok(Success::PLAIN));
    let nx = dns_server(3).await;
    assert_eq!(run(nx, "DNS_CHECK { }").await, Err(Failure::Rcode(3)));
    let closed = tokio::net::UdpSocket::bind(LOOPBACK).await.expect("bind").local_addr().expect("addr");
    assert_eq!(run(closed, "DNS_CHECK { }").await, Err(Failure::PortUnreachable));
}

#[tokio::test]
async fn udp_replies() {
    let echo = udp_echo(b"\xca\xfe").await;
    let require = "UDP_CHECK {\n connect_timeout 0.5\n payload 0102\n require_reply cafe01\n }";
    assert_eq!(run(echo, require).await, Ok(Success::PLAIN));
    let other = "UDP_CHECK {\n connect_timeout 0.5\n payload 0102\n require_reply cafe02\n }";
    assert_eq!(run(echo, other).await, Err(Failure::ReplyMismatch));
    let any_nibbles = "UDP_CHECK {\n connect_timeout 0.5\n payload 0102\n require_reply cX FE x1\n }";
    assert_eq!(run(echo, any_nibbles).await, Ok(Success::PLAIN), "X digits match anything");
    let high_nibble = "UDP_CHECK {\n connect_timeout 0.5\n payload 0102\n require_reply dX\n }";
    assert_eq!(run(echo, high_nibble).await, Err(Failure::ReplyMismatch));
    let closed = tokio::net::UdpSocket::bind(LOOPBACK).await.expect("bind").local_addr().expect("addr");
    assert_eq!(run(closed, "UDP_CHECK {\n connect_timeout 0.5\n }").await, Err(Failure::PortUnreachable));
}

#[tokio::test]
async fn ping_loopback_v4_and_v6() {
    let v4: SocketAddr = "127.0.0.1:80".parse().expect("literal");
    assert_eq!(run(v4, "PING_CHECK {\n connect_timeout 1\n }").await, Ok(Success::PLAIN));
    let v6: SocketAddr = "[::1]:80".parse().expect("literal");
    assert_eq!(run(v6, "PING_CHECK {\n connect_timeout 1\n }").await, Ok(Success::PLAIN));
}

#[tokio::test]
async fn file_values() {
    let dir = Scratch::new("file");
    let path = dir.path("value");
    std::fs::write(&path, "3\n").expect("write");
    let text = format!(
        "track_file tf {{\n file {}\n}}\nvirtual_server 127.0.0.2 80 {{\n protocol TCP\n real_server 127.0.0.1 80 {{\n FILE_CHECK {{\n track_file tf\n weight 2\n }}\n }}\n}}\n",
        path.display()
    );
    let spec = plan_of(&text).checks.remove(0);
    assert_eq!(probe(&spec, &ctx()).await, Ok(Success { weight: WeightReport::Delta(6) }));
    std::fs::write(&path, "-1\n").expect("write");
    assert_eq!(probe(&spec, &ctx()).await, Ok(Success { weight: WeightReport::Delta(-2) }));
}
