//! The checkers subsystem (`-C`): the health checkers and the IPVS owner they drive.
//!
//! The checks run on a runtime of their own, on their own thread, so that ten thousand probes
//! a second never delay a VRRP advert; their verdicts go to the IPVS owner, itself on a
//! thread of its own because its netlink writes block.
//!
//! A reload stops the checks, carries every verdict over to the same check in the new
//! configuration (same virtual server, real server and settings), brings the IPVS table to
//! the new configuration with those verdicts (so an unchanged real server keeps its entry
//! and its connections, and a changed weight is one write), and starts the checks again.
//!
//! Maintenance entries and weight overrides (`vigilctl maintenance`, `vigilctl weight`) go
//! to the IPVS owner as they change; they name servers by address, so a reload keeps them.
//!
//! BFD_CHECKs follow the BFD task's sessions: the checks hold its receiver, and each start
//! (the first, and after every reload) takes the sessions' current states.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use vigil_check::{Before, Carried, OldChecks, Plan, Status};
use vigil_config::model::{Config, Scheduling};
use vigil_ipvs::reconcile::{RsId, Table};

use crate::bfd::Up;
use crate::events::Events;
use crate::lvs::{self, Input};
use crate::maintenance;
use crate::notify::Notifier;
use crate::status::Applied;

/// The running checkers and IPVS owner.
pub struct Checkers {
    lvs: mpsc::Sender<Input>,
    lvs_thread: std::thread::JoinHandle<()>,
    checks: Checks,
    /// The configuration `plan` was made of.
    config: Arc<Config>,
    plan: Arc<Plan>,
    status: Arc<Status>,
    /// Asks the IPVS owner to check the kernel's table every `delay_loop`.
    audit: tokio::task::JoinHandle<()>,
    /// The configuration's shortest `delay_loop` (see [`audit_every`]).
    audit_every: Duration,
    /// How long the last check of the table took, in microseconds (see [`spawn_audit`]).
    audit_took: Arc<AtomicU64>,
    /// Hands the IPVS owner each change of the maintenance entries.
    runtime: tokio::task::JoinHandle<()>,
    /// The BFD sessions' states, for BFD_CHECK.
    bfd: watch::Receiver<Up>,
    /// No IPVS in the kernel: the table is in memory only, and not shown as the kernel's.
    detached: bool,
    /// How the running configuration schedules the checks' thread (the `checker_*` keywords).
    sched: Scheduling,
}

/// The checks of one configuration, on their thread.
struct Checks {
    cancel: CancellationToken,
    thread: Option<std::thread::JoinHandle<Vec<Carried>>>,
}

