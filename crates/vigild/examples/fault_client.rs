//! The fault-injection run's client and mastership monitor (`scripts/fault-injection.sh`, guest
//! side `tests/kernel-lab/fault/inject.sh`).  Times are milliseconds since boot, the clock of
//! the guest script's `/proc/uptime` but to the millisecond: the start is anchored on a tick of
//! `/proc/uptime` and the rest measured with the monotonic clock.
//!
//! Usage:
//!   fault_client client ADDR:PORT INTERVAL_MS TIMEOUT_MS SECONDS OUT
//!     Starts an HTTP/1.0 `GET /` every INTERVAL_MS for SECONDS, each on its own thread (a
//!     request that hangs delays none after it), each given TIMEOUT_MS in all; appends
//!     `START END ok BODY` or `START END fail WHY` to OUT per request, as they complete.
//!   fault_client monitor VIP PIDFILE NOTIFYFILE INTERVAL_MS SECONDS OUT
//!     Every INTERVAL_MS for SECONDS, in the director's network namespace: is the process named
//!     in PIDFILE alive (not a zombie), is VIP one of this namespace's addresses (a bind test),
//!     and the last state written to NOTIFYFILE (`TIME STATE` lines from the notify script);
//!     appends `TIME ALIVE VIP STATE` to OUT at the first sample, at every change, and at the end.
//!   fault_client serve ADDR:PORT TEXT
//!     A real server: answers every HTTP request with 200 and TEXT, a thread per connection (no
//!     fork per request as busybox httpd, and the listen backlog of std, so that a slow moment
//!     of the emulated machine does not drop SYNs).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Milliseconds since boot.
struct Clock {
    base_ms: u64,
    at: Instant,
}

impl Clock {
    /// Waits for `/proc/uptime` to tick (every 10 ms) and anchors there.
    fn new() -> std::io::Result<Clock> {
        let first = uptime_cs()?;
        let deadline = Instant::now() + Duration::from_millis(50);
        loop {
            let now = uptime_cs()?;
            if now != first || Instant::now() > deadline {
                return Ok(Clock { base_ms: now * 10, at: Instant::now() });
            }
        }
    }

    fn ms(&self) -> u64 {
        self.base_ms + u64::try_from(self.at.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// `/proc/uptime`'s first field, in hundredths of a second.
fn uptime_cs() -> std::io::Result<u64> {
    let text = std::fs::read_to_string("/proc/uptime")?;
    let field = text.split_whitespace().next().unwrap_or("");
    let (secs, hundredths) = field.split_once('.').unwrap_or((field, "0"));
    match (secs.parse::<u64>(), hundredths.parse::<u64>()) {
        (Ok(s), Ok(h)) => Ok(s * 100 + h),
        _ => Err(std::io::Error::new(ErrorKind::InvalidData, format!("/proc/uptime: {text:?}"))),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: fault_client client ADDR:PORT INTERVAL_MS TIMEOUT_MS SECONDS OUT\n       \
         fault_client monitor VIP PIDFILE NOTIFYFILE INTERVAL_MS SECONDS OUT\n       \
         fault_client serve ADDR:PORT TEXT"
    );
    std::process::exit(2);
}

fn number(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| usage())
}

fn append(path: &str) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["client", addr, interval, timeout, secs, out] => {
            let addr: SocketAddr = addr.parse().unwrap_or_else(|_| usage());
            client(addr, number(interval), number(timeout), number(secs), out)
        }
        ["monitor", vip, pidfile, notify, interval, secs, out] => {
            let vip: IpAddr = vip.parse().unwrap_or_else(|_| usage());
            monitor(vip, pidfile, notify, number(interval), number(secs), out)
        }
        ["serve", addr, text] => {
            let addr: SocketAddr = addr.parse().unwrap_or_else(|_| usage());
            serve(addr, text)
        }
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("fault_client: {e}");
        std::process::exit(1);
    }
}

