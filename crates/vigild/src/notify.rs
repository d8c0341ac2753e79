//! Notify scripts, run asynchronously so a slow script never delays an advert or a check,
//! and in order for each queue (a VRRP instance, a sync group, or the virtual servers): a
//! script never overtakes the one before it.

use std::os::unix::process::CommandExt;

use tokio::sync::mpsc;
use vigil_config::model::Script;

/// A command line and the uid and gid to run it as.
type Job = (Vec<String>, Option<(u32, u32)>);

/// One queue of scripts to run.
#[derive(Clone)]
pub struct Notifier {
    tx: mpsc::UnboundedSender<Job>,
    script_user: Option<(String, Option<String>)>,
}

/// The uid and gid of `user` (and `group`, else the user's own group), when they exist.
pub(crate) fn credentials(user: Option<&str>, group: Option<&str>) -> Option<(u32, u32)> {
    let u = nix::unistd::User::from_name(user?).ok()??;
    let gid = match group {
        Some(g) => nix::unistd::Group::from_name(g).ok()??.gid.as_raw(),
        None => u.gid.as_raw(),
    };
    Some((u.uid.as_raw(), gid))
}

impl Notifier {
    /// Starts the queue `name`; scripts run as `script_user` unless they say otherwise.
    pub fn spawn(name: String, script_user: Option<(String, Option<String>)>) -> Notifier {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some((argv, creds)) = rx.recv().await {
                let Some((program, args)) = argv.split_first() else { continue };
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(args).stdin(std::process::Stdio::null());
                if let Some((uid, gid)) = creds {
                    cmd.as_std_mut().uid(uid).gid(gid);
                }
                match cmd.status().await {
                    Ok(status) if status.success() => {
                        tracing::debug!(queue = %name, script = %program, "notify script done")
                    }
                    Ok(status) => tracing::warn!(queue = %name, script = %program, %status, "notify script failed"),
                    Err(e) => {
                        tracing::warn!(queue = %name, script = %program, error = %e, "cannot run notify script")
                    }
                }
            }
        });
        Notifier { tx, script_user }
    }

    /// Queues `script` with extra arguments.
    pub fn run(&self, script: &Script, extra: &[String]) {
        let mut argv = script.argv.clone();
        argv.extend_from_slice(extra);
        let creds = match &script.user {
            Some(u) => credentials(Some(u), script.group.as_deref()),
            None => self.script_user.as_ref().and_then(|(u, g)| credentials(Some(u), g.as_deref())),
        };
        // The receiver lives as long as the runtime; a closed queue only happens at exit.
        let _ = self.tx.send((argv, creds));
    }
}
