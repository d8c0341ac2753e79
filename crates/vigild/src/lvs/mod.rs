//! The IPVS subsystem: one owner of the reconciler, fed with the checkers' verdicts, that
//! keeps the kernel's table equal to what the configuration and the health say.  Writes to
//! the kernel are synchronous netlink calls, so the owner runs on a thread of its own and
//! never holds up the VRRP timers on the runtime.

mod kernel;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use vigil_check::plan::endpoint_name;
use vigil_config::model::{Config, LvsFlushOnStop, RealServer, VirtualServer};
use vigil_ipvs::reconcile::{diff_service, Pools, QuorumEvent, RsId, Table};
use vigil_ipvs::{Dest, DestKey, Op, ServiceKey, Timeouts};

pub use self::kernel::{Detached, Kernel};
use crate::events::Kind;
use crate::maintenance::{self, decide, Health, Runtime, State};
use crate::notify::Notifier;
use crate::status::Applied;

/// How many services the start writes at a time (about 2,800 writes at 10 real servers each).
const START_PART: usize = 256;

/// An input for the IPVS owner.
#[derive(Debug)]
pub enum Input {
    /// A checker's verdict on a real server changed.
    Health { rs: RsId, up: bool, weight: Option<i32> },
    /// Run a new configuration; `health` is each of its real servers' state (carried over
    /// from the old one where the checks stayed the same).
    Reload { config: Arc<Config>, health: Vec<(RsId, bool, Option<i32>)>, reply: oneshot::Sender<Applied> },
    /// Report the services we manage as the kernel holds them, and the repairs made so far.
    Table { reply: oneshot::Sender<(Table, u64)> },
    /// Read the kernel's table and put back what someone else changed in our services
    /// (`ipvsadm -C`, a weight edited by hand); `reply` gets the time the reading and the
    /// comparison took (not the repairs').
    Audit { reply: oneshot::Sender<std::time::Duration> },
    /// The maintenance entries and weight overrides changed (`vigilctl maintenance`,
    /// `vigilctl weight`, or an expiry).
    Runtime(State),
    /// Stop: remove our services unless `release` is false (`--dont-release-ipvs`).
    Stop { release: bool },
}

/// The reconciler and what it knows of the kernel.
pub struct Lvs<K: Kernel> {
    kernel: K,
    config: Arc<Config>,
    pools: Pools,
    /// Each real server's health as the checkers and the configuration give it; the pools
    /// hold what [`decide`] makes of it with the maintenance entries.
    health: Healths,
    /// The maintenance entries and weight overrides, and what they mean for this
    /// configuration's real servers.
    runtime: State,
    resolved: BTreeMap<RsId, Runtime>,
    /// What the kernel holds for the services we manage, as last read or written.
    mirror: Table,
    /// The services this configuration owns: the ones it may delete.
    managed: BTreeSet<ServiceKey>,
    notifier: Notifier,
    /// Writes made to undo changes made behind our back.
    repairs: u64,
    /// Each sorry server by service, from the pools: a write's log line names it so.
    sorry: BTreeSet<(ServiceKey, DestKey)>,
}

