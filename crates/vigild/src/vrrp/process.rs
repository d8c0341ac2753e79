//! `vrrp_track_process`: how many processes of a name (or command line) run, read from
//! /proc every [`SCAN_EVERY`], against each tracker's quorum.
//!
//! The matching is keepalived 2.2.7's: the name is `/proc/PID/stat`'s comm, or with
//! `full_command` the first argument of `/proc/PID/cmdline`; with `param_match` the
//! parameters follow it exactly (`exact`), or begin with the configured ones (`partial`),
//! the last of which may be cut short (`initial`); zombies do not count. A process counts
//! once it has run `fork_delay`, and goes on counting for `terminate_delay` after it ended.
//! keepalived learns of forks and exits from the kernel's proc connector, at once; the scan
//! here sees them within [`SCAN_EVERY`].

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use vigil_config::model::{ParamMatch, TrackProcess};

use super::Event;

/// How often /proc is read.
pub const SCAN_EVERY: Duration = Duration::from_millis(200);

/// A tracked process set reached or lost its quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStatus {
    pub name: String,
    pub up: bool,
}

/// One process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    /// `/proc/PID/stat`'s comm.
    pub comm: String,
    /// `/proc/PID/cmdline`: the arguments, each ended by a NUL.
    pub cmdline: Vec<u8>,
    pub zombie: bool,
}

/// Whether `p` is one of `t`'s processes.
pub fn matches(t: &TrackProcess, p: &Proc) -> bool {
    let Some(want) = &t.process else { return false };
    if p.zombie {
        return false;
    }
    let (name, rest) = if t.full_command {
        match p.cmdline.iter().position(|&b| b == 0) {
            Some(end) => (&p.cmdline[..end], &p.cmdline[end + 1..]),
            None => (p.cmdline.as_slice(), &[][..]),
        }
    } else {
        (p.comm.as_bytes(), &[][..])
    };
    name == want.as_bytes() && (t.param_match == ParamMatch::None || params_match(t, rest))
}

/// keepalived's parameter check: `actual` and the configured parameters, each ended by a NUL.
fn params_match(t: &TrackProcess, actual: &[u8]) -> bool {
    let conf: Vec<u8> = t.params.iter().flat_map(|p| p.bytes().chain(std::iter::once(0))).collect();
    match t.param_match {
        ParamMatch::None => true,
        ParamMatch::Exact => actual == conf.as_slice(),
        _ if conf.is_empty() => true,
        _ if actual.len() < conf.len() => false,
        ParamMatch::Partial => actual.starts_with(&conf),
        ParamMatch::Initial => actual.starts_with(&conf[..conf.len() - 1]),
    }
}

/// One tracker's count over time: the processes that match, when each was first seen, and
/// those that ended and still count.
#[derive(Debug)]
pub struct Counter {
    seen: HashMap<u32, Instant>,
    ended: HashMap<u32, Instant>,
    started: bool,
}

impl Counter {
    pub fn new() -> Counter {
        Counter { seen: HashMap::new(), ended: HashMap::new(), started: false }
    }

    /// Takes a scan at `now` (the matching pids) and returns how many count. On the first
    /// scan every process counts at once, as keepalived counts what runs when it starts.
    pub fn scan(&mut self, t: &TrackProcess, now: Instant, pids: &[u32]) -> u32 {
        let first = !std::mem::replace(&mut self.started, true);
        for pid in pids {
            self.ended.remove(pid);
            let since = if first { now.checked_sub(t.fork_delay).unwrap_or(now) } else { now };
            self.seen.entry(*pid).or_insert(since);
        }
        let gone: Vec<u32> = self.seen.keys().filter(|p| !pids.contains(p)).copied().collect();
        for pid in gone {
            // A process that ended before it counted never counts.
            if let Some(since) = self.seen.remove(&pid) {
                if now.duration_since(since) >= t.fork_delay {
                    self.ended.insert(pid, now);
                }
            }
        }
        self.ended.retain(|_, at| now.duration_since(*at) < t.terminate_delay);
        let running = self.seen.values().filter(|since| now.duration_since(**since) >= t.fork_delay).count();
        u32::try_from(running + self.ended.len()).unwrap_or(u32::MAX)
    }
}

/// Whether `count` processes meet `t`'s quorum.
pub fn quorum(t: &TrackProcess, count: u32) -> bool {
    t.quorum <= count && count <= t.quorum_max
}

/// Every process on the host, as much of it as the trackers need.
fn read_procs(cmdline: bool) -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // "PID (comm) S ...": comm may hold spaces and parentheses; the last ')' ends it.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = stat.get(open + 1..close).unwrap_or_default().to_string();
        let zombie = stat.get(close + 2..close + 3) == Some("Z");
        let cmdline =
            if cmdline { std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default() } else { Vec::new() };
        out.push(Proc { pid, comm, cmdline, zombie });
    }
    out
}

