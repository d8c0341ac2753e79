//! Route announcements for active/active directors behind ECMP (docs/scale-out.md).
//!
//! For each announced VIP, a host route goes in a kernel table of its own, with a protocol
//! number of its own, while the VIP's virtual servers have their quorum, the VIP is not
//! drained and vigild runs; BIRD (`protocol kernel { kernel table N; learn; }`) or FRR (`ip
//! import-table N`) picks it up and announces it by BGP. No BGP is spoken here: the kernel
//! table is the contract.
//!
//! The decision is pure ([`policy`]); this task feeds it the quorums the IPVS owner publishes
//! ([`quorums`]), the drains of the maintenance store, and the configuration, and writes the
//! difference to the table ([`kernel`]). It reads the table again every [`AUDIT_EVERY`] and
//! puts back what someone else removed. At start it takes over the routes a previous run left
//! (a crash, `kill -9`) and corrects them once the checkers have given their first quorums; at
//! a stop it withdraws every route before anything else stops, so the routers stop sending
//! new flows while the existing ones are still served.

mod kernel;
pub mod policy;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use vigil_config::announce::Announce;
use vigil_config::model::Config;

use self::kernel::Table;
use self::policy::{Inputs, Reason, Route, RouteOp, Verdict};
use crate::events::{Events, Kind};
use crate::maintenance;

/// Where the announcement settings are read unless `--announce-config` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/vigil/announce.conf";
/// How often the table is read to put back routes removed behind our back.
const AUDIT_EVERY: Duration = Duration::from_secs(5);
/// How long a start waits for the checkers' first quorums before deciding without them.
const FIRST_QUORUMS: Duration = Duration::from_secs(10);

/// Every virtual server's quorum, by its place in `config`, as the IPVS owner last had it.
#[derive(Clone, Debug)]
pub struct Quorums {
    pub config: Arc<Config>,
    pub up: Vec<bool>,
}

/// The quorums the IPVS owner publishes; `None` until it has started.
pub fn quorums() -> &'static watch::Sender<Option<Quorums>> {
    static QUORUMS: OnceLock<watch::Sender<Option<Quorums>>> = OnceLock::new();
    QUORUMS.get_or_init(|| watch::channel(None).0)
}

/// The running announcements.
pub struct Announcer {
    path: PathBuf,
    tx: mpsc::Sender<Msg>,
    task: tokio::task::JoinHandle<()>,
    verdicts: watch::Receiver<Vec<Verdict>>,
}

enum Msg {
    /// A new configuration, and the announcement file's new settings (`None`: keep them).
    Reload {
        config: Arc<Config>,
        announce: Option<Announce>,
    },
    Stop {
        reply: oneshot::Sender<()>,
    },
}

