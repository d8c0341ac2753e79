//! The checker driver for scripts/bench-check.sh: runs every check of a keepalived.conf and
//! discards the changes; prints every second (or INTERVAL_MS) the time, how many attempts ran so far and how
//! many checks are up and down, how many failed their last attempt, the 99th percentile of the last attempts' latency and its resident memory.
//!
//! Usage: bench_driver CONFIG [INTERVAL_MS]

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// This process's resident set, from /proc.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench_driver CONFIG");
        std::process::exit(2);
    };
    let parsed = match vigil_config::parse_file(&path, &vigil_config::Options::default(), None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let plan = vigil_check::plan(&parsed.config);
    // The driver only checks: the model is not needed once planned.
    drop(parsed);
    #[allow(clippy::disallowed_methods)] // the edge reads the clock
    let status = vigil_check::Status::new(&plan, std::time::SystemTime::now());
    let (tx, mut rx) = mpsc::channel(1024);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tokio::spawn(vigil_check::run(plan, tx, status.clone(), CancellationToken::new()));
    let start = tokio::time::Instant::now();
    let every = std::env::args().nth(2).and_then(|ms| ms.parse().ok()).unwrap_or(1000);
    let mut tick = tokio::time::interval(Duration::from_millis(every));
    loop {
        tick.tick().await;
        let checks = status.checks();
        let runs: u64 = checks.iter().map(|c| c.runs).sum();
        let up = checks.iter().filter(|c| c.up).count();
        let failing = checks.iter().filter(|c| c.last.as_ref().is_some_and(|l| l.result.is_err())).count();
        let mut latencies: Vec<Duration> = checks.iter().filter_map(|c| c.last.as_ref().map(|l| l.latency)).collect();
        latencies.sort_unstable();
        let p99 = latencies.get(latencies.len() * 99 / 100).copied().unwrap_or_default();
        let t = start.elapsed().as_secs_f64();
        println!(
            "t {t:.3} runs {runs} up {up} down {} failing {failing} p99_ms {:.2} rss_kb {}",
            checks.len() - up,
            p99.as_secs_f64() * 1000.0,
            rss_kb()
        );
    }
}
