//! The long-lived TCP flows of the kernel lab's scale-out test (tests/kernel-lab/scaleout):
//! a paced sender on the real servers and a client that opens many flows at once and checks
//! every byte it gets.  busybox has no rate-limited download and the guest has no python, so
//! this small std-only program (built with plain rustc, as bench/scale-listener.rs is) does it.
//!
//! usage:
//!   flowpump serve PORT NAME
//!       Listens on 0.0.0.0:PORT (so that a health check to the real server's own address and
//!       the VIP both reach it).  A connection that sends `flow ID BYTES MS\n` gets `NAME\n`
//!       and then BYTES bytes of flow ID's pattern, paced in tenths over MS milliseconds, then
//!       the connection is closed.  A connection that sends nothing (a TCP_CHECK) is just closed.
//!   flowpump client ADDR:PORT FLOWS BYTES MS [TIMEOUT_S]
//!       Opens FLOWS connections to ADDR:PORT at once (one thread each) and asks each for BYTES
//!       bytes over MS ms.  Prints `started FLOWS` once every flow has received data (or
//!       `started K of FLOWS` after TIMEOUT_S), `progress ...` every second, one line per flow
//!       at its end (`flow ID ok NAME BYTES fnv=HASH` or `flow ID FAIL NAME GOT/BYTES REASON`),
//!       then `done ok=K failed=F of FLOWS` and `served NAME=COUNT ...`.  A flow is intact when
//!       it got exactly BYTES bytes, each equal to the pattern (so its FNV-1a hash is also the
//!       expected one).  A flow that receives nothing for TIMEOUT_S (default 60) fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Byte `k` of flow `id`: a pattern that differs between flows and along a flow, so that a
/// lost, repeated or misplaced segment shows.
fn pattern(id: u64, k: u64) -> u8 {
    let x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ (k >> 11);
    (x >> 56) as u8 ^ (x >> 23) as u8
}

fn fnv(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
}
const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn serve(port: u16, name: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    println!("listening {port}");
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let name = name.clone();
        std::thread::spawn(move || {
            let _ = one(stream, &name);
        });
    }
    Ok(())
}

fn one(mut stream: TcpStream, name: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut line = String::new();
    BufReader::new(stream.try_clone()?).read_line(&mut line)?;
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|w| w.parse().ok()).collect();
    let (&[id, bytes, ms], true) = (f.as_slice(), line.starts_with("flow ")) else { return Ok(()) };
    stream.set_nodelay(true)?;
    stream.write_all(format!("{name}\n").as_bytes())?;
    let start = Instant::now();
    let mut sent = 0u64;
    let mut buf = Vec::new();
    for tenth in 1..=10u64 {
        let upto = bytes * tenth / 10;
        buf.clear();
        buf.extend((sent..upto).map(|k| pattern(id, k)));
        stream.write_all(&buf)?;
        sent = upto;
        if tenth < 10 {
            let due = start + Duration::from_millis(ms * tenth / 10);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
        }
    }
    stream.shutdown(Shutdown::Write)?;
    // Wait for the client's close, so that our FIN is not followed by a reset.
    let mut sink = [0u8; 64];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

struct Shared {
    receiving: AtomicUsize,
    bytes: AtomicU64,
    finished: AtomicUsize,
    lines: Mutex<Vec<(u64, bool, String)>>,
}