impl Checkers {
    /// Starts the IPVS owner and the checks of every real server.  Without IPVS in the
    /// kernel this is one error in the log and nothing runs (the caller goes on with VRRP),
    /// unless `detached`: the route announcements need the verdicts, so the checks run and
    /// the IPVS owner keeps its table in memory.
    /// BFD_CHECKs follow the sessions `bfd` reports. Must be called on the main runtime:
    /// notify scripts run there.
    pub async fn start(
        config: Arc<Config>,
        events: Events,
        bfd: watch::Receiver<Up>,
        detached: bool,
    ) -> Option<Checkers> {
        let client = match vigil_ipvs::client::Client::connect() {
            Ok(c) => Some(c),
            Err(e) if detached => {
                tracing::warn!("IPVS: {e}; the health checkers run for the route announcements only");
                None
            }
            Err(e) => {
                tracing::error!("IPVS: {e}; the health checkers are not started");
                return None;
            }
        };
        // Built where a reload builds the next ones (tokio's blocking threads), so that the
        // memory this plan and board free at the first reload is the allocator's to reuse for
        // the plans and boards after it: built here, on VRRP's thread, it stayed with this
        // thread (tens of megabytes at 100,000 real servers).
        let next = config.clone();
        let built = tokio::task::spawn_blocking(move || {
            let plan = checked_plan(vigil_check::plan(&next));
            let status = Status::new(&plan, SystemTime::now());
            (plan, status)
        });
        let (plan, status) = match built.await {
            Ok(built) => built,
            Err(e) => {
                tracing::error!("the checkers' plan could not be made ({e}); they are not started");
                return None;
            }
        };
        let notifier = Notifier::spawn("checkers".into(), config.global.script_user.clone(), events);
        let store = maintenance::store();
        store.set_config(config.clone());
        // Subscribed before the snapshot is taken: no change falls between the two.
        let changes = store.subscribe();
        let entries = store.snapshot();
        let initial = health(&plan, &status);
        let detached = client.is_none();
        let spawned = match client {
            Some(client) => lvs::spawn(client, config.clone(), initial, entries, notifier),
            None => lvs::spawn(lvs::Detached::default(), config.clone(), initial, entries, notifier),
        };
        let (lvs, lvs_thread) = match spawned {
            Ok(owner) => owner,
            Err(e) => {
                tracing::error!("IPVS: cannot start the owner's thread: {e}; the health checkers are not started");
                return None;
            }
        };
        let (audit_every, audit_took) = (audit_every(&config), Arc::new(AtomicU64::new(0)));
        let audit = spawn_audit(audit_every, lvs.clone(), audit_took.clone());
        let runtime = spawn_runtime(changes, lvs.clone());
        let sched = config.global.checker_scheduling.clone();
        let checks = Checks::start(plan.clone(), Vec::new(), status.clone(), lvs.clone(), bfd.clone(), sched.clone())?;
        Some(Checkers {
            lvs,
            lvs_thread,
            checks,
            config,
            plan,
            status,
            audit,
            audit_every,
            audit_took,
            runtime,
            bfd,
            detached,
            sched,
        })
    }