/// Reads the announcement settings at `path`; `Ok(None)` when there is no such file (the
/// feature is off). Errors name file:line.
pub fn read(path: &Path) -> Result<Option<Announce>, vigil_config::announce::Error> {
    match Announce::read(path) {
        Ok(a) => Ok(Some(a)),
        Err(vigil_config::announce::Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl Announcer {
    /// Starts the announcements of `path`, if the file exists. `checks` says whether the
    /// health checkers run (and will publish quorums).
    pub async fn start(path: &Path, config: Arc<Config>, events: Events, checks: bool) -> Option<Announcer> {
        let announce = match read(path) {
            Ok(Some(a)) => a,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!("{e}\nannounce: {} has errors; no VIP is announced", path.display());
                return None;
            }
        };
        let table = match Table::open(&announce).await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("announce: {e:#}; no VIP is announced");
                return None;
            }
        };
        let current = match table.list().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("announce: {e:#}; no VIP is announced");
                return None;
            }
        };
        if !current.is_empty() {
            tracing::info!(
                routes = current.len(),
                "announce: routes of protocol {} in table {} left by a previous run are taken over",
                announce.protocol,
                announce.table
            );
        }
        tracing::info!(
            "announce: VIP routes go in table {} with protocol {} ({})",
            announce.table,
            announce.protocol,
            path.display()
        );
        let (verdicts_tx, verdicts) = watch::channel(Vec::new());
        let wait_until = (checks && !config.virtual_servers.is_empty()).then(|| Instant::now() + FIRST_QUORUMS);
        let task =
            Task { announce, config, table, current, last: BTreeMap::new(), events, wait_until, verdicts: verdicts_tx };
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(task.run(rx));
        Some(Announcer { path: path.to_path_buf(), tx, task, verdicts })
    }

    /// Runs `config` and the announcement file as it now reads; a file with errors leaves the
    /// previous settings running (and says so).
    pub async fn reload(&self, config: Arc<Config>) {
        let announce = match read(&self.path) {
            Ok(Some(a)) => Some(a),
            Ok(None) => {
                tracing::warn!(
                    "announce: {} is gone; its settings stay as they were until vigild stops",
                    self.path.display()
                );
                None
            }
            Err(e) => {
                tracing::error!("{e}\nannounce: {} has errors; its previous settings stay", self.path.display());
                None
            }
        };
        let _ = self.tx.send(Msg::Reload { config, announce }).await;
    }

    /// Withdraws every route, takes off the VIPs this run added, and ends the task.
    pub async fn stop(self) {
        let (reply, done) = oneshot::channel();
        if self.tx.send(Msg::Stop { reply }).await.is_ok() {
            let _ = done.await;
        }
        let _ = self.task.await;
    }

    /// Each VIP's latest verdict.
    pub fn verdicts(&self) -> Vec<Verdict> {
        self.verdicts.borrow().clone()
    }
}

