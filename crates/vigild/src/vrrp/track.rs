//! `vrrp_script` runners: each script runs every `interval`, is killed at its `timeout`, and
//! changes state after `rise` successes or `fall` failures in a row.

use std::time::Duration;

use tokio::sync::mpsc;
use vigil_config::model::VrrpScript;

/// A tracked script changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatus {
    pub name: String,
    pub up: bool,
}

/// Starts the runner of `script`; it reports its initial state, then every change.
pub fn spawn(script: VrrpScript, tx: mpsc::Sender<ScriptStatus>) {
    let Some(cmd) = script.script.clone() else { return };
    tokio::spawn(async move {
        let mut up = !script.init_fail;
        let (mut good, mut bad) = (0u32, 0u32);
        if tx.send(ScriptStatus { name: script.name.clone(), up }).await.is_err() {
            return;
        }
        let timeout = script.timeout.unwrap_or(script.interval);
        let mut tick = tokio::time::interval(script.interval.max(Duration::from_millis(10)));
        loop {
            tick.tick().await;
            let ok = run_once(&cmd.argv, timeout).await;
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
                if tx.send(ScriptStatus { name: script.name.clone(), up }).await.is_err() {
                    return;
                }
            }
        }
    });
}

/// Runs the script once; a script still running at `timeout` is killed and counts as failed.
async fn run_once(argv: &[String], timeout: Duration) -> bool {
    let Some((program, args)) = argv.split_first() else { return false };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let Ok(mut child) = child else { return false };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(_)) => false,
        Err(_) => {
            let _ = child.kill().await;
            false
        }
    }
}