impl<K: Kernel> Lvs<K> {
    /// Brings the kernel's table to the configuration: flush first only with `lvs_flush`;
    /// otherwise what is already there is adopted (a restart cuts no connection) and only
    /// the differences are written.
    /// `initial` is the checkers' health at start (alpha), by real server; `runtime` the
    /// maintenance entries and weight overrides kept from before.
    pub fn start(
        mut kernel: K,
        config: Arc<Config>,
        initial: Vec<(RsId, bool, Option<i32>)>,
        runtime: State,
        notifier: Notifier,
    ) -> Result<Lvs<K>, K::Error> {
        if config.global.lvs_flush {
            tracing::info!("Flushing the IPVS table (lvs_flush)");
            kernel.flush()?;
        }
        if let Some(t) = &config.global.lvs_timeouts {
            let timeouts =
                Timeouts { tcp: t.tcp.unwrap_or(0), tcp_fin: t.tcpfin.unwrap_or(0), udp: t.udp.unwrap_or(0) };
            if let Err(e) = kernel.set_timeouts(&timeouts) {
                tracing::error!("IPVS: cannot set lvs_timeouts: {e}");
            }
        }
        let resolved = runtime.resolve(&config);
        let (pools, health) = pools_for(&config, &initial, &resolved);
        // Read into the pools: not kept through the table's writes (megabytes at 100,000).
        drop(initial);
        let managed = pools.keys();
        let began = std::time::Instant::now();
        // Only our services are read and mirrored: the others are not ours to diff.
        let current = kernel.table(&managed)?;
        let read_ms = millis(began.elapsed());
        let events: Vec<QuorumEvent> = pools
            .pools
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.quorum_up)
            .map(|(vs, p)| QuorumEvent::Lost {
                vs,
                quorum: p.quorum,
                hysteresis: p.hysteresis,
                weight: p.live_weight(),
            })
            .collect();
        let sorry = sorry_servers(&pools);
        let mut lvs = Lvs {
            kernel,
            config,
            pools,
            health,
            runtime,
            resolved,
            mirror: current,
            managed,
            notifier,
            repairs: 0,
            sorry,
        };
        let adopted = lvs.mirror.services.len();
        for p in &lvs.pools.pools {
            let state = if p.quorum_up { "up" } else { "down" };
            tracing::info!(virtual_server = %p.name, "Starting with quorum {state} for VS {}", p.name);
        }
        let (mut writes, began) = (0, std::time::Instant::now());
        // A part of the services at a time: at 100,000 destinations the whole table's ops
        // at once would be megabytes at the start's peak. keepalived adds its services and
        // real servers at start without a line each (100,000 lines would take longer than the
        // writes); the summary below counts them.
        let owners = lvs.pools.owners();
        for part in owners.chunks(START_PART) {
            let ops = lvs.pools.diff_part(part, &lvs.mirror);
            writes += ops.len();
            lvs.execute_as(ops, Narration::AllButAdditions);
        }
        let ops = Pools::deletions(&owners, &lvs.mirror, &lvs.managed);
        writes += ops.len();
        lvs.execute_as(ops, Narration::AllButAdditions);
        let write_ms = millis(began.elapsed());
        let services = lvs.managed.len();
        tracing::info!(services, adopted, writes, read_ms, write_ms, "IPVS: table in step with the configuration");
        for e in events {
            lvs.quorum_event(&e);
        }
        lvs.publish_quorums();
        Ok(lvs)
    }

    /// Tells the route announcements (`crate::announce`) every virtual server's quorum.
    fn publish_quorums(&self) {
        let up = self.pools.pools.iter().map(|p| p.quorum_up).collect();
        crate::announce::quorums().send_replace(Some(crate::announce::Quorums { config: self.config.clone(), up }));
    }

    /// Handles one input; returns false once stopped.
    pub fn handle(&mut self, input: Input) -> bool {
        match input {
            Input::Health { rs, up, weight } => {
                self.health(rs, up, weight);
                true
            }
            Input::Reload { config, health, reply } => {
                let _ = reply.send(self.reload(config, health));
                true
            }
            Input::Table { reply } => {
                let _ = reply.send((self.mirror.clone(), self.repairs));
                true
            }
            Input::Audit { reply } => {
                let _ = reply.send(self.audit());
                true
            }
            Input::Runtime(state) => {
                self.set_runtime(state);
                true
            }
            Input::Stop { release } => {
                self.stop(release);
                false
            }
        }
    }

    /// Brings the table from the running configuration to `config`: only what differs is
    /// written (a weight change is one write); services gone from the configuration are
    /// removed, new ones added, or adopted if the kernel already has them.
    fn reload(&mut self, config: Arc<Config>, states: Vec<(RsId, bool, Option<i32>)>) -> Applied {
        let began = std::time::Instant::now();
        let resolved = self.runtime.resolve(&config);
        // The old pools go before the new ones are made (nothing below reads them), and the
        // states once read into the new ones: at 100,000 real servers each is megabytes at the
        // reload's peak, where two configurations, the new plan and its board are alive.
        self.pools = Pools::default();
        self.health = Healths(Vec::new());
        let (pools, health) = pools_for(&config, &states, &resolved);
        drop(states);
        let managed = pools.keys();
        let new: BTreeSet<ServiceKey> = managed.difference(&self.managed).copied().collect();
        if !new.is_empty() {
            match self.kernel.table(&new) {
                Ok(current) => self.mirror.services.extend(current.services),
                Err(e) => tracing::error!("IPVS: cannot read the table for the new services: {e}"),
            }
        }
        let owned: BTreeSet<ServiceKey> = self.managed.union(&managed).copied().collect();
        let ops = pools.diff_from(&self.mirror, &owned);
        let writes = ops.len();
        let failed = self.execute(ops);
        self.managed = managed;
        self.pools = pools;
        self.sorry = sorry_servers(&self.pools);
        self.health = health;
        self.resolved = resolved;
        self.config = config;
        self.publish_quorums();
        let applied = Applied { writes, failed, ms: millis(began.elapsed()) };
        tracing::info!(writes, failed, ms = applied.ms, "IPVS: reloaded configuration applied");
        applied
    }

    /// Compares our services in the kernel with what they should be and writes the
    /// difference: vigild is the table's owner, so a service flushed, a destination removed
    /// or a weight edited by hand comes back. Services that are not ours are not looked at.
    /// Returns the time the reading and the comparison took.
    fn audit(&mut self) -> std::time::Duration {
        let began = std::time::Instant::now();
        // Read into the mirror, each service in place of what it held: a second table beside
        // it would be megabytes at 100,000 destinations. A reading cut short leaves the
        // services read so far as the kernel has them, and the others as they were.
        let (mirror, mut listed) = (&mut self.mirror, BTreeSet::new());
        let read = self.kernel.each(&self.managed, &mut |s| {
            listed.insert(s.service.key);
            mirror.services.insert(s.service.key, s);
        });
        if let Err(e) = read {
            tracing::warn!("IPVS: cannot read the table to check it: {e}");
            return began.elapsed();
        }
        mirror.services.retain(|key, _| listed.contains(key));
        let ops = self.pools.diff_from(&self.mirror, &self.managed);
        let took = began.elapsed();
        if ops.is_empty() {
            return took;
        }
        tracing::warn!(
            changes = ops.len(),
            "IPVS: the table was changed behind our back (ipvsadm, another daemon?); putting back {} entr{}",
            ops.len(),
            if ops.len() == 1 { "y" } else { "ies" }
        );
        let writes = ops.len();
        let failed = self.execute(ops);
        self.repairs += u64::try_from(writes - failed).unwrap_or(0);
        took
    }

    fn health(&mut self, id: RsId, up: bool, weight: Option<i32>) {
        let Some(vs) = self.config.virtual_servers.get(id.vs) else { return };
        let Some(rs) = vs.real_servers.get(id.rs) else { return };
        let Some(h) = self.health.get_mut(&id) else { return };
        let was = h.up;
        h.up = up;
        if weight.is_some() {
            h.weight = weight;
        }
        let event = maintenance::apply(&mut self.pools, id, decide(*h, self.resolved.get(&id)));
        // The checks of a server in maintenance still run and are told: its notify
        // scripts and events follow them, its place in the table does not.
        if was != up {
            let script = if up { &rs.extra().notify_up } else { &rs.extra().notify_down };
            if let Some(s) = script {
                self.notifier.run(s, &[]);
            }
            self.publish_rs(id.vs, rs, up);
        }
        if let Some(e) = &event {
            self.quorum_event(e);
        }
        self.sync_pool(id.vs);
    }

    /// Takes new maintenance entries and overrides: the real servers they start or stop
    /// applying to are told their new state, and their pools re-diffed.
    fn set_runtime(&mut self, state: State) {
        let resolved = state.resolve(&self.config);
        let touched: BTreeSet<RsId> = self
            .resolved
            .iter()
            .chain(&resolved)
            .filter(|(id, _)| self.resolved.get(id) != resolved.get(id))
            .map(|(id, _)| *id)
            .collect();
        self.runtime = state;
        self.resolved = resolved;
        let mut events = Vec::new();
        for id in &touched {
            let Some(h) = self.health.get(id) else { continue };
            events.extend(maintenance::apply(&mut self.pools, *id, decide(*h, self.resolved.get(id))));
        }
        for e in &events {
            self.quorum_event(e);
        }
        let pools: BTreeSet<usize> = touched.iter().map(|id| id.vs).collect();
        for vs in pools {
            self.sync_pool(vs);
        }
    }

    /// Re-diffs the services of pool `vs` against the mirror and writes the difference.
    fn sync_pool(&mut self, vs: usize) {
        let Some(pool) = self.pools.pools.get(vs) else { return };
        let mut want = Table::default();
        pool.desired_into(&mut want);
        let mut ops = Vec::new();
        for (key, svc) in &want.services {
            diff_service(key, self.mirror.services.get(key), Some(svc), &mut ops);
        }
        self.execute(ops);
    }

    fn quorum_event(&mut self, e: &QuorumEvent) {
        let (QuorumEvent::Lost { vs, .. } | QuorumEvent::Gained { vs, .. }) = *e;
        let name = self.pools.pools.get(vs).map(|p| p.name.as_str()).unwrap_or_default();
        let up = match *e {
            QuorumEvent::Lost { quorum, hysteresis, weight, .. } => {
                let low = i64::from(quorum) - i64::from(hysteresis);
                tracing::info!(virtual_server = %name, "Lost quorum {quorum}-{hysteresis}={low} > {weight} for VS {name}");
                false
            }
            QuorumEvent::Gained { quorum, hysteresis, weight, .. } => {
                let high = i64::from(quorum) + i64::from(hysteresis);
                tracing::info!(virtual_server = %name, "Gained quorum {quorum}+{hysteresis}={high} <= {weight} for VS {name}");
                true
            }
        };
        self.publish_quorums();
        let Some(model) = self.config.virtual_servers.get(vs) else { return };
        let script = if up { &model.extra().quorum_up } else { &model.extra().quorum_down };
        if let Some(s) = script {
            self.notifier.run(s, &[]);
        }
        self.notifier.publish(Kind::VirtualServer { vs: name.to_string(), state: up_word(up) });
    }

    /// A real server's transition on the event bus, named as keepalived names it.
    fn publish_rs(&self, vs: usize, rs: &RealServer, up: bool) {
        let (Some(pool), Some(model)) = (self.pools.pools.get(vs), self.config.virtual_servers.get(vs)) else { return };
        let rs = endpoint_name(std::net::SocketAddr::new(rs.ip, rs.port), model.protocol);
        self.notifier.publish(Kind::RealServer { rs, vs: pool.name.clone(), state: up_word(up) });
    }

    /// Writes `ops`, logs each in keepalived's words, and mirrors the ones the kernel took;
    /// returns how many it refused.
    fn execute(&mut self, ops: Vec<Op>) -> usize {
        self.execute_as(ops, Narration::Every)
    }

    /// Carries out `ops`, each write the kernel acknowledged logged in keepalived's words as
    /// `narration` says (the others at debug level); returns the writes that failed.
    fn execute_as(&mut self, ops: Vec<Op>, narration: Narration) -> usize {
        if ops.is_empty() {
            return 0;
        }
        let results = self.kernel.apply(&ops);
        let mut written = Vec::with_capacity(ops.len());
        for (op, result) in ops.iter().zip(results) {
            match result {
                Ok(()) => {
                    if narration.tells(op) {
                        self.log_op(op);
                    } else {
                        tracing::debug!("IPVS: {}", describe(op));
                    }
                    written.push(op);
                }
                Err(e) => tracing::error!("IPVS: {}: {e}", describe(op)),
            }
        }
        let failed = ops.len() - written.len();
        self.mirror.apply_all(written);
        failed
    }

    fn log_op(&self, op: &Op) {
        let (key, dest, verb) = match op {
            Op::AddService(s) => {
                tracing::debug!("Adding Virtual Server {}", s.key);
                return;
            }
            Op::EditService(s) => {
                tracing::info!("Changing scheduling of Virtual Server {} to {}", s.key, s.scheduler);
                return;
            }
            Op::DelService(k) => {
                tracing::info!("Removing Virtual Server {k}");
                return;
            }
            Op::AddDest(k, d) => (k, d.key, "Adding"),
            Op::EditDest(k, d) => {
                let old = self.mirror.services.get(k).and_then(|s| s.dests.get(&d.key)).map(|o| o.weight);
                match old {
                    Some(w) if w != 0 && d.weight == 0 => (k, d.key, "Disabling"),
                    Some(0) if d.weight != 0 => (k, d.key, "Enabling"),
                    Some(w) => {
                        let rs = rs_name(k, &d.key);
                        tracing::info!("Changing weight from {w} to {} for active service {rs} of VS {k}", d.weight);
                        return;
                    }
                    None => (k, d.key, "Changing"),
                }
            }
            Op::DelDest(k, dk) => (k, *dk, "Removing"),
        };
        let sorry = self.is_sorry(key, &dest);
        let rs = rs_name(key, &dest);
        let what = if sorry { "sorry server" } else { "service" };
        let to = if verb == "Adding" || verb == "Enabling" { "to" } else { "from" };
        tracing::info!(virtual_server = %key, real_server = %rs, "{verb} {what} {rs} {to} VS {key}");
    }

    /// One lookup, not a pass over every pool: at 10,000 virtual servers a reload writing
    /// 100,000 entries spent most of its own time here.
    fn is_sorry(&self, key: &ServiceKey, dest: &DestKey) -> bool {
        self.sorry.contains(&(*key, *dest))
    }

    /// Stops: the `omega` notifiers run, and unless `release` is false our services leave
    /// the kernel (`lvs_flush_on_stop` flushes the whole table instead).
    fn stop(&mut self, release: bool) {
        for (i, vs) in self.config.virtual_servers.iter().enumerate() {
            if vs.omega {
                self.omega(i, vs);
            }
        }
        if !release {
            tracing::info!("Leaving the IPVS table in place (--dont-release-ipvs)");
            return;
        }
        if self.config.global.lvs_flush_on_stop == Some(LvsFlushOnStop::All) {
            if let Err(e) = self.kernel.flush() {
                tracing::error!("IPVS: flush at stop: {e}");
            }
            return;
        }
        let ops: Vec<Op> =
            self.managed.iter().filter(|k| self.mirror.services.contains_key(k)).map(|k| Op::DelService(*k)).collect();
        let (services, began) = (ops.len(), std::time::Instant::now());
        // keepalived removes its services at stop without a line each; at 10,000 services
        // the lines took longer than the writes. A refusal still has its line.
        let failed = self.execute_as(ops, Narration::Nothing);
        tracing::info!(services, failed, ms = millis(began.elapsed()), "IPVS: removed our services");
    }

    fn omega(&self, i: usize, vs: &VirtualServer) {
        let Some(pool) = self.pools.pools.get(i) else { return };
        for (m, rs) in pool.members.iter().zip(&vs.real_servers) {
            if let (true, Some(s)) = (m.alive, &rs.extra().notify_down) {
                self.notifier.run(s, &[]);
            }
            if m.alive {
                self.publish_rs(i, rs, false);
            }
        }
        if let (true, Some(s)) = (pool.quorum_up, &vs.extra().quorum_down) {
            self.notifier.run(s, &[]);
        }
        if pool.quorum_up {
            self.notifier.publish(Kind::VirtualServer { vs: pool.name.clone(), state: up_word(false) });
        }
    }
}