fn flow(addr: std::net::SocketAddr, id: u64, bytes: u64, ms: u64, timeout: Duration, sh: &Shared) -> (bool, String) {
    let mut name = String::from("-");
    let mut got = 0u64;
    let r = (|| -> Result<u64, String> {
        let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
        s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        s.write_all(format!("flow {id} {bytes} {ms}\n").as_bytes()).map_err(|e| format!("request: {e}"))?;
        let mut r = BufReader::with_capacity(16384, s);
        let mut head = String::new();
        r.read_line(&mut head).map_err(|e| format!("header: {e}"))?;
        if !head.ends_with('\n') {
            return Err("no header".into());
        }
        name = head.trim().to_string();
        let mut h = FNV0;
        let mut first = true;
        let mut buf = [0u8; 16384];
        loop {
            let n = r.read(&mut buf).map_err(|e| match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    format!("read: nothing for {} s", timeout.as_secs())
                }
                _ => format!("read: {e}"),
            })?;
            if n == 0 {
                break;
            }
            if first {
                first = false;
                sh.receiving.fetch_add(1, Ordering::Relaxed);
            }
            for &b in &buf[..n] {
                if got >= bytes {
                    return Err("more bytes than asked".into());
                }
                if b != pattern(id, got) {
                    return Err(format!("byte {got} differs"));
                }
                h = fnv(h, b);
                got += 1;
            }
            sh.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        if got != bytes {
            return Err("short".into());
        }
        Ok(h)
    })();
    match r {
        Ok(h) => {
            let want = (0..bytes).fold(FNV0, |h, k| fnv(h, pattern(id, k)));
            if h == want {
                (true, format!("flow {id} ok {name} {got} fnv={h:016x}"))
            } else {
                (false, format!("flow {id} FAIL {name} {got}/{bytes} fnv={h:016x} want {want:016x}"))
            }
        }
        Err(e) => (false, format!("flow {id} FAIL {name} {got}/{bytes} {e}")),
    }
}

fn client(addr: &str, flows: u64, bytes: u64, ms: u64, timeout_s: u64) -> std::io::Result<bool> {
    let addr = addr.to_socket_addrs()?.next().ok_or_else(|| std::io::Error::other("no address"))?;
    let timeout = Duration::from_secs(timeout_s);
    let sh = Arc::new(Shared {
        receiving: AtomicUsize::new(0),
        bytes: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        lines: Mutex::new(Vec::new()),
    });
    let mut threads = Vec::new();
    for id in 0..flows {
        let sh = Arc::clone(&sh);
        threads.push(std::thread::spawn(move || {
            let (ok, line) = flow(addr, id, bytes, ms, timeout, &sh);
            println!("{line}");
            let _ = std::io::stdout().flush();
            let name = line.split_whitespace().nth(3).unwrap_or("-").to_string();
            sh.lines.lock().expect("no panic holding it").push((id, ok, name));
            sh.finished.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let start = Instant::now();
    let mut started = false;
    let mut last = Instant::now();
    while sh.finished.load(Ordering::Relaxed) < flows as usize {
        std::thread::sleep(Duration::from_millis(50));
        let receiving = sh.receiving.load(Ordering::Relaxed);
        if !started && (receiving == flows as usize || start.elapsed() > timeout) {
            started = true;
            println!("started {receiving} of {flows}");
            let _ = std::io::stdout().flush();
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            println!(
                "progress t={:.1}s receiving={receiving} finished={} bytes={}",
                start.elapsed().as_secs_f64(),
                sh.finished.load(Ordering::Relaxed),
                sh.bytes.load(Ordering::Relaxed)
            );
            let _ = std::io::stdout().flush();
        }
    }
    for t in threads {
        let _ = t.join();
    }
    let lines = sh.lines.lock().expect("no panic holding it");
    let ok = lines.iter().filter(|l| l.1).count();
    println!("done ok={ok} failed={} of {flows}", flows as usize - ok);
    let mut by: Vec<(String, usize)> = Vec::new();
    for (_, _, name) in lines.iter() {
        match by.iter_mut().find(|b| &b.0 == name) {
            Some(b) => b.1 += 1,
            None => by.push((name.clone(), 1)),
        }
    }
    by.sort();
    println!("served {}", by.iter().map(|(n, c)| format!("{n}={c}")).collect::<Vec<_>>().join(" "));
    Ok(ok == flows as usize)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: Option<u64>| -> u64 {
        a.get(i).and_then(|s| s.parse().ok()).or(d).unwrap_or_else(|| {
            eprintln!("usage: flowpump serve PORT NAME | flowpump client ADDR:PORT FLOWS BYTES MS [TIMEOUT_S]");
            std::process::exit(2)
        })
    };
    let r = match a.get(1).map(String::as_str) {
        Some("serve") => serve(num(2, None) as u16, a.get(3).cloned().unwrap_or_else(|| "rs".into())).map(|()| true),
        Some("client") => client(a.get(2).map_or("", String::as_str), num(3, None), num(4, None), num(5, None), num(6, Some(60))),
        _ => {
            num(usize::MAX, None);
            Ok(false)
        }
    };
    match r {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("flowpump: {e}");
            std::process::exit(2)
        }
    }
}
