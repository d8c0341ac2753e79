//! Real servers for scripts/bench-check.sh: one process listening on COUNT loopback
//! addresses (127.1.0.1, 127.1.0.2, ...: 250 per /24) at PORT, accepting and closing (tcp) or
//! answering every request with a small 200 response (http).  Prints `ready COUNT` once
//! listening, then every second `accepted TOTAL`: the connections accepted so far, so that
//! any checker's rate of checks can be read from the servers' side.
//!
//! Usage: bench_servers COUNT PORT tcp|http

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// Connections accepted by every listener.
static ACCEPTED: AtomicU64 = AtomicU64::new(0);

const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// The address of real server `i` (0-based).
fn addr(i: usize, port: u16) -> SocketAddr {
    let (hi, lo) = (i / 250, i % 250 + 1);
    SocketAddr::from((Ipv4Addr::new(127, 1, hi as u8, lo as u8), port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(count), Some(port), Some(mode)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: bench_servers COUNT PORT tcp|http");
        std::process::exit(2);
    };
    let count: usize = count.parse().map_err(std::io::Error::other)?;
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let http = mode == "http";
    for i in 0..count {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr(i, port))?;
        let listener = socket.listen(1024)?;
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                ACCEPTED.fetch_add(1, Ordering::Relaxed);
                if http {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let mut seen = 0;
                        while let Ok(n) = s.read(&mut buf[seen..]).await {
                            seen += n;
                            if n == 0 || buf[..seen].windows(4).any(|w| w == b"\r\n\r\n") || seen == buf.len() {
                                break;
                            }
                        }
                        let _ = s.write_all(RESPONSE).await;
                    });
                }
            }
        });
    }
    println!("ready {count}");
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        println!("accepted {}", ACCEPTED.load(Ordering::Relaxed));
    }
}