/// Which of the writes the kernel took get a line in keepalived's words (the others are
/// logged at debug level).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Narration {
    /// Every write: a reload's, a health change's, a maintenance change's and an audit's
    /// repairs.
    Every,
    /// Removals and changes, not additions: the start, where a table adopted from a previous
    /// run is changed but the additions are counted by one summary line.
    AllButAdditions,
    /// None: the stop, summed up by one line.
    Nothing,
}

impl Narration {
    fn tells(self, op: &Op) -> bool {
        match self {
            Narration::Every => true,
            Narration::AllButAdditions => !matches!(op, Op::AddService(_) | Op::AddDest(..)),
            Narration::Nothing => false,
        }
    }
}

/// Every pool's sorry server, in each of its services.
fn sorry_servers(pools: &Pools) -> BTreeSet<(ServiceKey, DestKey)> {
    pools
        .pools
        .iter()
        .filter_map(|p| p.sorry.as_ref().map(|sorry| (p, sorry.dest.key)))
        .flat_map(|(p, dest)| p.services.iter().map(move |s| (s.key, dest)))
        .collect()
}

fn up_word(up: bool) -> &'static str {
    if up {
        "UP"
    } else {
        "DOWN"
    }
}

/// The pools of `config` with each real server's health (`initial`: up, and a dynamic
/// checker's weight) and its maintenance entry or override (`resolved`) decided.
fn pools_for(
    config: &Config,
    initial: &[(RsId, bool, Option<i32>)],
    resolved: &BTreeMap<RsId, Runtime>,
) -> (Pools, Healths) {
    let (mut pools, _) = Pools::from_config(config);
    let mut health = Healths(
        pools
            .pools
            .iter()
            .map(|p| p.members.iter().map(|m| Health { up: m.alive, weight: None, inhibit: m.inhibit }).collect())
            .collect(),
    );
    for &(id, up, weight) in initial {
        if let Some(h) = health.get_mut(&id) {
            h.up = up;
            h.weight = weight;
        }
    }
    for (vs, servers) in health.0.iter().enumerate() {
        for (rs, h) in servers.iter().enumerate() {
            let id = RsId { vs, rs };
            maintenance::apply(&mut pools, id, decide(*h, resolved.get(&id)));
        }
    }
    (pools, health)
}

