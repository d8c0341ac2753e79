//! Every VRRP and real-server transition, numbered in the order it happened, for the notify
//! FIFOs (keepalived's line format) and for `vigilctl events` (JSON lines on the control
//! socket). keepalived #996, #584, #1835: its notify scripts can run concurrently and out of
//! order on fast changes; here one sequence orders everything, and each reader gets every
//! event in that order.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::status::unix_time;

/// What changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Kind {
    /// A vrrp_instance entered `state` (MASTER, BACKUP, FAULT or STOP).
    #[serde(rename = "INSTANCE")]
    Instance { name: String, state: &'static str, priority: u8 },
    /// Every member of a vrrp_sync_group is in `state`.
    #[serde(rename = "GROUP")]
    Group { name: String, state: &'static str },
    /// A virtual server gained (UP) or lost (DOWN) its quorum.
    #[serde(rename = "VS")]
    VirtualServer { vs: String, state: &'static str },
    /// A real server's checks passed (UP) or failed (DOWN).
    #[serde(rename = "RS")]
    RealServer { rs: String, vs: String, state: &'static str },
    /// Maintenance set (ON) or ended (OFF, by `vigilctl` or at its expiry) on the whole
    /// director (`vs` and `rs` absent), a virtual server, or one of its real servers.
    #[serde(rename = "MAINTENANCE")]
    Maintenance {
        /// `director`, `virtual_server` or `real_server`.
        scope: &'static str,
        vs: Option<String>,
        rs: Option<String>,
        state: &'static str,
        /// `quiescent` or `remove`, while ON.
        mode: Option<&'static str>,
        /// The operator's reason; `expired` for an entry that reached its time.
        reason: Option<String>,
        expires: Option<f64>,
    },
    /// A runtime weight set on a real server, or cleared (`weight` null).
    #[serde(rename = "WEIGHT")]
    Weight { vs: String, rs: String, weight: Option<i32>, expires: Option<f64> },
    /// `vigilctl drain` (ON) or `undrain` (OFF) of a VIP, or of every VIP (`vip` null).
    #[serde(rename = "DRAIN")]
    Drain { vip: Option<String>, state: &'static str },
    /// A VIP's route put in the announcement table (ANNOUNCED) or taken out (WITHDRAWN), and
    /// why: `healthy`, `drained`, `quorum`, `stopping`.
    #[serde(rename = "ANNOUNCE")]
    Announce { vip: String, state: &'static str, reason: &'static str },
}

/// One numbered event.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// 1 for the daemon's first event, then one more for each.
    pub seq: u64,
    /// Unix time in seconds.
    pub at: f64,
    #[serde(flatten)]
    pub kind: Kind,
}

impl Event {
    /// keepalived's notify FIFO line: `INSTANCE "VI_1" MASTER 150`, `GROUP "G1" BACKUP 0`,
    /// `VS [10.0.0.3]:tcp:80 UP`, `RS [10.0.0.7]:tcp:80 [10.0.0.3]:tcp:80 DOWN`. `None` for
    /// the events keepalived has not: scripts written for its FIFOs would not parse them.
    pub fn fifo_line(&self) -> Option<String> {
        Some(match &self.kind {
            Kind::Instance { name, state, priority } => format!("INSTANCE \"{name}\" {state} {priority}\n"),
            Kind::Group { name, state } => format!("GROUP \"{name}\" {state} 0\n"),
            Kind::VirtualServer { vs, state } => format!("VS {vs} {state}\n"),
            Kind::RealServer { rs, vs, state } => format!("RS {rs} {vs} {state}\n"),
            Kind::Maintenance { .. } | Kind::Weight { .. } | Kind::Drain { .. } | Kind::Announce { .. } => return None,
        })
    }

    fn is_vrrp(&self) -> bool {
        matches!(self.kind, Kind::Instance { .. } | Kind::Group { .. })
    }
}

/// Which events a reader wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    Vrrp,
    Lvs,
}

impl Filter {
    fn wants(self, e: &Event) -> bool {
        match self {
            Filter::All => true,
            Filter::Vrrp => e.is_vrrp(),
            Filter::Lvs => !e.is_vrrp(),
        }
    }
}

/// A reader of the bus.
struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Arc<Event>>,
    filter: Filter,
    /// A FIFO must get every event: when its queue is full the event is counted as lost and
    /// the reader stays; a control-socket reader that falls that far behind is let go.
    keep: bool,
    lost: u64,
}

#[derive(Default)]
struct Bus {
    seq: u64,
    next_id: u64,
    /// The last [`BACKLOG`] events, for a reader of the control socket that just came.
    recent: std::collections::VecDeque<Arc<Event>>,
    subscribers: Vec<Subscriber>,
}

/// The handle producers publish on; cheap to clone.
#[derive(Clone, Default)]
pub struct Events {
    bus: Arc<Mutex<Bus>>,
}

/// How many events a reader may be behind.
const QUEUE: usize = 4096;

/// How many past events a new stream reader gets first.
const BACKLOG: usize = 256;

impl Events {
    /// Numbers `kind` and hands it to every reader. The number is taken and the event queued
    /// under one lock, so every reader sees the events in number order.
    pub fn publish(&self, kind: Kind) {
        let Ok(mut bus) = self.bus.lock() else { return };
        bus.seq += 1;
        let event = Arc::new(Event { seq: bus.seq, at: unix_time(SystemTime::now()), kind });
        if bus.recent.len() == BACKLOG {
            bus.recent.pop_front();
        }
        bus.recent.push_back(event.clone());
        bus.subscribers.retain_mut(|s| {
            if !s.filter.wants(&event) {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
                Err(mpsc::error::TrySendError::Full(_)) if s.keep => {
                    s.lost += 1;
                    tracing::warn!(
                        lost = s.lost,
                        "notify FIFO: the reader is {QUEUE} events behind; event {} lost",
                        event.seq
                    );
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!("event stream: a reader {QUEUE} events behind is disconnected");
                    false
                }
            }
        });
    }

    /// Lets the readers `ids` go: each gets what was queued for it, then the end of the stream.
    pub fn unsubscribe(&self, ids: &[u64]) {
        if let Ok(mut bus) = self.bus.lock() {
            bus.subscribers.retain(|s| !ids.contains(&s.id));
        }
    }

    /// A new reader of the events from now on, and its id for [`Events::unsubscribe`].
    pub fn subscribe(&self, filter: Filter, keep: bool) -> (u64, mpsc::Receiver<Arc<Event>>) {
        self.subscribe_with(filter, keep, false)
    }

    /// A new reader that first gets the last [`BACKLOG`] events, then every new one.
    pub fn subscribe_with_backlog(&self, filter: Filter) -> (u64, mpsc::Receiver<Arc<Event>>) {
        self.subscribe_with(filter, false, true)
    }

    fn subscribe_with(&self, filter: Filter, keep: bool, backlog: bool) -> (u64, mpsc::Receiver<Arc<Event>>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let Ok(mut bus) = self.bus.lock() else { return (0, rx) };
        if backlog {
            for e in bus.recent.iter().filter(|e| filter.wants(e)) {
                // QUEUE > BACKLOG: the channel has room for all of them.
                let _ = tx.try_send(e.clone());
            }
        }
        bus.next_id += 1;
        let id = bus.next_id;
        bus.subscribers.push(Subscriber { id, tx, filter, keep, lost: 0 });
        (id, rx)
    }
}

/// The configured notify FIFOs, each written by a thread of its own (a FIFO write blocks
/// while its reader is slow; nothing else waits for it), and their reader scripts.
pub struct Fifos {
    paths: Vec<(PathBuf, Filter, Option<vigil_config::model::Script>)>,
    scripts: Vec<tokio::process::Child>,
    /// The writers' subscriptions.
    readers: Vec<u64>,
    /// Disconnected once every writer thread has ended.
    done: std::sync::mpsc::Receiver<()>,
}

impl Fifos {
    /// Opens `notify_fifo`, `vrrp_notify_fifo` and `lvs_notify_fifo`. A FIFO that does not
    /// exist is created when it has a reader script, as keepalived does; the script is started
    /// with the FIFO's path as its argument.
    pub fn start(global: &vigil_config::model::GlobalDefs, events: &Events) -> Fifos {
        let (done_tx, done) = std::sync::mpsc::channel();
        let mut fifos = Fifos { paths: Vec::new(), scripts: Vec::new(), readers: Vec::new(), done };
        for (path, filter, script) in Fifos::plan(global) {
            if script.is_some() && !path.exists() {
                if let Err(e) = nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
                    tracing::error!("notify FIFO {}: cannot create it: {e}", path.display());
                    continue;
                }
            }
            let file = match std::fs::OpenOptions::new().read(true).append(true).open(&path) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!("notify FIFO {}: {e}; its events are not written", path.display());
                    continue;
                }
            };
            if let Some(s) = &script {
                fifos.scripts.extend(start_reader(s, &path, global.script_user.as_ref()));
            }
            let (id, rx) = events.subscribe(filter, true);
            fifos.readers.push(id);
            let name = path.display().to_string();
            let done = done_tx.clone();
            let spawned = std::thread::Builder::new().name("notify-fifo".into()).spawn(move || {
                write_all(file, rx, &name);
                drop(done);
            });
            if let Err(e) = spawned {
                tracing::error!("notify FIFO {}: cannot start its writer: {e}", path.display());
            }
            fifos.paths.push((path, filter, script));
        }
        fifos
    }

    /// Writes what is queued (the STOP events of a shutdown) and stops the writers; a reader
    /// that stopped reading holds the daemon up for at most two seconds. The reader scripts
    /// get half a second to read the rest and end at the FIFO's end, then SIGTERM.
    pub fn finish(mut self, events: &Events) {
        events.unsubscribe(&self.readers);
        let _ = self.done.recv_timeout(std::time::Duration::from_secs(2));
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while std::time::Instant::now() < deadline && self.scripts.iter_mut().any(|c| matches!(c.try_wait(), Ok(None)))
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// True when `global` names the same FIFOs and scripts: a reload keeps them open.
    pub fn same(&self, global: &vigil_config::model::GlobalDefs) -> bool {
        let other = Fifos::plan(global);
        self.paths.len() == other.len()
            && self.paths.iter().zip(&other).all(|((p, f, s), (q, g, t))| {
                p == q && f == g && s.as_ref().map(|s| &s.argv) == t.as_ref().map(|t| &t.argv)
            })
    }

    /// The FIFOs `global` asks for: path, what goes there, reader script.
    fn plan(global: &vigil_config::model::GlobalDefs) -> Vec<(PathBuf, Filter, Option<vigil_config::model::Script>)> {
        [
            (&global.notify_fifo, Filter::All, &global.notify_fifo_script),
            (&global.vrrp_notify_fifo, Filter::Vrrp, &global.vrrp_notify_fifo_script),
            (&global.lvs_notify_fifo, Filter::Lvs, &global.lvs_notify_fifo_script),
        ]
        .into_iter()
        .filter_map(|(p, f, s)| p.as_ref().map(|p| (PathBuf::from(p), f, s.clone())))
        .collect()
    }
}

