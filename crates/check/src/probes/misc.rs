//! MISC_CHECK: run a program; its exit status is the verdict ([`crate::verdict::misc_verdict`]).
//!
//! The program runs in a process group of its own with stdin, stdout and stderr on /dev/null.
//! At `misc_timeout` the whole group gets SIGTERM, as keepalived sends, and SIGKILL a second
//! later if anything is left; the attempt fails at once and the reaping goes on in the
//! background, so a script that ignores SIGTERM cannot hold the checker up.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Group, Pid, User};
use tokio::process::Command;
use tokio::time::{timeout_at, Instant};

use crate::plan::MiscSpec;
use crate::verdict::{misc_verdict, Failure, ProbeResult};

/// How long a timed-out script has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(1);

pub(crate) async fn check(spec: &MiscSpec, timeout: Duration) -> ProbeResult {
    let deadline = Instant::now() + timeout;
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(Failure::Spawn("empty command".into()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0).kill_on_drop(true);
    if let Some((user, group)) = &spec.user {
        let (uid, gid) = ids(user, group.as_deref())?;
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd.spawn().map_err(|e| Failure::Spawn(format!("{program}: {e}")))?;
    super::script_nice::reset(child.id(), true);
    let pgid = child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw);
    match timeout_at(deadline, child.wait()).await {
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => misc_verdict(code, spec.dynamic),
            (None, Some(signal)) => Err(Failure::Signal(signal)),
            (None, None) => Err(Failure::Spawn(format!("{program}: unknown exit status"))),
        },
        Ok(Err(e)) => Err(Failure::Spawn(format!("{program}: {e}"))),
        Err(_) => {
            if let Some(pgid) = pgid {
                // The group may be gone already; nothing to do then.
                let _ = killpg(pgid, Signal::SIGTERM);
                tokio::spawn(async move {
                    if tokio::time::timeout(KILL_GRACE, child.wait()).await.is_err() {
                        let _ = killpg(pgid, Signal::SIGKILL);
                        let _ = child.wait().await;
                    }
                });
            }
            Err(Failure::ScriptTimeout)
        }
    }
}

/// The uid and gid for `user [group]`; the user's own group when none is given.
fn ids(user: &str, group: Option<&str>) -> Result<(u32, u32), Failure> {
    let u = User::from_name(user).ok().flatten().ok_or_else(|| Failure::Spawn(format!("no user {user}")))?;
    let gid = match group {
        None => u.gid,
        Some(g) => {
            Group::from_name(g.trim_start_matches(':'))
                .ok()
                .flatten()
                .ok_or_else(|| Failure::Spawn(format!("no group {g}")))?
                .gid
        }
    };
    Ok((u.uid.as_raw(), gid.as_raw()))
}