    /// Runs `config` from now on (see the module's documentation): what the IPVS owner
    /// applied, `None` when it is gone. An error when the checks go on with the previous
    /// configuration: its new plan could not be made (only a bug gets there).
    pub async fn reload(&mut self, config: Arc<Config>) -> Result<Option<Applied>, String> {
        // No check of the table starts while two plans and boards are alive: at 100,000 real
        // servers its copies of the table would add to theirs at the reload's peak.
        self.audit.abort();
        // The checks stop before the new plan is made, as they stop for the rest of the
        // reload (and keepalived's for all of it): their running state is then gone while
        // two plans are alive (7 MiB at 100,000 real servers, at the reload's peak).
        let stopped = self.checks.stop().await;
        // So do the running plan's checks, which nothing else holds now: the verdicts are
        // carried by the few checks made again from the running configuration
        // (`OldChecks::Remade`), and the reload's peak never holds two plans' checks (6 MiB at
        // 100,000 real servers).
        let checks_gone = Arc::get_mut(&mut self.plan).map(|plan| plan.checks = Vec::new()).is_some();
        // A plan of 100,000 checks takes a while to build: off this runtime, where VRRP's
        // timers run.
        let next = config.clone();
        let planned = tokio::task::spawn_blocking(move || checked_plan(vigil_check::plan(&next))).await;
        let plan = match planned {
            Ok(plan) => plan,
            Err(e) => {
                let e = format!("the checkers' new plan could not be made ({e}); they go on with the previous one");
                tracing::error!("{e}");
                if checks_gone {
                    // Made again as they were, off this runtime too: `stopped` and the board
                    // follow their order.
                    let running = self.config.clone();
                    match tokio::task::spawn_blocking(move || vigil_check::plan(&running)).await {
                        Ok(plan) => self.plan = Arc::new(plan),
                        Err(e) => tracing::error!("the checkers' previous plan could not be made again either ({e})"),
                    }
                }
                let (plan, status, sched) = (self.plan.clone(), self.status.clone(), self.sched.clone());
                let carried = stopped.into_iter().map(Some).collect();
                if let Some(checks) = Checks::start(plan, carried, status, self.lvs.clone(), self.bfd.clone(), sched) {
                    self.checks = checks;
                }
                self.audit = spawn_audit(self.audit_every, self.lvs.clone(), self.audit_took.clone());
                return Err(e);
            }
        };
        // The old plan goes as soon as the verdicts are carried, before the new board is made
        // (it keeps only where each server was, in `Before`); the new board takes the old
        // one's history part by part, emptying it as it goes (nothing reads it during the
        // reload: the daemon answers no status request until the reload is done).
        let old_plan = std::mem::replace(&mut self.plan, plan.clone());
        let old_config = std::mem::replace(&mut self.config, config.clone());
        let (old_status, new_plan, new_config) = (self.status.clone(), plan.clone(), config.clone());
        let resumed = tokio::task::spawn_blocking(move || {
            let same = vigil_check::same_servers(&old_plan, &new_plan);
            let checks =
                if checks_gone { OldChecks::Remade { old: &old_config, new: &new_config } } else { OldChecks::InPlan };
            let carried = vigil_check::carry_over(&old_plan, &stopped, &new_plan, &same, checks);
            let before = Before::new(&old_plan, same);
            drop((old_plan, stopped, old_config));
            let status = Status::resumed(&new_plan, &carried, SystemTime::now(), Some((&old_status, &before)));
            (carried, status)
        });
        let (carried, status) = match resumed.await {
            Ok(resumed) => resumed,
            Err(e) => {
                // Only a bug gets here: the checks start afresh on the new plan.
                tracing::error!("the checkers' verdicts could not be carried over ({e})");
                (Vec::new(), Status::resumed(&plan, &[], SystemTime::now(), None))
            }
        };
        // The old board goes now, before the real servers' states are listed for the IPVS
        // owner and not after its reload: at 100,000 real servers it is megabytes, and that
        // reload builds the new pools and table. A stop that cuts the reload short from here
        // on (or since the plan was replaced above) leaves the new pair with an owner that
        // never ran it; nothing reads them after a stop.
        self.status = status.clone();
        let health = health(&plan, &status);
        self.audit_every = audit_every(&config);
        self.audit = spawn_audit(self.audit_every, self.lvs.clone(), self.audit_took.clone());
        maintenance::store().set_config(config.clone());
        let (reply, applied) = oneshot::channel();
        let sched = config.global.checker_scheduling.clone();
        self.sched = sched.clone();
        let input = Input::Reload { config, health, reply };
        let applied = match self.lvs.send(input).await {
            Ok(()) => applied.await.ok(),
            Err(_) => None,
        };
        if let Some(checks) = Checks::start(plan, carried, status, self.lvs.clone(), self.bfd.clone(), sched) {
            self.checks = checks;
        }
        Ok(applied)
    }

    /// The plan the checks run and their board.
    pub fn status(&self) -> (Arc<Plan>, Arc<Status>) {
        (self.plan.clone(), self.status.clone())
    }

    /// The services we manage, as the kernel holds them, and the writes made so far to undo
    /// changes made behind our back; `None` without IPVS in the kernel.
    pub async fn table(&self) -> Option<(Table, u64)> {
        if self.detached {
            return None;
        }
        let (reply, table) = oneshot::channel();
        self.lvs.send(Input::Table { reply }).await.ok()?;
        table.await.ok()
    }

    /// Stops the checks, then the IPVS owner: it removes our services unless `release` is
    /// false (`--dont-release-ipvs`).
    pub async fn stop(self, release: bool) {
        let Checkers { lvs, lvs_thread, mut checks, audit, runtime, .. } = self;
        audit.abort();
        runtime.abort();
        checks.stop().await;
        let _ = lvs.send(Input::Stop { release }).await;
        let joined = tokio::task::spawn_blocking(move || lvs_thread.join().is_ok()).await;
        if !matches!(joined, Ok(true)) {
            tracing::error!("the IPVS owner ended abnormally");
        }
    }
}