/// The announcement task's state.
struct Task {
    announce: Announce,
    config: Arc<Config>,
    table: Table,
    /// Our routes as the table holds them.
    current: BTreeSet<Route>,
    /// Each VIP's last reason, to log and publish changes only.
    last: BTreeMap<IpAddr, Reason>,
    events: Events,
    /// Until then, at start, no route is withdrawn for want of quorums: the checkers have not
    /// given their first ones yet.
    wait_until: Option<Instant>,
    verdicts: watch::Sender<Vec<Verdict>>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        // Here, not in `Announcer::start`: whatever happens to the caller, the VIPs added are
        // this task's, and its stop takes them off.
        let vips = self.announce.addresses(&self.config).into_iter().map(|(v, _)| v);
        self.table.add_vips(vips).await;
        let mut quorums = quorums().subscribe();
        let mut runtime = maintenance::store().subscribe();
        let mut audit = tokio::time::interval(AUDIT_EVERY);
        audit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wait =
                self.wait_until.map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(Msg::Reload { config, announce }) => self.reload(config, announce).await,
                    Some(Msg::Stop { reply }) => {
                        self.stop().await;
                        let _ = reply.send(());
                        return;
                    }
                    None => return,
                },
                r = quorums.changed() => if r.is_err() { return },
                r = runtime.changed() => if r.is_err() { return },
                _ = audit.tick() => self.audit().await,
                () = tokio::time::sleep(wait), if self.wait_until.is_some() => self.wait_until = None,
            }
            self.sync(false).await;
        }
    }

    /// Decides every VIP again and writes the difference.
    async fn sync(&mut self, stopping: bool) {
        let published = quorums().borrow().clone();
        // Quorums of another configuration (a reload between the IPVS owner and us) decide
        // nothing: the routes stay as they are until both run the same one.
        let quorum = match &published {
            Some(q) if Arc::ptr_eq(&q.config, &self.config) => {
                self.wait_until = None;
                Some(q.up.as_slice())
            }
            Some(_) if !stopping => return,
            _ if self.wait_until.is_some() && !stopping => return,
            _ => None,
        };
        let runtime = maintenance::store().snapshot();
        let verdicts = policy::verdicts(&Inputs {
            announce: &self.announce,
            config: &self.config,
            quorum,
            runtime: &runtime,
            stopping,
        });
        self.log_changes(&verdicts);
        let want = policy::desired(&verdicts);
        self.verdicts.send_replace(verdicts);
        self.write(&want).await;
    }

    async fn write(&mut self, want: &BTreeSet<Route>) {
        for op in policy::plan(&self.current, want) {
            let done = match op {
                RouteOp::Add(r) => self.table.add(r).await.map(|()| self.current.insert(r)),
                RouteOp::Remove(r) => self.table.remove(r).await.map(|()| self.current.remove(&r)),
            };
            if let Err(e) = done {
                tracing::error!("announce: {e:#}");
            }
        }
    }

    /// Logs and publishes each VIP whose reason changed.
    fn log_changes(&mut self, verdicts: &[Verdict]) {
        for v in verdicts {
            if self.last.get(&v.vip) == Some(&v.reason) {
                continue;
            }
            let table = self.table.table;
            match &v.reason {
                r if r.announced() => {
                    tracing::info!(vip = %v.vip, "Announcing VIP {} (table {table}, metric {})", v.vip, v.metric)
                }
                Reason::Quorum(lost) => {
                    tracing::info!(vip = %v.vip, "Withdrawing VIP {}: no quorum for {}", v.vip, lost.join(", "))
                }
                r => tracing::info!(vip = %v.vip, "Withdrawing VIP {}: {}", v.vip, r.word()),
            }
            let state = if v.reason.announced() { "ANNOUNCED" } else { "WITHDRAWN" };
            self.events.publish(Kind::Announce { vip: v.vip.to_string(), state, reason: v.reason.word() });
            self.last.insert(v.vip, v.reason.clone());
        }
        let known: BTreeSet<IpAddr> = verdicts.iter().map(|v| v.vip).collect();
        self.last.retain(|vip, _| known.contains(vip));
    }

    /// Takes a new configuration and announcement file. Another table, protocol or
    /// interface: the routes move (added in the new table, then removed from the old one).
    async fn reload(&mut self, config: Arc<Config>, announce: Option<Announce>) {
        self.config = config;
        if let Some(announce) = announce {
            if self.table.serves(&announce) {
                self.announce = announce;
            } else {
                self.move_table(announce).await;
            }
        }
        let vips = self.vips();
        self.table.add_vips(vips.iter().copied()).await;
        self.table.remove_vips(&vips).await;
    }

    /// Moves the routes to the table, protocol or interface of `announce`: added there
    /// first, then removed from the old table.
    async fn move_table(&mut self, announce: Announce) {
        let mut old = match Table::open(&announce).await {
            Ok(table) => std::mem::replace(&mut self.table, table),
            Err(e) => return tracing::error!("announce: {e:#}; the previous table stays"),
        };
        let old_routes = std::mem::take(&mut self.current);
        self.current = self.table.list().await.unwrap_or_default();
        self.announce = announce;
        if self.table.same_interface(&old) {
            self.table.take_vips_of(&mut old);
        }
        self.sync(false).await;
        for r in old_routes {
            if let Err(e) = old.remove(r).await {
                tracing::error!("announce: {e:#}");
            }
        }
        old.remove_vips(&BTreeSet::new()).await;
    }

    fn vips(&self) -> BTreeSet<IpAddr> {
        self.announce.addresses(&self.config).into_iter().map(|(v, _)| v).collect()
    }

    /// Reads the table and takes what it holds as the current routes, so that the next sync
    /// puts back a route removed by hand and removes one added under our protocol.
    async fn audit(&mut self) {
        match self.table.list().await {
            Ok(actual) if actual != self.current => {
                tracing::warn!("announce: table {} was changed behind our back; repairing", self.table.table);
                self.current = actual;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("announce: cannot read table {}: {e:#}", self.table.table),
        }
    }

    async fn stop(&mut self) {
        self.sync(true).await;
        self.table.remove_vips(&BTreeSet::new()).await;
    }
}

/// `vigild --withdraw`: removes every route of the announcement table's protocol (systemd's
/// ExecStopPost, after a crash or a watchdog kill). Returns how many went.
pub async fn withdraw(path: &Path) -> anyhow::Result<usize> {
    let Some(announce) = read(path)? else { return Ok(0) };
    let table = Table::open(&announce).await?;
    let routes = table.list().await?;
    for r in &routes {
        table.remove(*r).await?;
    }
    Ok(routes.len())
}