/// Each real server's health, by virtual server then real server, as the pools hold them
/// (at 100,000 real servers a map by [`RsId`] took several times the room).
struct Healths(Vec<Vec<Health>>);

impl Healths {
    fn get(&self, id: &RsId) -> Option<&Health> {
        self.0.get(id.vs)?.get(id.rs)
    }

    fn get_mut(&mut self, id: &RsId) -> Option<&mut Health> {
        self.0.get_mut(id.vs)?.get_mut(id.rs)
    }
}

/// keepalived's name of a real server within a service: `[10.0.0.7]:tcp:80`.
fn rs_name(service: &ServiceKey, dest: &DestKey) -> String {
    let proto = match service {
        ServiceKey::Addr { protocol, .. } => protocol.lower(),
        ServiceKey::Fwmark { .. } => "tcp",
    };
    format!("[{}]:{proto}:{}", dest.addr, dest.port)
}

/// A duration in milliseconds, to a tenth, for the log.
fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// An op in words, for error messages.
fn describe(op: &Op) -> String {
    let dest = |k: &ServiceKey, d: &Dest| format!("{} of VS {k}", rs_name(k, &d.key));
    match op {
        Op::AddService(s) => format!("adding VS {}", s.key),
        Op::EditService(s) => format!("changing VS {}", s.key),
        Op::DelService(k) => format!("removing VS {k}"),
        Op::AddDest(k, d) => format!("adding {}", dest(k, d)),
        Op::EditDest(k, d) => format!("changing {}", dest(k, d)),
        Op::DelDest(k, dk) => format!("removing {} from VS {k}", rs_name(k, dk)),
    }
}

/// Runs the IPVS owner on a thread of its own, named `ipvs`, until it is told to stop.  A
/// kernel that refuses the first read (no IPVS) is one error in the log; the rest of vigild
/// goes on.
pub fn spawn<K>(
    kernel: K,
    config: Arc<Config>,
    initial: Vec<(RsId, bool, Option<i32>)>,
    runtime: State,
    notifier: Notifier,
) -> std::io::Result<(mpsc::Sender<Input>, std::thread::JoinHandle<()>)>
where
    K: Kernel + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(1024);
    let handle = std::thread::Builder::new().name("ipvs".into()).spawn(move || {
        let mut lvs = match Lvs::start(kernel, config, initial, runtime, notifier) {
            Ok(lvs) => lvs,
            Err(e) => {
                tracing::error!("IPVS: {e}");
                return;
            }
        };
        while let Some(input) = rx.blocking_recv() {
            if !lvs.handle(input) {
                break;
            }
        }
    })?;
    Ok((tx, handle))
}

#[cfg(test)]
mod tests;
