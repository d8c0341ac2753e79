//! The current state of every check and real server, for a status API: the runner writes it,
//! anyone holding the `Arc` reads a snapshot.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::plan::{CheckId, Plan, RsId};
use crate::verdict::{initial_health, Failure, ServerHealth};

/// The last attempt of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastRun {
    pub at: SystemTime,
    /// From the start of the attempt to its result.
    pub latency: Duration,
    pub result: Result<(), Failure>,
}

/// One check as the status API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckStatus {
    pub rs: RsId,
    /// keepalived's keyword: TCP_CHECK, HTTP_GET, ...
    pub kind: &'static str,
    pub name: String,
    pub up: bool,
    /// Attempts so far.
    pub runs: u64,
    pub last: Option<LastRun>,
}

/// Shared between the runner and readers.
#[derive(Debug)]
pub struct Status {
    checks: Mutex<Vec<CheckStatus>>,
    servers: Mutex<Vec<ServerHealth>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values half-written in a way that matters.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Status {
    /// The board for a plan, with the initial states.
    pub fn new(plan: &Plan) -> Arc<Status> {
        let checks = plan
            .checks
            .iter()
            .map(|c| CheckStatus {
                rs: c.rs,
                kind: c.kind.keyword(),
                name: c.name.clone(),
                up: !c.alpha,
                runs: 0,
                last: None,
            })
            .collect();
        Arc::new(Status { checks: Mutex::new(checks), servers: Mutex::new(initial_health(plan)) })
    }

    /// A copy of every check's status.
    pub fn checks(&self) -> Vec<CheckStatus> {
        lock(&self.checks).clone()
    }

    /// A copy of every real server's state, in [`Plan::servers`] order.
    pub fn servers(&self) -> Vec<ServerHealth> {
        lock(&self.servers).clone()
    }

    pub(crate) fn record_check(&self, id: CheckId, up: bool, last: LastRun) {
        if let Some(c) = lock(&self.checks).get_mut(id.0) {
            c.up = up;
            c.runs += 1;
            c.last = Some(last);
        }
    }

    pub(crate) fn record_server(&self, index: usize, health: ServerHealth) {
        if let Some(s) = lock(&self.servers).get_mut(index) {
            *s = health;
        }
    }
}