fn client(addr: SocketAddr, interval: u64, timeout: u64, secs: u64, out: &str) -> std::io::Result<()> {
    let clock = std::sync::Arc::new(Clock::new()?);
    let mut file = append(out)?;
    let (tx, rx) = mpsc::channel::<String>();
    let writer = std::thread::spawn(move || {
        for line in rx {
            // A lost line shows as a request missing from the count; nothing better to do.
            let _ = file.write_all(line.as_bytes());
        }
    });
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        let (tx2, clock2) = (tx.clone(), clock.clone());
        let spawned = std::thread::Builder::new().stack_size(64 * 1024).spawn(move || {
            let (tx, clock) = (tx2, clock2);
            let t0 = clock.ms();
            let outcome = fetch(addr, Duration::from_millis(timeout));
            let t1 = clock.ms();
            let line = match outcome {
                Ok(body) => format!("{t0} {t1} ok {body}\n"),
                Err(why) => format!("{t0} {t1} fail {why}\n"),
            };
            let _ = tx.send(line);
        });
        if let Err(e) = spawned {
            let t = clock.ms();
            let _ = tx.send(format!("{t} {t} fail no-thread:{}\n", e.kind()));
        }
        n += 1;
        let next = start + Duration::from_millis(n * interval);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    drop(tx);
    let _ = writer.join();
    Ok(())
}

/// One `GET /`: the last word of the body (`rs1`) or why it failed.
fn fetch(addr: SocketAddr, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero());
    let why = |what: &str, e: std::io::Error| format!("{what}:{:?}", e.kind());
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| why("connect", e))?;
    let remaining = left().ok_or("timeout")?;
    s.set_write_timeout(Some(remaining)).map_err(|e| why("setopt", e))?;
    s.write_all(format!("GET / HTTP/1.0\r\nHost: {}\r\n\r\n", addr.ip()).as_bytes()).map_err(|e| why("write", e))?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let remaining = left().ok_or("read:timeout")?;
        s.set_read_timeout(Some(remaining)).map_err(|e| why("setopt", e))?;
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => reply.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(why("read", e)),
        }
    }
    let text = String::from_utf8_lossy(&reply);
    let status = text.lines().next().unwrap_or("");
    if !status.starts_with("HTTP/1.") || status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("status:{}", status.split_whitespace().nth(1).unwrap_or("none")));
    }
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(body.split_whitespace().last().unwrap_or("empty").to_string())
}

/// Whether the process named in `pidfile` runs (a zombie does not).
fn alive(pidfile: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(pidfile) else { return false };
    let Ok(pid) = text.trim().parse::<u32>() else { return false };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, the state follows the last ')'.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, None | Some("Z") | Some("X"))
}

/// Whether `vip` is an address of this namespace: binding to a foreign address fails
/// (EADDRNOTAVAIL) unless ip_nonlocal_bind is set, which nobody here sets.
fn holds(vip: IpAddr) -> bool {
    UdpSocket::bind((vip, 0)).is_ok()
}

/// The state word of the notify file's last line, `-` if none.
fn last_state(notify: &str) -> String {
    std::fs::read_to_string(notify)
        .ok()
        .and_then(|t| t.lines().rev().find_map(|l| l.split_whitespace().nth(1).map(str::to_string)))
        .unwrap_or_else(|| "-".into())
}

fn monitor(vip: IpAddr, pidfile: &str, notify: &str, interval: u64, secs: u64, out: &str) -> std::io::Result<()> {
    let clock = Clock::new()?;
    let mut file = append(out)?;
    let start = Instant::now();
    let mut last = String::new();
    let mut n: u64 = 0;
    let mut sample = String::new();
    while start.elapsed() < Duration::from_secs(secs) {
        sample = format!("{} {} {}", u8::from(alive(pidfile)), u8::from(holds(vip)), last_state(notify));
        if sample != last {
            writeln!(file, "{} {sample}", clock.ms())?;
            last.clone_from(&sample);
        }
        n += 1;
        let next = start + Duration::from_millis(n * interval);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    writeln!(file, "{} {sample}", clock.ms())?;
    Ok(())
}

fn serve(addr: SocketAddr, text: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let reply = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}\n",
        text.len() + 1
    );
    let reply: std::sync::Arc<str> = reply.into();
    for stream in listener.incoming().flatten() {
        let reply = reply.clone();
        let spawned = std::thread::Builder::new().stack_size(64 * 1024).spawn(move || answer(stream, &reply));
        if let Err(e) = spawned {
            eprintln!("fault_client serve: {e}");
        }
    }
    Ok(())
}

/// Reads the request up to its blank line (2 s at most) and answers.
fn answer(mut stream: TcpStream, reply: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => request.extend_from_slice(&buf[..k]),
        }
    }
    let _ = stream.write_all(reply.as_bytes());
}
