//! The kernel's share of a TCP_CHECK, for scripts/bench-check.sh: the same connections as the
//! checkers make (socket, SO_LINGER 0, connect, close) to every real server of a
//! keepalived.conf, paced to one per real server per `delay_loop`, with no runtime, timer or
//! verdict around them. On loopback a connect completes inside the call, so each is one
//! blocking round of four system calls. What this process uses is the floor no checker can go
//! under; prints its CPU % of one core every second.
//!
//! Usage: connect_floor CONFIG [SECONDS]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// This process's user and system CPU time, in clock ticks, from /proc.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line; 12 and 13 after the name.
    field(11) + field(12)
}

fn connect_once(addr: SocketAddr) -> std::io::Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_linger(Some(Duration::ZERO))?;
    socket.connect(&addr.into())
}

#[allow(clippy::disallowed_methods)] // the edge reads the clock
fn main() {
    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: connect_floor CONFIG [SECONDS]");
        std::process::exit(2);
    };
    let seconds: u64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(30);
    let parsed = match vigil_config::parse_file(&path, &vigil_config::Options::default(), None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let mut targets: Vec<SocketAddr> = Vec::new();
    for vs in &parsed.config.virtual_servers {
        targets.extend(vs.real_servers.iter().map(|rs| SocketAddr::new(rs.ip, rs.port)));
    }
    // The shortest delay_loop of the file: every target once in that time.
    let delay_loop =
        parsed.config.virtual_servers.iter().map(|vs| vs.delay_loop).min().unwrap_or(Duration::from_secs(1));
    if targets.is_empty() {
        eprintln!("no real servers in {}", path.display());
        std::process::exit(1);
    }
    // /proc counts CPU time in USER_HZ, 100 on Linux whatever the kernel's own tick.
    let hz = 100.0;
    let start = Instant::now();
    let (mut done, mut failed) = (0u64, 0u64);
    let mut report = (start, cpu_ticks());
    while start.elapsed() < Duration::from_secs(seconds) {
        // One round over every target per delay_loop, in slices of a millisecond's worth.
        let round = Instant::now();
        let per_chunk = targets.len().div_ceil(1000).max(1);
        for (i, chunk) in targets.chunks(per_chunk).enumerate() {
            for &addr in chunk {
                match connect_once(addr) {
                    Ok(()) => done += 1,
                    Err(_) => failed += 1,
                }
            }
            let sent = ((i + 1) * per_chunk).min(targets.len());
            let due = round + delay_loop.mul_f64(sent as f64 / targets.len() as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if report.0.elapsed() >= Duration::from_secs(1) {
                let ticks = cpu_ticks();
                let cpu = 100.0 * (ticks - report.1) as f64 / hz / report.0.elapsed().as_secs_f64();
                println!("t {:.3} connects {done} failed {failed} cpu {cpu:.1}", start.elapsed().as_secs_f64());
                report = (Instant::now(), ticks);
            }
        }
        std::thread::sleep((round + delay_loop).saturating_duration_since(Instant::now()));
    }
}