impl Checks {
    /// Runs the checks of `plan` from the `carried` verdicts on a thread of their own, scheduled
    /// as `sched` (the `checker_*` keywords) asks.
    fn start(
        plan: Arc<Plan>,
        carried: Vec<Option<Carried>>,
        status: Arc<Status>,
        lvs: mpsc::Sender<Input>,
        bfd: watch::Receiver<Up>,
        sched: Scheduling,
    ) -> Option<Checks> {
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("checkers".into())
            .spawn(move || {
                crate::scheduling::apply("checker", &sched, crate::scheduling::Realtime::Refused);
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("cannot start the checkers' runtime: {e}");
                        return Vec::new();
                    }
                };
                runtime.block_on(run_checks(plan, carried, status, lvs, bfd, token))
            })
            .map_err(|e| tracing::error!("cannot start the checkers' thread: {e}"))
            .ok()?;
        Some(Checks { cancel, thread: Some(thread) })
    }

    /// Stops the checks; returns their verdicts.
    async fn stop(&mut self) -> Vec<Carried> {
        self.cancel.cancel();
        // The handle stays here until the thread has ended, so that a stop cut short (SIGTERM
        // during a reload) leaves the next one a thread to wait for.
        while self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let Some(thread) = self.thread.take() else { return Vec::new() };
        match thread.join() {
            Ok(carried) => carried,
            Err(_) => {
                tracing::error!("the checkers ended abnormally");
                Vec::new()
            }
        }
    }
}

/// The shortest `delay_loop` of the configuration, at least a second.
fn audit_every(config: &Config) -> Duration {
    config
        .virtual_servers
        .iter()
        .map(|vs| vs.delay_loop)
        .min()
        .unwrap_or(vigil_check::plan::DEFAULT_DELAY_LOOP)
        .max(Duration::from_secs(1))
}

/// Asks the IPVS owner to check the kernel's table `every` [`audit_every`], so that a change
/// made behind its back is undone within one delay_loop; spaced out by [`audit_interval`] when
/// the table is so large that reading it takes a noticeable share of a CPU. `took` keeps the
/// last check's time across reloads, which start this task again.
fn spawn_audit(every: Duration, lvs: mpsc::Sender<Input>, took: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = audit_interval(every, Duration::from_micros(took.load(Ordering::Relaxed)));
        loop {
            tokio::time::sleep(wait).await;
            let (reply, reading) = oneshot::channel();
            if lvs.send(Input::Audit { reply }).await.is_err() {
                return;
            }
            let Ok(reading) = reading.await else { return };
            took.store(u64::try_from(reading.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
            let next = audit_interval(every, reading);
            if (next > every) != (wait > every) {
                let ms = reading.as_millis();
                if next > every {
                    tracing::info!(
                        "IPVS: reading the table to check it took {ms} ms; checking it every {} s",
                        next.as_secs()
                    );
                } else {
                    tracing::info!(
                        "IPVS: reading the table to check it took {ms} ms; checking it every delay_loop again"
                    );
                }
            }
            wait = next;
        }
    })
}

/// The share of one CPU the table's check may take at the most: one part in 50.
const AUDIT_SHARE: u32 = 50;
/// A check quicker than this is never a reason to space them out, however short the
/// `delay_loop`: a busy machine can make a small table's read take a few milliseconds.
const AUDIT_FLOOR: Duration = Duration::from_millis(100);

