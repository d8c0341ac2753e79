//! Notify scripts, run asynchronously so a slow script never delays an advert or a check,
//! and in order for each queue (a VRRP instance, a sync group, or the virtual servers): a
//! script starts when the one before it has ended (keepalived #996, #584, #1835: there they
//! may overlap and finish out of order). The same transitions go to the event bus.

use std::os::unix::process::CommandExt;

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{mpsc, Notify};
use vigil_config::model::Script;

use crate::credentials::script_credentials;
use crate::events::{Events, Kind};

/// Scripts queued and not yet ended, over every queue of the process: shutdown waits for them
/// so the last transitions' scripts (STOP) run too.
static QUEUED: AtomicUsize = AtomicUsize::new(0);
static ENDED: Notify = Notify::const_new();

/// Waits until every queued script has ended, for at most `limit`; false if some had not.
pub async fn drained(limit: std::time::Duration) -> bool {
    let wait = async {
        loop {
            let ended = ENDED.notified();
            if QUEUED.load(Ordering::SeqCst) == 0 {
                return;
            }
            ended.await;
        }
    };
    tokio::time::timeout(limit, wait).await.is_ok()
}

/// A command line and the uid and gid to run it as.
type Job = (Vec<String>, Option<(u32, u32)>);

/// One queue of scripts to run.
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::UnboundedSender<Job>,
    script_user: Option<(String, Option<String>)>,
    events: Events,
}

impl Notifier {
    /// Starts the queue `name`; scripts run as `script_user` unless they say otherwise.
    pub fn spawn(name: String, script_user: Option<(String, Option<String>)>, events: Events) -> Notifier {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some((argv, creds)) = rx.recv().await {
                run_one(&name, argv, creds).await;
                QUEUED.fetch_sub(1, Ordering::SeqCst);
                ENDED.notify_waiters();
            }
        });
        Notifier { tx, script_user, events }
    }

    /// Publishes a transition on the event bus (notify FIFOs, `vigilctl events`).
    pub fn publish(&self, kind: Kind) {
        self.events.publish(kind);
    }

    /// Queues `script` with extra arguments.
    pub fn run(&self, script: &Script, extra: &[String]) {
        let mut argv = script.argv.clone();
        argv.extend_from_slice(extra);
        let creds = script_credentials(script, self.script_user.as_ref());
        QUEUED.fetch_add(1, Ordering::SeqCst);
        if self.tx.send((argv, creds)).is_err() {
            QUEUED.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Runs one script to its end.
async fn run_one(queue: &str, argv: Vec<String>, creds: Option<(u32, u32)>) {
    let Some((program, args)) = argv.split_first() else { return };
    let mut cmd = tokio::process::Command::new(program);
    // A process group of its own, as keepalived runs its scripts.
    cmd.args(args).stdin(std::process::Stdio::null()).process_group(0);
    if let Some((uid, gid)) = creds {
        cmd.as_std_mut().uid(uid).gid(gid);
    }
    let status = match cmd.spawn() {
        Ok(mut child) => {
            vigil_check::probes::script_nice::reset(child.id(), true);
            child.wait().await
        }
        Err(e) => Err(e),
    };
    match status {
        Ok(status) if status.success() => tracing::debug!(queue, script = %program, "notify script done"),
        Ok(status) => tracing::warn!(queue, script = %program, %status, "notify script failed"),
        Err(e) => tracing::warn!(queue, script = %program, error = %e, "cannot run notify script"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(argv: &[&str]) -> Script {
        Script {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            user: None,
            group: None,
            span: vigil_config::span::Span::detached("test"),
        }
    }

    /// Three transitions in quick succession, the first one's script slow: each script starts
    /// after the previous one ended, in the order the transitions happened.
    #[tokio::test]
    async fn scripts_of_one_queue_never_overlap_or_reorder() {
        // Removed on drop, after the assertion below, pass or fail.
        let dir = tempfile::Builder::new().prefix("vigil-notify-").tempdir().expect("a directory");
        let log = dir.path().join("log");
        let body = format!("echo begin $1 >>{0}; sleep $2; echo end $1 >>{0}", log.display());
        let notifier = Notifier::spawn("VI_1".into(), None, Events::default());
        for (state, secs) in [("MASTER", "0.3"), ("BACKUP", "0"), ("FAULT", "0.1")] {
            notifier.run(&script(&["/bin/sh", "-c", &body, "sh"]), &[state.into(), secs.into()]);
        }
        let want = "begin MASTER\nend MASTER\nbegin BACKUP\nend BACKUP\nbegin FAULT\nend FAULT\n";
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut got = String::new();
        while tokio::time::Instant::now() < deadline && got.len() < want.len() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            got = std::fs::read_to_string(&log).unwrap_or_default();
        }
        assert_eq!(got, want);
    }
}
