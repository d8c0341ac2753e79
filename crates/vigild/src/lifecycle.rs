//! `startup_script` and `shutdown_script`, as keepalived 2.2.7 runs them: the startup script
//! once before anything starts, the shutdown script once after everything has stopped (the
//! one of the configuration running then), never on a reload. Each runs in a process group of
//! its own, as `script_user` unless it names a user, for at most its timeout: then the group
//! gets SIGTERM and, 2 s later or as soon as the script has ended, SIGKILL, so that nothing it
//! started is left; vigild goes on either way.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use vigil_config::model::GlobalDefs;

use crate::credentials::script_credentials;

/// How long a timed-out script has between SIGTERM and SIGKILL, and after SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Which of the two scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Startup,
    Shutdown,
}

/// Runs the startup or shutdown script of `global`, if it has one, to its end or its timeout.
pub async fn run(which: Which, global: &GlobalDefs) {
    let (script, timeout, kind) = match which {
        Which::Startup => (&global.startup_script, global.startup_script_timeout, "startup script"),
        Which::Shutdown => (&global.shutdown_script, global.shutdown_script_timeout, "shutdown script"),
    };
    let Some(script) = script else { return };
    let Some((program, args)) = script.argv.split_first() else { return };
    tracing::info!("Running {kind} {program}");
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(Stdio::null()).process_group(0).kill_on_drop(true);
    if let Some((uid, gid)) = script_credentials(script, global.script_user.as_ref()) {
        cmd.uid(uid).gid(gid);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("Call of {kind} {program} failed: {e}");
            return;
        }
    };
    vigil_check::probes::script_nice::reset(child.id(), true);
    let pgid = child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw);
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(0), _) => tracing::debug!("{kind} succeeded"),
            (Some(code), _) => tracing::warn!("{kind} failed, status {code}"),
            (None, signal) => tracing::warn!("{kind} ended by signal {}", signal.unwrap_or(0)),
        },
        Ok(Err(e)) => tracing::warn!("{kind} {program}: {e}"),
        Err(_) => {
            tracing::warn!("{kind} timed out");
            let Some(pgid) = pgid else { return };
            // Whether or not the script ends on SIGTERM, what it started in its group gets
            // SIGKILL (the group may be gone already: then there is nothing to wait for).
            if killpg(pgid, Signal::SIGTERM).is_err() {
                return;
            }
            let ended = tokio::time::timeout(KILL_GRACE, child.wait()).await.is_ok();
            let killed = killpg(pgid, Signal::SIGKILL).is_ok();
            if !ended && killed && tokio::time::timeout(KILL_GRACE, child.wait()).await.is_err() {
                tracing::warn!("{kind} (PID {pgid}) failed to terminate after kill");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_config::model::Script;

    fn global(which: Which, argv: &[&str], timeout: Duration) -> GlobalDefs {
        let mut g = GlobalDefs::default();
        let script = Script {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            user: None,
            group: None,
            span: vigil_config::span::Span::detached("test"),
        };
        match which {
            Which::Startup => (g.startup_script, g.startup_script_timeout) = (Some(script), timeout),
            Which::Shutdown => (g.shutdown_script, g.shutdown_script_timeout) = (Some(script), timeout),
        }
        g
    }

    #[tokio::test]
    async fn the_script_runs_to_its_end_before_run_returns() {
        let dir = tempfile::Builder::new().prefix("vigil-lifecycle-").tempdir().expect("temp dir");
        let mark = dir.path().join("ran");
        let cmd = format!("sleep 0.2; echo done > {}", mark.display());
        run(Which::Startup, &global(Which::Startup, &["/bin/sh", "-c", &cmd], Duration::from_secs(10))).await;
        assert_eq!(std::fs::read_to_string(&mark).ok().as_deref(), Some("done\n"));
        dir.close().expect("clean up");
    }

    #[tokio::test]
    async fn a_script_past_its_timeout_is_killed_with_its_group() {
        let dir = tempfile::Builder::new().prefix("vigil-lifecycle-kill-").tempdir().expect("temp dir");
        let (pidfile, ended) = (dir.path().join("child"), dir.path().join("ended"));
        // A child of the script that ignores SIGTERM: only the group's SIGKILL ends it before
        // it writes `ended`.
        let cmd = format!(
            "sh -c 'trap \"\" TERM; echo $$ > {}; sleep 60; echo natural > {}' & wait",
            pidfile.display(),
            ended.display()
        );
        run(Which::Shutdown, &global(Which::Shutdown, &["/bin/sh", "-c", &cmd], Duration::from_secs(1))).await;
        let pid: i32 = std::fs::read_to_string(&pidfile).expect("child pid").trim().parse().expect("a pid");
        // Dead: its /proc entry gone, or a zombie until init reaps it (the signal's delivery
        // takes a moment after killpg returns).
        let dead = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        };
        for _ in 0..100 {
            if dead() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(dead(), "the script's child {pid} is still running");
        assert!(!ended.exists(), "the script's child ran to its end instead of being killed");
        dir.close().expect("clean up");
    }

    #[tokio::test]
    async fn no_script_is_nothing_to_do() {
        run(Which::Startup, &GlobalDefs::default()).await;
    }
}