/// The time from one check of the table to the next: `every` (the shortest `delay_loop`),
/// unless reading and comparing the table took more than a fiftieth of that and more than
/// [`AUDIT_FLOOR`]: then fifty times what it took, in whole seconds. At 10,000 services with
/// 100,000 destinations a check is a dump of each service's destinations, seconds under the
/// kernel lab's emulation: done every `delay_loop` it took as much CPU as the checks.
/// keepalived never checks the table.
fn audit_interval(every: Duration, took: Duration) -> Duration {
    let spaced = took.saturating_mul(AUDIT_SHARE);
    if spaced <= every || took <= AUDIT_FLOOR {
        return every;
    }
    Duration::from_secs(spaced.as_secs().saturating_add(u64::from(spaced.subsec_nanos() > 0)))
}

/// Hands the IPVS owner every new state of the maintenance entries.
fn spawn_runtime(
    mut changes: tokio::sync::watch::Receiver<maintenance::State>,
    lvs: mpsc::Sender<Input>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let state = changes.borrow_and_update().clone();
            if lvs.send(Input::Runtime(state)).await.is_err() {
                return;
            }
        }
    })
}

/// Runs the checks and hands each verdict to the IPVS owner; returns the verdicts at the end.
async fn run_checks(
    plan: Arc<Plan>,
    carried: Vec<Option<Carried>>,
    status: Arc<Status>,
    lvs: mpsc::Sender<Input>,
    bfd: watch::Receiver<Up>,
    cancel: CancellationToken,
) -> Vec<Carried> {
    let (tx, mut rx) = mpsc::channel(1024);
    let runner = tokio::spawn(vigil_check::run_resumed(plan, carried, tx, status, Some(bfd), cancel));
    // Every change reaches the owner, also after a cancel: its notify_up / notify_down and
    // quorum scripts run from there, and a reload's new table does not run them again.
    while let Some(change) = rx.recv().await {
        let input = Input::Health { rs: rs_id(change.rs), up: change.up, weight: change.weight };
        if lvs.send(input).await.is_err() {
            break;
        }
    }
    match runner.await {
        Ok(carried) => carried,
        Err(e) => {
            tracing::error!("the checkers failed: {e}");
            Vec::new()
        }
    }
}

/// The plan, its problems logged.
fn checked_plan(plan: Plan) -> Arc<Plan> {
    for problem in &plan.problems {
        tracing::warn!("{problem}");
    }
    Arc::new(plan)
}

/// Each real server's state for the IPVS owner, as the board starts with it: up or down, and
/// its weight when a dynamic checker moved it from the configured one.
fn health(plan: &Plan, board: &Status) -> Vec<(RsId, bool, Option<i32>)> {
    board.zip_servers(&plan.servers, |s, h| (rs_id(s.id()), h.up, (s.weight != h.weight).then_some(h.weight)))
}

/// The checkers' name of a real server as the reconciler's: both index
/// `config.virtual_servers[vs].real_servers[rs]`.
fn rs_id(rs: vigil_check::RsId) -> RsId {
    RsId { vs: rs.vs, rs: rs.rs }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_table_is_checked_every_delay_loop_unless_the_check_is_costly() {
        let six = 6 * SECOND;
        let cases = [
            // (took, next): up to a fiftieth of the delay_loop, every delay_loop.
            (Duration::ZERO, six),
            (Duration::from_millis(40), six),
            (Duration::from_millis(120), six),
            // Beyond it, fifty times the check, rounded up to whole seconds.
            (Duration::from_millis(121), 7 * SECOND),
            (Duration::from_millis(2_600), 130 * SECOND),
            (Duration::from_millis(2_601), 131 * SECOND),
        ];
        for (took, next) in cases {
            assert_eq!(audit_interval(six, took), next, "a check that took {took:?}");
        }
        assert_eq!(audit_interval(SECOND, Duration::from_millis(20)), SECOND);
        assert_eq!(audit_interval(SECOND, Duration::from_millis(100)), SECOND, "under the floor");
        assert_eq!(audit_interval(SECOND, Duration::from_millis(101)), 6 * SECOND);
        assert_eq!(audit_interval(SECOND, Duration::MAX), Duration::from_secs(u64::MAX), "no overflow");
    }
}
