//! The checkers subsystem (`-C`): the health checkers and the IPVS owner they drive.
//!
//! The checks run on a runtime of their own, on their own thread, so that ten thousand probes
//! a second never delay a VRRP advert; their verdicts go to the IPVS owner, itself on a
//! thread of its own because its netlink writes block.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vigil_config::model::Config;
use vigil_ipvs::reconcile::RsId;

use crate::lvs::{self, Input};
use crate::notify::Notifier;

/// The running checkers and IPVS owner.
pub struct Checkers {
    lvs: mpsc::Sender<Input>,
    lvs_thread: std::thread::JoinHandle<()>,
    checks: CancellationToken,
    checks_thread: std::thread::JoinHandle<()>,
}

impl Checkers {
    /// Starts the IPVS owner and the checks of every real server.  Without IPVS in the
    /// kernel this is one error in the log and nothing runs; the caller goes on with VRRP.
    /// Must be called on the main runtime: notify scripts run there.
    pub fn start(config: Arc<Config>) -> Option<Checkers> {
        let client = match vigil_ipvs::client::Client::connect() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("IPVS: {e}; the health checkers are not started");
                return None;
            }
        };
        let plan = vigil_check::plan(&config);
        for problem in &plan.problems {
            tracing::warn!("{problem}");
        }
        let initial = vigil_check::initial_health(&plan).into_iter().map(|h| (rs_id(h.rs), h.up, None)).collect();
        let notifier = Notifier::spawn("checkers".into(), config.global.script_user.clone());
        let (lvs, lvs_thread) = lvs::spawn(client, config, initial, notifier);
        let checks = CancellationToken::new();
        let cancel = checks.clone();
        let to_lvs = lvs.clone();
        let checks_thread = std::thread::Builder::new()
            .name("checkers".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("cannot start the checkers' runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(run_checks(plan, to_lvs, cancel));
            })
            .ok()?;
        Some(Checkers { lvs, lvs_thread, checks, checks_thread })
    }

    /// Stops the checks, then the IPVS owner: it removes our services unless `release` is
    /// false (`--dont-release-ipvs`).
    pub async fn stop(self, release: bool) {
        self.checks.cancel();
        let Checkers { lvs, lvs_thread, checks_thread, .. } = self;
        let _ = lvs.send(Input::Stop { release }).await;
        let joined = tokio::task::spawn_blocking(move || {
            let checks = checks_thread.join().is_ok();
            let owner = lvs_thread.join().is_ok();
            checks && owner
        })
        .await;
        if !matches!(joined, Ok(true)) {
            tracing::error!("the checkers or the IPVS owner ended abnormally");
        }
    }
}

/// Runs the checks and hands each verdict to the IPVS owner.
async fn run_checks(plan: vigil_check::Plan, lvs: mpsc::Sender<Input>, cancel: CancellationToken) {
    let (tx, mut rx) = mpsc::channel(1024);
    let status = vigil_check::Status::new(&plan);
    let runner = tokio::spawn(vigil_check::run(plan, tx, status, cancel));
    while let Some(change) = rx.recv().await {
        let input = Input::Health { rs: rs_id(change.rs), up: change.up, weight: change.weight };
        if lvs.send(input).await.is_err() {
            break;
        }
    }
    if let Err(e) = runner.await {
        tracing::error!("the checkers failed: {e}");
    }
}

/// The checkers' name of a real server as the reconciler's: both index
/// `config.virtual_servers[vs].real_servers[rs]`.
fn rs_id(rs: vigil_check::RsId) -> RsId {
    RsId { vs: rs.vs, rs: rs.rs }
}
