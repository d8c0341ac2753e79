//! `vrrp_script` runners: each script runs every `interval`, is killed at its `timeout`, and
//! changes state after `rise` successes or `fall` failures in a row.

use std::time::Duration;

use std::os::unix::process::CommandExt;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use vigil_config::model::VrrpScript;

use super::Event;

/// A tracked script changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatus {
    pub name: String,
    pub up: bool,
}

/// Starts the runner of `script`; it reports its initial state, then every change. It runs as
/// the script's `user`, else `script_user`, else the daemon's user. Aborting the task kills
/// a script still running. `None` when the definition has no `script`.
pub fn spawn(
    script: VrrpScript,
    script_user: Option<(String, Option<String>)>,
    tx: mpsc::Sender<Event>,
) -> Option<AbortHandle> {
    let cmd = script.script.clone()?;
    let user = script.user.clone().or(script_user);
    let creds = user.as_ref().and_then(|(u, g)| crate::credentials::credentials(Some(u), g.as_deref()));
    let task = tokio::spawn(async move {
        let mut up = !script.init_fail;
        let (mut good, mut bad) = (0u32, 0u32);
        if tx.send(Event::Script(ScriptStatus { name: script.name.clone(), up })).await.is_err() {
            return;
        }
        let timeout = script.timeout.unwrap_or(script.interval);
        let mut tick = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
        loop {
            tick.tick().await;
            let ok = run_once(&cmd.argv, timeout, creds).await;
            if ok {
                good += 1;
                bad = 0;
            } else {
                bad += 1;
                good = 0;
            }
            let next = if up { bad < script.fall } else { good >= script.rise };
            if next != up {
                up = next;
                if up {
                    tracing::info!("VRRP_Script({}) succeeded", script.name);
                } else {
                    tracing::info!("VRRP_Script({}) failed", script.name);
                }
                if tx.send(Event::Script(ScriptStatus { name: script.name.clone(), up })).await.is_err() {
                    return;
                }
            }
        }
    });
    Some(task.abort_handle())
}

/// Runs the script once, in a process group of its own as keepalived runs it; a script still
/// running at `timeout` is killed with what it started, and counts as failed.
async fn run_once(argv: &[String], timeout: Duration, creds: Option<(u32, u32)>) -> bool {
    let Some((program, args)) = argv.split_first() else { return false };
    let mut cmd = tokio::process::Command::new(program);
    if let Some((uid, gid)) = creds {
        cmd.as_std_mut().uid(uid).gid(gid);
    }
    let child = cmd
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let Ok(mut child) = child else { return false };
    vigil_check::probes::script_nice::reset(child.id(), true);
    let group = child.id().and_then(|id| i32::try_from(id).ok()).map(nix::unistd::Pid::from_raw);
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(_)) => false,
        Err(_) => {
            if let Some(group) = group {
                // The group may be gone already; nothing to do then.
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.kill().await;
            false
        }
    }
}

/// A tracked file's value changed (keepalived's `track_file`: a number in the file, 0 if it is
/// missing or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub name: String,
    pub value: i64,
}

/// How often tracked files are read.
const FILE_POLL: Duration = Duration::from_secs(1);

/// Starts watching `file` of `vrrp_track_file NAME`; reports its value, then every change.
pub fn spawn_file(name: String, file: String, tx: mpsc::Sender<Event>) -> AbortHandle {
    tokio::spawn(async move {
        let mut last = None;
        let mut tick = tokio::time::interval(FILE_POLL);
        loop {
            tick.tick().await;
            let value = tokio::fs::read_to_string(&file)
                .await
                .ok()
                .and_then(|t| t.split_whitespace().next().and_then(|w| w.parse::<i64>().ok()))
                .unwrap_or(0);
            if last != Some(value) {
                last = Some(value);
                if tx.send(Event::File(FileStatus { name: name.clone(), value })).await.is_err() {
                    return;
                }
            }
        }
    })
    .abort_handle()
}

/// The state machine's view of a tracked file: `(up, weight)` (see `Input::TrackerChange`).
pub fn file_input(value: i64, weight: i32, reverse: bool) -> (bool, i32) {
    if weight == 0 {
        return (value == 0, 0);
    }
    let w = if reverse { -i64::from(weight) } else { i64::from(weight) };
    let product = value.saturating_mul(w);
    if product < -253 {
        (false, 0)
    } else {
        let clamped = i32::try_from(product.clamp(-253, 253)).unwrap_or(0);
        (product >= 0, clamped)
    }
}

/// The state machine's view of a tracked BFD session that is `up` (as last reported), with
/// its resolved weight (0: unweighted, FAULT while the session is not Up): `(up, weight)`;
/// `reverse` flips both, as keepalived 2.2.7 counts them.
pub fn bfd_input(up: bool, weight: i32, reverse: bool) -> (bool, i32) {
    if reverse {
        (!up, -weight)
    } else {
        (up, weight)
    }
}

#[cfg(test)]
mod tests {
    use super::{bfd_input, file_input};

    #[test]
    fn track_bfd_states() {
        // Unweighted: down while not Up (the instance is in FAULT); reverse: while Up.
        assert_eq!(bfd_input(false, 0, false), (false, 0));
        assert_eq!(bfd_input(true, 0, false), (true, 0));
        assert_eq!(bfd_input(true, 0, true), (false, 0));
        // A negative weight counts while down, a positive one while Up; reverse flips both.
        assert_eq!(bfd_input(false, -30, false), (false, -30));
        assert_eq!(bfd_input(true, 20, false), (true, 20));
        assert_eq!(bfd_input(false, 20, true), (true, -20));
    }

    #[test]
    fn track_file_values() {
        assert_eq!(file_input(0, 0, false), (true, 0));
        assert_eq!(file_input(3, 0, false), (false, 0));
        assert_eq!(file_input(2, 10, false), (true, 20));
        assert_eq!(file_input(-2, 10, false), (false, -20));
        assert_eq!(file_input(2, 10, true), (false, -20));
        assert_eq!(file_input(-100, 10, false), (false, 0));
    }
}
