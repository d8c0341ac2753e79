//! keepalived's `lvs_sync_daemon INTERFACE INSTANCE`: the kernel's IPVS connection sync
//! daemon follows one VRRP instance, master while the instance is MASTER (it multicasts the
//! connection table), backup otherwise (it receives it, so a takeover keeps the connections),
//! and none once vigild stops.  The netlink calls block, so a task of its own makes them,
//! always towards the latest wanted role.

use tokio::sync::watch;
use tokio::task::JoinHandle;
use vigil_config::model::Config;
use vigil_ipvs::client::Client;
use vigil_ipvs::error::{Error, Refusal};
use vigil_ipvs::{SyncDaemon, SyncRole};
use vigil_vrrp::fsm::State;

/// The sync daemon role an instance in `state` calls for.
pub fn role_for(state: State) -> Option<SyncRole> {
    match state {
        State::Master => Some(SyncRole::Master),
        State::Backup | State::Fault => Some(SyncRole::Backup),
        State::Initialize => None,
    }
}

/// What to do to go from `current` to `wanted`: the daemon to stop first, then the one to
/// start.
pub fn steps(current: Option<SyncRole>, wanted: Option<SyncRole>) -> (Option<SyncRole>, Option<SyncRole>) {
    if current == wanted {
        return (None, None);
    }
    (current, wanted)
}

/// The running follower.
pub struct Follower {
    instance: String,
    wanted: watch::Sender<Option<SyncRole>>,
    task: JoinHandle<()>,
}

impl Follower {
    /// Starts following, if the configuration has an `lvs_sync_daemon` whose instance is
    /// running; `vrid` gives an instance's virtual_router_id (the default sync id).
    pub fn start(config: &Config, vrid: impl Fn(&str) -> Option<u8>) -> Option<Follower> {
        let settings = config.global.lvs_sync_daemon.as_ref()?;
        let Some(instance_vrid) = vrid(&settings.instance) else {
            tracing::warn!(
                "Unable to find vrrp instance {} for lvs_sync_daemon - not starting the sync daemon",
                settings.instance
            );
            return None;
        };
        let template = SyncDaemon {
            maxlen: settings.maxlen.unwrap_or(0),
            mcast_group: settings.group,
            mcast_port: settings.port.unwrap_or(0),
            mcast_ttl: settings.ttl.unwrap_or(0),
            ..SyncDaemon::new(SyncRole::Backup, &settings.interface, settings.syncid.unwrap_or(instance_vrid))
        };
        let (wanted, rx) = watch::channel(None);
        let task = tokio::spawn(run(template, rx));
        Some(Follower { instance: settings.instance.clone(), wanted, task })
    }

    /// The instance `name` entered `state`.
    pub fn follow(&self, name: &str, state: State) {
        if name == self.instance {
            self.wanted.send_replace(role_for(state));
        }
    }

    /// Stops the sync daemon and waits until it is stopped.
    pub async fn stop(self) {
        self.wanted.send_replace(None);
        drop(self.wanted);
        if self.task.await.is_err() {
            tracing::error!("the lvs_sync_daemon task ended abnormally");
        }
    }
}

/// Moves the kernel's sync daemon to each wanted role in turn, until the sender is gone.
async fn run(template: SyncDaemon, mut wanted: watch::Receiver<Option<SyncRole>>) {
    let mut current = None;
    loop {
        let want = *wanted.borrow_and_update();
        if want != current {
            let t = template.clone();
            current = tokio::task::spawn_blocking(move || switch(&t, current, want)).await.unwrap_or(current);
        }
        if wanted.changed().await.is_err() {
            break;
        }
    }
}

/// One switch through a fresh client; returns the role now running.
fn switch(template: &SyncDaemon, current: Option<SyncRole>, wanted: Option<SyncRole>) -> Option<SyncRole> {
    let mut client = match Client::connect() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("IPVS: {e}; lvs_sync_daemon is not started");
            return current;
        }
    };
    let (stop, start) = steps(current, wanted);
    let mut now = current;
    if let Some(role) = stop {
        match client.stop_daemon(role) {
            Ok(()) | Err(Error::Refused { refusal: Refusal::NoDaemon, .. }) => {
                tracing::info!("IPVS: stopping the {} sync daemon", word(role));
                now = None;
            }
            Err(e) => tracing::error!("IPVS: {e}"),
        }
    }
    if let Some(role) = start {
        let daemon = SyncDaemon { role, ..template.clone() };
        match client.start_daemon(&daemon) {
            Ok(()) | Err(Error::Refused { refusal: Refusal::DaemonRunning, .. }) => {
                tracing::info!(
                    "IPVS: starting the {} sync daemon on {}, syncid {}",
                    word(role),
                    daemon.interface,
                    daemon.syncid
                );
                now = Some(role);
            }
            Err(e) => tracing::error!("IPVS: {e}"),
        }
    }
    now
}

fn word(role: SyncRole) -> &'static str {
    match role {
        SyncRole::Master => "master",
        SyncRole::Backup => "backup",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_follows_the_instance() {
        assert_eq!(role_for(State::Master), Some(SyncRole::Master));
        assert_eq!(role_for(State::Backup), Some(SyncRole::Backup));
        assert_eq!(role_for(State::Fault), Some(SyncRole::Backup));
        assert_eq!(role_for(State::Initialize), None);
    }

    #[test]
    fn steps_stop_the_old_role_before_starting_the_new() {
        let (m, b) = (Some(SyncRole::Master), Some(SyncRole::Backup));
        assert_eq!(steps(None, b), (None, b));
        assert_eq!(steps(b, m), (b, m));
        assert_eq!(steps(m, b), (m, b));
        assert_eq!(steps(m, None), (m, None));
        assert_eq!(steps(m, m), (None, None));
    }
}
