//! The real servers of scripts/bench-scale.sh: one listener on 0.0.0.0:PORT that accepts and
//! closes every connection, whatever local address it was made to (the guest routes the real
//! servers' whole prefix to lo, so every one of them is a local address without adding 100,000
//! addresses), and records per real server the gaps between its checks.  A check's lateness is
//! its gap to the previous one minus delay_loop: how far it fell behind its schedule.
//!
//! Built with plain rustc (std only) so that it needs no crate of the workspace.
//!
//! usage: scale-listener PORT DELAY_LOOP_S    commands on stdin, one a line:
//!   reset    forget everything recorded so far, the real servers' last checks too: a gap
//!            counts only when both of its checks fall after the reset, so that another
//!            daemon's last checks or a start-up's first ones are not counted against a schedule
//!   report   print `lateness gaps=N servers=M p50_ms=.. p99_ms=.. max_ms=..`: the gaps that
//!            ended since the last reset and the real servers checked in that time
//! Every second it prints `accepted TOTAL`.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::{IpAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

extern "C" {
    fn listen(fd: i32, backlog: i32) -> i32;
}

#[derive(Default)]
struct Record {
    /// The last accept per real server (IPv4 address as a number).
    last: HashMap<u32, Instant>,
    /// Lateness of every gap that ended since the last reset, in microseconds.
    late_us: Vec<u64>,
    /// The real servers checked since the last reset.
    seen: HashMap<u32, ()>,
    accepted: u64,
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(delay)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: scale-listener PORT DELAY_LOOP_S");
        std::process::exit(2);
    };
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let delay = Duration::from_secs_f64(delay.parse().map_err(std::io::Error::other)?);
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    // std listens with a small backlog; a burst of checks beyond it would be dropped SYNs,
    // retried a second later, and counted against the checker.  Listening again on a listening
    // socket only changes the backlog (the kernel caps it at net.core.somaxconn).
    // SAFETY: listen(2) on a socket this process owns; no memory is passed.
    #[allow(unsafe_code)]
    if unsafe { listen(listener.as_raw_fd(), 65535) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let record = Arc::new(Mutex::new(Record::default()));

    let r = Arc::clone(&record);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let mut rec = r.lock().expect("no thread panics holding the record");
            match line.trim() {
                "reset" => {
                    rec.last.clear();
                    rec.late_us.clear();
                    rec.seen.clear();
                }
                "report" => {
                    rec.late_us.sort_unstable();
                    let n = rec.late_us.len();
                    let q = |p: f64| {
                        if n == 0 {
                            0.0
                        } else {
                            rec.late_us[((n as f64 * p) as usize).min(n - 1)] as f64 / 1000.0
                        }
                    };
                    println!(
                        "lateness gaps={n} servers={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
                        rec.seen.len(),
                        q(0.5),
                        q(0.99),
                        q(1.0)
                    );
                    let _ = std::io::stdout().flush();
                }
                _ => {}
            }
        }
    });

    let r = Arc::clone(&record);
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let n = r.lock().expect("no thread panics holding the record").accepted;
        println!("accepted {n}");
        let _ = std::io::stdout().flush();
    });

    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        let Ok((stream, _)) = listener.accept() else { continue };
        let now = Instant::now();
        let Ok(local) = stream.local_addr() else { continue };
        drop(stream);
        let IpAddr::V4(ip) = local.ip() else { continue };
        let key = u32::from(ip);
        let mut rec = record.lock().expect("no thread panics holding the record");
        rec.accepted += 1;
        rec.seen.insert(key, ());
        if let Some(prev) = rec.last.insert(key, now) {
            let late = now.duration_since(prev).saturating_sub(delay);
            rec.late_us.push(late.as_micros() as u64);
        }
    }
}
