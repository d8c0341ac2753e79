//! The current state of every check and real server, for a status API: the runner writes it,
//! anyone holding the `Arc` reads a snapshot.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::plan::{CheckId, Plan};
use crate::verdict::{resumed_health, Carried, Failure, ServerHealth};

/// The last attempt of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRun {
    pub at: SystemTime,
    /// From the start of the attempt to its result.
    pub latency: Duration,
    pub result: Result<(), Failure>,
}

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults, from a
/// millisecond up to the longest connect timeout people set).
pub const LATENCY_BOUNDS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How long a check's attempts took, for metrics: non-cumulative counts per bucket of
/// [`LATENCY_BOUNDS`], the attempts above the last bound, and the sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latencies {
    pub buckets: [u64; LATENCY_BOUNDS.len()],
    pub over: u64,
    pub sum: Duration,
}

impl Latencies {
    fn record(&mut self, latency: Duration) {
        let secs = latency.as_secs_f64();
        match LATENCY_BOUNDS.iter().position(|b| secs <= *b) {
            Some(i) => self.buckets[i] += 1,
            None => self.over += 1,
        }
        self.sum += latency;
    }
}

/// One check as the status API shows it, in [`Plan::checks`] order: the plan names it (its
/// real server, kind and name are there, not repeated here for each of 100,000 checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckStatus {
    pub up: bool,
    /// Attempts so far.
    pub runs: u64,
    pub last: Option<LastRun>,
    pub latencies: Latencies,
}

/// Shared between the runner and readers.
#[derive(Debug)]
pub struct Status {
    checks: Mutex<Vec<CheckStatus>>,
    servers: Mutex<Vec<(ServerHealth, SystemTime)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values half-written in a way that matters.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Status {
    /// The board for a plan, with the initial states, at `now`.
    pub fn new(plan: &Plan, now: SystemTime) -> Arc<Status> {
        Status::resumed(plan, &[], now, None)
    }

    /// The board for a plan started from carried verdicts (see
    /// [`Health::resume`](crate::verdict::Health::resume)); with `previous`, the board of the
    /// plan before, a server and check that stay keep their history (time in state, runs,
    /// last result).
    pub fn resumed(
        plan: &Plan,
        carried: &[Option<Carried>],
        now: SystemTime,
        previous: Option<(&Plan, &Status)>,
    ) -> Arc<Status> {
        let mut checks: Vec<CheckStatus> = plan
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| CheckStatus {
                up: carried.get(i).copied().flatten().map_or(!c.alpha, |k| k.up),
                runs: 0,
                last: None,
                latencies: Latencies::default(),
            })
            .collect();
        let mut servers: Vec<(ServerHealth, SystemTime)> =
            resumed_health(plan, carried).into_iter().map(|h| (h, now)).collect();
        if let Some((old_plan, old)) = previous {
            // Read in place: at 100,000 checks a copy of the old board is tens of megabytes.
            let (old_checks, old_servers) = (lock(&old.checks), lock(&old.servers));
            let index: std::collections::HashMap<(&str, &str), usize> =
                old_plan.servers.iter().enumerate().map(|(i, o)| ((&*o.vs_name, &*o.name), i)).collect();
            for (i, s) in plan.servers.iter().enumerate() {
                let Some(&o) = index.get(&(&*s.vs_name, &*s.name)) else { continue };
                if let (Some((h, _)), Some((oh, since))) = (servers.get(i), old_servers.get(o)) {
                    if h.up == oh.up {
                        servers[i].1 = *since;
                    }
                }
                for (k, c) in s.checks.clone().enumerate() {
                    let at = old_plan.servers[o].checks.start + k;
                    if carried.get(c).copied().flatten().is_some() && at < old_plan.servers[o].checks.end {
                        if let Some(oc) = old_checks.get(at) {
                            checks[c].runs = oc.runs;
                            checks[c].last.clone_from(&oc.last);
                            checks[c].latencies.clone_from(&oc.latencies);
                        }
                    }
                }
            }
        }
        Arc::new(Status { checks: Mutex::new(checks), servers: Mutex::new(servers) })
    }

    /// A copy of every check's status.
    pub fn checks(&self) -> Vec<CheckStatus> {
        lock(&self.checks).clone()
    }

    /// A copy of every real server's state, in [`Plan::servers`] order.
    pub fn servers(&self) -> Vec<ServerHealth> {
        lock(&self.servers).iter().map(|(h, _)| *h).collect()
    }

    /// Every real server's state and since when it is up or down, in [`Plan::servers`] order.
    pub fn servers_since(&self) -> Vec<(ServerHealth, SystemTime)> {
        lock(&self.servers).clone()
    }

    pub(crate) fn record_check(&self, id: CheckId, up: bool, last: LastRun) {
        if let Some(c) = lock(&self.checks).get_mut(id.0) {
            c.up = up;
            c.runs += 1;
            c.latencies.record(last.latency);
            c.last = Some(last);
        }
    }

    pub(crate) fn record_server(&self, index: usize, health: ServerHealth, now: SystemTime) {
        if let Some((s, since)) = lock(&self.servers).get_mut(index) {
            if s.up != health.up {
                *since = now;
            }
            *s = health;
        }
    }
}