impl Drop for Fifos {
    /// The reader scripts still running get SIGTERM (keepalived's sample script traps it).
    fn drop(&mut self) {
        for s in &mut self.scripts {
            if let (Ok(None), Some(pid)) = (s.try_wait(), s.id()) {
                let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            }
        }
    }
}

/// Starts a FIFO's reader script, as its own user or `script_user`.
fn start_reader(
    script: &vigil_config::model::Script,
    fifo: &Path,
    script_user: Option<&(String, Option<String>)>,
) -> Option<tokio::process::Child> {
    let (program, args) = script.argv.split_first()?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).arg(fifo).stdin(std::process::Stdio::null());
    if let Some((uid, gid)) = crate::credentials::script_credentials(script, script_user) {
        cmd.uid(uid).gid(gid);
    }
    match cmd.spawn() {
        Ok(child) => {
            vigil_check::probes::script_nice::reset(child.id(), false);
            Some(child)
        }
        Err(e) => {
            tracing::error!("notify FIFO script {program}: {e}");
            None
        }
    }
}

/// Writes each event's line to the FIFO until the bus goes away.
fn write_all(mut file: std::fs::File, mut rx: mpsc::Receiver<Arc<Event>>, name: &str) {
    while let Some(e) = rx.blocking_recv() {
        let Some(line) = e.fifo_line() else { continue };
        if let Err(err) = file.write_all(line.as_bytes()) {
            tracing::warn!("notify FIFO {name}: event {} not written: {err}", e.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(state: &'static str) -> Kind {
        Kind::Instance { name: "VI_1".into(), state, priority: 150 }
    }

    #[test]
    fn lines_are_keepalived_s() {
        let e = |kind| Event { seq: 1, at: 0.0, kind }.fifo_line().expect("a keepalived event");
        assert_eq!(e(instance("MASTER")), "INSTANCE \"VI_1\" MASTER 150\n");
        assert_eq!(e(Kind::Group { name: "G1".into(), state: "BACKUP" }), "GROUP \"G1\" BACKUP 0\n");
        let vs = "[10.0.0.3]:tcp:80".to_string();
        assert_eq!(e(Kind::VirtualServer { vs: vs.clone(), state: "DOWN" }), "VS [10.0.0.3]:tcp:80 DOWN\n");
        let rs = Kind::RealServer { rs: "[10.0.0.7]:tcp:80".into(), vs, state: "UP" };
        assert_eq!(e(rs), "RS [10.0.0.7]:tcp:80 [10.0.0.3]:tcp:80 UP\n");
    }

    #[test]
    fn maintenance_events_go_to_the_stream_and_not_to_keepalived_s_fifos() {
        let kind = Kind::Weight { vs: "10.0.0.3:80".into(), rs: "10.0.1.1:80".into(), weight: Some(5), expires: None };
        let e = Event { seq: 2, at: 1.0, kind };
        assert_eq!(e.fifo_line(), None);
        let v = serde_json::to_value(&e).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"seq": 2, "at": 1.0, "type": "WEIGHT", "vs": "10.0.0.3:80", "rs": "10.0.1.1:80", "weight": 5, "expires": null})
        );
    }

    #[test]
    fn readers_get_every_event_in_number_order_and_only_the_kinds_they_asked_for() {
        let events = Events::default();
        let (_, mut all) = events.subscribe(Filter::All, true);
        let (_, mut lvs) = events.subscribe(Filter::Lvs, true);
        events.publish(instance("BACKUP"));
        events.publish(Kind::RealServer { rs: "a".into(), vs: "b".into(), state: "DOWN" });
        events.publish(instance("MASTER"));
        let seqs: Vec<u64> = std::iter::from_fn(|| all.try_recv().ok()).map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        let lvs: Vec<u64> = std::iter::from_fn(|| lvs.try_recv().ok()).map(|e| e.seq).collect();
        assert_eq!(lvs, [2]);
        let (_, mut late) = events.subscribe_with_backlog(Filter::Vrrp);
        events.publish(instance("FAULT"));
        let late: Vec<u64> = std::iter::from_fn(|| late.try_recv().ok()).map(|e| e.seq).collect();
        assert_eq!(late, [1, 3, 4], "the backlog first, then the new ones");
    }

    #[test]
    fn a_stream_reader_that_falls_behind_is_let_go_and_a_fifo_reader_is_kept() {
        let events = Events::default();
        let (_, stream) = events.subscribe(Filter::All, false);
        let (_, fifo) = events.subscribe(Filter::All, true);
        for _ in 0..=QUEUE {
            events.publish(instance("MASTER"));
        }
        let bus = events.bus.lock().expect("not poisoned");
        assert_eq!(bus.subscribers.len(), 1);
        assert_eq!(bus.subscribers[0].lost, 1);
        drop((stream, fifo));
    }

    #[test]
    fn events_are_json_with_their_number() {
        let e = Event { seq: 7, at: 1.5, kind: instance("FAULT") };
        let v = serde_json::to_value(&e).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"seq": 7, "at": 1.5, "type": "INSTANCE", "name": "VI_1", "state": "FAULT", "priority": 150})
        );
    }
}