/// Starts the scanner of `trackers`: it reports each one's state, then every change.
pub fn spawn(trackers: Vec<TrackProcess>, tx: mpsc::Sender<Event>) -> AbortHandle {
    let task = tokio::spawn(async move {
        let cmdline = trackers.iter().any(|t| t.full_command);
        let mut counters: BTreeMap<String, (Counter, Option<bool>)> =
            trackers.iter().map(|t| (t.name.clone(), (Counter::new(), None))).collect();
        let mut tick = tokio::time::interval(SCAN_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let procs = tokio::task::spawn_blocking(move || read_procs(cmdline)).await.unwrap_or_default();
            let now = tokio::time::Instant::now().into_std();
            for t in &trackers {
                let Some((counter, last)) = counters.get_mut(&t.name) else { continue };
                let pids: Vec<u32> = procs.iter().filter(|p| matches(t, p)).map(|p| p.pid).collect();
                let count = counter.scan(t, now, &pids);
                let up = quorum(t, count);
                if *last != Some(up) {
                    if last.is_some() {
                        let word = if up { "quorum reached" } else { "quorum lost" };
                        tracing::info!("VRRP_Process({}): {word} with {count} process(es)", t.name);
                    }
                    *last = Some(up);
                    if tx.send(Event::Process(ProcessStatus { name: t.name.clone(), up })).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    task.abort_handle()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(process: &str, params: &[&str], m: ParamMatch, full: bool) -> TrackProcess {
        TrackProcess {
            process: Some(process.into()),
            params: params.iter().map(|p| p.to_string()).collect(),
            param_match: m,
            full_command: full,
            ..TrackProcess::new("tp".into(), vigil_config::Span::detached("test"))
        }
    }

    fn proc(comm: &str, args: &[&str]) -> Proc {
        let cmdline = args.iter().flat_map(|a| a.bytes().chain(std::iter::once(0))).collect();
        Proc { pid: 1, comm: comm.into(), cmdline, zombie: false }
    }

    /// (tracker, process) -> matches, keepalived's rules.
    #[test]
    fn the_matching_table() {
        use ParamMatch::*;
        let nginx = proc("nginx", &["/usr/sbin/nginx", "-g", "daemon off;"]);
        let cases = [
            (tracker("nginx", &[], None, false), &nginx, true),
            (tracker("ngin", &[], None, false), &nginx, false),
            (tracker("/usr/sbin/nginx", &[], None, false), &nginx, false),
            (tracker("/usr/sbin/nginx", &[], None, true), &nginx, true),
            (tracker("/usr/sbin/nginx", &["-g", "daemon off;"], Exact, true), &nginx, true),
            (tracker("/usr/sbin/nginx", &["-g"], Exact, true), &nginx, false),
            (tracker("/usr/sbin/nginx", &["-g"], Partial, true), &nginx, true),
            (tracker("/usr/sbin/nginx", &["-g", "daemon"], Partial, true), &nginx, false),
            (tracker("/usr/sbin/nginx", &["-g", "daemon"], Initial, true), &nginx, true),
            (tracker("/usr/sbin/nginx", &["-x"], Initial, true), &nginx, false),
            (tracker("/usr/sbin/nginx", &[], Exact, true), &nginx, false),
            (tracker("/usr/sbin/nginx", &[], Exact, true), &proc("nginx", &["/usr/sbin/nginx"]), true),
        ];
        for (k, (t, p, want)) in cases.iter().enumerate() {
            assert_eq!(matches(t, p), *want, "case {k}");
        }
        let zombie = Proc { zombie: true, ..nginx.clone() };
        assert!(!matches(&cases[0].0, &zombie), "zombies do not count");
    }

    #[test]
    fn delays_hold_the_count() {
        #[allow(clippy::disallowed_methods)] // an origin for the test's clock
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let t = TrackProcess {
            fork_delay: ms(500),
            terminate_delay: ms(300),
            ..tracker("x", &[], ParamMatch::None, false)
        };
        let mut c = Counter::new();
        assert_eq!(c.scan(&t, t0, &[10]), 1, "at start, what runs counts at once");
        assert_eq!(c.scan(&t, t0 + ms(100), &[10, 11]), 1, "a new one waits fork_delay");
        assert_eq!(c.scan(&t, t0 + ms(600), &[10, 11]), 2);
        assert_eq!(c.scan(&t, t0 + ms(700), &[11]), 2, "an ended one counts for terminate_delay");
        assert_eq!(c.scan(&t, t0 + ms(1000), &[11]), 1);
        assert_eq!(c.scan(&t, t0 + ms(1100), &[11, 12]), 1);
        assert_eq!(c.scan(&t, t0 + ms(1200), &[11]), 1, "one that ended before it counted never did");
        assert!(quorum(&TrackProcess { quorum: 2, quorum_max: 3, ..t.clone() }, 2));
        assert!(!quorum(&TrackProcess { quorum: 2, quorum_max: 3, ..t }, 4));
    }
}
